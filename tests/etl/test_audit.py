"""The audit trail (etl.audit): who loaded which file and who issued, answered and closed which
notice, and when, in one table; the CLI user is $ENFORCEMENT_USER, else the OS user."""
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

from official import log
from etl.audit import COLUMNS, action_label, audit_trail
from etl.load import load_files
from tests.etl import helpers as h

ROOT = Path(__file__).resolve().parents[2]


def trail(db: Path, **kw):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return audit_trail(con, **kw)
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


def test_a_warehouse_without_an_audit_log_still_has_a_trail(db, files, tmp_path):
    load_files([h.write(files / "e.csv", "enterprises", [h.enterprise(1)])], db=db, today=h.TODAY, user="x",
               report_dir=tmp_path / "r")
    con = duckdb.connect(str(db))
    con.execute("DROP TABLE audit_log")  # as a warehouse built before the notice log existed
    con.close()
    assert list(trail(db).action) == ["load"]


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
