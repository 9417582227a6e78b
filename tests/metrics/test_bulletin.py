"""The bulletin's content (metrics.bulletin): 同比 across a year boundary, a quarter without last
year's data, a province with fewer than four assessed units — on hand data — and, on the demo,
its figures equal the command line's."""
import csv
import io

import pandas as pd
import pytest

from metrics.bulletin import ANNEX_TOTALS_NOTE as _NOTE
from metrics.bulletin import (NO_YEAR_AGO, BulletinError, by_dimension, build_bulletin, change_words, per_thousand,
                              province_indicators, render_requirements)
from metrics.kpis import kpi_tiles, region_totals
from metrics.scheme import load_scheme
from tests.metrics.metrics_data import COUNTY_OF, Data

SC = load_scheme()


def two_years() -> Data:
    """杭州 (330100) and 宁波 (330200), 温州 (330300), 嘉兴 (330400), 湖州 (330500) with records in
    2024Q1, 2024Q4 and 2025Q1. Province totals: inspections 2024Q1 = 4, 2024Q4 = 2, 2025Q1 = 5;
    fines 2024Q1 = 2.0万元, 2025Q1 = 3.0万元; hazards 2024Q1 = 2 (1 major), 2025Q1 = 3 (1 major)."""
    d = Data()
    cities = ["330100", "330200", "330300", "330400", "330500"]
    ents = {c: d.enterprise(COUNTY_OF[c]) for c in cities}
    for c in cities[:4]:
        d.inspection(c, ents[c], "2024-02-01")
    i = d.inspection("330100", ents["330100"], "2024-02-02")
    d.hazard(i, "2024-02-02", major=True)
    d.hazard(i, "2024-02-02")
    d.penalty("330100", ents["330100"], "2024-02-10", fine_company=20000)
    # 2024Q1 has 5 inspections so far; make it 4 by moving one to 2024Q4 below
    d.rows["inspections"][0]["inspection_date"] = d.rows["inspections"][0]["inspection_date"].replace(month=11)
    d.inspection("330200", ents["330200"], "2024-12-20")          # 2024Q4: 2 inspections
    for c in cities:                                               # 2025Q1: 5 inspections, one per city
        j = d.inspection(c, ents[c], "2025-01-15")
    d.hazard(j, "2025-01-15", major=True, rectified="2025-01-20")
    d.hazard(j, "2025-01-15", rectified="2025-01-20")
    d.hazard(j, "2025-01-16")
    d.penalty("330500", ents["330500"], "2025-02-10", fine_company=20000, fine_person=10000, major=True)
    return d


@pytest.fixture(scope="module")
def two_years_con():
    return two_years().memory()


def test_change_words_never_say_zero_for_missing_data():
    assert change_words(0.162, "pct", True) == "同比增长16.2%"
    assert change_words(-0.277, "pct", True) == "同比下降27.7%"
    assert change_words(0.5, "pp", True) == "同比提高0.5个百分点"
    assert change_words(-0.04, "pp", True) == "与上年同期持平"
    assert change_words(None, "pct", True) == "上年同期为0，不计同比"
    assert change_words(None, "pct", False) == NO_YEAR_AGO
    assert change_words(0.249, "pct", True, "环比") == "环比增长24.9%"
    assert change_words(None, "pct", False, "环比") == "无上期数据"


def test_year_on_year_across_a_year_boundary(two_years_con):
    con = two_years_con
    assert region_totals(con, "2024Q1", "330000")["inspections"] == 4
    assert region_totals(con, "2024Q4", "330000")["inspections"] == 2
    b = build_bulletin(con, "2025Q1", "city", "330000", SC)
    h = b.frames["headline"].set_index("key")
    # 2025Q1 against 2024Q1 (同比) and against 2024Q4 (环比, the quarter before, last year)
    assert h.loc["inspections", ["value", "year_ago", "previous"]].tolist() == [5, 4, 2]
    assert h.loc["inspections", "yoy"] == pytest.approx(0.25)
    assert h.loc["inspections", "mom"] == pytest.approx(1.5)
    assert h.loc["fines", ["value", "year_ago"]].tolist() == pytest.approx([3.0, 2.0])
    assert h.loc["major_hazards", "yoy"] == pytest.approx(0.0)
    assert h.loc["hazards", "yoy"] == pytest.approx(0.5)
    text = "\n".join(b.paragraphs())
    assert "执法检查5次（同比增长25.0%，环比增长150.0%）" in text
    assert "罚款3.00万元（同比增长50.0%" in text
    assert "其中重大事故隐患1项（与上年同期持平" in text
    assert NO_YEAR_AGO not in text
    table = next(bl.table for bl in b.sections[0].blocks if bl.kind == "table")
    assert table.columns == ["指标", "2025年第1季度", "2024年第1季度", "同比", "2024年第4季度", "环比"]
    assert table.rows[0] == ["执法检查（次）", "5", "4", "+25.0%", "2", "+150.0%"]
    # the year: 2025 against 2024, no 环比 column
    y = build_bulletin(con, "2025", "city", "330000", SC)
    hy = y.frames["headline"].set_index("key")
    assert hy.loc["inspections", ["value", "year_ago"]].tolist() == [5, 6]
    assert "执法检查5次（同比下降16.7%）" in "\n".join(y.paragraphs())
    assert "环比" not in "\n".join(y.paragraphs()[:4])


def test_a_quarter_without_last_years_data_says_so_in_words(two_years_con):
    b = build_bulletin(two_years_con, "2024Q1", "city", "330000", SC)
    text = "\n".join(b.paragraphs())
    assert f"执法检查4次（{NO_YEAR_AGO}，无上期数据）" in text
    assert "2023年第1季度的执法记录，本通报不作同比分析" in text
    assert "同比增长0.0%" not in text and "同比下降0.0%" not in text and "+0.0%" not in text
    table = next(bl.table for bl in b.sections[0].blocks if bl.kind == "table")
    assert table.rows[0][2:4] == ["无数据", "无数据"]
    assert b.frames["headline"]["year_ago_exists"].eq(False).all()


def test_fewer_than_four_assessed_units_have_no_warning_list():
    d = Data()
    for c in ["330100", "330200", "330300"]:
        d.inspection(c, d.enterprise(COUNTY_OF[c]), "2025-11-01")
    d.inspection("330100", d.enterprise(COUNTY_OF["330100"]), "2025-11-02")
    b = build_bulletin(d.memory(), "2025Q4", "city", "330000", SC)
    text = "\n".join(b.paragraphs())
    assert "2025年第4季度参评设区市3个，少于4个，不设预警名单。" in text
    assert b.frames["warned"].empty
    assert "全省3个设区市执法效能指数" in text
    assert any("本期无执法记录（无数据），不参与排名" in p for p in b.paragraphs())
    # no unit at all at the level (a province whose records stop before the period)
    empty = build_bulletin(d.memory(), "2025Q2", "city", "330000", SC)
    assert "均无执法记录" in "\n".join(empty.paragraphs())


def test_province_figures_count_every_agency_and_split_by_dimension(two_years_con):
    con = two_years_con
    pi = province_indicators(con, "2025Q1", "330000", SC, ["coverage", "major_filing", "fines_total"]).set_index("indicator")
    assert pi.loc["coverage", "numerator"] == 5
    assert pi.loc["major_filing", ["numerator", "denominator", "value"]].tolist() == [1, 1, 1.0]
    assert pi.loc["fines_total", "value"] == pytest.approx(3.0)
    bd = by_dimension(con, "2025Q1", "330000", "industry")
    tot = region_totals(con, "2025Q1", "330000")
    assert bd["inspections"].sum() == tot["inspections"] and bd["hazards"].sum() == tot["hazards"]
    assert bd["cases"].sum() == tot["cases"] and bd["fines"].sum() == pytest.approx(tot["fines"])
    assert per_thousand(1, 5) == pytest.approx(200.0) and per_thousand(1, 0) is None


def test_requirements_wording_and_bad_periods(two_years_con):
    assert render_requirements("甲{{ 期间 }}\n\n{% if 预警单位 %}乙{% endif %}\n丙", {"期间": "2025年", "预警单位": ""}) == \
        ["甲2025年", "丙"]
    with pytest.raises(BulletinError, match="未知|known"):
        render_requirements("{{ 不存在 }}", {"期间": "x"})
    with pytest.raises(BulletinError, match="季度或年度"):
        build_bulletin(two_years_con, "2025-03", "city", "330000", SC)


# --- the demo: the bulletin's figures are the command line's --------------------------------------------
def _cli(db, *args) -> list[dict]:
    from metrics.__main__ import main

    buf = io.StringIO()
    import contextlib
    with contextlib.redirect_stdout(buf):
        assert main(["--db", str(db), *args]) == 0
    return list(csv.DictReader(io.StringIO(buf.getvalue())))


def _plain(cell: str) -> str:
    return cell.replace(",", "")


@pytest.fixture(scope="module")
def demo_q4(demo_db):
    from etl import warehouse

    with warehouse.connect_read(demo_db) as con:
        return build_bulletin(con, "2025Q4", "city", None, SC)


def test_demo_bulletin_figures_equal_the_command_line(demo_db, demo_q4):
    b = demo_q4
    annex = {t.key: t for t in b.annexes}
    idx = {r["code"]: r for r in _cli(demo_db, "index", "--period", "2025Q4")}
    t = annex["index"]
    for row in t.rows:
        code = row[t.columns.index("代码")]
        assert row[t.columns.index("执法效能指数")] == idx[code]["index"]
        assert row[t.columns.index("名次")] == idx[code]["rank"]
        assert row[t.columns.index("A 执法覆盖")] == idx[code]["A"]
    score = {r["code"]: r for r in _cli(demo_db, "score", "--quarter", "2025Q4")}
    t = annex["score"]
    for row in t.rows:
        code = row[t.columns.index("代码")]
        assert row[t.columns.index("得分")] == score[code]["score"]
        assert row[t.columns.index("名次")] == score[code]["rank"]
        assert (row[t.columns.index("预警")] == "是") == (score[code]["warned"] == "true")
    warned = {r["name"] for r in _cli(demo_db, "warnings", "--quarter", "2025Q4")}
    assert set(b.frames["warned"]["name"]) == warned and warned
    inds = {(r["code"], r["indicator"]): r for r in _cli(demo_db, "indicators", "--period", "2025Q4")}
    t = annex["units"]
    for row in t.rows:
        code = row[t.columns.index("代码")]
        if not code:  # 本级 and 合计: test_demo_annex_adds_up_to_the_headline
            continue
        assert _plain(row[t.columns.index("检查次数")]) == inds[(code, "plan_completion")]["numerator"]
        assert _plain(row[t.columns.index("检查企业")]) == inds[(code, "coverage")]["numerator"]
        assert _plain(row[t.columns.index("立案")]) == inds[(code, "penalty_rate")]["numerator"]
        assert _plain(row[t.columns.index("重大事故隐患")]) == inds[(code, "major_filing")]["denominator"]
        assert _plain(row[t.columns.index("罚款（万元）")]) == f"{float(inds[(code, 'fines_total')]['value']):.4f}"
        rect = inds[(code, "rectification")]["value"]
        assert row[t.columns.index("隐患整改率")] == f"{100 * float(rect):.1f}%"
    # the text names the first and the last by the command line's index
    ranked = sorted(idx.values(), key=lambda r: int(r["rank"]))
    text = "\n".join(b.paragraphs())
    assert f"最高的是{ranked[0]['name']}（{ranked[0]['index']}）" in text
    assert f"最低的是{ranked[-1]['name']}（{ranked[-1]['index']}）" in text
    assert [s.heading for s in b.sections] == ["一、总体情况", "二、主要指标分析", "三、各地排名", "四、预警与表扬",
                                               "五、存在问题", "六、工作要求"]


@pytest.mark.parametrize("level", ["city", "county"])
def test_demo_annex_adds_up_to_the_headline(demo_db, level):
    """Every additive column of the per-unit annex, as printed, sums to its 合计 row, and 合计 is the
    headline of 一、总体情况: the records of bureaus above the level have a row of their own."""
    from decimal import Decimal

    from etl import warehouse

    with warehouse.connect_read(demo_db) as con:
        b = build_bulletin(con, "2025Q4", level, None, SC)
    t = {x.key: x for x in b.annexes}["units"]
    names = [r[t.columns.index("单位")] for r in t.rows]
    assert names[-1] == "合计" and names[-2] == ("省本级" if level == "city" else "省、市本级")
    head = b.frames["headline"].set_index("key")
    for col, key in (("检查次数", "inspections"), ("发现隐患", "hazards"), ("重大事故隐患", "major_hazards"),
                     ("立案", "cases"), ("罚款（万元）", "fines")):
        cells = [Decimal(_plain(r[t.columns.index(col)])) for r in t.rows]
        assert sum(cells[:-1]) == cells[-1], col
        assert abs(float(cells[-1]) - float(head.loc[key, "value"])) < 1e-4, col
    assert t.note == _NOTE


def test_demo_bulletin_reports_capacity_against_the_targets_as_the_command_line_counts(demo_db, demo_q4):
    """二（五）: for each published target, the number of cities meeting it equals a count over
    `python -m metrics indicators`; the province bureau's own reporting is stated."""
    [s2] = [s for s in demo_q4.sections if s.heading == "二、主要指标分析"]
    texts = [b.text for b in s2.blocks if b.text]
    assert "（五）执法能力建设与案例报送。" in texts
    line = next(t for t in texts if t.startswith("对照公开目标："))
    rows = _cli(demo_db, "indicators", "--period", "2025Q4")
    for code, name in (("qualified_share", "专业执法人员占比"), ("tech_inspector_ratio", "技术检查员配比")):
        target = SC.targets[code]
        values = [float(r["value"]) for r in rows if r["indicator"] == code and r["value"] != ""]
        meeting = sum(v >= target for v in values)
        assert f"{SC.indicator(code).name}（目标" in line and SC.indicator(code).name == name
        assert f"）{meeting}个设区市达到（有数据{len(values)}个）" in line.split(name, 1)[1].split("；", 1)[0]
    assert any(t.startswith("省厅本级案例报送：") for t in texts)


# --- by inspection type and by industry: the KPI tiles' definitions, grouped ------------------------------
def _by_dimension_by_hand(con, period: str, province: str, dimension: str) -> pd.DataFrame:
    """by_dimension as it was written by hand before it was compiled from the tiles' definitions
    (metrics.kpis.totals): straight SQL over the stamped marts, the reference it must still equal."""
    from metrics.expr import sql_literal
    from metrics.periods import Period
    from metrics.query import run
    from metrics.sources import placed_sql

    p = Period.parse(period)
    lo, hi = sql_literal(p.start), sql_literal(p.end)

    def rows(table):
        return f"({placed_sql(table, 'province', province, unit_col='province_code')})"

    key = f"coalesce(CAST(s.{dimension} AS VARCHAR), '未登记')"
    pen = (f"SELECT {key} AS key, count(*) AS cases, sum(s.fine_company + s.fine_person) / 10000.0 AS fines "
           f"FROM {rows('penalties')} s WHERE s.filed_date BETWEEN {lo} AND {hi} GROUP BY 1"
           if dimension == "industry" else
           "SELECT CAST(NULL AS VARCHAR) AS key, CAST(NULL AS BIGINT) AS cases, CAST(NULL AS DOUBLE) AS fines "
           "WHERE FALSE")
    df = run(con, f"""
    WITH ins AS (SELECT {key} AS key, count(*) AS inspections, count(DISTINCT s.enterprise_id) AS enterprises
                 FROM {rows('inspections')} s WHERE s.inspection_date BETWEEN {lo} AND {hi} GROUP BY 1),
         haz AS (SELECT {key} AS key, count(*) AS hazards, count(*) FILTER (WHERE s.is_major) AS major_hazards
                 FROM {rows('hazards')} s WHERE s.found_date BETWEEN {lo} AND {hi} GROUP BY 1),
         pen AS ({pen})
    SELECT coalesce(ins.key, haz.key, pen.key) AS key,
           coalesce(ins.inspections, 0) AS inspections, coalesce(ins.enterprises, 0) AS enterprises,
           coalesce(haz.hazards, 0) AS hazards, coalesce(haz.major_hazards, 0) AS major_hazards,
           coalesce(pen.cases, 0) AS cases, CAST(coalesce(pen.fines, 0) AS DOUBLE) AS fines
    FROM ins FULL OUTER JOIN haz ON haz.key = ins.key FULL OUTER JOIN pen ON pen.key = coalesce(ins.key, haz.key)
    ORDER BY inspections DESC, key""")
    df["per_thousand_major"] = per_thousand(df["major_hazards"], df["inspections"])
    df["per_thousand_hazards"] = per_thousand(df["hazards"], df["inspections"])
    return df


def _adds_up_to_the_tiles(con, bd: pd.DataFrame, period: str, province: str, dimension: str) -> None:
    """The rows of by_dimension sum to the province's KPI tiles (and the headline's major hazards)."""
    tiles = kpi_tiles(con, period, province).set_index("kpi")["value"]
    tot = region_totals(con, period, province)
    assert bd["inspections"].sum() == tiles["inspections"] == tot["inspections"]
    assert bd["hazards"].sum() == tiles["hazards"]
    assert bd["major_hazards"].sum() == tot["major_hazards"]
    if dimension == "industry":
        assert bd["cases"].sum() == tiles["cases"]
        assert bd["fines"].sum() == pytest.approx(tiles["fines"])
    else:  # a case has no inspection type
        assert bd["cases"].eq(0).all() and bd["fines"].eq(0).all()
    # enterprises is a distinct count: the rows hold at least the province's inspected enterprises
    ent = province_indicators(con, period, province, SC, ["coverage"])["numerator"].iloc[0]
    assert bd["enterprises"].sum() >= ent


@pytest.mark.parametrize("period", ["2025Q4", "2025", "2024Q2", "2023-05"])
@pytest.mark.parametrize("dimension", ["industry", "inspection_type"])
def test_demo_by_dimension_is_the_hand_written_count_and_adds_up_to_the_tiles(demo_db, period, dimension):
    from etl import warehouse

    with warehouse.connect_read(demo_db) as con:
        bd = by_dimension(con, period, "330000", dimension, SC)
        ref = _by_dimension_by_hand(con, period, "330000", dimension)
        assert len(bd) > 1
        pd.testing.assert_frame_equal(bd, ref)
        _adds_up_to_the_tiles(con, bd, period, "330000", dimension)


def test_by_dimension_keeps_records_without_an_industry_as_unregistered():
    """An inspection (and its hazards) or a case of an enterprise missing from the register has no
    industry: its row is 未登记, and the rows still add up to the tiles."""
    d = Data()
    e = d.enterprise(COUNTY_OF["330100"], industry="危险化学品")
    i = d.inspection("330100", e, "2025-01-10", type="专项检查")
    d.hazard(i, "2025-01-10", major=True)
    j = d.inspection("330200", "E-NOT-REGISTERED", "2025-02-10")
    d.hazard(j, "2025-02-10")
    d.hazard(j, "2025-02-11", major=True)
    d.inspection("330200", "E-NOT-REGISTERED", "2025-02-12")
    d.penalty("330200", "E-NOT-REGISTERED", "2025-02-20", fine_company=30000)
    d.penalty("330100", e, "2025-03-01", fine_company=10000, fine_person=5000)
    con = d.memory()
    bd = by_dimension(con, "2025Q1", "330000", "industry", SC).set_index("key")
    assert list(bd.index) == ["未登记", "危险化学品"]   # most inspections first
    assert bd.loc["未登记", ["inspections", "enterprises", "hazards", "major_hazards", "cases"]].tolist() == [2, 1, 2, 1, 1]
    assert bd.loc["未登记", "fines"] == pytest.approx(3.0) and bd.loc["危险化学品", "fines"] == pytest.approx(1.5)
    assert bd.loc["未登记", "per_thousand_hazards"] == pytest.approx(1000.0)
    pd.testing.assert_frame_equal(bd.reset_index(), _by_dimension_by_hand(con, "2025Q1", "330000", "industry"))
    _adds_up_to_the_tiles(con, bd.reset_index(), "2025Q1", "330000", "industry")
    bt = by_dimension(con, "2025Q1", "330000", "inspection_type", SC)
    assert bt["key"].tolist() == ["双随机", "专项检查"]
    _adds_up_to_the_tiles(con, bt, "2025Q1", "330000", "inspection_type")
    with pytest.raises(ValueError):
        by_dimension(con, "2025Q1", "330000", "agency_code")


def test_a_bulletin_under_another_scheme_shows_that_schemes_tiles(tmp_path):
    """build_bulletin's headline, annex and by-industry table take the scheme it is given (as the
    overview's tiles do under it), not the default: here one whose 隐患整改率 counts every hazard
    found and whose 重大事故隐患 (重大隐患立案率's denominator) counts only those needing rectification."""
    import shutil
    from pathlib import Path

    shutil.copy(Path(__file__).with_name("schemes") / "other_province.toml", tmp_path)
    f = tmp_path / "own.toml"
    f.write_text('extends = "other_province"\n'
                 '[indicators.major_filing]\nname = "重大隐患立案率"\nunit = "%"\n'
                 'numerator = { table = "penalties", where = "for_major_hazard" }\n'
                 'denominator = { table = "hazards", where = "is_major AND needs_rectification" }\n',
                 encoding="utf-8")
    own = load_scheme(f)
    d = two_years()
    j = d.rows["inspections"][-1]["inspection_id"]
    d.hazard(j, "2025-01-17", needs=False)                 # not needing rectification, not rectified
    d.hazard(j, "2025-01-17", major=True, needs=False)     # a major one, not needing rectification
    con = d.memory()
    for sc in (SC, own):
        b = build_bulletin(con, "2025Q1", "city", "330000", sc)
        h = b.frames["headline"].set_index("key")
        tiles = kpi_tiles(con, "2025Q1", "330000", scheme=sc).set_index("kpi")
        assert h.loc["rectification", "value"] == pytest.approx(tiles.loc["rectification", "value"])
        tot = region_totals(con, "2025Q1", "330000", sc)
        assert h.loc["major_hazards", "value"] == tot["major_hazards"]
        assert b.frames["by_industry"]["major_hazards"].sum() == tot["major_hazards"]
        assert b.frames["by_type"]["major_hazards"].sum() == tot["major_hazards"]
        total = b.annexes[0].data.iloc[-1]
        assert total["单位"] == "合计" and total["重大事故隐患"] == tot["major_hazards"]
        assert total["隐患整改率"] == pytest.approx(tiles.loc["rectification", "value"])
    # the two schemes differ here: 2 of 5 hazards rectified vs 2 of 3 needing it; 2 major vs 1
    assert region_totals(con, "2025Q1", "330000", SC)["major_hazards"] == 2
    assert region_totals(con, "2025Q1", "330000", own)["major_hazards"] == 1
    assert kpi_tiles(con, "2025Q1", "330000", scheme=own).set_index("kpi").loc["rectification", "value"] == \
        pytest.approx(2 / 5)
    assert kpi_tiles(con, "2025Q1", "330000", scheme=SC).set_index("kpi").loc["rectification", "value"] == \
        pytest.approx(2 / 3)
