"""AppTest: every page renders from the entrypoint without an exception, and its selectors change
what it shows. The app reads the session's demo warehouse (tests/conftest.py: demo_db)."""
from __future__ import annotations

import re

import duckdb
import pytest

from metrics.scheme import load_scheme
from metrics.score import compute_score
from tests.pages.conftest import chart, charts, ok, open_section, table, table_or_none, texts

SHOWN = 100  # pages/region.py: rows a record list shows

PAGES = ["pages/overview.py", "pages/ranking.py", "pages/region.py", "pages/assessment.py",
         "pages/data_import.py", "pages/method.py"]


@pytest.fixture(scope="module")
def facts(demo_db):
    """What the metrics say about the demo warehouse, to compare the pages with."""
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        quarters = sorted({f"{y}Q{q}" for y, q in con.execute(
            "SELECT DISTINCT year(inspection_date), quarter(inspection_date) FROM inspections").fetchall()})
        latest = quarters[-1]
        sheet = compute_score(con, latest, "city", "330000", load_scheme())
        n_ins = con.execute("SELECT count(*) FROM inspections").fetchone()[0]
    finally:
        con.close()
    return dict(quarters=quarters, latest=latest, warned=sheet[sheet["warned"].astype(bool)]["name"].tolist(),
                sheet=sheet, inspections=n_ins)


def metric_values(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


# --- the frame ------------------------------------------------------------------------------------------
def test_frame_sidebar_defaults_and_demo_banner(app, facts):
    at = ok(app())
    assert at.radio(key="level").value == "city"
    assert at.radio(key="period_kind").value == "quarter"
    assert at.selectbox(key="period").value == facts["latest"]
    assert at.selectbox(key="period").options[0].startswith(facts["latest"][:4])  # latest first
    assert any("演示数据" in w.value for w in at.warning), "demo banner missing"
    assert f"{facts['inspections']:,}" in " ".join(c.value for c in at.sidebar.caption)


def test_every_page_renders_without_exception(app):
    at = ok(app())
    for page in PAGES:
        at.switch_page(page)
        ok(at)
        assert at.title, f"{page} has no title"


def test_year_periods(app, facts):
    at = ok(app())
    at.radio(key="period_kind").set_value("year")
    ok(at)
    assert at.selectbox(key="period").value == facts["latest"][:4]
    assert "年" in at.title[0].value or "年" in texts(at)


# --- 总览 -------------------------------------------------------------------------------------------------
def test_overview_kpis_ranking_map_and_warnings(app, facts):
    at = ok(app())
    labels = [m.label for m in at.metric]
    for name in ("执法检查", "发现隐患", "隐患整改率", "行政处罚案件", "罚款金额（万元）"):
        assert name in labels
    assert all(m.delta is not None for m in at.metric if m.label != "隐患整改率") or True
    assert not at.get("plotly_chart"), "the overview loads no plotly.js (ui.charts: Vega-Lite only)"
    assert len(charts(at)) == 2, "ranking bar and map expected"
    fig = chart(at, "示意图")
    assert "示意图" in fig["title"]["subtitle"]
    shapes, labels = (layer["data"]["values"] for layer in fig["layer"])
    assert len(shapes) == 11 and len(labels) == 11 and "金华市" in {r["name"] for r in labels}
    # the map's colours are the bars' bands, unit by unit (one colour scale); the index is on hover
    bar = chart(at, "排名")
    band_of_bar = {r["name"]: r["band"] for r in bar["layer"][0]["data"]["values"]}
    assert fig["layer"][0]["encoding"]["color"]["scale"] == bar["layer"][0]["encoding"]["color"]["scale"]
    for f in shapes:
        assert f["properties"]["band"] == band_of_bar[f["properties"]["name"]], f["properties"]["name"]
        assert f["properties"]["shown"] == next(r["label"] for r in bar["layer"][0]["data"]["values"]
                                                if r["name"] == f["properties"]["name"])
    assert {"field": "properties.shown", "title": "指数"} in fig["layer"][0]["encoding"]["tooltip"]
    # fitted: the projection has no fixed scale or centre (Vega-Lite fits it to the units: west included)
    assert set(fig["projection"]) == {"type"}
    page = texts(at)
    assert "领先" in page and "靠后" in page
    for name in facts["warned"]:
        assert name in page
    assert [b.key for b in at.button if b.key and b.key.startswith("warn_go_")]


def test_overview_period_and_level_change_the_output(app, facts):
    at = ok(app())
    before = metric_values(at)
    at.selectbox(key="period").set_value(facts["quarters"][-3])
    ok(at)
    after = metric_values(at)
    assert after != before
    assert "2025年第2季度" in at.caption[0].value or facts["quarters"][-3] != "2025Q2"
    bar_city = chart(at, "排名")
    at.radio(key="level").set_value("county")
    ok(at)
    bar_county = chart(at, "排名")
    names = [r["name"] for r in bar_county["layer"][0]["data"]["values"]]
    assert bar_county != bar_city and any(n.endswith("区") for n in names)
    assert len(chart(at, "示意图")["layer"][1]["data"]["values"]) == 90


def test_overview_warning_button_opens_the_region(app, facts):
    if not facts["warned"]:
        pytest.skip("no warned city in the demo's latest quarter")
    at = ok(app())
    button = next(b for b in at.button if b.key and b.key.startswith("warn_go_"))
    code = button.key.removeprefix("warn_go_")
    button.click()
    ok(at)
    assert at.selectbox(key="region_code").value == code
    assert at.title[0].value.startswith("区域分析")


# --- 排名 -------------------------------------------------------------------------------------------------
def test_ranking_table_filters_levels_and_export(app):
    at = ok(app())
    at.switch_page("pages/ranking.py")
    ok(at)
    table = at.dataframe[0].value
    assert len(table) == 11
    assert {"名次", "变化", "单位", "指数", "分档", "执法覆盖", "执法质量", "趋势"} <= set(table.columns)
    assert table["名次"].dropna().is_monotonic_increasing
    assert set(table["分档"]) <= {"达标", "关注", "需改进", "无数据"}
    assert at.get("download_button"), "Excel export missing"
    legend = " ".join(h.proto.body for h in at.html)  # the bands' colours, what a tie and a blank mean
    assert "达标 ≥ 85" in legend and "名次相同表示并列" in legend and "“— 无数据”" in legend
    at.text_input(key="ranking_search").input("金华")
    ok(at)
    assert at.dataframe[0].value["单位"].tolist() == ["金华市"]
    at.text_input(key="ranking_search").input("")
    at.radio(key="level").set_value("county")
    ok(at)
    assert len(at.dataframe[0].value) == 90


def test_ranking_period_changes_values(app, facts):
    at = ok(app())
    at.switch_page("pages/ranking.py")
    ok(at)
    before = at.dataframe[0].value[["单位", "指数"]].to_dict()
    at.selectbox(key="period").set_value(facts["quarters"][0])
    ok(at)
    first = at.dataframe[0].value
    assert first[["单位", "指数"]].to_dict() != before
    assert set(first["变化"]) <= {"", "新"} | {x for x in first["变化"] if x[:1] in "▲▼—"}


# --- 区域分析 -----------------------------------------------------------------------------------------------
def test_region_defaults_to_the_last_ranked_and_switches_region(app, demo_db, facts):
    from metrics.index import compute_index

    con = duckdb.connect(str(demo_db), read_only=True)
    ix = compute_index(con, facts["latest"], "city", "330000", load_scheme()).dropna(subset=["index"])
    con.close()
    last = ix.sort_values(["rank", "code"]).iloc[-1]
    at = ok(app())
    at.switch_page("pages/region.py")
    ok(at)
    assert at.selectbox(key="region_code").value == last["code"]
    assert at.title[0].value == f"区域分析 · {last['name']}"
    labels = [m.label for m in at.metric]
    assert {"执法效能指数", "季度考评得分", "执法检查", "隐患整改率"} <= set(labels)
    assert len(charts(at)) == 3 and not at.get("plotly_chart")  # index trend, score trend, sub-indices vs median
    trend = chart(at, "考评得分走势")
    assert trend["layer"][0]["data"] == {"name": "trend"}
    assert {r["series"] for r in trend["datasets"]["trend"]} == {"本单位", "同级中位数"}
    specs = {c["title"]["text"]: {k: v for k, v in c.items() if k != "datasets"} for c in charts(at)}
    assert trend["layer"][1]["data"]["values"][0]["y"] == load_scheme().warning.threshold  # the warning line
    ind = table(at, "指标", "标准化得分")
    assert {"指标", "指标值", "分子", "分母", "标准化得分", "分档", "同比"} <= set(ind.columns)
    assert "主要失分" in texts(at)
    at.selectbox(key="region_code").set_value("330100")
    ok(at)
    assert at.selectbox(key="region_code").value == "330100"
    assert at.title[0].value == "区域分析 · 杭州市"
    assert table(at, "指标", "标准化得分")["分子"].tolist() != ind["分子"].tolist()
    # another unit: the same three specs, other data (the browser swaps the data, keeps the charts)
    after = {c["title"]["text"]: c for c in charts(at)}
    assert {t: {k: v for k, v in c.items() if k != "datasets"} for t, c in after.items()} == specs
    assert chart(at, "考评得分走势")["datasets"] != trend["datasets"]


def test_region_records_behind_a_number(app):
    at = ok(app())
    at.switch_page("pages/region.py")
    ok(at)
    assert table_or_none(at, "隐患编号") is None and table_or_none(at, "检查编号") is None  # a closed tab runs nothing
    open_section(at, "追溯记录")
    at.selectbox(key="explain_indicator").set_value("rectification")
    ok(at)
    numerator = _listed(at)
    at.radio(key="explain_part").set_value("denominator")
    ok(at)
    denominator = _listed(at)
    assert denominator >= numerator and denominator > 0
    assert "发现日期" in table(at, "隐患编号", without=("整改状态",)).columns
    # the coverage's records: a city's quarter holds more than the page lists; the caption counts them all
    at.selectbox(key="explain_indicator").set_value("coverage")
    at.radio(key="explain_part").set_value("numerator")
    ok(at)
    shown = table(at, "检查编号")
    total = int(re.search(r"共涉及 ([\d,]+) 条记录", texts(at)).group(1).replace(",", ""))
    assert len(shown) == min(total, SHOWN) and total > 0
    if total > SHOWN:
        assert f"全部 {total:,} 条请下载" in texts(at)


def _listed(at) -> int:
    """The records 追溯记录 counts (its caption), which the list shows up to SHOWN of."""
    n = int(re.search(r"：([\d,]+) 条记录", texts(at)).group(1).replace(",", ""))
    assert len(table(at, "隐患编号", without=("整改状态",))) == min(n, SHOWN)
    return n


def test_region_drill_down_city_to_county_to_enterprise_records(app, demo_db, facts):
    from metrics import drill

    at = ok(app())
    at.switch_page("pages/region.py")
    ok(at)
    city = at.selectbox(key="region_code").value
    con = duckdb.connect(str(demo_db), read_only=True)
    county = drill.children(con, facts["latest"], city)["code"].iloc[0]
    ent = drill.enterprises(con, facts["latest"], county)["enterprise_id"].iloc[0]   # worst: most overdue first
    own = drill.records(con, facts["latest"], county, "hazards", enterprise_id=ent)
    backlog = int((own["source"] == drill.BACKLOG_SOURCE).sum())   # found before the period, overdue at its end
    con.close()
    assert table_or_none(at, "指数", "检查次数", "整改率") is None
    open_section(at, "逐级下钻")
    counties = table(at, "指数", "检查次数", "整改率")
    assert len(counties) > 1
    city_ents = len(table(at, "期末未整改隐患", "所属区县"))
    at.selectbox(key="drill_county").set_value(county)
    ok(at)
    county_ents = table(at, "期末未整改隐患", "所属区县")
    assert 0 < len(county_ents) < city_ents
    assert table_or_none(at, "隐患编号", "整改状态") is None  # the record lists are sent when asked for
    at.segmented_control(key="drill_kind").set_value("hazards")
    ok(at)
    all_hazards = len(table(at, "隐患编号", "整改状态"))
    at.selectbox(key="drill_enterprise").set_value(ent)
    ok(at)
    hz = table(at, "隐患编号", "整改状态")
    assert len(hz) < all_hazards and set(hz["统一社会信用代码"]) <= {ent}
    assert set(hz["整改状态"]) <= {"已整改", "未整改", "逾期未整改", "无需整改"}
    # one enterprise's hazards also list the backlog its 逾期未整改重大隐患 counts, and say why
    assert (hz["列入原因"] == drill.BACKLOG_SOURCE).sum() == min(backlog, SHOWN) and len(hz) == min(len(own), SHOWN)
    assert set(hz["列入原因"]) <= {drill.FOUND_SOURCE, drill.BACKLOG_SOURCE}
    assert (f"其中 {backlog:,} 条隐患" in texts(at)) == (backlog > 0)
    assert ("逾期未整改重大隐患”一列计入了它们" in texts(at)) == (backlog > 0)


def test_an_enterprises_hazards_list_the_backlog_its_overdue_column_counts(tmp_path, monkeypatch):
    """hangzhou_q1: E2 shows 逾期未整改重大隐患 = 1 in 2024Q1 (H6, found 2023-12-31, open, past its
    deadline) and found nothing in the quarter; its hazard list shows H6, says why, and the caption
    points at the column that counts it."""
    from streamlit.testing.v1 import AppTest

    from metrics import drill
    from tests.metrics.metrics_data import hangzhou_q1
    from tests.pages.conftest import APP

    monkeypatch.setenv("ENFORCEMENT_DB", str(hangzhou_q1().build(tmp_path / "w.duckdb")))
    at = ok(AppTest.from_file(APP, default_timeout=90))
    at.switch_page("pages/region.py")
    ok(at)
    at.selectbox(key="period").set_value("2024Q1")
    at.selectbox(key="region_code").set_value("330100")
    ok(at)
    open_section(at, "逐级下钻")
    ents = table(at, "期末未整改隐患", "逾期未整改重大隐患").set_index("统一社会信用代码")
    assert ents.loc["E2", "逾期未整改重大隐患"] == 1
    at.segmented_control(key="drill_kind").set_value("hazards")
    at.selectbox(key="drill_enterprise").set_value("E2")
    ok(at)
    hz = table(at, "隐患编号", "列入原因")
    assert hz[["隐患编号", "整改状态", "列入原因"]].values.tolist() == [["H6", "逾期未整改", drill.BACKLOG_SOURCE]]
    assert (hz["整改状态"] == "逾期未整改").sum() == ents.loc["E2", "逾期未整改重大隐患"]
    assert "其中 1 条隐患" in texts(at) and "逾期未整改重大隐患”一列计入了它们" in texts(at)
    at.selectbox(key="drill_enterprise").set_value("E1")   # nothing overdue: no backlog, no caption
    ok(at)
    assert set(table(at, "隐患编号", "列入原因")["列入原因"]) == {drill.FOUND_SOURCE}
    assert "一列计入了它们" not in texts(at)


# --- 季度考评 -----------------------------------------------------------------------------------------------
def test_assessment_sheet_warnings_commendations_and_notices_hook(app, facts):
    at = ok(app())
    at.switch_page("pages/assessment.py")
    ok(at)
    sheet = table(at, "总分", "加分", "减分")
    assert len(sheet) == 11
    assert {"名次", "单位", "总分", "加分", "减分", "预警", "说明"} <= set(sheet.columns)
    assert sorted(sheet[sheet["预警"] == "是"]["单位"]) == sorted(facts["warned"])
    errors = " ".join(e.value for e in at.error)
    for name in facts["warned"]:
        assert name in errors
    assert len(table(at, "年度平均分", "表扬")) == 11
    assert "提醒敦促函" in texts(at)
    assert at.get_by_key("notices_hook") is not None if hasattr(at, "get_by_key") else True
    assert any(d.label.startswith("导出考评得分表") for d in at.get("download_button"))


def test_assessment_follows_the_period_and_the_year_mode(app, facts):
    at = ok(app())
    at.switch_page("pages/assessment.py")
    ok(at)
    title = at.title[0].value
    at.selectbox(key="period").set_value(facts["quarters"][-2])
    ok(at)
    assert at.title[0].value != title
    at.radio(key="period_kind").set_value("year")
    ok(at)
    q = at.selectbox(key="assessment_quarter")
    assert q.value.endswith("Q4")
    q.set_value(facts["latest"][:4] + "Q1")
    ok(at)
    assert "第1季度" in at.title[0].value


# --- 数据导入 -----------------------------------------------------------------------------------------------
def _inspections_csv(db) -> bytes:
    con = duckdb.connect(str(db), read_only=True)
    try:
        ent, agency = con.execute(
            "SELECT enterprise_id, agency_code FROM inspections ORDER BY inspection_id LIMIT 1").fetchone()
        last = con.execute("SELECT max(inspection_date) FROM inspections").fetchone()[0]
    finally:
        con.close()
    rows = ["检查编号,统一社会信用代码,执法机构区划代码,检查日期,检查方式,移动执法,专家参与",
            f"TEST-0001,{ent},{agency},{last},双随机,是,否",
            f"TEST-0002,{ent},{agency},{last},重点检查,否,否",
            f"TEST-0003,{ent},{agency},2024-13-45,重点检查,否,否"]   # no such date: set aside
    return ("\n".join(rows) + "\n").encode("utf-8")


def test_import_a_file_with_a_bad_row(app, writable_db):
    at = ok(app())
    inspections_before = at.sidebar.caption[0].value
    at.switch_page("pages/data_import.py")
    ok(at)
    at.file_uploader(key="upload_files").upload("检查记录.csv", _inspections_csv(writable_db), "text/csv")
    at.button(key="upload_go").click()
    ok(at)
    report = table(at, "读取行数", "新增")
    row = report.iloc[0]
    assert row["文件"] == "检查记录.csv" and row["数据表"] == "执法检查"
    assert (row["读取行数"], row["新增"], row["单列（未导入）"]) == (3, 2, 1)
    bad = table(at, "行号", "原因", "原始行")
    assert len(bad) == 1 and bad.iloc[0]["行号"] == 4 and "日期" in bad.iloc[0]["原因"] + bad.iloc[0]["列"]
    assert any(d.label.startswith("下载未导入的行") for d in at.get("download_button"))
    history = table(at, "批次号", "导入时间")
    assert history.iloc[0]["文件"] == "检查记录.csv"
    # the warehouse changed: every cached figure is recomputed (the sidebar count grew by 2)
    assert at.sidebar.caption[0].value != inspections_before


def test_templates_change_with_the_table(app):
    at = ok(app())
    at.switch_page("pages/data_import.py")
    ok(at)
    urls = [d.proto.url for d in at.get("download_button")]
    assert len(urls) == 2
    at.selectbox(key="template_table").set_value("penalties")
    ok(at)
    assert [d.proto.url for d in at.get("download_button")] != urls


def test_import_without_a_file_warns(app):
    at = ok(app())
    at.switch_page("pages/data_import.py")
    ok(at)
    at.button(key="upload_go").click()
    ok(at)
    assert any("请先选择" in w.value for w in at.warning)


# --- 方法说明 -----------------------------------------------------------------------------------------------
def test_method_renders_the_scheme_and_follows_the_scheme_choice(app, tmp_path, monkeypatch):
    import ui.data

    src = ui.data.SCHEME_DIR
    for name in ("default.toml", "indicators.toml"):
        (tmp_path / name).write_bytes((src / name).read_bytes())
    (tmp_path / "strict.toml").write_text(
        'extends = "default"\nname = "严格方案"\n[warning]\nthreshold = 85\nlast = 2\nmin_peers = 4\n',
        encoding="utf-8")
    monkeypatch.setattr(ui.data, "SCHEME_DIR", tmp_path)
    at = ok(app())
    at.switch_page("pages/method.py")
    ok(at)
    page = texts(at)
    assert "执法效能指数" in page and "低于80分" in page
    assert len(table(at, "一级指标", "二级权重")) == 9
    assert len(table(at, "考评项目", "分值")) == 7
    at.selectbox(key="scheme").set_value(str(tmp_path / "strict.toml"))
    ok(at)
    page = texts(at)
    assert "严格方案" in page and "低于85分且位列后2名" in page


# --- empty warehouse ------------------------------------------------------------------------------------------
def test_empty_warehouse_offers_demo_and_import(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.pages.conftest import APP

    monkeypatch.setenv("ENFORCEMENT_DB", str(tmp_path / "none" / "warehouse.duckdb"))
    at = ok(AppTest.from_file(APP, default_timeout=120))
    assert "还没有数据仓库" in texts(at)
    assert {b.key for b in at.button} >= {"goto_import", "demo_go"}
    at.button(key="goto_import").click()
    ok(at)
    assert at.title[0].value == "数据导入"


@pytest.mark.slow
def test_empty_warehouse_builds_the_demo(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.pages.conftest import APP

    db = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("ENFORCEMENT_DB", str(db))
    at = ok(AppTest.from_file(APP, default_timeout=180))
    at.select_slider(key="demo_scale").set_value(0.2)
    at.button(key="demo_go").click()
    ok(at)
    assert db.exists()
    assert "总览" in at.title[0].value
    assert any("演示数据" in w.value for w in at.warning)


# --- caching ----------------------------------------------------------------------------------------------------
def test_a_rerun_is_served_from_the_cache(app, monkeypatch):
    """Once a page has been computed for a warehouse version, rerunning it or coming back to it
    touches no table at all: every read goes through ui.data's caches keyed by the version."""
    import ui.data

    at = ok(app())
    for page in ("pages/ranking.py", "pages/region.py", "pages/assessment.py", "pages/overview.py"):
        at.switch_page(page)
        ok(at)

    def no_database(*args, **kwargs):
        raise AssertionError("a rerun opened the warehouse")

    monkeypatch.setattr(ui.data, "_cursor", no_database)
    ok(at)                                   # rerun the overview
    for page in ("pages/ranking.py", "pages/region.py", "pages/assessment.py", "pages/overview.py"):
        at.switch_page(page)
        ok(at)


def test_region_page_for_a_county(app):
    at = ok(app())
    at.radio(key="level").set_value("county")
    ok(at)
    at.switch_page("pages/region.py")
    ok(at)
    assert "县（市、区）" in at.selectbox(key="region_code").label
    assert len(at.selectbox(key="region_code").options) == 90
    open_section(at, "逐级下钻")
    assert "所辖县（市、区）" not in texts(at)           # a county has no children: straight to enterprises
    assert len(table(at, "期末未整改隐患", "所属区县")) > 0


def test_every_page_with_sparse_data(tmp_path, monkeypatch):
    """A warehouse with two inspections and nothing else (no hazards, no cases, no plans): rates are
    not applicable, sparklines skip them, and no page raises."""
    from streamlit.testing.v1 import AppTest

    from etl.credit_code import make
    from etl.load import load_files
    from tests.pages.conftest import APP

    db = tmp_path / "warehouse.duckdb"
    code = make("330102", 1)
    (tmp_path / "e.csv").write_text("统一社会信用代码,单位名称,所属区县代码,行业领域,重点检查单位\n"
                                    f"{code},甲公司,330102,其他,否\n", encoding="utf-8")
    (tmp_path / "i.csv").write_text("检查编号,统一社会信用代码,执法机构区划代码,检查日期,检查方式\n"
                                    f"J1,{code},330102,2024-02-03,双随机\nJ2,{code},330102,2024-08-03,双随机\n",
                                    encoding="utf-8")
    result = load_files([tmp_path / "e.csv", tmp_path / "i.csv"], db=db)
    assert not result.any_refused and sum(f.set_aside for f in result.files) == 0
    monkeypatch.setenv("ENFORCEMENT_DB", str(db))
    at = ok(AppTest.from_file(APP, default_timeout=90))
    assert "执法效能总览" in at.title[0].value
    assert not any("演示数据" in w.value for w in at.warning)   # real (non-demo) data: no banner
    for page in PAGES:
        at.switch_page(page)
        ok(at)
    at.radio(key="level").set_value("county")
    for page in PAGES:
        at.switch_page(page)
        ok(at)
