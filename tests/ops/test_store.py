"""The operational store beside the warehouse: recording a reply or closing a notice leaves the
warehouse file (bytes, mtime, version) as it was and takes well under 0.5 s; a warehouse left by
the previous release, whose notice log and audit trail were tables inside it (and whose sign-ins
waited in a .audit.jsonl journal), moves over by itself on first use, once."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time

import duckdb

from etl import warehouse
from official import log
from ops import audit, store

ON = dt.date(2024, 10, 15)

# the previous release's tables, as etl/warehouse.py created them inside the warehouse
OLD_DDL = """
CREATE TABLE IF NOT EXISTS notices (
    number VARCHAR PRIMARY KEY, year INTEGER NOT NULL, seq INTEGER NOT NULL, unit_code VARCHAR NOT NULL,
    unit_name VARCHAR NOT NULL, level VARCHAR NOT NULL, quarter VARCHAR NOT NULL, score DOUBLE, rank INTEGER,
    peers INTEGER, issued_on DATE NOT NULL, issued_by VARCHAR NOT NULL, file_name VARCHAR, reply_due DATE,
    reply_received DATE, closed_on DATE, closed_by VARCHAR, note VARCHAR);
CREATE TABLE IF NOT EXISTS audit_log (
    happened_at TIMESTAMP NOT NULL, actor VARCHAR NOT NULL, action VARCHAR NOT NULL, detail VARCHAR);
"""


def digest(p) -> tuple:
    return hashlib.sha256(p.read_bytes()).hexdigest(), os.stat(p).st_mtime_ns, warehouse.version(p)


def test_reply_and_close_leave_the_warehouse_as_it_was_and_are_fast(db):
    (n,) = log.issue(db, [log.NoticeRequest("330700", "金华市", "city", "2024Q3", 60.0, 11, 11)],
                     prefix="浙应急函", issued_on=ON, actor="staff")
    before = digest(db)
    t0 = time.perf_counter()
    log.mark_reply(db, n.number, ON + dt.timedelta(days=10), actor="staff", note="已报整改方案")
    t_reply = time.perf_counter() - t0
    t0 = time.perf_counter()
    log.close(db, n.number, ON + dt.timedelta(days=12), actor="chief")
    t_close = time.perf_counter() - t0
    assert digest(db) == before
    assert t_reply < 0.5 and t_close < 0.5, (t_reply, t_close)
    assert log.notices(db)["status"].tolist() == ["已办结"]


def _old_warehouse(db):
    """A warehouse as the previous release left it: log rows and audit rows inside it, and two
    sign-ins still in its journal (one of them already folded into audit_log)."""
    with warehouse.write(db) as con:
        con.execute(OLD_DDL)
        con.execute("INSERT INTO notices VALUES ('浙应急函〔2024〕1号', 2024, 1, '330700', '金华市', 'city', '2024Q3', "
                    "60.0, 11, 11, DATE '2024-10-15', 'staff', 'a.docx', DATE '2024-10-30', DATE '2024-10-25', "
                    "NULL, NULL, '已报'), ('浙应急函〔2024〕2号', 2024, 2, '330800', '衢州市', 'city', '2024Q3', "
                    "61.0, 10, 11, DATE '2024-10-15', 'staff', 'b.docx', DATE '2024-10-30', NULL, NULL, NULL, NULL)")
        folded = json.dumps({"event": "e1", "via": "password"}, ensure_ascii=False)
        con.execute("INSERT INTO audit_log VALUES (TIMESTAMP '2024-10-15 09:00:00.123456', 'staff', 'notice.issue', "
                    "'{\"number\": \"浙应急函〔2024〕1号\", \"unit\": \"330700\"}'), "
                    "(TIMESTAMP '2024-10-14 08:00:00', 'jinhua', 'login', ?)", [folded])
    journal = db.with_name(db.name + ".audit.jsonl")
    journal.write_text(
        json.dumps({"id": "e1", "when": "2024-10-14T08:00:00", "actor": "jinhua", "action": "login",
                    "detail": {"via": "password"}}) + "\n"
        + json.dumps({"id": "e2", "when": "2024-10-16T10:00:00", "actor": "eve", "action": "login.failed",
                      "detail": {"via": "password"}}, ensure_ascii=False) + "\n", encoding="utf-8")
    return journal


def test_an_old_warehouses_log_and_trail_move_over_on_first_use(db):
    journal = _old_warehouse(db)
    before = digest(db)
    assert not store.path(db).exists()
    lg = log.notices(db)                                 # first use
    assert list(lg["number"]) == ["浙应急函〔2024〕1号", "浙应急函〔2024〕2号"]
    assert list(lg["status"]) == ["已回复", "待回复"] and lg["reply_received"].iloc[0] == dt.date(2024, 10, 25)
    trail = audit.audit_trail(None, db=db)
    assert sorted(zip(trail.who, trail.action)) == [("eve", "login.failed"), ("jinhua", "login"),
                                                    ("staff", "notice.issue")]   # e1 once, not twice
    assert trail[trail.action == "notice.issue"]["ref"].iloc[0] == "浙应急函〔2024〕1号"
    assert digest(db) == before                          # the warehouse is only read
    assert not journal.exists() and journal.with_name(journal.name + ".moved").exists()
    # numbering continues after the moved numbers; a second opening moves nothing again
    (n,) = log.issue(db, [log.NoticeRequest("330900", "舟山市", "city", "2024Q3")], prefix="浙应急函",
                     issued_on=ON, actor="staff")
    assert n.number == "浙应急函〔2024〕3号"
    store._ready.clear()
    assert len(log.notices(db)) == 3 and len(audit.audit_trail(None, db=db)) == 4


def test_a_load_no_longer_carries_the_log(db):
    """The warehouse written after the move holds no notice log of its own: new warehouses have no
    such tables, and the store survives a load swapping a new warehouse file in."""
    log.issue(db, [log.NoticeRequest("330700", "金华市", "city", "2024Q3")], prefix="浙应急函", issued_on=ON,
              actor="staff")
    with warehouse.write(db):
        pass
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    finally:
        con.close()
    assert not {"notices", "audit_log"} & tables
    assert len(log.notices(db)) == 1
