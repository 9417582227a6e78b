"""The effectiveness index (methodology §2): normalise each indicator, weight into sub-indices, weight
sub-indices into the index. Vectorised over all units of a level; the tree comes from the scheme.

Pipeline (COINr's order): indicators → normalise among assessed peers (winsorise, min-max or
target) → first-level sub-indices (NA indicators' weight shared within the group) → index (NA
groups' weight shared) → round the published values → rank on the rounded index.
"""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from metrics.bands import band_series
from metrics.indicators import compute_indicators
from metrics.periods import Period
from metrics.rounding import round_half_away
from metrics.scheme import IndexSpec, Scheme, load_scheme

_EQUAL = 1e-12


def normalise(values: pd.DataFrame, spec: IndexSpec, period: Period,
              directions: dict[str, str] | None = None) -> pd.DataFrame:
    """Add ``score`` (0–100) to a long frame code, indicator, value, assessed (one row per unit ×
    leaf). Peers are assessed units with a value; others get NA. One peer, or all equal: 100.
    ``directions`` maps indicator → '+'/'-' (lower is better: min-max is reversed)."""
    leaves = pd.DataFrame([(n.code, n.parent, n.weight, n.normalise, n.target or np.nan, n.prorate)
                           for n in spec.leaves],
                          columns=["indicator", "group", "weight", "normalise", "target", "prorate"])
    df = values.merge(leaves, on="indicator", how="inner")
    v = df["value"].astype(float)
    peer = df["assessed"].astype(bool) & v.notna()
    pv = v.where(peer)
    by = df["indicator"]
    for node in spec.leaves:  # winsorise at the peers' quantiles (linear, as DuckDB's quantile_cont)
        mask = by == node.code
        if node.winsorise and pv[mask].notna().any():
            low, high = pv[mask].quantile(list(node.winsorise))
            pv[mask] = pv[mask].clip(low, high)
    vmin, vmax = pv.groupby(by).transform("min"), pv.groupby(by).transform("max")
    span = vmax - vmin
    flat = span.abs() <= _EQUAL * np.maximum(1.0, vmax.abs())
    lower_better = by.map(directions or {}).eq("-")
    rel = np.where(lower_better, vmax - pv, pv - vmin) / span.where(~flat)
    minmax = np.where(flat, 100.0, 100.0 * rel)
    # target: 100 × min(value / target, 1), the target pro-rated for year-to-date indicators
    share = np.where(df["prorate"].astype(bool), period.months_elapsed / 12.0, 1.0)
    target = 100.0 * (pv / (df["target"] * share)).clip(lower=0.0, upper=1.0)
    score = np.where(df["normalise"] == "target", target, minmax)
    df["score"] = pd.Series(score, index=df.index).where(peer).clip(0.0, 100.0)
    return df


def aggregate(detail: pd.DataFrame, spec: IndexSpec) -> pd.DataFrame:
    """code, index, one column per first-level node, na_count (unrounded) from normalised scores."""
    d = detail.assign(ws=detail["weight"] * detail["score"], wa=detail["weight"].where(detail["score"].notna()))
    g = d.groupby(["code", "group"], sort=False)[["ws", "wa"]].sum(min_count=1)
    g["sub"] = g["ws"] / g["wa"]
    sub = g["sub"].unstack("group")
    groups = [n.code for n in spec.groups]
    sub = sub.reindex(columns=groups)
    w = pd.Series({n.code: n.weight for n in spec.groups})
    present = sub.notna()
    num = (sub.fillna(0.0) * w).sum(axis=1)
    den = (present * w).sum(axis=1)
    out = sub.copy()
    out.insert(0, "index", (num / den).where(den > 0))
    out["na_count"] = detail["score"].isna().groupby(detail["code"]).sum()
    return out.reset_index()


def index_frames(con: duckdb.DuckDBPyConnection, period: str | Period, level: str = "city",
                 province: str | None = None, scheme: Scheme | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(index, detail): the published index table and the long frame of normalised scores."""
    period = Period.parse(period)
    scheme = scheme or load_scheme()
    spec = scheme.require_index()
    long = compute_indicators(con, period, level, province, scheme, [n.code for n in spec.leaves])
    directions = {n.code: scheme.indicator(n.code).direction for n in spec.leaves}
    detail = normalise(long[["code", "name", "indicator", "value", "assessed"]], spec, period, directions)
    detail["band"] = band_series(detail["score"], scheme.bands)
    units = long.drop_duplicates("code")[["code", "name", "assessed"]].reset_index(drop=True)
    agg = aggregate(detail[detail["assessed"]], spec)
    groups = [n.code for n in spec.groups]
    out = units.merge(agg, on="code", how="left")
    for c in ["index", *groups]:
        out[c] = round_half_away(out[c].astype(float), 1)
    out["rank"] = out["index"].rank(method="min", ascending=False).astype("Int64")
    out["na_count"] = out["na_count"].astype("Int64")
    out = out[["code", "name", "index", "rank", *groups, "na_count", "assessed"]]
    detail = detail[["code", "name", "indicator", "group", "weight", "value", "score", "band", "assessed"]]
    return out, detail.sort_values(["code", "group"], kind="stable").reset_index(drop=True)


def compute_index(con: duckdb.DuckDBPyConnection, period: str | Period, level: str = "city",
                  province: str | None = None, scheme: Scheme | None = None) -> pd.DataFrame:
    """code, name, index, rank, A…F (the scheme's first-level codes), na_count, assessed.

    Index and sub-indices are rounded to one decimal half away from zero (computed from the
    unrounded values); rank 1 = highest rounded index, ties share the best place. Units not
    assessed (无数据) have NA throughout.
    """
    return index_frames(con, period, level, province, scheme)[0]


def index_detail(con: duckdb.DuckDBPyConnection, period: str | Period, level: str = "city",
                 province: str | None = None, scheme: Scheme | None = None) -> pd.DataFrame:
    """Long frame code, name, indicator, group, weight, value, score (0–100), band, assessed."""
    return index_frames(con, period, level, province, scheme)[1]
