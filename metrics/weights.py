"""Weights from the data beside the scheme's expert weights (methodology §6, "Weights").

Three objective weightings, each a small scikit-learn-style estimator — parameters in
``__init__``, ``fit(X)`` sets ``weights_`` (non-negative, summing to 1, one per column of X):

* ``EntropyWeights`` — the entropy weight method. With x_ij ≥ 0 (unit i, indicator j, n units):
  p_ij = x_ij / Σ_i x_ij;  e_j = −(1 / ln n) Σ_i p_ij ln p_ij  (0 · ln 0 = 0);
  d_j = 1 − e_j;  w_j = d_j / Σ_k d_k.  An indicator on which every unit is equal carries no
  information (e_j = 1) and gets weight 0. (A column of zeros: p_ij = 1/n, e_j = 1.)
* ``PCAWeights`` — the first principal component of the standardised indicators (z-scores; a
  constant column stays 0): w_j = v_1j², the squared loadings of the unit eigenvector, which sum
  to 1 (the OECD/JRC handbook's "squared factor loadings scaled to unity sum").
  ``explained_variance_ratio_`` says how much of the spread that one component carries.
* ``CRITICWeights`` — CRITIC (Diakoulaki et al. 1995): columns min-max scaled to 0–1,
  σ_j their standard deviation, r_jk their correlations (0 where a column is constant);
  C_j = σ_j Σ_k (1 − r_jk);  w_j = C_j / Σ_k C_k. Contrast (σ) and conflict with the other
  indicators (1 − r) both raise the weight.

What they are fitted on (``score_matrix``): the index's normalised 0–100 scores (units × the
scheme's second-level indicators, assessed units only) — direction and targets already applied,
so the weights answer "how much does each indicator, as the index scores it, separate the
units". A unit's NA score is filled with that indicator's median among the peers for fitting
only (documented in ``score_matrix``); ranks under each weighting are computed by the index's own
aggregation (metrics.index.aggregate: NA weight shared within its group, published rounding,
ties share the best place), with the leaf weights replaced and each first-level weight = the sum
of its indicators' weights.

``compare_weights`` puts expert, entropy, PCA and CRITIC weights side by side with the index and
rank each gives and each weighting's *effective* weights: the share of the spread of the index
across units that comes from each indicator, cov(w_j·s_j, I) / var(I) with I = Σ_j w_j·s_j
(the shares add up to 1; an indicator with a large nominal weight but little spread has a small
effective weight, and a negative share means it pulls against the rest).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA
from sklearn.utils.validation import check_array

from metrics.index import aggregate
from metrics.rounding import round_half_away
from metrics.scheme import IndexSpec

METHODS = {"expert": "专家权重（方案）", "entropy": "熵权法", "pca": "主成分（第一主成分）", "critic": "CRITIC法"}


class _Weights(BaseEstimator):
    """Shared bits: validate X, keep column names, expose ``weights_`` as a Series."""

    def _check(self, X):
        if hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        X = check_array(X, dtype=float, ensure_min_samples=2)
        self.n_features_in_ = X.shape[1]
        return X

    @staticmethod
    def _unit_sum(v: np.ndarray) -> np.ndarray:
        v = np.clip(np.asarray(v, dtype=float), 0.0, None)
        s = v.sum()
        return v / s if s > 0 else np.full(len(v), 1.0 / len(v))

    def weights_series(self) -> pd.Series:
        names = getattr(self, "feature_names_in_", None)
        return pd.Series(self.weights_, index=names if names is not None else range(len(self.weights_)))


class EntropyWeights(_Weights):
    """Entropy weight method over non-negative data (see the module docstring for the formula)."""

    def fit(self, X, y=None):
        X = self._check(X)
        if (X < 0).any():
            raise ValueError("entropy weights need non-negative data (normalised scores)")
        n = X.shape[0]
        col = X.sum(axis=0)
        p = np.where(col > 0, X / np.where(col > 0, col, 1.0), 1.0 / n)
        plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
        self.entropy_ = -plogp.sum(axis=0) / np.log(n)
        self.divergence_ = 1.0 - self.entropy_
        self.weights_ = self._unit_sum(self.divergence_)
        return self


class PCAWeights(_Weights):
    """Squared loadings of the first principal component of the standardised data."""

    def __init__(self, standardise: bool = True):
        self.standardise = standardise

    def fit(self, X, y=None):
        X = self._check(X)
        Z = X - X.mean(axis=0)
        if self.standardise:
            sd = X.std(axis=0)
            Z = Z / np.where(sd > 0, sd, 1.0)
        pca = PCA(n_components=1, svd_solver="full").fit(Z)
        v = pca.components_[0]
        self.loadings_ = v * np.sign(v[np.argmax(np.abs(v))])
        self.explained_variance_ratio_ = float(pca.explained_variance_ratio_[0]) if np.isfinite(
            pca.explained_variance_ratio_[0]) else 0.0
        self.weights_ = self._unit_sum(v ** 2)
        return self


class CRITICWeights(_Weights):
    """CRITIC: contrast (standard deviation) × conflict (1 − correlation) of min-max scaled columns."""

    def fit(self, X, y=None):
        X = self._check(X)
        lo, hi = X.min(axis=0), X.max(axis=0)
        span = hi - lo
        S = np.where(span > 0, (X - lo) / np.where(span > 0, span, 1.0), 0.0)
        sd = S.std(axis=0, ddof=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.corrcoef(S, rowvar=False)
        r = np.nan_to_num(np.atleast_2d(r), nan=0.0)
        np.fill_diagonal(r, 1.0)
        self.std_ = sd
        self.conflict_ = (1.0 - r).sum(axis=0)
        self.information_ = sd * self.conflict_
        self.weights_ = self._unit_sum(self.information_)
        return self


ESTIMATORS = {"entropy": EntropyWeights, "pca": PCAWeights, "critic": CRITICWeights}


# --- from the index's detail frame ---------------------------------------------------------------
def score_matrix(detail: pd.DataFrame, spec: IndexSpec, fill: bool = True) -> pd.DataFrame:
    """Units (assessed) × second-level indicators (the scheme's order) of normalised scores 0–100.
    ``fill``: an NA score takes the indicator's median among the units that have one (an
    indicator nobody has takes 0) — for fitting weights only."""
    leaves = [n.code for n in spec.leaves]
    d = detail[detail["assessed"].astype(bool)]
    m = d.pivot(index="code", columns="indicator", values="score").reindex(columns=leaves).astype(float)
    if fill:
        m = m.fillna(m.median()).fillna(0.0)
    return m


def expert_weights(spec: IndexSpec) -> pd.Series:
    """The scheme's weight of each second-level indicator as a share of the total (sums to 1)."""
    w = pd.Series({n.code: float(n.weight) for n in spec.leaves})
    return w / w.sum()


def with_leaf_weights(spec: IndexSpec, weights: dict[str, float] | pd.Series) -> IndexSpec:
    """The same tree with new leaf weights; each first-level weight = the sum of its leaves'."""
    weights = {k: float(v) for k, v in dict(weights).items()}
    leaves = [dataclasses.replace(n, weight=weights.get(n.code, n.weight)) for n in spec.leaves]
    sums: dict[str, float] = {}
    for n in leaves:
        sums[n.parent] = sums.get(n.parent, 0.0) + n.weight
    groups = [dataclasses.replace(n, weight=sums.get(n.code, 0.0)) for n in spec.groups]
    nodes = []
    for g in groups:
        nodes.append(g)
        nodes += [n for n in leaves if n.parent == g.code]
    return dataclasses.replace(spec, nodes=tuple(nodes), total=float(sum(sums.values())))


def index_with(detail: pd.DataFrame, spec: IndexSpec) -> pd.DataFrame:
    """code, index (published rounding), rank (ties share the best place) of the assessed units,
    aggregating ``detail``'s normalised scores with ``spec``'s weights (metrics.index.aggregate)."""
    d = detail[detail["assessed"].astype(bool)].drop(columns="weight", errors="ignore")
    w = pd.DataFrame([(n.code, n.weight) for n in spec.leaves], columns=["indicator", "weight"])
    d = d.merge(w, on="indicator", how="inner")
    agg = aggregate(d, spec)[["code", "index"]]
    agg["index"] = round_half_away(agg["index"].astype(float), 1)
    agg["rank"] = agg["index"].rank(method="min", ascending=False).astype("Int64")
    return agg


def effective_weights(X: pd.DataFrame, w: pd.Series) -> pd.Series:
    """cov(w_j·x_j, I) / var(I) with I = Σ_j w_j·x_j: each indicator's share of the index's spread."""
    w = w.reindex(X.columns).fillna(0.0).to_numpy()
    parts = X.to_numpy(dtype=float) * w
    total = parts.sum(axis=1)
    var = total.var()
    if var <= 0:
        return pd.Series(np.nan, index=X.columns)
    cov = ((parts - parts.mean(axis=0)) * (total - total.mean())[:, None]).mean(axis=0)
    return pd.Series(cov / var, index=X.columns)


@dataclasses.dataclass
class WeightComparison:
    """weights: indicator, name, group, <method> (share of 1), eff_<method> (effective share);
    ranks: code, name, <method>_index, <method>_rank for each method, max_shift (largest rank change
    from the expert rank); pca_explained: the first component's share of the variance."""

    weights: pd.DataFrame
    ranks: pd.DataFrame
    pca_explained: float


def compare_weights(detail: pd.DataFrame, spec: IndexSpec, names: dict[str, str] | None = None) -> WeightComparison:
    """Expert, entropy, PCA and CRITIC weights of the index's indicators, the effective weights, and
    the index and rank each weighting gives (``detail`` from metrics.index.index_frames)."""
    X = score_matrix(detail, spec)
    leaves = list(X.columns)
    table = pd.DataFrame({"indicator": leaves,
                          "name": [(names or {}).get(c, c) for c in leaves],
                          "group": [next(n.parent for n in spec.leaves if n.code == c) for c in leaves]})
    weights = {"expert": expert_weights(spec).reindex(leaves)}
    fitted = {}
    for m, cls in ESTIMATORS.items():
        if len(X) >= 2:
            fitted[m] = cls().fit(X)
            weights[m] = fitted[m].weights_series()
        else:
            weights[m] = pd.Series(np.nan, index=leaves)
    for m, w in weights.items():
        table[m] = w.to_numpy()
    for m, w in weights.items():
        table[f"eff_{m}"] = effective_weights(X, w).to_numpy() if len(X) >= 2 else np.nan
    units = detail.drop_duplicates("code")[["code", "name"]].reset_index(drop=True)
    ranks = units.copy()
    for m, w in weights.items():
        if w.isna().all():
            ranks[f"{m}_index"], ranks[f"{m}_rank"] = np.nan, pd.NA
            continue
        r = index_with(detail, with_leaf_weights(spec, (w * 100.0).to_dict()))
        ranks = ranks.merge(r.rename(columns={"index": f"{m}_index", "rank": f"{m}_rank"}), on="code", how="left")
    others = [f"{m}_rank" for m in ESTIMATORS]
    shift = ranks[others].astype(float).sub(ranks["expert_rank"].astype(float), axis=0).abs()
    ranks["max_shift"] = shift.max(axis=1).astype("Int64")
    pca = fitted.get("pca")
    return WeightComparison(table, ranks, pca.explained_variance_ratio_ if pca is not None else float("nan"))
