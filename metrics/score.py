"""The quarterly score (methodology §3), its warning list and the year's commendations.

Each item scores points × min(value / target, 1), published rounded to one decimal half away
from zero; the score = Σ published item points + bonus − deductions, clipped to 0–max, so the
figures a unit reads add up to its score. Ranks, the warning rule (metrics.warning) and the
commendation use this published score. Everything is vectorised over the units of a level; the rules come from the
scheme. Units not assessed (无数据: no inspection, hazard or case in the quarter) get no score,
rank or warning and are not peers.
"""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from metrics.indicators import compute_indicators
from metrics.periods import Period
from metrics.provinces import resolve_province
from metrics.query import run
from metrics.rounding import round_half_away
from metrics.scheme import Scheme, ScoreSpec, load_scheme
from metrics.sources import city_of_sql, level_name
from metrics.warning import NOT_ASSESSED, WarningRule, rank_in_groups  # noqa: F401 (public names)

SCORE_COLUMNS = ["code", "name", "score", "rank", "bonus", "deduction", "warned"]


def score_items(values: pd.DataFrame, spec: ScoreSpec, period: Period,
                names: dict[str, str] | None = None) -> pd.DataFrame:
    """Per unit (index of ``values``; columns = indicator values): each item's value, published
    points (rounded to one decimal, half away from zero), full-precision points
    (``_points_exact``) and NA flag; bonus, deduction, items (Σ published item points), the
    published score (Σ published items + bonus − deduction, clipped to 0–max: what a unit reads
    adds up), raw_score (the same sum at full precision, not published) and flags (the NA items
    and why)."""
    names = names or {}
    cols: dict[str, np.ndarray] = {}
    n = len(values)
    items, exact, flags = np.zeros(n), np.zeros(n), np.full(n, "", dtype=object)
    for it in spec.items:
        v = values[it.indicator].to_numpy(dtype=float, na_value=np.nan)
        target = it.target * (period.months_elapsed / 12.0 if it.prorate else 1.0)
        na = np.isnan(v)
        points = np.where(na, it.points if it.na == "full" else 0.0, it.points * np.clip(v / target, 0.0, 1.0))
        published = round_half_away(points, 1)
        cols.update({f"{it.indicator}_value": v, f"{it.indicator}_points": published,
                     f"{it.indicator}_points_exact": points, f"{it.indicator}_na": na})
        items, exact = items + published, exact + points
        flags = flags + np.where(na, f"{names.get(it.indicator, it.indicator)}：{it.na_label}；", "").astype(object)
    totals, exact_totals = {}, {}
    for kind, adjustments in (("bonus", spec.bonus), ("deduction", spec.deductions)):
        totals[kind], exact_totals[kind] = np.zeros(n), np.zeros(n)
        for a in adjustments:
            v = values[a.indicator].to_numpy(dtype=float, na_value=np.nan)
            points = np.clip(a.points * np.nan_to_num(v), 0.0, a.max)
            published = round_half_away(points, 1)
            cols.update({f"{a.indicator}_value": v, f"{a.indicator}_points": published})
            totals[kind] = totals[kind] + published
            exact_totals[kind] = exact_totals[kind] + points
    # sums of one-decimal figures: rounding again only removes binary noise (68.39999… → 68.4)
    items = round_half_away(items, 1)
    bonus, deduction = round_half_away(totals["bonus"], 1), round_half_away(totals["deduction"], 1)
    score = round_half_away(np.clip(items + bonus - deduction, 0.0, spec.max), 1)
    raw = np.clip(exact + exact_totals["bonus"] - exact_totals["deduction"], 0.0, spec.max)
    cols.update(items=items, bonus=bonus, deduction=deduction, raw_score=raw, score=score,
                flags=pd.Series(flags).str.rstrip("；").to_numpy())
    return pd.DataFrame(cols, index=values.index)


def apply_warning_rule(df: pd.DataFrame, rule: WarningRule) -> pd.DataFrame:
    """Add rank, peers, warned and reason to a frame with score, assessed and group (the rule
    object's own evaluation, metrics.warning.WarningRule.apply)."""
    return rule.apply(df)


def compute_score(con: duckdb.DuckDBPyConnection, quarter: str | Period, level: str = "city",
                  province: str | None = None, scheme: Scheme | None = None) -> pd.DataFrame:
    """code, name, score, rank, bonus, deduction, warned, assessed, reason, group, peers, then per
    item <indicator>_value / _points (published) / _points_exact (full precision) / _na, per bonus
    or deduction <indicator>_value / _points, items (sum of the published item points), raw_score
    (the score at full precision, not published) and flags (the NA items and why)."""
    period = Period.parse(quarter)
    if period.kind != "quarter":
        raise ValueError(f"the score is quarterly: give a quarter like 2024Q3, not {quarter}")
    scheme = scheme or load_scheme()
    spec = scheme.require_score()
    province = resolve_province(con, province)
    codes = list(dict.fromkeys([it.indicator for it in spec.items] + [a.indicator for a in spec.bonus]
                               + [a.indicator for a in spec.deductions]))
    long = compute_indicators(con, period, level, province, scheme, codes)
    units = long.drop_duplicates("code")[["code", "name", "assessed"]].set_index("code")
    values = long.pivot(index="code", columns="indicator", values="value").reindex(index=units.index, columns=codes)
    names = {c: scheme.indicator(c).name for c in codes}
    items = score_items(values, spec, period, names)
    df = units.join(items).reset_index()
    return publish_score(df, peer_groups(con, df["code"], level, province, spec.peers), scheme)


def publish_score(df: pd.DataFrame, groups, scheme: Scheme) -> pd.DataFrame:
    """Units' item points → the published sheet: unassessed units blanked, the warning rule
    applied per peer group, columns in the CLI's order."""
    df["group"] = np.asarray(groups)
    not_assessed = ~df["assessed"]
    blank = ["score", "raw_score", "items", "bonus", "deduction"] + [
        c for c in df.columns if c.endswith("_points") or c.endswith("_points_exact")]
    df.loc[not_assessed, blank] = np.nan
    df.loc[not_assessed, "flags"] = ""
    df = scheme.warning.apply(df)
    first = [*SCORE_COLUMNS, "assessed", "reason", "group", "peers"]
    return df[first + [c for c in df.columns if c not in first]]


def peer_groups(con: duckdb.DuckDBPyConnection, codes: pd.Series, level: str, province: str, peers: str) -> pd.Series:
    """The peer group of each unit: the province, or (peers = 'city', counties) the unit's city."""
    if peers == "city" and level_name(level) == "县":
        city = run(con, city_of_sql(province)).set_index("code")["city_code"]
        return codes.map(city).fillna(province).astype(str)
    return pd.Series(province, index=codes.index)


def warnings(con: duckdb.DuckDBPyConnection, quarter: str | Period, level: str = "city",
             province: str | None = None, scheme: Scheme | None = None) -> pd.DataFrame:
    """The compute_score rows of the warned units (提醒敦促函), lowest score first."""
    df = compute_score(con, quarter, level, province, scheme)
    return df[df["warned"].fillna(False).astype(bool)].sort_values(["group", "score", "code"]).reset_index(drop=True)


def commendations(con: duckdb.DuckDBPyConnection, year: str | int | Period, level: str = "city",
                  province: str | None = None, scheme: Scheme | None = None) -> pd.DataFrame:
    """code, name, mean_score, quarters, rank, commended, group, Q1…Q4: the top ``top`` by the
    mean of the published quarterly scores of the quarters the unit was assessed (mean rounded to
    one decimal; ties with the last place included)."""
    period = Period.parse(str(year))
    if period.kind != "year":
        raise ValueError(f"commendations are yearly: give a year like 2024, not {year}")
    scheme = scheme or load_scheme()
    province = resolve_province(con, province)
    frames = [compute_score(con, q, level, province, scheme).assign(quarter=f"Q{q.number}")
              for q in period.quarters()]
    units = frames[0][["code", "name", "group"]]
    every = pd.concat(frames, ignore_index=True)
    scored = every[every["assessed"]]
    by_quarter = scored.pivot(index="code", columns="quarter", values="score").reindex(columns=["Q1", "Q2", "Q3", "Q4"])
    stats = scored.groupby("code")["score"].agg(mean_score="mean", quarters="size")
    out = units.merge(stats, left_on="code", right_index=True, how="left")
    out["mean_score"] = round_half_away(out["mean_score"].astype(float), 1)
    out["quarters"] = out["quarters"].fillna(0).astype(int)
    out["rank"] = rank_in_groups(out["mean_score"], out["group"])
    out["commended"] = out["rank"].le(scheme.commendation.top).fillna(False).astype(bool)
    out = out.merge(by_quarter, left_on="code", right_index=True, how="left")
    return out[["code", "name", "mean_score", "quarters", "rank", "commended", "group", "Q1", "Q2", "Q3", "Q4"]]
