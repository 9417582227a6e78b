"""The audit journal (etl.audit.record / fold / forget): sign-ins and refused access are appended
beside the warehouse without rewriting it, shown in the trail at once, and moved into audit_log by
the next warehouse write — once, even if a write is retried after a crash."""
from __future__ import annotations

import datetime as dt
import os
import threading

import duckdb

from etl import audit, warehouse
from official import log as notice_log


def rows(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT actor, action, detail FROM audit_log ORDER BY happened_at").fetchall()
    finally:
        con.close()


def trail(db, **kw):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return audit.audit_trail(con, db=db, **kw)
    finally:
        con.close()


def test_record_is_cheap_and_visible_at_once_then_folded_by_the_next_write(db):
    version = warehouse.version(db)
    audit.record(db, "jinhua", "login", {"via": "password", "ip": "10.0.0.7"})
    audit.record(db, "（未知用户名）", "login.failed", {"via": "password"})
    assert warehouse.version(db) == version            # the warehouse was not rewritten
    assert rows(db) == []
    assert [e["action"] for e in audit.pending(db)] == ["login", "login.failed"]
    assert os.stat(audit.journal_path(db)).st_mode & 0o777 == 0o600
    t = trail(db)
    assert set(t["action"]) == {"login", "login.failed"} and set(t["who"]) == {"jinhua", "（未知用户名）"}
    assert "方式 密码" in t[t.action == "login"].iloc[0].detail and "10.0.0.7" in t[t.action == "login"].iloc[0].detail
    assert audit.action_label("login.failed") == "登录失败"

    # any write carries them into audit_log (here: a notice), and the journal empties
    req = notice_log.NoticeRequest("330700", "金华市", "city", "2024Q3", score=60.0, rank=11, peers=11)
    notice_log.issue(db, [req], prefix="浙应急函", issued_on=dt.date(2024, 10, 15), actor="notice")
    got = rows(db)
    assert [(a, b) for a, b, _ in got] == [("jinhua", "login"), ("（未知用户名）", "login.failed"),
                                          ("notice", "notice.issue")]
    assert audit.pending(db) == [] and audit.journal_path(db).stat().st_size == 0
    assert len(trail(db)) == 3                          # nothing twice: table and journal together


def test_a_write_retried_after_a_crash_adds_no_event_twice(db):
    audit.record(db, "prov", "login", {"via": "password"})
    data = audit.journal_path(db).read_bytes()
    with warehouse.write(db):
        pass
    # as if the process died between the swap and the journal's truncation
    audit.journal_path(db).write_bytes(data)
    assert len(trail(db)) == 1
    with warehouse.write(db):
        pass
    assert [(a, b) for a, b, _ in rows(db)] == [("prov", "login")]
    assert audit.pending(db) == []


def test_events_recorded_during_a_write_wait_for_the_next(db):
    audit.record(db, "a", "login")
    with warehouse.write(db):
        audit.record(db, "b", "logout")                  # arrives while the write is under way
    assert [a for a, _, _ in rows(db)] in (["a"], ["a", "b"])
    assert {e["actor"] for e in audit.pending(db)} | {a for a, _, _ in rows(db)} == {"a", "b"}
    with warehouse.write(db):
        pass
    assert sorted(a for a, _, _ in rows(db)) == ["a", "b"]


def test_concurrent_appends_are_whole_lines(db):
    def many(i):
        for j in range(25):
            audit.record(db, f"user{i}", "login.failed", {"n": j, "note": "x" * 300})
    threads = [threading.Thread(target=many, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(audit.pending(db)) == 200
    with warehouse.write(db):
        pass
    assert len(rows(db)) == 200


def test_typed_text_is_kept_short_and_printable(db):
    audit.record(db, "x\n" * 100, "login.failed", {"username": "a\x00b\u202e" + "c" * 500})
    [e] = audit.pending(db)
    assert len(e["actor"]) <= 100 and "\n" not in e["actor"]
    assert "\x00" not in e["detail"]["username"] and len(e["detail"]["username"]) <= 200
