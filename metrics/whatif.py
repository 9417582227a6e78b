"""What if the weights or targets were different? Recompute the ranking in memory (methodology §6).

Nothing here touches a scheme file or the scheme in use: the scheme's frozen spec is copied
with the changed weights, targets or normalisation (``dataclasses.replace``) and the published
pipeline's own functions recompute from the period's indicator values —

* the index: metrics.index.normalise (min-max among peers / capped ratio to a target, winsorising
  as the scheme says) → metrics.index.aggregate (NA weight shared within its group) → published
  rounding → rank (ties share the best place). Each first-level weight becomes the sum of its
  indicators' new weights (the scheme's own rule), and weights need not add up to 100: the
  aggregation divides by their sum.
* the quarterly score: metrics.score.score_items with the new item points (rescaled so they add up
  to the score's total, 100, so the 80-point warning threshold keeps its meaning) and targets
  (each item's points published to one decimal, the score their sum) → the scheme's warning rule
  (metrics.warning.WarningRule.apply).

The unchanged inputs reproduce the published index, ranks, scores and warnings exactly
(tests/metrics/test_whatif.py).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from metrics.index import aggregate, normalise
from metrics.periods import Period
from metrics.rounding import round_half_away
from metrics.scheme import IndexSpec, ScoreSpec
from metrics.score import score_items
from metrics.warning import WarningRule
from metrics.weights import with_leaf_weights


def modified_index_spec(spec: IndexSpec, weights: dict[str, float] | None = None,
                        targets: dict[str, float] | None = None,
                        methods: dict[str, str] | None = None) -> IndexSpec:
    """A copy of the index tree with new leaf weights, targets (a target given for a min-max
    indicator switches it to a target) and normalisation methods ('minmax' | 'target')."""
    weights, targets, methods = dict(weights or {}), dict(targets or {}), dict(methods or {})
    for code, w in weights.items():
        if not np.isfinite(w) or w < 0:
            raise ValueError(f"weight of {code} must be a number ≥ 0, not {w}")
    nodes = []
    for n in spec.nodes:
        if n.parent is not None:
            method = methods.get(n.code, "target" if n.code in targets else n.normalise)
            if method not in ("minmax", "target"):
                raise ValueError(f"normalisation of {n.code} is minmax or target, not {method!r}")
            target = targets.get(n.code, n.target)
            if method == "target" and (target is None or not target > 0):
                raise ValueError(f"{n.code} needs a target above 0 to be normalised by target")
            n = dataclasses.replace(n, normalise=method, target=target if method == "target" else n.target)
        nodes.append(n)
    out = dataclasses.replace(spec, nodes=tuple(nodes))
    return with_leaf_weights(out, {n.code: weights.get(n.code, n.weight) for n in out.leaves})


def index_ranking(detail: pd.DataFrame, spec: IndexSpec, period: str | Period,
                  directions: dict[str, str] | None = None) -> pd.DataFrame:
    """code, name, index, rank, <group sub-indices> from the indicator values in ``detail``
    (metrics.index.index_frames' detail) under ``spec``: the published pipeline, in memory."""
    values = detail[["code", "name", "indicator", "value", "assessed"]]
    norm = normalise(values, spec, Period.parse(period), directions)
    agg = aggregate(norm[norm["assessed"].astype(bool)], spec)
    groups = [g.code for g in spec.groups]
    units = detail.drop_duplicates("code")[["code", "name"]]
    out = units.merge(agg, on="code", how="left")
    for c in ["index", *groups]:
        out[c] = round_half_away(out[c].astype(float), 1)
    out["rank"] = out["index"].rank(method="min", ascending=False).astype("Int64")
    return out[["code", "name", "index", "rank", *groups]].reset_index(drop=True)


def whatif_index(detail: pd.DataFrame, spec: IndexSpec, period: str | Period,
                 directions: dict[str, str] | None = None, weights: dict[str, float] | None = None,
                 targets: dict[str, float] | None = None, methods: dict[str, str] | None = None) -> pd.DataFrame:
    """code, name, index_before, rank_before, index_after, rank_after, moved (places up: + better),
    sorted by the new rank."""
    before = index_ranking(detail, spec, period, directions)
    after = index_ranking(detail, modified_index_spec(spec, weights, targets, methods), period, directions)
    out = before[["code", "name", "index", "rank"]].rename(columns={"index": "index_before", "rank": "rank_before"})
    out = out.merge(after[["code", "index", "rank"]].rename(columns={"index": "index_after", "rank": "rank_after"}),
                    on="code")
    out["moved"] = (out["rank_before"].astype("Float64") - out["rank_after"].astype("Float64")).astype("Int64")
    return out.sort_values(["rank_after", "code"], na_position="last").reset_index(drop=True)


# --- the quarterly score ------------------------------------------------------------------------------
def modified_score_spec(spec: ScoreSpec, points: dict[str, float] | None = None,
                        targets: dict[str, float] | None = None) -> ScoreSpec:
    """A copy of the score's items with new points (rescaled to add up to the total) and targets."""
    points, targets = dict(points or {}), dict(targets or {})
    raw = {it.indicator: float(points.get(it.indicator, it.points)) for it in spec.items}
    if any(not np.isfinite(v) or v < 0 for v in raw.values()) or sum(raw.values()) <= 0:
        raise ValueError("item points must be numbers ≥ 0, not all 0")
    scale = spec.total / sum(raw.values())
    items = []
    for it in spec.items:
        t = float(targets.get(it.indicator, it.target))
        if not t > 0:
            raise ValueError(f"target of {it.indicator} must be above 0")
        items.append(dataclasses.replace(it, points=raw[it.indicator] * scale, target=t))
    return dataclasses.replace(spec, items=tuple(items))


def score_ranking(sheet: pd.DataFrame, spec: ScoreSpec, rule: WarningRule, quarter: str | Period) -> pd.DataFrame:
    """code, name, score, rank, warned from compute_score's frame (its *_value columns) under
    ``spec``: metrics.score.score_items and the warning rule's own evaluation, in memory."""
    codes = [it.indicator for it in spec.items] + [a.indicator for a in (*spec.bonus, *spec.deductions)]
    values = pd.DataFrame({c: sheet[f"{c}_value"].to_numpy(dtype=float) for c in dict.fromkeys(codes)},
                          index=sheet["code"])
    items = score_items(values, spec, Period.parse(quarter))
    df = sheet[["code", "name", "assessed", "group"]].set_index("code").join(items[["score"]]).reset_index()
    df.loc[~df["assessed"].astype(bool), "score"] = np.nan
    df = rule.apply(df)
    return df[["code", "name", "score", "rank", "warned", "group"]]


def whatif_score(sheet: pd.DataFrame, spec: ScoreSpec, rule: WarningRule, quarter: str | Period,
                 points: dict[str, float] | None = None, targets: dict[str, float] | None = None) -> pd.DataFrame:
    """code, name, group, score/rank/warned before and after, moved (places up), change (warning
    list change: 新进入 / 移出 / ''), sorted by group and the new rank."""
    before = score_ranking(sheet, spec, rule, quarter)
    after = score_ranking(sheet, modified_score_spec(spec, points, targets), rule, quarter)
    out = before.rename(columns={"score": "score_before", "rank": "rank_before", "warned": "warned_before"})
    out = out.merge(after[["code", "score", "rank", "warned"]].rename(
        columns={"score": "score_after", "rank": "rank_after", "warned": "warned_after"}), on="code")
    out["moved"] = (out["rank_before"].astype("Float64") - out["rank_after"].astype("Float64")).astype("Int64")
    wb = out["warned_before"].fillna(False).astype(bool)
    wa = out["warned_after"].fillna(False).astype(bool)
    out["change"] = np.select([wa & ~wb, wb & ~wa], ["新进入预警名单", "移出预警名单"], default="")
    return out.sort_values(["group", "rank_after", "code"], na_position="last").reset_index(drop=True)
