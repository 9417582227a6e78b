"""The 提醒敦促函 section of the 季度考评 page (ui/notice_panel.py) in AppTest, on a private demo copy:
preview, issue (numbered and logged), downloads, replies and closing, the previous quarter's follow-up."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from etl import warehouse
from official import log as notice_log

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def at(demo_db, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_db, db)
    monkeypatch.setenv("ENFORCEMENT_DB", str(db))
    monkeypatch.setenv("ENFORCEMENT_USER", "科员甲")
    app = AppTest.from_file(APP, default_timeout=120)
    run(app)
    app.switch_page("pages/assessment.py")
    return run(app)


def run(app):
    app.run()
    assert not app.exception, "\n\n".join(e.value + "\n" + "\n".join(e.stack_trace) for e in app.exception)
    return app


def logged():
    con = warehouse.connect_read()
    try:
        return notice_log.notices(con)
    finally:
        con.close()


def frame_with(app, column: str):
    """The dataframe showing ``column`` (AppTest 1.67 does not report a dataframe's key)."""
    frames = [d.value for d in app.dataframe if column in d.value.columns]
    assert frames, f"no table with a {column} column"
    return frames[0]


def downloads(app) -> list[str]:
    return [d.label for d in app.get("download_button")]


def test_preview_issue_download_reply_close_and_follow_up(at):
    # the previous quarter's warned units and how they did this quarter
    follow = frame_with(at, "退出预警名单")
    assert len(follow) >= 1 and {"单位", "文号", "有进步", "变化"} <= set(follow.columns)
    assert set(follow["退出预警名单"]) <= {"是", "否", "—"}

    # before issuing: an unnumbered preview of the first warned unit, nothing in the log
    preview = " ".join(str(m.value) for m in at.markdown)
    assert "浙江省应急管理厅" in preview and "提醒敦促函" in preview and "〔" in preview
    assert "下载预览稿（Word，未编号）" in downloads(at)
    assert logged().empty
    warned = at.selectbox(key="notice_preview_unit").options
    assert len(warned) >= 1

    at.button(key="notice_issue").click()
    run(at)
    log = logged()
    assert len(log) == len(warned)
    assert log["number"].is_unique and set(log["issued_by"]) == {"科员甲"}
    assert any("已生成" in str(s.value) for s in at.success)
    labels = downloads(at)
    assert set(log["number"]) <= set(labels)
    assert "下载全部函件及得分表（ZIP）" in labels and "下载此函（Word）" in labels
    assert at.button(key="notice_issue").label.startswith("重新生成")  # issuing again keeps the numbers

    # the log: closing without a written reply needs a note; record the reply, then close
    number = log["number"].iloc[0]
    at.selectbox(key="notice_log_number").set_value(number)
    at.radio(key="notice_log_action").set_value("办结")
    save(at)
    assert any("no written reply" in str(e.value) for e in at.error)
    assert logged().set_index("number").loc[number, "status"] == "待回复"
    at.radio(key="notice_log_action").set_value("登记已收到书面回复")
    save(at)
    assert logged().set_index("number").loc[number, "status"] == "已回复"
    at.selectbox(key="notice_log_number").set_value(number)
    at.radio(key="notice_log_action").set_value("办结")
    save(at)
    row = logged().set_index("number").loc[number]
    assert row["status"] == "已办结" and row["closed_by"] == "科员甲"
    assert "🟢 已办结" in set(frame_with(at, "状态")["状态"])


def save(at):
    next(b for b in at.button if b.label == "保存").click()
    return run(at)
