"""The notice log: numbering, re-issue, replies, closing, the audit trail, all-or-nothing writes."""
from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import shutil

import pytest

from etl import warehouse
from official import log
from official.log import NoticeLogError, NoticeRequest
from ops import store

ON = dt.date(2024, 10, 15)
PREFIX = "川应急函"


@pytest.fixture(scope="module")
def _empty(tmp_path_factory):
    p = tmp_path_factory.mktemp("notice-log") / "empty.duckdb"
    warehouse.ensure(p)
    return p


@pytest.fixture
def wh(tmp_path, _empty):
    p = tmp_path / "warehouse.duckdb"
    shutil.copyfile(_empty, p)
    return p


def req(code: str, quarter: str = "2024Q3", level: str = "city", score: float = 70.0, rank: int = 19) -> NoticeRequest:
    return NoticeRequest(code, f"单位{code}", level, quarter, score, rank, 21)


def issue(db, requests, on=ON, **kw):
    kw.setdefault("prefix", PREFIX)
    kw.setdefault("actor", "tester")
    return log.issue(db, requests, issued_on=on, reply_due=lambda d: d + dt.timedelta(days=15), **kw)


def rows(db, sql, params=()):
    """A query on the operational store beside the warehouse (dates are ISO text there)."""
    with store.connect(db) as ops:
        return [tuple(r) for r in ops.execute(sql, list(params)).fetchall()]


def table(db, **kw):
    return log.notices(db, **kw)


def test_numbers_are_consecutive_per_year_and_continue_across_runs(wh):
    first = issue(wh, [req("510100"), req("510300"), req("510400")])
    assert [i.number for i in first] == ["川应急函〔2024〕1号", "川应急函〔2024〕2号", "川应急函〔2024〕3号"]
    assert [i.seq for i in first] == [1, 2, 3] and not any(i.reissued for i in first)
    second = issue(wh, [req("510100", "2024Q4"), req("510500", "2024Q4")], on=dt.date(2024, 12, 30))
    assert [i.seq for i in second] == [4, 5]
    # a new year starts again at 1; the old year's numbers stay taken
    third = issue(wh, [req("510100", "2025Q1")], on=dt.date(2025, 1, 10))
    assert third[0].number == "川应急函〔2025〕1号"
    numbers = [n for (n,) in rows(wh, "SELECT number FROM notices")]
    assert len(numbers) == len(set(numbers)) == 6


def test_reissue_reuses_the_number_and_date_and_takes_no_new_number(wh):
    first = issue(wh, [req("510100"), req("510300")])
    again = issue(wh, [req("510300", score=71.5, rank=18), req("510400")], on=dt.date(2024, 10, 20))
    assert again[0].number == first[1].number and again[0].reissued
    assert again[0].issued_on == ON  # the original 成文日期
    assert again[1].number == "川应急函〔2024〕3号" and not again[1].reissued
    assert rows(wh, "SELECT count(*) FROM notices")[0][0] == 3
    assert rows(wh, "SELECT score, rank FROM notices WHERE unit_code = '510300'") == [(71.5, 18)]
    # the same unit in another quarter or at another level is another notice
    other = issue(wh, [req("510300", "2024Q4"), req("510300", level="county")])
    assert [o.seq for o in other] == [4, 5]


def test_start_number_from_settings(wh):
    assert issue(wh, [req("510100")], start_seq=41)[0].seq == 41
    assert issue(wh, [req("510300")], start_seq=1)[0].seq == 42  # never below what is logged


def test_a_failed_render_logs_nothing_and_uses_no_number(wh):
    def boom(request, issued):
        if request.unit_code == "510300":
            raise RuntimeError("disk full")
        return f"{issued.number}.docx"

    with pytest.raises(RuntimeError):
        issue(wh, [req("510100"), req("510300")], render=boom)
    assert rows(wh, "SELECT count(*) FROM notices")[0][0] == 0
    ok = issue(wh, [req("510100")], render=lambda r, i: f"{i.number}.docx")
    assert ok[0].seq == 1 and ok[0].file_name == "川应急函〔2024〕1号.docx"
    assert rows(wh, "SELECT file_name, reply_due, issued_by FROM notices") == [
        ("川应急函〔2024〕1号.docx", "2024-10-30", "tester")]


def test_refuses_bad_requests(wh):
    with pytest.raises(NoticeLogError, match="两次"):
        issue(wh, [req("510100"), req("510100")])
    with pytest.raises(NoticeLogError, match="层级"):
        issue(wh, [req("510100", level="town")])


def test_reply_close_and_status(wh):
    n1, n2, n3 = (i.number for i in issue(wh, [req("510100"), req("510300"), req("510400")]))
    log.mark_reply(wh, n1, dt.date(2024, 10, 25), actor="staff")
    log.close(wh, n1, dt.date(2024, 11, 1), actor="staff")
    log.mark_reply(wh, n2, dt.date(2024, 10, 28), actor="staff", note="整改方案已报")
    status = table(wh).set_index("number")["status"].to_dict()
    assert status == {n1: "已办结", n2: "已回复", n3: "待回复"}
    assert list(table(wh, open_only=True)["number"]) == [n2, n3]
    assert list(table(wh, quarter="2024Q4")["number"]) == []
    got = rows(wh, "SELECT reply_received, closed_on, closed_by, note FROM notices WHERE number = ?", [n2])
    assert got == [("2024-10-28", None, None, "整改方案已报")]


def test_reply_and_close_are_checked(wh):
    (n,) = (i.number for i in issue(wh, [req("510100")]))
    with pytest.raises(NoticeLogError, match="没有文号"):
        log.mark_reply(wh, "川应急函〔2024〕99号", ON)
    with pytest.raises(NoticeLogError, match="不能早于成文日期"):
        log.mark_reply(wh, n, ON - dt.timedelta(days=1))
    with pytest.raises(NoticeLogError, match="尚未登记书面回复"):
        log.close(wh, n, ON)
    log.close(wh, n, ON + dt.timedelta(days=40), note="单位已撤并，无需回复")
    with pytest.raises(NoticeLogError, match="已于 .* 办结"):
        log.close(wh, n, ON + dt.timedelta(days=41), note="again")
    with pytest.raises(NoticeLogError, match="撤销办结"):
        log.mark_reply(wh, n, ON + dt.timedelta(days=5))
    log.reopen(wh, n, actor="staff", note="误点")
    assert table(wh)["status"].tolist() == ["待回复"]


def test_every_change_leaves_an_audit_row(wh):
    (n,) = (i.number for i in issue(wh, [req("510100")]))
    issue(wh, [req("510100", score=72.0)])
    log.mark_reply(wh, n, dt.date(2024, 10, 20), actor="staff")
    log.close(wh, n, dt.date(2024, 10, 21), actor="chief")
    audit = rows(wh, "SELECT actor, action, detail FROM audit_log ORDER BY happened_at, action")
    actions = [a for _, a, _ in audit]
    assert sorted(actions) == sorted(["notice.issue", "notice.reissue", "notice.reply", "notice.close"])
    details = {a: json.loads(d) for _, a, d in audit}
    assert details["notice.issue"]["number"] == n and details["notice.issue"]["unit"] == "510100"
    assert details["notice.reissue"]["changed"] == {"score": [70.0, 72.0]}
    assert {a: who for who, a, _ in audit}["notice.close"] == "chief"


def _issue_in_process(db, codes, out):
    res = log.issue(db, [req(c) for c in codes], prefix=PREFIX, issued_on=ON, actor="p")
    out.put([i.seq for i in res])


def test_two_processes_never_share_a_number(wh):
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_issue_in_process, args=(str(wh), codes, out))
             for codes in (["510100", "510300", "510400"], ["510500", "510600", "510700"])]
    for p in procs:
        p.start()
    seqs = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert sorted(s for run in seqs for s in run) == [1, 2, 3, 4, 5, 6]
    assert all(run == sorted(run) and run[-1] - run[0] == 2 for run in seqs)  # each run's numbers are consecutive
    assert rows(wh, "SELECT count(DISTINCT number) FROM notices")[0][0] == 6


def test_a_fresh_store_reads_as_empty(tmp_path):
    p = tmp_path / "new.duckdb"   # no warehouse yet: the store beside it starts empty
    assert log.notices(p).empty and log.find(p, "510100", "2024Q3", "city") is None
    assert store.path(p) == tmp_path / "new.duckdb.ops.sqlite" and store.path(p).exists()


def test_version_follows_issue_and_void_not_replies(wh):
    v0 = log.version(wh)
    (n,) = issue(wh, [req("510100")])
    v1 = log.version(wh)
    log.mark_reply(wh, n.number, ON + dt.timedelta(days=3), actor="staff")
    assert v0 != v1 == log.version(wh)          # a reply changes no number the bulletin shows
    log.void(wh, n.number, "发错单位", actor="staff")
    assert log.version(wh) != v1
