"""A scheme file written for another province changes the numbers as expected, with no code change."""
from pathlib import Path

import pytest

from metrics.index import compute_index
from metrics.indicators import compute_indicators
from metrics.scheme import load_scheme
from metrics.score import compute_score
from tests.metrics.metrics_data import hangzhou_q1

OTHER = Path(__file__).with_name("schemes") / "other_province.toml"


@pytest.fixture(scope="module")
def con():
    d = hangzhou_q1()
    e = d.enterprise("330102")
    d.inspection("330102", e, "2024-03-20", expert=True)   # 上城: 3 inspections, 1 with an expert
    c = d.memory()
    yield c
    c.close()


def _value(df, code, ind):
    r = df[(df.code == code) & (df.indicator == ind)].iloc[0]
    return r.value, r.numerator, r.denominator


def test_rectification_over_all_hazards_found(con):
    """杭州 2024Q1: default 3 rectified of 5 needing (0.6); over all 6 found (H4 needs none) 0.5."""
    default = compute_indicators(con, "2024Q1", "city", "330000")
    other = compute_indicators(con, "2024Q1", "city", "330000", load_scheme(OTHER))
    assert _value(default, "330100", "rectification") == pytest.approx((0.6, 3, 5))
    assert _value(other, "330100", "rectification") == pytest.approx((0.5, 3, 6))
    county = compute_indicators(con, "2024Q1", "county", "330000", load_scheme(OTHER))
    assert _value(county, "330102", "expert_share") == pytest.approx((1 / 3, 1, 3))
    assert "expert_share" not in set(default.indicator)


def test_the_index_follows_the_new_definitions(con):
    """杭州 B = (rectification score + major_on_time 33.3) / 2: 46.7 by default, 41.7 with the
    other definition (60 → 50). F: review 85 by default; expert share 1/5 ÷ 0.5 = 40 otherwise
    (杭州 inspected 5 times in the quarter, once with an expert)."""
    default = compute_index(con, "2024Q1", "city", "330000").set_index("code")
    other = compute_index(con, "2024Q1", "city", "330000", load_scheme(OTHER)).set_index("code")
    assert (default.loc["330100", "B"], other.loc["330100", "B"]) == (46.7, 41.7)
    assert (default.loc["330100", "F"], other.loc["330100", "F"]) == (85.0, 40.0)
    assert default.loc["330100", "A"] == other.loc["330100", "A"]


def test_the_score_keeps_the_default_rules(con):
    a = compute_score(con, "2024Q1", "city", "330000")
    b = compute_score(con, "2024Q1", "city", "330000", load_scheme(OTHER))
    assert a.score.tolist() == pytest.approx(b.score.tolist(), nan_ok=True)
