"""Objective weights (entropy, PCA, CRITIC) worked by hand, and their ranks beside the expert ones."""
import duckdb
import numpy as np
import pandas as pd
import pytest

from metrics.index import index_frames
from metrics.scheme import load_scheme
from metrics.weights import (CRITICWeights, EntropyWeights, PCAWeights, compare_weights, effective_weights,
                             expert_weights, index_with, with_leaf_weights)


def test_entropy_weights_by_hand():
    """3 units × 2 indicators:
        x1 = [1, 1, 2]  → p = [1/4, 1/4, 1/2]
        e1 = −(1/ln 3)(¼ln¼ + ¼ln¼ + ½ln½) = (½ln4 + ½ln2)/ln3 = 1.5·ln2/ln3 = 0.946395
        x2 = [0, 1, 1]  → p = [0, 1/2, 1/2]   (0·ln0 = 0)
        e2 = −(1/ln 3)(½ln½ + ½ln½) = ln2/ln3 = 0.630930
        d = 1 − e = [0.053605, 0.369070];  w = d / Σd = [0.126824, 0.873176]
    closed form: w1 = (ln3 − 1.5·ln2) / (2·ln3 − 2.5·ln2)."""
    X = np.array([[1.0, 0.0], [1.0, 1.0], [2.0, 1.0]])
    est = EntropyWeights().fit(X)
    ln2, ln3 = np.log(2), np.log(3)
    assert est.entropy_ == pytest.approx([1.5 * ln2 / ln3, ln2 / ln3])
    w1 = (ln3 - 1.5 * ln2) / (2 * ln3 - 2.5 * ln2)
    assert est.weights_ == pytest.approx([w1, 1 - w1])
    assert est.weights_ == pytest.approx([0.126824, 0.873176], abs=1e-6)


def test_entropy_constant_and_zero_columns_get_no_weight():
    X = pd.DataFrame({"same": [50.0, 50.0, 50.0, 50.0], "zeros": [0.0] * 4, "varies": [0.0, 10.0, 20.0, 100.0]})
    est = EntropyWeights().fit(X)
    assert est.weights_series().to_dict() == pytest.approx({"same": 0.0, "zeros": 0.0, "varies": 1.0})
    with pytest.raises(ValueError):
        EntropyWeights().fit(np.array([[1.0, -1.0], [2.0, 1.0]]))


def test_critic_weights_by_hand():
    """X = [[0, 0], [1, 1], [2, 0]] → min-max columns [0, ½, 1] and [0, 1, 0];
    σ (sample) = [0.5, √(1/3) = 0.57735]; r12 = Σ(dx·dy) = (−½)(−⅓) + 0 + (½)(−⅓) = 0;
    C_j = σ_j Σ_k (1 − r_jk) = [0.5 · 1, 0.57735 · 1]; w = C / ΣC = [0.46410, 0.53590]."""
    est = CRITICWeights().fit(np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]]))
    s = np.sqrt(1 / 3)
    assert est.std_ == pytest.approx([0.5, s])
    assert est.weights_ == pytest.approx([0.5 / (0.5 + s), s / (0.5 + s)])
    assert est.weights_ == pytest.approx([0.46410, 0.53590], abs=1e-5)


def test_critic_rewards_conflict_over_redundancy():
    """Two identical columns share their information; an uncorrelated one of the same spread
    carries more (conflict 1 − r)."""
    t = np.array([-1.0, 0.0, 1.0, 0.0])
    X = np.column_stack([t, t, np.array([1.0, -1.0, 1.0, -1.0])])
    w = CRITICWeights().fit(X).weights_
    assert w[0] == pytest.approx(w[1])
    assert w[2] > w[0]
    assert w.sum() == pytest.approx(1.0)


def test_pca_weights_first_component():
    """x1 = t, x2 = 2t + 1 (the same after standardising), x3 orthogonal to t: the correlation
    matrix has eigenvalues 2 (x1, x2 together) and 1, so PC1 = (1/√2, 1/√2, 0): weights
    (½, ½, 0) as squared loadings, explaining 2/3 of the variance."""
    t = np.array([-1.0, 0.0, 1.0, 0.0])
    X = pd.DataFrame({"a": t, "b": 2 * t + 1, "c": [1.0, -1.0, 1.0, -1.0]})
    est = PCAWeights().fit(X)
    assert est.weights_ == pytest.approx([0.5, 0.5, 0.0], abs=1e-9)
    assert est.explained_variance_ratio_ == pytest.approx(2 / 3)
    assert list(est.feature_names_in_) == ["a", "b", "c"]
    assert est.get_params() == {"standardise": True}   # a scikit-learn estimator: parameters in __init__


def test_effective_weights_add_up_and_follow_spread():
    """cov(w_j x_j, I)/var(I): an indicator nobody differs on has effective weight 0, the shares
    add up to 1."""
    X = pd.DataFrame({"flat": [100.0] * 5, "a": [10.0, 20.0, 30.0, 40.0, 50.0], "b": [5.0, 1.0, 4.0, 2.0, 3.0]})
    eff = effective_weights(X, pd.Series({"flat": 0.5, "a": 0.25, "b": 0.25}))
    assert eff["flat"] == pytest.approx(0.0)
    assert eff.sum() == pytest.approx(1.0)
    assert eff["a"] > eff["b"]


@pytest.fixture(scope="module")
def frames(demo_db):
    con = duckdb.connect(str(demo_db), read_only=True)
    scheme = load_scheme()
    out = {level: index_frames(con, "2025Q3", level, "330000", scheme) for level in ("city", "county")}
    con.close()
    return scheme, out


@pytest.mark.parametrize("level", ["city", "county"])
def test_compare_weights_on_the_demo(frames, level):
    scheme, out = frames
    spec = scheme.require_index()
    index, detail = out[level]
    cmp = compare_weights(detail, spec, {c: i.name for c, i in scheme.indicators.items()})
    w = cmp.weights.set_index("indicator")
    for m in ("expert", "entropy", "pca", "critic"):
        assert w[m].sum() == pytest.approx(1.0)
        assert (w[m] >= 0).all()
        assert w[f"eff_{m}"].sum() == pytest.approx(1.0)
    assert w["expert"].to_dict() == pytest.approx(expert_weights(spec).to_dict())
    # the expert weighting through the objective path reproduces the published index and ranks
    m = index.merge(cmp.ranks, on="code")
    pd.testing.assert_series_equal(m["index"], m["expert_index"], check_names=False)
    assert (m["rank"].astype("Float64").fillna(-1) == m["expert_rank"].astype("Float64").fillna(-1)).all()
    for meth in ("entropy", "pca", "critic"):
        ranks = cmp.ranks[f"{meth}_rank"].dropna().astype(int)
        assert ranks.min() == 1 and ranks.max() <= int(index["assessed"].sum())
    assert 0 < cmp.pca_explained <= 1


def test_with_leaf_weights_keeps_the_tree_rule(frames):
    """Each first-level weight = the sum of its indicators' new weights; equal weights change the
    index of the demo's cities."""
    scheme, out = frames
    spec = scheme.require_index()
    equal = with_leaf_weights(spec, {n.code: 1.0 for n in spec.leaves})
    assert {g.code: g.weight for g in equal.groups} == {"A": 2.0, "B": 2.0, "C": 2.0, "D": 1.0, "E": 1.0, "F": 1.0}
    before = index_with(out["city"][1], spec)
    after = index_with(out["city"][1], equal)
    assert not before["index"].equals(after["index"])
    assert spec.leaves[0].weight == 10   # the scheme itself is untouched
