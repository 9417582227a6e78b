"""区域分析 under a scheme with year-on-year growth indicators (jiangsu.toml): a growth rate compares
two periods and has no records of its own. What the page shows for one, in 指标明细 and 追溯记录:
its 分子 is the base indicator's value now and its 分母 the value a year earlier, in the base's unit;
the list is the base's numerator records of that period; when the base is a ratio, the caption
gives the base's value as numerator ÷ denominator and says the list holds the numerator's records
(tests/metrics/test_drill_matches.py walks the lists themselves)."""
from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from etl import warehouse
from metrics.indicators import compute_indicators
from metrics.periods import Period
from metrics.scheme import load_scheme
from tests.metrics.test_drill_matches import _walked
from tests.pages.conftest import APP, ok, open_section, table, texts

CITY, QUARTER = "330100", "2024Q1"


@pytest.fixture
def jiangsu_app(tmp_path, monkeypatch):
    """The app over the walk's warehouse (杭州, 2023 and 2024), offered jiangsu.toml as a scheme for
    Zhejiang (its ``provinces`` line left out), and the numbers the metrics give for 杭州."""
    import ui.data

    db = _walked().build(tmp_path / "warehouse.duckdb")
    schemes = tmp_path / "schemes"
    schemes.mkdir()
    for name in ("default.toml", "indicators.toml"):
        (schemes / name).write_bytes((ui.data.SCHEME_DIR / name).read_bytes())
    text = (ui.data.SCHEME_DIR / "jiangsu.toml").read_text(encoding="utf-8")
    (schemes / "jiangsu.toml").write_text(re.sub(r"(?m)^provinces = .*$", "", text), encoding="utf-8")
    monkeypatch.setattr(ui.data, "SCHEME_DIR", schemes)
    monkeypatch.setenv("ENFORCEMENT_DB", str(db))
    scheme = load_scheme(schemes / "jiangsu.toml")
    con = warehouse.connect_read(db)
    try:
        period = Period.parse(QUARTER)
        now = compute_indicators(con, period, "city", "330000", scheme).set_index(["code", "indicator"])
        ago = compute_indicators(con, period.year_ago(), "city", "330000", scheme).set_index(["code", "indicator"])
    finally:
        con.close()
    at = ok(AppTest.from_file(APP, default_timeout=90))
    at.selectbox(key="period").set_value(QUARTER)
    at.selectbox(key="scheme").set_value(str(schemes / "jiangsu.toml"))
    ok(at)
    at.switch_page("pages/region.py")
    ok(at)
    at.selectbox(key="region_code").set_value(CITY)
    ok(at)
    return at, scheme, now.loc[CITY], ago.loc[CITY]


def _caption(at) -> str:
    found = [line for line in texts(at).splitlines() if "的分子 = " in line or "的分母 = " in line]
    assert len(found) == 1, found
    return found[0]


def test_a_growth_of_a_ratio_shows_the_base_value_and_what_its_list_holds(jiangsu_app):
    at, scheme, now, ago = jiangsu_app
    assert now.loc["avg_fine", "denominator"] > 0 and ago.loc["avg_fine", "denominator"] > 0  # both periods decided cases
    open_section(at, "追溯记录")
    at.selectbox(key="explain_indicator").set_value("avg_fine_growth")
    ok(at)
    for part, rows, when in (("numerator", now, "本期"), ("denominator", ago, "上年同期")):
        at.radio(key="explain_part").set_value(part)
        ok(at)
        said = _caption(at)
        b = rows.loc["avg_fine"]
        listed = table(at, "案件编号")
        # the value (万元), then numerator ÷ denominator, and the list: the numerator's records, whose
        # amounts add up to the numerator — not to the value the growth's part is
        assert f"{when}案均罚款 {b['value']:,.2f} 万元 = 分子 {b['numerator']:,.2f} ÷ 分母 {int(b['denominator'])}" in said
        assert f"下表为{when}案均罚款分子的记录（分子为其“计入金额/数量”列之和）：{len(listed)} 条记录" in said
        assert listed["计入金额/数量"].sum() == pytest.approx(b["numerator"])
        assert b["value"] != pytest.approx(b["numerator"])   # the data tell the two apart
    # a ratio in %: 重大隐患立案率's value as a percentage, the list its numerator's cases
    at.selectbox(key="explain_indicator").set_value("major_filing_growth")
    at.radio(key="explain_part").set_value("numerator")
    ok(at)
    b = now.loc["major_filing"]
    assert (f"本期重大隐患立案率 {b['value'] * 100:.1f}% = 分子 {int(b['numerator'])} ÷ 分母 {int(b['denominator'])}；"
            f"下表为本期重大隐患立案率分子的记录：{int(b['numerator'])} 条记录") in _caption(at)


def test_a_growth_of_a_count_or_sum_lists_what_adds_up_to_its_parts(jiangsu_app):
    at, scheme, now, ago = jiangsu_app
    open_section(at, "追溯记录")
    at.selectbox(key="explain_indicator").set_value("fines_growth")
    for part, rows, when in (("numerator", now, "本期"), ("denominator", ago, "上年同期")):
        at.radio(key="explain_part").set_value(part)
        ok(at)
        total = rows.loc["fines_total", "value"]
        listed = table(at, "案件编号")
        assert listed["计入金额/数量"].sum() == pytest.approx(total)
        assert f"的{'分子' if part == 'numerator' else '分母'} = {when}处罚金额 {total:,.2f} 万元（“计入金额/数量”列之和）：" \
               f"{len(listed)} 条记录" in _caption(at)


def test_the_indicator_table_shows_a_growths_parts_in_the_base_unit(jiangsu_app):
    at, scheme, now, ago = jiangsu_app
    open_section(at, "指标明细")
    t = table(at, "指标", "分子", "分母").set_index("指标")
    row = t.loc["重大隐患立案率同比增长"]
    assert (row["分子"], row["分母"]) == (f"{now.loc['major_filing', 'value'] * 100:.1f}%",
                                      f"{ago.loc['major_filing', 'value'] * 100:.1f}%")
    assert t.loc["案均罚款同比增长", "分子"] == f"{now.loc['avg_fine', 'value']:,.2f} 万元"
