"""区域分析's 能力建设与案例报送 panel: the unit's staff and case-reporting figures against the
published targets, every unit of the level banded, the missed reporting windows by name; and the
scheme choice per province (a province's own scheme first, never another province's)."""
from __future__ import annotations

import duckdb

from metrics.capacity import capacity_frame, missed_windows
from metrics.scheme import SCHEME_DIR, load_scheme
from tests.pages.conftest import ok, open_section, table, texts


def test_region_capacity_panel(app, demo_db):
    at = ok(app())
    at.switch_page("pages/region.py")
    ok(at)
    at.selectbox(key="region_code").set_value("330100")
    ok(at)
    assert "案例报送按期率" not in {m.label for m in at.metric}   # its tab is closed: nothing of it runs
    open_section(at, "能力建设与案例报送")
    labels = {m.label for m in at.metric}
    assert {"专业执法人员占比", "技术检查员配比", "复训达标率", "编制到位率", "案例报送按期率"} <= labels
    peers = table(at, "单位", "未按期报送周期")
    assert len(peers) == 11 and "专业执法人员占比（目标 75.0%）" in peers.columns
    assert "技术检查员配比（目标 0.50）" in peers.columns
    # the same numbers as metrics.capacity (one definition per number), for the period shown
    period = at.session_state["period"]
    con = duckdb.connect(str(demo_db), read_only=True)
    cap = capacity_frame(con, period, "city", "330000", load_scheme())
    missed = missed_windows(con, period, "city", "330000", load_scheme())
    con.close()
    row = peers[peers["单位"] == "杭州市"].iloc[0]
    want = cap[(cap.code == "330100") & (cap.indicator == "qualified_share")]["value"].iloc[0]
    assert row["专业执法人员占比（目标 75.0%）"] == f"{want * 100:.1f}%"
    assert row["未按期报送周期"] == ("、".join(missed[missed.code == "330100"].window_name) or "—")


def test_region_records_behind_report_cadence(app):
    at = ok(app())
    at.switch_page("pages/region.py")
    ok(at)
    open_section(at, "追溯记录")
    at.selectbox(key="explain_indicator").set_value("report_cadence")
    at.radio(key="explain_part").set_value("denominator")
    ok(at)
    windows = table(at, "报送周期", "按期报送")
    assert len(windows) >= 1 and windows["报送周期"].str.contains("年").all()


def test_scheme_choices_serve_the_province():
    from ui import data

    hunan, jiangsu, default = SCHEME_DIR / "hunan.toml", SCHEME_DIR / "jiangsu.toml", SCHEME_DIR / "default.toml"
    assert data.scheme_files("430000")[:2] == [hunan, default] and jiangsu not in data.scheme_files("430000")
    assert data.scheme_files("320000")[0] == jiangsu and hunan not in data.scheme_files("320000")
    zj = data.scheme_files("330000")
    assert zj[0] == default and hunan not in zj and jiangsu not in zj
    assert data.scheme_key(None, "430000")[0] == str(hunan)
    assert data.scheme_key(None, "330000")[0] == str(default)


def test_overview_capacity_section(app):
    at = ok(app())
    assert "能力建设与案例报送" in texts(at)
    summary = table(at, "指标", "目标", "达到目标")
    assert "专业执法人员占比" in set(summary["指标"]) and (summary["有数据单位"] == 11).all()
    assert (summary["达到目标"] <= summary["有数据单位"]).all()
    period = at.session_state["period"]
    if period.endswith(("Q2", "Q4")) or "Q" not in period:  # a half-year ended in the period
        assert "省厅本级案例报送" in texts(at)
