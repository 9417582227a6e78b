"""Where a unit lost its points: the quarterly score and the index taken apart item by item.

Pure functions over the frames metrics.score.compute_score and metrics.index.index_detail
return; they answer "why did this unit score low?" for the region page and the notices.
"""
from __future__ import annotations

import pandas as pd

from metrics.scheme import Scheme


def score_breakdown(row: pd.Series | dict, scheme: Scheme) -> pd.DataFrame:
    """One unit's score sheet row as a table: kind ('item' | 'bonus' | 'deduction'), indicator,
    name, unit, value, target, points (the item's full points, or the cap of a bonus/deduction),
    earned (points earned; for a deduction the points taken off), lost (full − earned for an
    item, the deduction for a deduction, 0 for a bonus), na (the item was not applicable), note.
    Sorted: items losing most first, then bonus, then deductions."""
    spec = scheme.require_score()
    row = dict(row)
    out = []
    for it in spec.items:
        ind = scheme.indicator(it.indicator)
        earned = row.get(f"{it.indicator}_points")
        na = bool(row.get(f"{it.indicator}_na") or False)
        target = it.target
        out.append(dict(kind="item", indicator=it.indicator, name=ind.name, unit=ind.unit,
                        value=row.get(f"{it.indicator}_value"), target=target, prorate=it.prorate,
                        points=it.points, earned=earned,
                        lost=None if pd.isna(earned) else it.points - earned, na=na,
                        note=it.na_label if na else ""))
    for kind, adjustments in (("bonus", spec.bonus), ("deduction", spec.deductions)):
        for a in adjustments:
            ind = scheme.indicator(a.indicator)
            earned = row.get(f"{a.indicator}_points")
            out.append(dict(kind=kind, indicator=a.indicator, name=ind.name, unit=ind.unit,
                            value=row.get(f"{a.indicator}_value"), target=None, prorate=False, points=a.max,
                            earned=earned, lost=(earned if kind == "deduction" else 0.0), na=False,
                            note=f"每{ind.unit or '项'}{'+' if kind == 'bonus' else '−'}{a.points:g}，上限{a.max:g}"))
    df = pd.DataFrame(out)
    order = {"item": 0, "bonus": 1, "deduction": 2}
    df["_k"] = df["kind"].map(order)
    df["_l"] = -df["lost"].astype(float).fillna(0)
    return df.sort_values(["_k", "_l"], kind="stable").drop(columns=["_k", "_l"]).reset_index(drop=True)


def index_breakdown(detail: pd.DataFrame, code: str, scheme: Scheme) -> pd.DataFrame:
    """One unit's index taken apart: per second-level indicator its value, normalised score,
    band, and `lost` = the index points it cost (how far below 100 it pulled the index, with NA
    weights shared as the index shares them). Sum of lost = 100 − the unrounded index.
    Columns: indicator, name, group, group_name, weight, value, score, band, lost; worst first."""
    spec = scheme.require_index()
    d = detail[detail["code"] == code].copy()
    if d.empty:
        return d.assign(group_name=[], lost=[])
    group_w = {g.code: g.weight for g in spec.groups}
    applicable = d[d["score"].notna()]
    leaf_share = applicable.groupby("group")["weight"].transform(lambda w: w / w.sum())
    live_groups = applicable["group"].unique()
    total = sum(group_w[g] for g in live_groups)
    d["lost"] = None
    if total:
        lost = (100.0 - applicable["score"]) * leaf_share * applicable["group"].map(group_w) / total
        d.loc[applicable.index, "lost"] = lost
    d["lost"] = d["lost"].astype(float)
    d["group_name"] = d["group"].map({g.code: g.name for g in spec.groups})
    d["name"] = d["indicator"].map(lambda c: scheme.indicators[c].name if c in scheme.indicators else c)
    cols = ["indicator", "name", "group", "group_name", "weight", "value", "score", "band", "lost"]
    return d.sort_values("lost", ascending=False, na_position="last")[cols].reset_index(drop=True)
