"""The 提醒敦促函 section of the 季度考评 page (ui/notice_panel.py) in AppTest, on a private demo copy:
settings, preview, issue (confirmed, numbered and logged), downloads, replies, closing and voiding,
the previous quarter's follow-up — and none of it rewrites the warehouse or clears a cached figure."""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from official import config, log as notice_log
from ops import audit

APP = str(Path(__file__).resolve().parents[2] / "app.py")
CONTACT = "联系人：张明，电话：0571-87052345"


def _at(db, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("ENFORCEMENT_DB", str(db))
    monkeypatch.setenv("ENFORCEMENT_USER", "科员甲")
    app = AppTest.from_file(APP, default_timeout=120)
    run(app)
    app.switch_page("pages/assessment.py")
    return run(app)


@pytest.fixture
def db(demo_db, tmp_path):
    p = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_db, p)
    return p


@pytest.fixture
def calls(monkeypatch):
    """How often the score is computed (each time a cached figure is missing) and the caches cleared."""
    import streamlit as st

    import metrics.score

    n = {"score": 0, "clear": 0}
    real, real_clear = metrics.score.compute_score, st.cache_data.clear

    def counted(*a, **kw):
        n["score"] += 1
        return real(*a, **kw)

    def cleared(*a, **kw):
        n["clear"] += 1
        return real_clear(*a, **kw)

    monkeypatch.setattr(metrics.score, "compute_score", counted)
    monkeypatch.setattr(st.cache_data, "clear", cleared)
    return n


def run(app):
    app.run()
    assert not app.exception, "\n\n".join(e.value + "\n" + "\n".join(e.stack_trace) for e in app.exception)
    return app


def logged():
    return notice_log.notices(os.environ["ENFORCEMENT_DB"])


def frame_with(app, column: str):
    """The dataframe showing ``column`` (AppTest 1.67 does not report a dataframe's key)."""
    frames = [d.value for d in app.dataframe if column in d.value.columns]
    assert frames, f"no table with a {column} column"
    return frames[0]


def downloads(app) -> list[str]:
    return [d.label for d in app.get("download_button")]


def _quarter(at) -> str:
    """The quarter the 季度考评 page shows (its title says it: … · 2025年第4季度)."""
    import re

    m = re.search(r"(\d{4})年第(\d)季度", at.title[0].value)
    return f"{m.group(1)}Q{m.group(2)}"


def digest(p) -> tuple:
    return hashlib.sha256(Path(p).read_bytes()).hexdigest(), os.stat(p).st_mtime_ns


def submit(at, label: str):
    next(b for b in at.button if b.label == label).click()
    return run(at)


def test_placeholder_disables_issuing_until_notice_staff_fill_in_the_contact(db, monkeypatch):
    at = _at(db, monkeypatch)
    assert at.button(key="notice_issue").disabled
    assert any("联系人及电话（附注）" in e.value and "×××" in e.value for e in at.error)
    assert "下载预览稿（Word，未编号）" in downloads(at)       # previews still work

    at.text_input(key="notice_set_note").set_value(CONTACT)
    at.text_input(key="notice_set_prefix").set_value("浙应执函")
    at.number_input(key="notice_set_start").set_value(7)
    submit(at, "保存发文设置")
    assert any("已保存" in str(s.value) for s in at.success)
    assert not at.button(key="notice_issue").disabled
    s = config.effective(db)
    assert (s.note, s.prefix, s.start_seq) == (CONTACT, "浙应执函", 7)
    trail = audit.audit_trail(None, db=db, action="notice.settings")
    assert list(trail["who"]) == ["科员甲"] and "“浙应执函”" in trail["detail"].iloc[0]

    # what the command line issues shows in the app's log, with its file to download
    from metrics.__main__ import main

    unit, code = at.selectbox(key="notice_preview_unit").options[0], at.selectbox(key="notice_preview_unit").value
    assert main(["--db", str(db), "notices", "--quarter", _quarter(at), "--out", str(db.parent / "cli"),
                 "--unit", code]) == 0
    run(at)
    number = logged()["number"].iloc[0]
    assert number.startswith("浙应执函〔") and number.endswith("〕7号")
    assert number in downloads(at) and unit.split("（")[0] in set(frame_with(at, "文号")["单位"])


def test_preview_issue_download_reply_close_void_and_follow_up(db, monkeypatch, calls):
    config.save(db, {"note": CONTACT}, actor="test")   # the shipped contact is a placeholder
    at = _at(db, monkeypatch)
    # the previous quarter's warned units and how they did this quarter
    follow = frame_with(at, "退出预警名单")
    assert len(follow) >= 1 and {"单位", "文号", "有进步", "变化"} <= set(follow.columns)
    assert set(follow["退出预警名单"]) <= {"是", "否", "—"}

    # before issuing: an unnumbered preview of the first warned unit, nothing in the log
    preview = " ".join(str(m.value) for m in at.markdown)
    assert "浙江省应急管理厅" in preview and "提醒敦促函" in preview and "预览稿" in preview
    assert "下载预览稿（Word，未编号）" in downloads(at)
    assert logged().empty
    warned = at.selectbox(key="notice_preview_unit").options
    assert len(warned) >= 1
    before, computed = digest(db), calls["score"]

    # the first click lists what will be numbered; only the confirmation numbers
    at.button(key="notice_issue").click()
    run(at)
    box = " ".join(str(m.value) for m in at.markdown)
    assert "请确认以下函件" in box and all(name.split("（")[0] in box for name in warned)
    assert logged().empty
    at.button(key="notice_issue_confirm").click()
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
    submit(at, "保存")
    assert any("尚未登记书面回复" in str(e.value) for e in at.error)
    assert logged().set_index("number").loc[number, "status"] == "待回复"
    at.radio(key="notice_log_action").set_value("登记已收到书面回复")
    submit(at, "保存")
    assert logged().set_index("number").loc[number, "status"] == "已回复"
    at.selectbox(key="notice_log_number").set_value(number)
    at.radio(key="notice_log_action").set_value("办结")
    submit(at, "保存")
    row = logged().set_index("number").loc[number]
    assert row["status"] == "已办结" and row["closed_by"] == "科员甲"
    assert "🟢 已办结" in set(frame_with(at, "状态")["状态"])

    # void a number: a reason is required; it stays in the log, marked, and is never reused
    at.selectbox(key="notice_void_number").set_value(number)
    submit(at, "作废")
    assert any("须写明原因" in str(e.value) for e in at.error)
    at.selectbox(key="notice_void_number").set_value(number)
    at.text_input(key="notice_void_reason").set_value("单位名称有误，重新发函")
    submit(at, "作废")
    row = logged().set_index("number").loc[number]
    assert row["status"] == "已作废" and row["void_reason"] == "单位名称有误，重新发函"
    table = frame_with(at, "状态")
    assert "⚪ 已作废" in set(table["状态"]) and "作废：单位名称有误，重新发函" in set(table["备注"])
    trail = audit.audit_trail(None, db=db)
    assert {"notice.issue", "notice.reply", "notice.close", "notice.void"} <= set(trail["action"])

    # none of it touched the warehouse or any cached figure
    assert digest(db) == before
    assert calls["score"] == computed and calls["clear"] == 0
