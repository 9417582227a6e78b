"""How solid is a rank? Monte Carlo over the weights and the normalisation (methodology §6).

Index ranks (``rank_uncertainty``)
----------------------------------
Each draw d (``draws``, default 1000, seeded ``numpy.random.default_rng(seed)``):

* every weight of the scheme's tree — each second-level indicator's and each first-level
  group's — is multiplied by its own factor drawn uniformly from [1 − spread, 1 + spread]
  (spread 0.5 = ±50%), then renormalised within the tree: an indicator's weight as a share of
  its group's perturbed indicator weights, a group's as a share of the perturbed group weights
  (exactly what the index's aggregation does; an NA indicator's weight is shared within its
  group and an NA group's among the others, as in the published index);
* one normalisation is drawn, uniformly among ``normalisations``:
  - ``scheme``: the scheme's own (min-max among peers, winsorised where the scheme says, or the
    capped ratio to a target) — the published scores;
  - ``minmax``: every indicator min-max among the assessed peers, 0–100 (direction respected,
    no target, no winsorising; all equal → 100);
  - ``zscore``: every indicator as a T-score among the peers, 50 + 10·(v − mean)/sd
    (population sd; sd 0 → 50; sign reversed for lower-is-better indicators);
  - ``rank``: every indicator as the percentile of its rank among the peers, 100·(r − 1)/(n − 1)
    with average ranks for ties (one peer → 100).
* the index is aggregated, rounded to one decimal half away from zero and ranked (1 = highest,
  ties share the best place) exactly as the published index is.

All draws are computed at once (matrix products over units × draws, one per normalisation and
group). Per unit: the nominal (published) rank, the median of the draws' ranks, the 5th and 95th
percentiles (``numpy.quantile(..., method='inverted_cdf')``: ranks that occurred), the share of
draws in the top / last ``last`` places, and ``stable``: the 5–95% interval spans at most
``tolerance`` places (default max(2, 10% of the peers)); otherwise the rank "depends on the
weights and normalisation" (取决于权重与标准化方法).

With spread 0 and normalisations ("scheme",) every draw is the published configuration and the
interval collapses to the published rank (tests/metrics/test_uncertainty.py).

Warnings (``warning_robustness``)
---------------------------------
The warning list is decided by the quarterly score (points, not a normalised index), so its
draws perturb the *item points*: each item's points × U[1 − spread, 1 + spread], renormalised to
the score's total (100); bonus, deductions, the items' rules (points × min(value / target, 1),
NA items' full or zero points), the publication (each item's points rounded to one decimal, then
summed) and the warning rule (metrics.warning.WarningRule, evaluated for all draws at once) stay
as the scheme says. The score's normalisation is
not varied: its 80-point threshold is defined on that point scale, and re-scaling items among
peers would change what "below 80" means. A warning is **robust** when the unit is warned in at
least ``robust_share`` (95%) of the draws; a unit not warned but warned in at least 5% of the
draws is shown as near the line.
"""
from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd

from metrics.index import normalise
from metrics.periods import Period
from metrics.rounding import round_half_away
from metrics.scheme import IndexSpec, ScoreSpec
from metrics.warning import WarningRule, ranks

NORMALISATIONS = {"scheme": "方案规定", "minmax": "极差标准化", "zscore": "Z分数（T分）", "rank": "百分位排名"}


# --- normalised score matrices ---------------------------------------------------------------------
def score_matrices(detail: pd.DataFrame, spec: IndexSpec, period: str | Period,
                   directions: dict[str, str] | None = None,
                   methods=tuple(NORMALISATIONS)) -> tuple[pd.Index, list[str], dict[str, np.ndarray]]:
    """(units, leaves, {method: units × leaves array of 0–100-like scores, NaN = NA}) over the
    assessed units of ``detail`` (metrics.index.index_frames' detail frame)."""
    leaves = [n.code for n in spec.leaves]
    d = detail[detail["assessed"].astype(bool)]
    value = d.pivot(index="code", columns="indicator", values="value").reindex(columns=leaves).astype(float)
    units = value.index
    out: dict[str, np.ndarray] = {}
    lower = np.array([(directions or {}).get(c) == "-" for c in leaves])
    V = value.to_numpy()
    for m in methods:
        if m == "scheme":
            s = d.pivot(index="code", columns="indicator", values="score").reindex(index=units, columns=leaves)
            out[m] = s.to_numpy(dtype=float)
        elif m == "minmax":
            plain = dataclasses.replace(spec, nodes=tuple(
                dataclasses.replace(n, normalise="minmax", winsorise=None) if n.parent else n for n in spec.nodes))
            norm = normalise(d[["code", "indicator", "value", "assessed"]], plain, Period.parse(period), directions)
            s = norm.pivot(index="code", columns="indicator", values="score").reindex(index=units, columns=leaves)
            out[m] = s.to_numpy(dtype=float)
        elif m == "zscore":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # an indicator no peer has: all NaN
                mean, sd = np.nanmean(V, axis=0), np.nanstd(V, axis=0)
            z = (V - mean) / np.where(sd > 0, sd, np.inf)
            out[m] = 50.0 + 10.0 * np.where(lower, -z, z)
        elif m == "rank":
            r = pd.DataFrame(V).rank(method="average").to_numpy()
            n = (~np.isnan(V)).sum(axis=0)
            pct = np.where(n > 1, 100.0 * (r - 1.0) / np.maximum(n - 1, 1), 100.0)
            out[m] = np.where(lower, 100.0 - pct, pct)
            out[m] = np.where(n > 1, out[m], 100.0)
            out[m] = np.where(np.isnan(V), np.nan, out[m])
        else:
            raise ValueError(f"unknown normalisation {m!r}: use one of {', '.join(NORMALISATIONS)}")
    return units, leaves, out


# --- vectorised aggregation ------------------------------------------------------------------------
def _index_draws(S: np.ndarray, leaf_w: np.ndarray, group_w: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """Units × draws index: sub-index per group = Σ w·s / Σ w over applicable indicators, index =
    Σ W·sub / Σ W over applicable groups (metrics.index.aggregate, for many weightings at once)."""
    present = ~np.isnan(S)
    S0 = np.where(present, S, 0.0)
    num = np.zeros((S.shape[0], leaf_w.shape[0]))
    den = np.zeros_like(num)
    for g, idx in enumerate(groups):
        n = S0[:, idx] @ leaf_w[:, idx].T
        w = present[:, idx].astype(float) @ leaf_w[:, idx].T
        ok = w > 0
        sub = np.divide(n, w, out=np.zeros_like(n), where=ok)
        num += sub * group_w[:, g]
        den += ok * group_w[:, g]
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


_ranks = ranks  # rank each column, 1 = best, ties share the best place (metrics.warning.ranks)


def _quantiles(ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    q = np.quantile(ranks, [0.05, 0.5, 0.95], axis=1, method="inverted_cdf")
    return q[0], q[1], q[2]


@dataclasses.dataclass
class RankUncertainty:
    """units: code, name, index, rank, rank_median, rank_p5, rank_p95, width, p_top, p_last, stable;
    draws: units × draws ranks (rows = units.code); method_of_draw: the normalisation of each draw."""

    units: pd.DataFrame
    ranks: np.ndarray
    method_of_draw: np.ndarray
    settings: dict


def rank_uncertainty(detail: pd.DataFrame, spec: IndexSpec, period: str | Period,
                     directions: dict[str, str] | None = None, draws: int = 1000, spread: float = 0.5,
                     normalisations=tuple(NORMALISATIONS), seed: int = 0, last: int = 3,
                     tolerance: int | None = None) -> RankUncertainty:
    """Monte Carlo rank intervals of the index (see the module docstring)."""
    if not 0 <= spread < 1:
        raise ValueError("spread is a fraction below 1 (0.5 = ±50%)")
    methods = list(dict.fromkeys(normalisations))
    units, leaves, mats = score_matrices(detail, spec, period, directions, tuple(dict.fromkeys(["scheme", *methods])))
    names = detail.drop_duplicates("code").set_index("code")["name"]
    rng = np.random.default_rng(seed)
    base_leaf = np.array([n.weight for n in spec.leaves], dtype=float)
    group_codes = [g.code for g in spec.groups]
    base_group = np.array([g.weight for g in spec.groups], dtype=float)
    groups = [np.array([i for i, n in enumerate(spec.leaves) if n.parent == g]) for g in group_codes]
    leaf_w = base_leaf * rng.uniform(1 - spread, 1 + spread, (draws, len(base_leaf)))
    group_w = base_group * rng.uniform(1 - spread, 1 + spread, (draws, len(base_group)))
    method_idx = rng.integers(0, len(methods), draws)
    index = np.full((len(units), draws), np.nan)
    for k, m in enumerate(methods):
        cols = np.flatnonzero(method_idx == k)
        if len(cols):
            index[:, cols] = _index_draws(mats[m], leaf_w[cols], group_w[cols], groups)
    index = round_half_away(index, 1)
    nominal = round_half_away(_index_draws(mats["scheme"], base_leaf[None, :], base_group[None, :], groups), 1)[:, 0]
    ok = ~np.isnan(nominal)
    ranks = _ranks(np.where(ok[:, None], index, np.nan))
    nominal_rank = _ranks(np.where(ok, nominal, np.nan)[:, None])[:, 0]
    n = int(ok.sum())
    tol = tolerance if tolerance is not None else max(2, int(np.ceil(0.1 * n)))
    out = pd.DataFrame({"code": units, "name": names.reindex(units).to_numpy(), "index": nominal,
                        "rank": nominal_rank})
    p5, med, p95 = (np.full(len(units), np.nan) for _ in range(3))
    if ok.any():
        p5[ok], med[ok], p95[ok] = _quantiles(ranks[ok])
    out["rank_median"] = med
    out["rank_p5"] = p5
    out["rank_p95"] = p95
    out["width"] = p95 - p5
    with np.errstate(invalid="ignore"):
        out["p_top"] = np.where(ok, (ranks <= last).mean(axis=1), np.nan)
        out["p_last"] = np.where(ok, (ranks > n - last).mean(axis=1), np.nan)
    out["stable"] = pd.array(np.where(ok, out["width"] <= tol, False), dtype="boolean")
    out.loc[~ok, "stable"] = pd.NA
    for c in ("rank", "rank_p5", "rank_p95"):
        out[c] = out[c].astype("Int64")
    out = out.sort_values(["rank", "code"], na_position="last").reset_index(drop=True)
    order = pd.Index(units).get_indexer(out["code"])
    return RankUncertainty(out, ranks[order], np.array(methods)[method_idx],
                           dict(draws=draws, spread=spread, normalisations=methods, seed=seed, tolerance=tol,
                                last=last, peers=n))


# --- the warning list --------------------------------------------------------------------------------
def _item_fractions(sheet: pd.DataFrame, spec: ScoreSpec) -> np.ndarray:
    """Units × items: the share of each item's points earned, from the full-precision points."""
    def exact(it):
        col = f"{it.indicator}_points_exact"
        return sheet[col if col in sheet else f"{it.indicator}_points"].to_numpy(dtype=float)
    return np.column_stack([exact(it) / it.points for it in spec.items])


def _adjustments(sheet: pd.DataFrame, adjustments) -> np.ndarray:
    total = np.zeros(len(sheet))
    for a in adjustments:
        total = total + sheet[f"{a.indicator}_points"].to_numpy(dtype=float)
    return total


def score_draws(sheet: pd.DataFrame, spec: ScoreSpec, points: np.ndarray) -> np.ndarray:
    """Units × draws published scores of ``sheet`` (compute_score's frame) with each draw's item
    points (draws × items) in place of the scheme's, published as the score is: each item's
    points rounded to one decimal, summed, + bonus − deductions as computed, clipped."""
    F = _item_fractions(sheet, spec)
    items = np.zeros((len(sheet), len(points)))
    for i in range(F.shape[1]):
        items += round_half_away(F[:, i, None] * points[None, :, i], 1)
    raw = items + (_adjustments(sheet, spec.bonus) - _adjustments(sheet, spec.deductions))[:, None]
    return round_half_away(np.clip(raw, 0.0, spec.max), 1)


def warned_draws(scores: np.ndarray, group: np.ndarray, rule: WarningRule) -> tuple[np.ndarray, np.ndarray]:
    """(warned, rank) units × draws: the warning rule's own evaluation (WarningRule.evaluate_draws)."""
    return rule.evaluate_draws(scores, group)


def warning_robustness(sheet: pd.DataFrame, spec: ScoreSpec, rule: WarningRule, draws: int = 1000,
                       spread: float = 0.5, seed: int = 0, robust_share: float = 0.95) -> pd.DataFrame:
    """Per unit of ``sheet`` (metrics.score.compute_score): code, name, group, score, rank, warned,
    score_p5, score_p95, rank_median, rank_p5, rank_p95, warned_share, robust, verdict."""
    if not 0 <= spread < 1:
        raise ValueError("spread is a fraction below 1 (0.5 = ±50%)")
    rng = np.random.default_rng(seed)
    base = np.array([it.points for it in spec.items], dtype=float)
    pts = base * rng.uniform(1 - spread, 1 + spread, (draws, len(base)))
    pts = pts / pts.sum(axis=1, keepdims=True) * base.sum()
    assessed = sheet["assessed"].astype(bool).to_numpy()
    scores = np.where(assessed[:, None], score_draws(sheet, spec, pts), np.nan)
    warned, rank = warned_draws(scores, sheet["group"].astype(str).to_numpy(), rule)
    out = sheet[["code", "name", "group", "score", "rank", "warned"]].copy().reset_index(drop=True)
    share = np.where(assessed, warned.mean(axis=1), np.nan)
    sq = np.full((3, len(out)), np.nan)
    rq = np.full((3, len(out)), np.nan)
    if assessed.any():
        sq[:, assessed] = np.quantile(scores[assessed], [0.05, 0.5, 0.95], axis=1, method="inverted_cdf")
        rq[:, assessed] = np.quantile(rank[assessed], [0.05, 0.5, 0.95], axis=1, method="inverted_cdf")
    out["score_p5"], out["score_p95"] = sq[0], sq[2]
    out["rank_median"], out["rank_p5"], out["rank_p95"] = rq[1], rq[0], rq[2]
    for c in ("rank_p5", "rank_p95"):
        out[c] = out[c].astype("Int64")
    out["warned_share"] = share
    is_warned = out["warned"].fillna(False).astype(bool).to_numpy()
    out["robust"] = pd.array(np.where(is_warned, share >= robust_share, False), dtype="boolean")
    out.loc[~is_warned, "robust"] = pd.NA
    pct = pd.Series(share * 100).map(lambda x: "" if np.isnan(x) else f"{x:.0f}%")
    verdict = np.select(
        [~assessed, is_warned & (share >= robust_share), is_warned, share >= 0.05],
        ["", "稳健：" + pct + "的权重组合下仍在预警名单",
         "取决于权重：仅" + pct + "的权重组合下在预警名单",
         "临界：" + pct + "的权重组合下会进入预警名单"], default="")
    out["verdict"] = verdict
    return out
