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


def test_one_definition_of_growth():
    """metrics.yoy, the bulletin, the KPI tiles and the compiler's growth indicators share
    metrics.growth.growth; a scheme's growth indicator equals year_on_year's growth."""
    from pathlib import Path

    import metrics.bulletin
    import metrics.growth
    import metrics.yoy
    from metrics.indicators import compute_indicators
    from metrics.scheme import load_scheme

    assert metrics.yoy.growth is metrics.growth.growth and metrics.bulletin.growth is metrics.growth.growth
    root = Path(metrics.growth.__file__).parent
    for mod in ("query.py", "kpis.py"):   # nobody writes the formula again
        text = (root / mod).read_text(encoding="utf-8")
        assert "from metrics.growth import" in text and "- then) / then" not in text and "(num - den)" not in text

    d = hangzhou_q1()
    e = d.enterprise("330102")
    i = d.inspection("330102", e, "2023-02-01")
    d.hazard(i, "2023-02-01", key_matter=True)
    d.penalty("330102", e, "2023-02-10", fine_company=10000)
    con = d.memory()
    scheme = load_scheme(root / "schemes" / "jiangsu.toml")
    compiled = compute_indicators(con, "2024Q1", "city", "330000", scheme, ["fines_growth", "key_matter_growth"])
    compiled = compiled.set_index(["code", "indicator"])["value"]
    yoy = year_on_year(con, "2024Q1", "city", "330000").set_index(["code", "indicator"])["growth"]
    assert compiled["330100", "fines_growth"] == pytest.approx(yoy["330100", "fines_total"])
    assert compiled["330100", "fines_growth"] == pytest.approx((6.5 - 1.0) / 1.0)
    assert compiled["330100", "key_matter_growth"] == pytest.approx(yoy["330100", "key_matter_findings"])
    assert math.isnan(compiled["330200", "fines_growth"]) and math.isnan(yoy["330200", "fines_total"])


def test_growth_of_single_values():
    from metrics.growth import growth_of

    assert growth_of(3, 2) == pytest.approx(0.5)
    assert growth_of(1, 0) is None and growth_of(None, 1) is None and growth_of(0, 0) is None
    assert growth_of(0, 4) == 0 - 1.0
