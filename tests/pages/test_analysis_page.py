"""AppTest of 分析工具 (pages/analysis.py): every tool renders from the entrypoint without an
exception, and its selectors change what it shows."""
from __future__ import annotations

import json

import duckdb
import pytest

from tests.pages.conftest import ok, table, texts

PAGE = "pages/analysis.py"


def open_tool(app, tool: str, level: str = "city"):
    at = ok(app())
    if level != "city":
        at.radio(key="level").set_value(level)
        ok(at)
    at.switch_page(PAGE)
    ok(at)
    assert at.title[0].value == "分析工具"
    at.radio(key="tools_view").set_value(tool)
    return ok(at)


@pytest.fixture(scope="module")
def implausible(demo_db):
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        profiles = json.loads(con.execute("SELECT value FROM meta WHERE key = 'demo_profiles'").fetchone()[0])
    finally:
        con.close()
    return next(p for p in profiles if p["profile"] == "suspicious")


def test_each_tool_renders_and_the_selector_changes_the_output(app):
    at = ok(app())
    at.switch_page(PAGE)
    ok(at)
    seen = {}
    for tool in ("weights", "uncertainty", "quality", "outlook", "whatif"):
        at.radio(key="tools_view").set_value(tool)
        ok(at)
        seen[tool] = tuple(sorted(tuple(d.value.columns) for d in at.dataframe))
    assert len(set(seen.values())) == 5, seen          # every tool shows different tables
    assert "熵权法名次" in seen["weights"][0] or any("熵权法名次" in cols for cols in seen["weights"])


def test_weights_tool_switches_nominal_and_effective(app):
    at = open_tool(app, "weights")
    w = table(at, "专家权重", "熵权法")
    assert abs(w["专家权重"].sum() - 100) < 0.5 and abs(w["熵权法"].sum() - 100) < 0.5
    chart = at.get("plotly_chart")[0].proto.spec
    at.radio(key="tools_weights_kind").set_value("effective")
    ok(at)
    assert at.get("plotly_chart")[0].proto.spec != chart


def test_uncertainty_intervals_collapse_without_perturbation(app):
    at = open_tool(app, "uncertainty")
    t = table(at, "5%–95%区间", "中位名次")
    assert (t["5%–95%区间"].str.split("–").map(lambda ab: int(ab[0]) <= int(ab[1]))).all()
    at.select_slider(key="tools_mc_spread").set_value(0.0)
    at.multiselect(key="tools_mc_norms").set_value(["scheme"])
    ok(at)
    t = table(at, "5%–95%区间", "中位名次")
    assert (t["5%–95%区间"] == t["名次"].astype(int).astype(str) + "–" + t["名次"].astype(int).astype(str)).all()
    assert "对权重稳健" in texts(at)


def test_quality_tool_flags_the_implausible_county(app, implausible):
    at = open_tool(app, "quality", level="county")
    at.radio(key="period_kind").set_value("year")   # the year 2025: enough hazards for the rule
    ok(at)
    assert at.selectbox(key="period").value == "2025"
    flags = table(at, "单位", "规则", "原因")
    hit = flags[(flags["代码"] == implausible["code"]) & (flags["规则"] == "整改率100%且均为当日整改")]
    assert len(hit) == 1 and "发现当天即整改完毕" in hit["原因"].iloc[0]
    assert "不会改变任何得分" in texts(at)
    at.multiselect(key="tools_quality_rules").set_value(["outlier_profile"])
    ok(at)
    shown = [d.value for d in at.dataframe if "原因" in d.value.columns]
    assert not shown or set(shown[0]["规则"]) <= {"指标画像异常（孤立森林）"}


def test_outlook_shows_probabilities_drivers_and_backtest(app):
    at = open_tool(app, "outlook")
    risk = table(at, "下季进入名单概率", "主要因素")
    assert risk["下季进入名单概率"].between(0, 100).all()
    assert risk["主要因素"].iloc[0]
    folds = table(at, "预测季度", "训练季度")
    assert len(folds) >= 5
    labels = [m.label for m in at.metric]
    assert "区分能力 AUC" in labels and "概率误差 Brier" in labels and any("精确率" in x for x in labels) and any("召回率" in x for x in labels)
    before = risk.copy()
    at.selectbox(key="period").set_value(at.selectbox(key="period").options[2])   # an earlier quarter
    ok(at)
    after = table(at, "下季进入名单概率", "主要因素")
    assert "实际" in after.columns                       # the predicted quarter is known: the outcome is shown
    assert not before.equals(after)


def test_whatif_moves_the_ranking_without_touching_the_scheme(app):
    from metrics.scheme import load_scheme

    path = load_scheme().path
    text = path.read_text(encoding="utf-8")
    at = open_tool(app, "whatif")
    t0 = table(at, "新名次", "原名次")
    assert (t0["名次变化"].fillna(0) == 0).all()
    at.number_input(key="tools_w_coverage").set_value(60.0)
    at.number_input(key="tools_t_dual_penalty").set_value(1.0)
    at.button(key="FormSubmitter:tools_whatif_index_form-重新计算").click()
    ok(at)
    t1 = table(at, "新名次", "原名次")
    assert (t1["名次变化"].fillna(0) != 0).any()
    assert path.read_text(encoding="utf-8") == text
    at.radio(key="tools_whatif_target").set_value("score")
    ok(at)
    assert any(k in texts(at) for k in ("预警名单不变", "预警名单变化"))


def test_assessment_warning_list_says_whether_each_warning_is_robust(app):
    at = ok(app())
    at.switch_page("pages/assessment.py")
    ok(at)
    # the warning list's lines (the notice panel's own errors, e.g. a placeholder left in the
    # settings, are st.error too)
    lines = [e.value for e in at.error if "位列后" in e.value]
    assert lines, "the demo's latest quarter has a warning list"
    assert all("对权重稳健：" in x and "仍在名单" in x for x in lines)


def test_whatif_reset_restores_the_scheme_settings(app):
    at = open_tool(app, "whatif")
    at.number_input(key="tools_w_coverage").set_value(80.0)
    at.button(key="FormSubmitter:tools_whatif_index_form-重新计算").click()
    ok(at)
    assert (table(at, "新名次", "原名次")["名次变化"].fillna(0) != 0).any()
    at.button(key="tools_whatif_reset").click()
    ok(at)
    assert at.number_input(key="tools_w_coverage").value == 10.0
    assert (table(at, "新名次", "原名次")["名次变化"].fillna(0) == 0).all()
