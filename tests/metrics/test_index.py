"""The effectiveness index, hand-checked: normalisation, NA weight sharing, rounding and ranks."""
import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from metrics.index import aggregate, compute_index, index_detail, normalise
from metrics.periods import Period
from metrics.scheme import IndexNode, IndexSpec, load_scheme
from tests.metrics.metrics_data import hangzhou_q1


@pytest.fixture(scope="module")
def con():
    c = hangzhou_q1().memory()
    yield c
    c.close()


def test_county_index_by_hand(con):
    """Only 上城 330102 and 拱墅 330105 are assessed (see test_indicators for their values).

    normalised (330102 / 330105):
      coverage 0.5 / 0.5 minmax, all equal → 100 / 100
      key_coverage 1.0 / 0.0 target 1.0 × 3/12 → 100 / 0
      rectification 1.0 / 0.0 → 100 / 0;  major_on_time 1/3 / NA → 33.33 / NA
      penalty_rate 0.5 / 1.0 minmax → 0 / 100
      avg_fine 3.5 / 1.0 winsorised to 3.375 / 1.125 (5th/95th pct), minmax → 100 / 0
      major_filing 0.5 / 0 → 50 / 0;  dual_penalty 1.0 / NA target 0.6 → 100 / NA
      review_score 90 / 80 target 100 → 90 / 80
    330102: A 100, B 66.67, C 50, D 50, E 100, F 90 → (2000+1333.3+1000+750+1500+900)/100 = 74.83
    330105: A 50, B 0, C 50, D 0, E NA, F 80 → (1000+0+1000+0+800)/85 = 32.94 (E's weight shared)
    """
    df = compute_index(con, "2024Q1", "county", "330000").set_index("code")
    a, b = df.loc["330102"], df.loc["330105"]
    assert (a["index"], a.A, a.B, a.C, a.D, a.E, a.F) == (74.8, 100.0, 66.7, 50.0, 50.0, 100.0, 90.0)
    assert (b["index"], b.A, b.B, b.C, b.D, b.F) == (32.9, 50.0, 0.0, 50.0, 0.0, 80.0)
    assert math.isnan(b.E)
    assert (a["rank"], b["rank"], a.na_count, b.na_count) == (1, 2, 0, 2)
    quiet = df.loc["330106"]  # not assessed: 无数据
    assert not quiet.assessed and math.isnan(quiet["index"]) and pd.isna(quiet["rank"]) and pd.isna(quiet.na_count)
    assert len(df) == 90 and df.assessed.sum() == 2


def test_detail_has_each_normalised_score_and_band(con):
    d = index_detail(con, "2024Q1", "county", "330000")
    d = d[d.code == "330102"].set_index("indicator")
    assert d.loc["avg_fine", "score"] == pytest.approx(100.0)
    assert d.loc["major_on_time", "score"] == pytest.approx(100 / 3)
    assert d.loc["major_on_time", "band"] == "需改进" and d.loc["review_score", "band"] == "达标"
    assert d.loc["major_filing", "band"] == "需改进"
    assert set(d.group) == set("ABCDEF")


def test_winsorising_matches_duckdb_quantile_cont():
    values = [0.5, 1.0, 2.0, 3.0, 50.0]
    spec = IndexSpec("t", 100, (IndexNode("A", "A", None, 100),
                                IndexNode("x", "x", "A", 100, "minmax", winsorise=(0.05, 0.95))))
    frame = pd.DataFrame({"code": list("abcde"), "indicator": "x", "value": values, "assessed": True})
    got = normalise(frame, spec, Period.parse("2024Q1"))
    lo, hi = duckdb.sql(f"SELECT quantile_cont(v, 0.05), quantile_cont(v, 0.95) FROM "
                        f"(SELECT unnest({values}::DOUBLE[]) AS v)").fetchone()
    clipped = np.clip(values, lo, hi)
    expected = 100 * (clipped - clipped.min()) / (clipped.max() - clipped.min())
    assert got["score"].tolist() == pytest.approx(expected.tolist())


def test_minmax_peers_are_assessed_units_with_a_value_and_lower_is_better_reverses():
    spec = IndexSpec("t", 100, (IndexNode("A", "A", None, 100), IndexNode("x", "x", "A", 100, "minmax")))
    frame = pd.DataFrame({"code": list("abcd"), "indicator": "x", "value": [1.0, 3.0, 99.0, np.nan],
                          "assessed": [True, True, False, True]})
    got = normalise(frame, spec, Period.parse("2024"))["score"].tolist()
    assert got[:2] == [0.0, 100.0] and math.isnan(got[2]) and math.isnan(got[3])
    rev = normalise(frame, spec, Period.parse("2024"), {"x": "-"})["score"].tolist()
    assert rev[:2] == [100.0, 0.0]
    one = normalise(frame.iloc[[0]], spec, Period.parse("2024"))["score"].tolist()
    assert one == [100.0]  # one peer with a value scores 100


def test_index_uses_unrounded_sub_indices():
    """Sub-indices 10.06 and 10.03 publish as 10.1 and 10.0; the index is (10.06 + 10.03)/2 =
    10.045 → 10.0, not the 10.05 → 10.1 that rounding the sub-indices first would give."""
    spec = IndexSpec("t", 100, (IndexNode("A", "A", None, 50), IndexNode("x", "x", "A", 50, "target", 100.0),
                                IndexNode("B", "B", None, 50), IndexNode("y", "y", "B", 50, "target", 100.0)))
    frame = pd.DataFrame({"code": ["u", "u"], "indicator": ["x", "y"], "value": [10.06, 10.03], "assessed": True})
    agg = aggregate(normalise(frame, spec, Period.parse("2024")), spec)
    from metrics.rounding import round_half_away
    assert round_half_away(agg["index"].iloc[0], 1) == 10.0
    assert list(round_half_away(agg[["A", "B"]].iloc[0].to_numpy(), 1)) == [10.1, 10.0]


def test_ranks_share_the_best_place(con):
    df = compute_index(con, "2024Q1", "city", "330000")
    ranked = df[df.assessed].sort_values("rank")
    for _, r in ranked.iterrows():
        assert r["rank"] == 1 + (ranked["index"] > r["index"]).sum()


def test_index_per_year_and_month_runs(con):
    for period in ("2024", "2024-02"):
        df = compute_index(con, period, "city", "330000")
        assert len(df) == 11
        assert df["index"].dropna().between(0, 100).all()


def test_key_coverage_target_is_prorated_to_months_elapsed():
    spec = load_scheme().index
    node = next(n for n in spec.leaves if n.code == "key_coverage")
    frame = pd.DataFrame({"code": ["u"], "indicator": ["key_coverage"], "value": [0.3], "assessed": True})
    small = IndexSpec("t", 100, (IndexNode("A", "A", None, 10), node))
    q1 = normalise(frame, small, Period.parse("2024Q1"))["score"].iloc[0]   # target 0.25 → capped
    q3 = normalise(frame, small, Period.parse("2024Q3"))["score"].iloc[0]   # target 0.75
    assert (q1, q3) == (100.0, pytest.approx(40.0))
