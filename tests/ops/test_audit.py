"""The audit trail (ops.audit): who loaded which file (the warehouse's load history) and who
issued, answered and closed which notice and who signed in (the operational store), and when, in
one table; the CLI user is $ENFORCEMENT_USER, else the OS user."""
from __future__ import annotations

import csv
import datetime as dt
import getpass
import io
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from etl import warehouse
from etl.load import load_files
from official import log
from ops import audit, store
from ops.audit import COLUMNS, action_label, audit_trail
from tests.etl import helpers as h

ROOT = Path(__file__).resolve().parents[2]


def trail(db: Path, **kw):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return audit_trail(con, db=db, **kw)
    finally:
        con.close()


def test_loads_and_notices_in_one_trail(db, files, tmp_path):
    good = h.write(files / "名录.csv", "enterprises", [h.enterprise(1), h.enterprise(2, key_unit="也许")])
    junk = files / "junk.csv"
    junk.write_bytes(b"")
    load_files([good, junk], db=db, today=h.TODAY, user="张三", report_dir=tmp_path / "r")
    req = log.NoticeRequest("330100", "杭州市", "city", "2024Q3", score=72.5, rank=11, peers=11)
    [issued] = log.issue(db, [req], prefix="浙应急函", issued_on=dt.date(2024, 10, 15), actor="李四")
    log.mark_reply(db, issued.number, dt.date(2024, 10, 30), actor="王五", note="已整改")
    log.close(db, issued.number, dt.date(2024, 11, 2), actor="李四")

    t = trail(db)
    assert list(t.columns) == COLUMNS
    assert t["when"].is_monotonic_decreasing  # newest first
    got = list(zip(t.who, t.action))
    assert got[:3] == [("李四", "notice.close"), ("王五", "notice.reply"), ("李四", "notice.issue")]
    assert sorted(got[3:]) == [("张三", "load"), ("张三", "load.refused")], t.to_string()
    load = t[t.action == "load"].iloc[0]
    assert "名录.csv → enterprises" in load.detail and "新增 1" in load.detail and "单列 1" in load.detail
    assert load.ref.isdigit()
    refused = t[t.action == "load.refused"].iloc[0]
    assert "junk.csv" in refused.detail and "文件为空" in refused.detail
    issue_row = t[t.action == "notice.issue"].iloc[0]
    assert issue_row.ref == "浙应急函〔2024〕1号" and "杭州市" in issue_row.detail and "2024Q3" in issue_row.detail
    assert "已整改" in t[t.action == "notice.reply"].iloc[0].detail
    assert action_label("notice.issue") == "印发提醒敦促函"

    # filters
    assert set(trail(db, who="李四").action) == {"notice.issue", "notice.close"}
    assert set(trail(db, action="load").action) == {"load", "load.refused"}
    assert len(trail(db, since=dt.date.today() + dt.timedelta(days=1))) == 0
    assert len(trail(db, limit=2)) == 2


def test_a_new_store_has_the_loads_only(db, files, tmp_path):
    load_files([h.write(files / "e.csv", "enterprises", [h.enterprise(1)])], db=db, today=h.TODAY, user="x",
               report_dir=tmp_path / "r")
    assert list(trail(db).action) == ["load"]
    assert list(audit_trail(None, db=db).action) == []   # no warehouse connection: the store's events only


def test_record_touches_no_warehouse_and_shows_at_once(db):
    version = warehouse.version(db)
    audit.record(db, "jinhua", "login", {"via": "password", "ip": "10.0.0.7"})
    audit.record(db, "（未知用户名）", "login.failed", {"via": "password"})
    assert warehouse.version(db) == version            # the warehouse was not rewritten
    t = trail(db)
    assert set(t["action"]) == {"login", "login.failed"} and set(t["who"]) == {"jinhua", "（未知用户名）"}
    login = t[t.action == "login"].iloc[0].detail
    assert "方式 密码" in login and "IP 10.0.0.7" in login
    assert action_label("login.failed") == "登录失败"


def test_concurrent_records_all_arrive(db):
    import threading

    def many(i):
        for j in range(25):
            audit.record(db, f"user{i}", "login.failed", {"n": j, "note": "x" * 300})
    threads = [threading.Thread(target=many, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with store.connect(db) as ops:
        assert ops.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 200


def test_typed_text_is_kept_short_and_printable(db):
    audit.record(db, "x\n" * 100, "login.failed", {"username": "a\x00b\u202e" + "c" * 500})
    with store.connect(db) as ops:
        actor, detail = ops.execute("SELECT actor, detail FROM audit_log").fetchone()
    assert len(actor) <= 100 and "\n" not in actor
    name = __import__("json").loads(detail)["username"]
    assert "\x00" not in name and len(name) <= 200


def _cli(*args, user: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "ENFORCEMENT_USER"}
    if user:
        env["ENFORCEMENT_USER"] = user
    return subprocess.run([sys.executable, "-m", "etl", *args], cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)


def test_cli_user_and_audit_command(db, files):
    e = h.write(files / "e.csv", "enterprises", [h.enterprise(1)])
    i = h.write(files / "=cmd.csv", "inspections", [h.inspection(1)])
    assert _cli("--db", str(db), "load", str(e), user=None).returncode == 0
    assert _cli("--db", str(db), "load", str(i), user="赵六").returncode == 0
    done = _cli("--db", str(db), "audit", user=None)
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == COLUMNS
    assert [(r[1], r[2]) for r in rows[1:]] == [("赵六", "load"), (getpass.getuser(), "load")]
    assert rows[1][3].startswith("'=cmd.csv")  # a file name a spreadsheet would run, made inert
    only = list(csv.reader(io.StringIO(_cli("--db", str(db), "audit", "--who", "赵六", user=None).stdout)))
    assert len(only) == 2
    assert _cli("--db", str(db), "audit", "--since", "someday", user=None).returncode == 2
