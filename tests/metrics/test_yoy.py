"""Year-on-year growth: (now − then) / then, NA where then is 0."""
import math

import pandas as pd
import pytest

from metrics.yoy import growth, year_on_year
from tests.metrics.metrics_data import hangzhou_q1


def test_growth_against_the_same_quarter_a_year_earlier():
    d = hangzhou_q1()
    e = d.enterprise("330102")
    i = d.inspection("330102", e, "2023-02-01")
    d.hazard(i, "2023-02-01", major=True, key_matter=True)
    d.hazard(i, "2023-02-01", key_matter=True)
    d.penalty("330102", e, "2023-02-10", fine_company=10000, major=True)
    d.penalty("330105", e, "2023-03-10", fine_company=20000, fine_person=10000)
    df = year_on_year(d.memory(), "2024Q1", "city", "330000").set_index("indicator")
    hz = df[df.code == "330100"]
    # 2024Q1 vs 2023Q1 for 杭州
    assert hz.loc["fines_total", ["value", "previous"]].tolist() == pytest.approx([6.5, 4.0])
    assert hz.loc["fines_total", "growth"] == pytest.approx(0.625)
    assert hz.loc["avg_fine", "growth"] == pytest.approx((2.25 - 2.0) / 2.0)
    assert hz.loc["key_matter_findings", "growth"] == pytest.approx(-0.5)      # 1 vs 2
    assert hz.loc["dual_penalty_cases", "growth"] == pytest.approx(0.0)        # 1 vs 1
    assert hz.loc["major_filing", "growth"] == pytest.approx((1 / 3 - 1) / 1)  # 1/3 vs 1/1
    nb = df[df.code == "330200"]
    assert nb["growth"].isna().all()  # 宁波: nothing a year earlier


def test_growth_is_na_where_then_is_zero_or_na():
    got = growth(pd.Series([1.0, 0.0, 2.0, None]), pd.Series([0.0, 0.0, 1.0, 1.0]))
    assert math.isnan(got[0]) and math.isnan(got[1]) and got[2] == 1.0 and math.isnan(got[3])
