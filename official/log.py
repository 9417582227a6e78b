"""The notice log: the quarterly warning notices (提醒敦促函) issued, their numbers, and what became
of them (reply received, closed, voided).

It lives in the operational store beside the warehouse (ops.store), never in the warehouse:
recording a reply or closing a notice is one small SQLite transaction that leaves the warehouse
file and every cached figure as they were. Every change leaves one audit_log row in the same
transaction (ops.audit.write).

Numbering: inside the store's write lock (BEGIN IMMEDIATE), the next N of 〔year〕N号 is one more
than the largest N the log holds for that year — voided numbers included — or the settings'
starting number, so two runs, two processes or two browser sessions never hand out the same
number, and a number once logged is never reused. Issuing a notice again for the same unit,
level and quarter reuses its logged number and issue date (the same document, regenerated),
unless that number was voided: then the unit gets a new number.

Functions take ``db``, the warehouse's path (None: $ENFORCEMENT_DB or data/warehouse.duckdb);
the store is found beside it.
"""
from __future__ import annotations

import datetime as dt
import getpass
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

import pandas as pd

from ops import audit, store

LEVELS = ("city", "county")
STATUSES = ("待回复", "已回复", "已办结", "已作废")


class NoticeLogError(ValueError):
    """A change to the notice log was refused (unknown number, wrong order of dates, ...)."""


@dataclass(frozen=True)
class NoticeRequest:
    """One warned unit's notice as metrics computed it."""
    unit_code: str
    unit_name: str
    level: str          # city | county
    quarter: str        # 2025Q3
    score: float | None = None
    rank: int | None = None
    peers: int | None = None


@dataclass(frozen=True)
class Issued:
    """A notice as logged: its number and dates (``reissued`` when the number was already logged)."""
    number: str
    year: int
    seq: int
    unit_code: str
    unit_name: str
    level: str
    quarter: str
    issued_on: dt.date
    reply_due: dt.date | None
    reissued: bool
    file_name: str | None = None
    file_path: str | None = None


def current_user() -> str:
    try:
        return os.environ.get("ENFORCEMENT_USER") or getpass.getuser()
    except Exception:
        return "unknown"


def format_number(prefix: str, year: int, seq: int) -> str:
    """川应急函, 2025, 3 → 川应急函〔2025〕3号 (GB/T 9704: 六角括号, no leading zeros)."""
    return f"{prefix}〔{year}〕{seq}号"


NOTICE_COLUMNS = ["number", "year", "seq", "unit_code", "unit_name", "level", "quarter", "score", "rank", "peers",
                  "issued_on", "issued_by", "file_name", "file_path", "reply_due", "reply_received", "closed_on",
                  "closed_by", "note", "voided_on", "voided_by", "void_reason"]
DATES = ("issued_on", "reply_due", "reply_received", "closed_on", "voided_on")


def _date(v) -> dt.date | None:
    return None if v is None else dt.date.fromisoformat(str(v)[:10])


def _row(r) -> dict:
    d = dict(r)
    for k in DATES:
        d[k] = _date(d.get(k))
    return d


# --- reading ------------------------------------------------------------------------------------
def next_seq(ops, year: int, start: int = 1) -> int:
    """The next free N for ``year``: one past the largest logged (voided too), never below ``start``."""
    top = ops.execute("SELECT max(seq) FROM notices WHERE year = ?", [year]).fetchone()[0]
    return max(int(start), (top or 0) + 1)


def _find(ops, unit_code: str, quarter: str, level: str) -> dict | None:
    r = ops.execute("SELECT * FROM notices WHERE unit_code = ? AND quarter = ? AND level = ? AND voided_on IS NULL "
                    "ORDER BY year, seq LIMIT 1", [unit_code, quarter, level]).fetchone()
    return None if r is None else _row(r)


def find(db, unit_code: str, quarter: str, level: str) -> dict | None:
    """The notice in force for a unit and quarter (one per unit, level and quarter), or None."""
    with store.connect(db) as ops:
        return _find(ops, unit_code, quarter, level)


def notices(db=None, *, quarter: str | None = None, level: str | None = None, year: int | None = None,
            open_only: bool = False, voided: bool = True) -> pd.DataFrame:
    """The log as a table, oldest number first, with a ``status`` column: 待回复 / 已回复 / 已办结 /
    已作废 (voided rows stay, with voided_on, voided_by and void_reason). Dates as datetime.date."""
    where, params = [], []
    if quarter is not None:
        where.append("quarter = ?")
        params.append(str(quarter))
    if level is not None:
        where.append("level = ?")
        params.append(level)
    if year is not None:
        where.append("year = ?")
        params.append(int(year))
    if open_only:
        where.append("closed_on IS NULL AND voided_on IS NULL")
    if not voided:
        where.append("voided_on IS NULL")
    sql = (f"SELECT {', '.join(NOTICE_COLUMNS)}, CASE WHEN voided_on IS NOT NULL THEN '已作废' "
           "WHEN closed_on IS NOT NULL THEN '已办结' WHEN reply_received IS NOT NULL THEN '已回复' "
           "ELSE '待回复' END AS status FROM notices")
    if where:
        sql += " WHERE " + " AND ".join(where)
    with store.connect(db) as ops:
        rows = [_row(r) for r in ops.execute(sql + " ORDER BY year, seq", params).fetchall()]
    df = pd.DataFrame(rows, columns=[*NOTICE_COLUMNS, "status"])
    for k in ("score",):
        df[k] = df[k].astype("Float64")
    for k in ("year", "seq", "rank", "peers"):
        df[k] = df[k].astype("Int64")
    return df


def version(db=None) -> tuple:
    """Changes whenever a notice is issued, re-issued under another number or voided: for caches of
    what names the numbers (the bulletin)."""
    with store.connect(db) as ops:
        return tuple(ops.execute("SELECT count(*), max(seq), max(year), count(voided_on) FROM notices").fetchone())


# --- writing ------------------------------------------------------------------------------------
def issue(
    db,
    requests: Iterable[NoticeRequest],
    *,
    prefix: str,
    issued_on: dt.date,
    reply_due: dt.date | Callable[[dt.date], dt.date] | None = None,
    actor: str | None = None,
    start_seq: int = 1,
    render: Callable[[NoticeRequest, Issued], str | tuple[str, str] | None] | None = None,
) -> list[Issued]:
    """Number and log the notices, all or nothing; returns them in the order given.

    A unit already logged for the quarter (same level, not voided) keeps its number and issue
    date; the others get consecutive new numbers for ``issued_on.year``. ``reply_due`` is a date
    or a function of the issue date. ``render(request, issued)`` is called inside the transaction
    for each notice and returns the file name written (or (name, path)): if it raises, nothing
    is logged and no number is consumed.
    """
    actor = actor or current_user()
    requests = list(requests)
    for r in requests:
        if r.level not in LEVELS:
            raise NoticeLogError(f"层级应为 city 或 county，而不是 {r.level!r}")
    keys = [(r.unit_code, r.quarter, r.level) for r in requests]
    if len(set(keys)) != len(keys):
        raise NoticeLogError("同一单位在同一季度出现了两次")
    out: list[Issued] = []
    with store.transaction(db) as ops:
        seq = next_seq(ops, issued_on.year, start_seq)
        for r in requests:
            old = _find(ops, r.unit_code, r.quarter, r.level)
            if old is not None:
                issued = Issued(old["number"], old["year"], old["seq"], r.unit_code, r.unit_name, r.level,
                                r.quarter, old["issued_on"], old["reply_due"], True)
            else:
                on = issued_on
                due = reply_due(on) if callable(reply_due) else reply_due
                issued = Issued(format_number(prefix, on.year, seq), on.year, seq, r.unit_code, r.unit_name,
                                r.level, r.quarter, on, due, False)
                seq += 1
            got = render(r, issued) if render else None
            file_name, file_path = got if isinstance(got, tuple) else (got, None)
            issued = Issued(**{**asdict(issued), "file_name": file_name, "file_path": file_path})
            if issued.reissued:
                ops.execute("UPDATE notices SET unit_name = ?, score = ?, rank = ?, peers = ?, file_name = ?, "
                            "file_path = coalesce(?, file_path) WHERE number = ?",
                            [r.unit_name, r.score, r.rank, r.peers, file_name, file_path, issued.number])
                changed = {k: [old[k], getattr(r, k)] for k in ("score", "rank", "peers")
                           if old[k] != getattr(r, k)}
                audit.write(ops, actor, "notice.reissue",
                            {"number": issued.number, "unit": r.unit_code, "quarter": r.quarter, "changed": changed})
            else:
                if ops.execute("SELECT count(*) FROM notices WHERE number = ?", [issued.number]).fetchone()[0]:
                    raise NoticeLogError(f"文号 {issued.number} 已被登记簿中另一份函件占用："
                                         "发文字号前缀或起始序号是否改过？")
                ops.execute(
                    "INSERT INTO notices (number, year, seq, unit_code, unit_name, level, quarter, score, rank, "
                    "peers, issued_on, issued_by, file_name, file_path, reply_due) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [issued.number, issued.year, issued.seq, r.unit_code, r.unit_name, r.level, r.quarter,
                     r.score, r.rank, r.peers, issued.issued_on.isoformat(), actor, file_name, file_path,
                     issued.reply_due.isoformat() if issued.reply_due else None])
                audit.write(ops, actor, "notice.issue",
                            {"number": issued.number, "unit": r.unit_code, "name": r.unit_name, "quarter": r.quarter,
                             "score": r.score, "rank": r.rank})
            out.append(issued)
    return out


def _get(ops, number: str) -> dict:
    r = ops.execute("SELECT * FROM notices WHERE number = ?", [number]).fetchone()
    if r is None:
        raise NoticeLogError(f"登记簿中没有文号为 {number} 的函件")
    return _row(r)


def _not_voided(n: dict) -> None:
    if n["voided_on"] is not None:
        raise NoticeLogError(f"{n['number']} 已于 {n['voided_on']} 作废（{n['void_reason']}），不能再登记")


def mark_reply(db, number: str, received_on: dt.date, *, actor: str | None = None, note: str | None = None) -> None:
    """Record that the unit's written reply arrived on ``received_on``."""
    actor = actor or current_user()
    with store.transaction(db) as ops:
        n = _get(ops, number)
        _not_voided(n)
        if n["closed_on"] is not None:
            raise NoticeLogError(f"{number} 已于 {n['closed_on']} 办结：请先撤销办结再修改回复")
        if received_on < n["issued_on"]:
            raise NoticeLogError(f"收到回复的日期（{received_on}）不能早于成文日期（{n['issued_on']}）")
        ops.execute("UPDATE notices SET reply_received = ?, note = coalesce(?, note) WHERE number = ?",
                    [received_on.isoformat(), note, number])
        audit.write(ops, actor, "notice.reply", {"number": number, "received_on": received_on,
                                                 "previous": n["reply_received"], "note": note})


def close(db, number: str, closed_on: dt.date, *, actor: str | None = None, note: str | None = None) -> None:
    """Close a notice. Without a written reply on record, a note must say why it is closed anyway."""
    actor = actor or current_user()
    with store.transaction(db) as ops:
        n = _get(ops, number)
        _not_voided(n)
        if n["closed_on"] is not None:
            raise NoticeLogError(f"{number} 已于 {n['closed_on']} 办结")
        if n["reply_received"] is None and not (note and note.strip()):
            raise NoticeLogError(f"{number} 尚未登记书面回复：请先登记回复，或在备注中写明未回复而办结的原因")
        if closed_on < (n["reply_received"] or n["issued_on"]):
            raise NoticeLogError(f"{number} 的办结日期 {closed_on} 不能早于成文日期或收到回复的日期")
        ops.execute("UPDATE notices SET closed_on = ?, closed_by = ?, note = coalesce(?, note) WHERE number = ?",
                    [closed_on.isoformat(), actor, note, number])
        audit.write(ops, actor, "notice.close", {"number": number, "closed_on": closed_on, "note": note})


def reopen(db, number: str, *, actor: str | None = None, note: str | None = None) -> None:
    """Undo a close (a mistaken click); the audit log keeps both."""
    actor = actor or current_user()
    with store.transaction(db) as ops:
        n = _get(ops, number)
        _not_voided(n)
        if n["closed_on"] is None:
            raise NoticeLogError(f"{number} 尚未办结")
        ops.execute("UPDATE notices SET closed_on = NULL, closed_by = NULL WHERE number = ?", [number])
        audit.write(ops, actor, "notice.reopen", {"number": number, "was_closed_on": n["closed_on"], "note": note})


def void(db, number: str, reason: str, *, actor: str | None = None, on: dt.date | None = None) -> dict:
    """Withdraw an issued number (作废): it stays in the log marked 已作废 with the reason, is never
    handed out again, and the unit's notice for that quarter may be issued anew under a new
    number. Returns the voided row."""
    actor = actor or current_user()
    reason = (reason or "").strip()
    if not reason:
        raise NoticeLogError("作废文号须写明原因（--reason）")
    on = on or dt.date.today()
    with store.transaction(db) as ops:
        n = _get(ops, number)
        if n["voided_on"] is not None:
            raise NoticeLogError(f"{number} 已于 {n['voided_on']} 作废（{n['void_reason']}）")
        ops.execute("UPDATE notices SET voided_on = ?, voided_by = ?, void_reason = ? WHERE number = ?",
                    [on.isoformat(), actor, reason, number])
        audit.write(ops, actor, "notice.void", {"number": number, "unit": n["unit_code"], "quarter": n["quarter"],
                                                "reason": reason})
        return _row(ops.execute("SELECT * FROM notices WHERE number = ?", [number]).fetchone())


# --- the next quarter --------------------------------------------------------------------------------
def follow_up(con, quarter, level: str = "city", province: str | None = None, scheme=None,
              db=None) -> pd.DataFrame:
    """metrics.warned.follow_up (``con``: the warehouse) with each unit's notice in force from the
    log (``db``: the warehouse's path): number and status (待回复 …)."""
    from metrics.periods import Period
    from metrics.warned import follow_up as warned_follow_up

    period = Period.parse(quarter)
    out = warned_follow_up(con, period, level, province, scheme)
    return with_log(out, db, str(period), level)


def with_log(follow: pd.DataFrame, db, quarter: str, level: str) -> pd.DataFrame:
    """A follow-up frame with the number and status of each unit's notice in force."""
    log = notices(db, quarter=quarter, level=level, voided=False)[["unit_code", "number", "status"]]
    out = follow.merge(log.rename(columns={"unit_code": "code"}), on="code", how="left")
    cols = ["code", "name", "number", "status", "score", "rank", "peers", "next_score", "next_rank", "change",
            "next_warned", "left_list", "improved"]
    return out[cols]
