"""Notices handled as official documents, from the command line: numbering refused while a
placeholder is left (the message names the setting), --preview still works, --unit, --void with a
reason (never reused, in the log and the audit trail), the files kept beside the warehouse for
the app, and the settings notice staff set (audited)."""
from __future__ import annotations

import contextlib
import io
import shutil

import docx
import pytest

from official import config, issue as I, log, notice as N
from ops import audit, store

Q = "2024Q3"
ON = "2024-10-15"


def cli(*args) -> tuple[int, str, str]:
    from metrics.__main__ import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def db(demo_db, tmp_path):
    p = tmp_path / "data" / "warehouse.duckdb"
    p.parent.mkdir()
    shutil.copyfile(demo_db, p)
    return p


@pytest.fixture(scope="module")
def warned(demo_db):
    from etl import warehouse
    from metrics.score import warnings

    con = warehouse.connect_read(demo_db)
    try:
        return warnings(con, Q, "city")
    finally:
        con.close()


def test_placeholder_refuses_numbering_and_names_the_setting(db, tmp_path):
    code, out, err = cli("--db", str(db), "notices", "--quarter", Q, "--out", str(tmp_path / "o"), "--date", ON)
    assert code == 1 and out == ""
    assert "不能编号印发" in err and "联系人及电话（附注）" in err and "[附注] 内容" in err and "×××" in err
    assert log.notices(db).empty and not list((tmp_path / "o").glob("*.docx"))
    # a placeholder in the wording is named by its line
    template = tmp_path / "t.txt"
    template.write_text(N.load_template().replace("书面报送我厅。", "书面报送我厅（联系人：【待填】）。"), encoding="utf-8")
    config.save(db, {"note": "联系人：张明，电话：0571-87052345"}, actor="staff")
    code, _, err = cli("--db", str(db), "notices", "--quarter", Q, "--out", str(tmp_path / "o"),
                       "--template", str(template))
    assert code == 1 and "措辞模板 t.txt 第" in err and "【待填】" in err
    # previews are not numbered, so placeholders do not stop them
    code, out, _ = cli("--db", str(db), "notices", "--quarter", Q, "--out", str(tmp_path / "p"), "--preview",
                       "--template", str(template), "--settings", str(N.DEFAULT_SETTINGS))
    assert code == 0 and out.split() and log.notices(db).empty


def test_placeholders_found_in_each_setting():
    s = N.load_settings()
    t = "标题：x\n［署名］\n"
    assert [m for m in N.placeholders(s, t) if "附注" in m]
    from dataclasses import replace

    filled = replace(s, note="联系人：张明，电话：0571-87052345")
    assert N.placeholders(filled, t) == []
    for attr, value in (("issuer", "【待填】应急管理厅"), ("prefix", "××应急函"), ("cc", ("○○人民政府",))):
        found = N.placeholders(replace(filled, **{attr: value}), t)
        assert len(found) == 1 and N.SETTING_NAMES[attr][1] in found[0]
    assert N.placeholders(filled, "{# 说明：×××、【待填】 #}\n标题：x\n") == []   # comments do not count
    with pytest.raises(N.NoticeError, match="不能编号印发"):
        N.refuse_placeholders(s, t)


def test_one_unit_then_void_and_the_number_is_never_reused(db, tmp_path, warned):
    config.save(db, {"note": "联系人：张明，电话：0571-87052345"}, actor="staff")
    first = warned["code"].iloc[0]
    code, out, err = cli("--db", str(db), "notices", "--quarter", Q, "--out", str(tmp_path / "o"), "--date", ON,
                         "--unit", first)
    assert code == 0, err
    (path,) = [p for p in out.split() if p.endswith(".docx")]
    lg = log.notices(db)
    assert list(lg["unit_code"]) == [first]
    number = lg["number"].iloc[0]
    assert docx.Document(path).paragraphs[0].text == number
    # the CLI's notice is kept beside the warehouse for the app: the log says where
    kept = I.archived(db, lg["file_path"].iloc[0])
    assert kept is not None and kept.parent == db.parent / "notices" / f"{Q}-city" and kept.read_bytes() == open(path, "rb").read()

    assert cli("--db", str(db), "notices", "--quarter", Q, "--out", str(tmp_path), "--unit", "999999")[0] == 1
    assert cli("--db", str(db), "notices", "--void", number)[0] == 2               # a reason is required
    assert cli("--db", str(db), "notices", "--void", "浙应急函〔2024〕999号", "--reason", "x")[0] == 1
    code, out, err = cli("--db", str(db), "notices", "--void", number, "--reason", "得分更正后不再预警")
    assert code == 0 and number in out, err
    assert cli("--db", str(db), "notices", "--void", number, "--reason", "again")[0] == 1   # once only
    row = log.notices(db).set_index("number").loc[number]
    assert row["status"] == "已作废" and row["void_reason"] == "得分更正后不再预警"
    with pytest.raises(log.NoticeLogError, match="作废"):
        log.mark_reply(db, number, row["issued_on"])
    trail = audit.audit_trail(None, db=db, action="notice.void")
    assert len(trail) == 1 and trail["ref"].iloc[0] == number and "得分更正后不再预警" in trail["detail"].iloc[0]

    # issuing the same unit again gives it a new number; the voided one stays taken
    code, out, err = cli("--db", str(db), "notices", "--quarter", Q, "--out", str(tmp_path / "o2"), "--date", ON,
                         "--unit", first)
    assert code == 0, err
    lg = log.notices(db)
    assert len(lg) == 2 and lg["number"].is_unique and list(lg["seq"]) == [1, 2]
    assert list(lg["status"]) == ["已作废", "待回复"] and list(lg["unit_code"]) == [first, first]
    assert log.find(db, first, Q, "city")["number"] != number


def test_settings_set_in_the_app_are_used_and_audited(db, tmp_path, warned):
    changed = config.save(db, {"issuer": "浙江省应急管理厅执法监督处", "prefix": "浙应执函", "start_seq": 40,
                               "note": "联系人：李红，电话：0571-1234567"}, actor="notice-staff")
    assert set(changed) == {"issuer", "prefix", "start_seq", "note"}
    assert config.save(db, {"prefix": "浙应执函"}, actor="notice-staff") == {}   # unchanged: nothing written
    with pytest.raises(N.NoticeError, match="本年起始序号"):
        config.save(db, {"start_seq": 0}, actor="x")
    with pytest.raises(N.NoticeError, match="发文字号前缀"):
        config.save(db, {"prefix": " "}, actor="x")
    code, out, err = cli("--db", str(db), "notices", "--quarter", Q, "--out", str(tmp_path / "o"), "--date", ON,
                         "--unit", warned["code"].iloc[0])
    assert code == 0, err
    d = docx.Document(out.split()[0])
    assert d.paragraphs[0].text == "浙应执函〔2024〕40号"
    text = "\n".join(p.text for p in d.paragraphs)
    assert "浙江省应急管理厅执法监督处" in text and "（联系人：李红，电话：0571-1234567）" in text
    trail = audit.audit_trail(None, db=db, action="notice.settings")
    assert list(trail["who"]) == ["notice-staff"]
    assert "发文字号前缀：“{省简称}应急函” → “浙应执函”" in trail["detail"].iloc[0]
    with store.connect(db) as ops:
        assert ops.execute("SELECT count(*) FROM settings").fetchone()[0] == 4
