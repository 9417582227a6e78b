"""Base indicators (methodology §1) for every unit of a level in one period, in one SQL query
(metrics.query, the one compiler, over the stamped marts).

Every unit of the level in the province is a row, records or not. A ratio whose denominator is 0
is NA (never 0, never 100); a count or sum with no records is 0. ``assessed`` says whether the
unit has records in the period (an inspection, a hazard found or a case filed): units without
are 无数据 — listed, but given no index, score, rank or warning, and not counted as peers.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from metrics.periods import Period
from metrics.provinces import resolve_province
from metrics.query import COLUMNS, indicator_frame
from metrics.rounding import round_half_away
from metrics.scheme import Scheme, load_scheme
from metrics.sources import level_name

__all__ = ["COLUMNS", "compute_indicators", "published"]


def compute_indicators(con: duckdb.DuckDBPyConnection, period: str | Period, level: str = "city",
                       province: str | None = None, scheme: Scheme | None = None,
                       indicators: list[str] | None = None) -> pd.DataFrame:
    """Long frame code, name, indicator, value, numerator, denominator, indicator_name, unit, assessed.

    ``indicators`` limits the codes (default: all of the scheme's, in its order). Values are
    unrounded (``published`` rounds them for display); ratios are fractions, money 万元. One
    period is the one-element case of metrics.query's compiler (metrics.panel: many periods).
    """
    period = Period.parse(period)
    scheme = scheme or load_scheme()
    level_name(level)
    province = resolve_province(con, province)
    codes = list(indicators) if indicators is not None else list(scheme.indicators)
    df = indicator_frame(con, [period], level, province, scheme, codes)
    return df[COLUMNS].reset_index(drop=True)


def published(long: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """Values rounded to each indicator's published precision (half away from zero); a count or
    sum's numerator shows the published value too. Numerators and denominators of ratios keep
    their exact amounts (rounded to 6 places to drop float noise)."""
    out = long.copy()
    decimals = out["indicator"].map({c: i.decimals for c, i in scheme.indicators.items()})
    value = out["value"].to_numpy(dtype=float, na_value=float("nan"))
    rounded = value.copy()
    for d in decimals.unique():
        mask = (decimals == d).to_numpy()
        rounded[mask] = round_half_away(value[mask], int(d))
    out["value"] = rounded
    out["numerator"] = round_half_away(out["numerator"], 6)
    out["denominator"] = round_half_away(out["denominator"], 6)
    single = ~out["indicator"].map({c: i.is_ratio for c, i in scheme.indicators.items()}).astype(bool)
    out.loc[single, "numerator"] = out.loc[single, "value"]
    return out
