"""Indicators, scores and index frames for many periods at once (the analysts' tools need history).

The early warning and the data-quality flags need every quarter of the warehouse: metrics.query's
compiler answers all periods in one query (one period being the one-element case that
``compute_indicators`` asks), so the numbers are the same by construction.

The scores are then built from these values by metrics.score's own pure functions
(``score_items``, ``peer_groups``, ``apply_warning_rule``), exactly as ``compute_score`` does.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from metrics.periods import Period
from metrics.provinces import resolve_province
from metrics.query import indicator_frame
from metrics.scheme import Scheme, load_scheme
from metrics.score import peer_groups, publish_score, score_items
from metrics.sources import level_name

__all__ = ["indicator_panel", "score_panel", "score_codes"]


def indicator_panel(con: duckdb.DuckDBPyConnection, periods: list[str | Period], level: str = "city",
                    province: str | None = None, scheme: Scheme | None = None,
                    indicators: list[str] | None = None) -> pd.DataFrame:
    """``compute_indicators`` for several periods in one query: the same long frame with a leading
    ``period`` column (the period as text, e.g. '2025Q3')."""
    periods = [Period.parse(p) for p in periods]
    scheme = scheme or load_scheme()
    level_name(level)
    province = resolve_province(con, province)
    codes = list(indicators) if indicators is not None else list(scheme.indicators)
    return indicator_frame(con, periods, level, province, scheme, codes)


def score_codes(scheme: Scheme) -> list[str]:
    """The indicators the quarterly score reads (items, bonus, deductions), in compute_score's order."""
    spec = scheme.require_score()
    return list(dict.fromkeys([it.indicator for it in spec.items] + [a.indicator for a in spec.bonus]
                              + [a.indicator for a in spec.deductions]))


def score_panel(con: duckdb.DuckDBPyConnection, quarters: list[str | Period], level: str = "city",
                province: str | None = None, scheme: Scheme | None = None,
                long: pd.DataFrame | None = None) -> pd.DataFrame:
    """``compute_score`` for several quarters, stacked with a leading ``period`` column; one query
    for all the quarters' indicators (or ``long``: an indicator_panel frame already at hand)."""
    quarters = [Period.parse(q) for q in quarters]
    if any(q.kind != "quarter" for q in quarters):
        raise ValueError("the score is quarterly: give quarters like 2024Q3")
    scheme = scheme or load_scheme()
    spec = scheme.require_score()
    province = resolve_province(con, province)
    codes = score_codes(scheme)
    if long is None:
        long = indicator_panel(con, quarters, level, province, scheme, codes)
    names = {c: scheme.indicator(c).name for c in codes}
    groups = None
    frames = []
    for q in quarters:
        one = long[(long["period"] == str(q)) & long["indicator"].isin(codes)]
        units = one.drop_duplicates("code")[["code", "name", "assessed"]].set_index("code")
        values = one.pivot(index="code", columns="indicator", values="value").reindex(index=units.index, columns=codes)
        df = units.join(score_items(values, spec, q, names)).reset_index()
        if groups is None:
            groups = peer_groups(con, df["code"], level, province, spec.peers)
        df = publish_score(df, groups.to_numpy(), scheme)
        df.insert(0, "period", str(q))
        frames.append(df)
    return pd.concat(frames, ignore_index=True)

