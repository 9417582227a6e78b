"""Monte Carlo rank intervals: they contain the published rank, collapse to it with fixed weights
and normalisation, and the vectorised aggregation is the index's own."""
import dataclasses

import duckdb
import numpy as np
import pandas as pd
import pytest

from metrics.index import index_frames
from metrics.rounding import round_half_away
from metrics.score import compute_score
from metrics.scheme import load_scheme
from metrics.uncertainty import _index_draws, rank_uncertainty, score_matrices, warning_robustness
from metrics.weights import index_with

QUARTERS = ["2024Q2", "2025Q1", "2025Q3"]


@pytest.fixture(scope="module")
def demo(demo_db):
    con = duckdb.connect(str(demo_db), read_only=True)
    scheme = load_scheme()
    frames = {(lv, q): index_frames(con, q, lv, "330000", scheme) for lv in ("city", "county") for q in QUARTERS}
    sheets = {lv: compute_score(con, "2025Q3", lv, "330000", scheme) for lv in ("city", "county")}
    con.close()
    spec = scheme.require_index()
    dirs = {n.code: scheme.indicator(n.code).direction for n in spec.leaves}
    return scheme, spec, dirs, frames, sheets


@pytest.mark.parametrize("level", ["city", "county"])
@pytest.mark.parametrize("quarter", QUARTERS)
def test_intervals_contain_the_published_rank(demo, level, quarter):
    scheme, spec, dirs, frames, _ = demo
    index, detail = frames[(level, quarter)]
    r = rank_uncertainty(detail, spec, quarter, dirs, draws=500, seed=1)
    u = r.units.merge(index[["code", "rank"]], on="code", suffixes=("", "_published"))
    pd.testing.assert_series_equal(u["rank"], u["rank_published"], check_names=False)
    ranked = u.dropna(subset=["rank"])
    assert len(ranked) == int(index["rank"].notna().sum())
    assert ((ranked["rank_p5"] <= ranked["rank"]) & (ranked["rank"] <= ranked["rank_p95"])).all(), \
        ranked[(ranked["rank_p5"] > ranked["rank"]) | (ranked["rank"] > ranked["rank_p95"])]
    assert (ranked["rank_p5"] <= ranked["rank_median"]).all() and (ranked["rank_median"] <= ranked["rank_p95"]).all()
    assert r.ranks.shape == (len(u), 500)
    assert set(r.method_of_draw) == {"scheme", "minmax", "zscore", "rank"}


@pytest.mark.parametrize("level", ["city", "county"])
def test_fixed_weights_and_normalisation_collapse_to_the_published_rank(demo, level):
    scheme, spec, dirs, frames, _ = demo
    index, detail = frames[(level, "2025Q3")]
    r = rank_uncertainty(detail, spec, "2025Q3", dirs, draws=50, spread=0.0, normalisations=("scheme",))
    ranked = r.units.dropna(subset=["rank"])
    assert (ranked["rank_p5"] == ranked["rank"]).all() and (ranked["rank_p95"] == ranked["rank"]).all()
    assert (ranked["rank_median"] == ranked["rank"]).all() and (ranked["width"] == 0).all()
    assert ranked["stable"].all()
    # the nominal index is the published one
    m = r.units.merge(index[["code", "index"]], on="code", suffixes=("", "_published"))
    pd.testing.assert_series_equal(m["index"], m["index_published"], check_names=False)


def test_wider_spread_gives_wider_intervals(demo):
    scheme, spec, dirs, frames, _ = demo
    _, detail = frames[("county", "2025Q3")]
    narrow = rank_uncertainty(detail, spec, "2025Q3", dirs, draws=400, spread=0.1, normalisations=("scheme",), seed=3)
    wide = rank_uncertainty(detail, spec, "2025Q3", dirs, draws=400, spread=0.5, seed=3)
    assert narrow.units["width"].mean() < wide.units["width"].mean()
    again = rank_uncertainty(detail, spec, "2025Q3", dirs, draws=400, spread=0.5, seed=3)
    np.testing.assert_array_equal(wide.ranks, again.ranks)   # seeded


def test_vectorised_aggregation_is_the_index_aggregation(demo):
    """For arbitrary weights, the matrix path equals metrics.index.aggregate (via index_with)."""
    scheme, spec, dirs, frames, _ = demo
    _, detail = frames[("county", "2025Q1")]
    units, leaves, mats = score_matrices(detail, spec, "2025Q1", dirs, ("scheme",))
    groups = [np.array([i for i, n in enumerate(spec.leaves) if n.parent == g.code]) for g in spec.groups]
    rng = np.random.default_rng(5)
    for _ in range(5):
        lw = rng.uniform(0.1, 3.0, len(spec.leaves))
        gw = rng.uniform(0.1, 3.0, len(spec.groups))
        mc = _index_draws(mats["scheme"], lw[None, :], gw[None, :], groups)[:, 0]
        nodes = [dataclasses.replace(n, weight=float(gw[[g.code for g in spec.groups].index(n.code)]))
                 if n.parent is None else dataclasses.replace(n, weight=float(lw[leaves.index(n.code)]))
                 for n in spec.nodes]
        ref = index_with(detail, dataclasses.replace(spec, nodes=tuple(nodes))).set_index("code")["index"]
        np.testing.assert_array_equal(round_half_away(mc, 1), ref.reindex(units).to_numpy(dtype=float))


def test_normalisations_are_on_a_common_scale(demo):
    scheme, spec, dirs, frames, _ = demo
    _, detail = frames[("county", "2025Q3")]
    _, leaves, mats = score_matrices(detail, spec, "2025Q3", dirs)
    present = ~np.isnan(mats["scheme"])
    for m, s in mats.items():
        assert (np.isnan(s) == ~present).all(), m          # NA stays NA, whatever the method
    assert np.nanmin(mats["minmax"]) == 0 and np.nanmax(mats["minmax"]) == 100
    assert np.nanmin(mats["rank"]) == 0 and np.nanmax(mats["rank"]) == 100
    assert np.nanmean(mats["zscore"], axis=0) == pytest.approx(50.0)


@pytest.mark.parametrize("level", ["city", "county"])
def test_warning_robustness(demo, level):
    scheme, _, _, _, sheets = demo
    sheet = sheets[level]
    spec = scheme.require_score()
    fixed = warning_robustness(sheet, spec, scheme.warning, draws=20, spread=0.0)
    m = fixed.merge(sheet[["code", "score", "warned"]], on="code", suffixes=("", "_published"))
    pd.testing.assert_series_equal(m["score_p5"], m["score_published"], check_names=False)
    pd.testing.assert_series_equal(m["score_p95"], m["score_published"], check_names=False)
    warned = sheet["warned"].fillna(False).astype(bool).to_numpy()
    assessed = sheet["assessed"].to_numpy()
    assert (fixed["warned_share"].to_numpy()[assessed] == warned[assessed].astype(float)).all()
    assert fixed.loc[warned, "robust"].all()

    r = warning_robustness(sheet, spec, scheme.warning, draws=500, spread=0.5, seed=2)
    assert ((r["warned_share"] >= 0) & (r["warned_share"] <= 1)).fillna(True).all()
    assert r.loc[warned, "verdict"].str.contains("稳健|取决于权重").all()
    assert (r.loc[warned, "robust"] == (r.loc[warned, "warned_share"] >= 0.95)).all()
    assert r.loc[~warned, "robust"].isna().all()
    ranked = r[assessed]
    assert ((ranked["score_p5"] <= ranked["score"] + 1e-9) & (ranked["score"] <= ranked["score_p95"] + 1e-9)).all()
