"""The notice log (official.log): the quarterly warning notices (提醒敦促函) issued, their numbers, and what became of them.

Every change goes through ``etl.warehouse.write`` (a private copy swapped in atomically, writers
queued on a lock) and leaves one ``audit_log`` row. Numbering is the warehouse's: inside the write
lock, the next N of 〔year〕N号 is one more than the largest N the log holds for that year (or the
settings' starting number), so two runs, two processes or two browser sessions never hand out the
same number, and a number once logged is never reused. Issuing a notice again for the same unit,
level and quarter reuses its logged number and issue date (it is the same document, regenerated).

Reading needs only a connection: ``notices(con, ...)`` and ``find(con, ...)``.
"""
from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

import duckdb
import pandas as pd

from etl import warehouse

LEVELS = ("city", "county")


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


def current_user() -> str:
    try:
        return os.environ.get("ENFORCEMENT_USER") or getpass.getuser()
    except Exception:
        return "unknown"


def format_number(prefix: str, year: int, seq: int) -> str:
    """川应急函, 2025, 3 → 川应急函〔2025〕3号 (GB/T 9704: 六角括号, no leading zeros)."""
    return f"{prefix}〔{year}〕{seq}号"


# --- reading ------------------------------------------------------------------------------------
def next_seq(con: duckdb.DuckDBPyConnection, year: int, start: int = 1) -> int:
    """The next free N for ``year``: one past the largest logged, and never below ``start``."""
    top = con.execute("SELECT max(seq) FROM notices WHERE year = ?", [year]).fetchone()[0]
    return max(int(start), (top or 0) + 1)


NOTICE_COLUMNS = ["number", "year", "seq", "unit_code", "unit_name", "level", "quarter", "score", "rank", "peers",
                  "issued_on", "issued_by", "file_name", "reply_due", "reply_received", "closed_on", "closed_by",
                  "note"]


def has_log(con: duckdb.DuckDBPyConnection) -> bool:
    """False for a warehouse built before the notice log existed (its next write adds the table)."""
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'notices'").fetchone()[0])


def find(con: duckdb.DuckDBPyConnection, unit_code: str, quarter: str, level: str) -> dict | None:
    """The logged notice of a unit for a quarter (one per unit, level and quarter), or None."""
    if not has_log(con):
        return None
    cur = con.execute(
        "SELECT * FROM notices WHERE unit_code = ? AND quarter = ? AND level = ? ORDER BY year, seq LIMIT 1",
        [unit_code, quarter, level])
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description], row))


def notices(con: duckdb.DuckDBPyConnection, *, quarter: str | None = None, level: str | None = None,
            year: int | None = None, open_only: bool = False) -> pd.DataFrame:
    """The log as a table, oldest number first, with a ``status`` column: 待回复 / 已回复 / 已办结."""
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
        where.append("closed_on IS NULL")
    if not has_log(con):
        return pd.DataFrame(columns=[*NOTICE_COLUMNS, "status"])
    sql = ("SELECT *, CASE WHEN closed_on IS NOT NULL THEN '已办结' WHEN reply_received IS NOT NULL THEN '已回复' "
           "ELSE '待回复' END AS status FROM notices")
    if where:
        sql += " WHERE " + " AND ".join(where)
    return con.execute(sql + " ORDER BY year, seq", params).df()


# --- writing ------------------------------------------------------------------------------------
def _audit(con, actor: str, action: str, detail: dict) -> None:
    con.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?)",
                [dt.datetime.now(), actor, action,  # full precision: etl.audit orders loads and notices together
                 json.dumps(detail, ensure_ascii=False, default=str)])


def issue(
    db: str | os.PathLike | None,
    requests: Iterable[NoticeRequest],
    *,
    prefix: str,
    issued_on: dt.date,
    reply_due: dt.date | Callable[[dt.date], dt.date] | None = None,
    actor: str | None = None,
    start_seq: int = 1,
    render: Callable[[NoticeRequest, Issued], str | None] | None = None,
) -> list[Issued]:
    """Number and log the notices, all or nothing; returns them in the order given.

    A unit already logged for the quarter (same level) keeps its number and issue date; the
    others get consecutive new numbers for ``issued_on.year``. ``reply_due`` is a date or a
    function of the issue date. ``render(request, issued)`` is called inside the transaction
    for each notice and returns the file name written: if it raises, nothing is logged and no
    number is consumed.
    """
    actor = actor or current_user()
    requests = list(requests)
    for r in requests:
        if r.level not in LEVELS:
            raise NoticeLogError(f"level should be city or county, not {r.level!r}")
    keys = [(r.unit_code, r.quarter, r.level) for r in requests]
    if len(set(keys)) != len(keys):
        raise NoticeLogError("the same unit appears twice for one quarter")
    out: list[Issued] = []
    with warehouse.write(db) as con:
        seq = next_seq(con, issued_on.year, start_seq)
        for r in requests:
            old = find(con, r.unit_code, r.quarter, r.level)
            if old is not None:
                issued = Issued(old["number"], old["year"], old["seq"], r.unit_code, r.unit_name, r.level,
                                r.quarter, old["issued_on"], old["reply_due"], True)
            else:
                on = issued_on
                due = reply_due(on) if callable(reply_due) else reply_due
                issued = Issued(format_number(prefix, on.year, seq), on.year, seq, r.unit_code, r.unit_name,
                                r.level, r.quarter, on, due, False)
                seq += 1
            file_name = render(r, issued) if render else None
            issued = Issued(**{**asdict(issued), "file_name": file_name})
            if issued.reissued:
                con.execute("UPDATE notices SET unit_name = ?, score = ?, rank = ?, peers = ?, file_name = ? "
                            "WHERE number = ?",
                            [r.unit_name, r.score, r.rank, r.peers, file_name, issued.number])
                changed = {k: [old[k], getattr(r, k)] for k in ("score", "rank", "peers")
                           if old[k] != getattr(r, k)}
                _audit(con, actor, "notice.reissue",
                       {"number": issued.number, "unit": r.unit_code, "quarter": r.quarter, "changed": changed})
            else:
                if con.execute("SELECT count(*) FROM notices WHERE number = ?", [issued.number]).fetchone()[0]:
                    raise NoticeLogError(f"{issued.number} is already logged for another notice: "
                                         "has the document-number prefix or the starting number changed?")
                con.execute(
                    "INSERT INTO notices (number, year, seq, unit_code, unit_name, level, quarter, score, rank, "
                    "peers, issued_on, issued_by, file_name, reply_due) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [issued.number, issued.year, issued.seq, r.unit_code, r.unit_name, r.level, r.quarter,
                     r.score, r.rank, r.peers, issued.issued_on, actor, file_name, issued.reply_due])
                _audit(con, actor, "notice.issue",
                       {"number": issued.number, "unit": r.unit_code, "name": r.unit_name, "quarter": r.quarter,
                        "score": r.score, "rank": r.rank})
            out.append(issued)
    return out


def _get(con, number: str) -> dict:
    cur = con.execute("SELECT * FROM notices WHERE number = ?", [number])
    row = cur.fetchone()
    if row is None:
        raise NoticeLogError(f"no notice numbered {number!r} in the log")
    return dict(zip([d[0] for d in cur.description], row))


def mark_reply(db: str | os.PathLike | None, number: str, received_on: dt.date, *,
               actor: str | None = None, note: str | None = None) -> None:
    """Record that the unit's written reply arrived on ``received_on``."""
    actor = actor or current_user()
    with warehouse.write(db) as con:
        n = _get(con, number)
        if n["closed_on"] is not None:
            raise NoticeLogError(f"{number} was closed on {n['closed_on']}: reopen it before changing the reply")
        if received_on < n["issued_on"]:
            raise NoticeLogError(f"the reply ({received_on}) cannot arrive before the notice was issued "
                                 f"({n['issued_on']})")
        con.execute("UPDATE notices SET reply_received = ?, note = coalesce(?, note) WHERE number = ?",
                    [received_on, note, number])
        _audit(con, actor, "notice.reply", {"number": number, "received_on": received_on,
                                             "previous": n["reply_received"], "note": note})


def close(db: str | os.PathLike | None, number: str, closed_on: dt.date, *,
          actor: str | None = None, note: str | None = None) -> None:
    """Close a notice. Without a written reply on record, a note must say why it is closed anyway."""
    actor = actor or current_user()
    with warehouse.write(db) as con:
        n = _get(con, number)
        if n["closed_on"] is not None:
            raise NoticeLogError(f"{number} is already closed (on {n['closed_on']})")
        if n["reply_received"] is None and not (note and note.strip()):
            raise NoticeLogError(f"{number} has no written reply on record: record the reply first, "
                                 "or give a note saying why it is closed without one")
        if closed_on < (n["reply_received"] or n["issued_on"]):
            raise NoticeLogError(f"{number} cannot be closed on {closed_on}, before it was issued or replied to")
        con.execute("UPDATE notices SET closed_on = ?, closed_by = ?, note = coalesce(?, note) WHERE number = ?",
                    [closed_on, actor, note, number])
        _audit(con, actor, "notice.close", {"number": number, "closed_on": closed_on, "note": note})


def reopen(db: str | os.PathLike | None, number: str, *, actor: str | None = None, note: str | None = None) -> None:
    """Undo a close (a mistaken click); the audit log keeps both."""
    actor = actor or current_user()
    with warehouse.write(db) as con:
        n = _get(con, number)
        if n["closed_on"] is None:
            raise NoticeLogError(f"{number} is not closed")
        con.execute("UPDATE notices SET closed_on = NULL, closed_by = NULL WHERE number = ?", [number])
        _audit(con, actor, "notice.reopen", {"number": number, "was_closed_on": n["closed_on"], "note": note})


def follow_up(con: duckdb.DuckDBPyConnection, quarter, level: str = "city", province: str | None = None,
              scheme=None) -> pd.DataFrame:
    """metrics.warned.follow_up with each unit's logged notice: number and status (待回复 …)."""
    from metrics.periods import Period
    from metrics.warned import follow_up as warned_follow_up

    period = Period.parse(quarter)
    out = warned_follow_up(con, period, level, province, scheme)
    log = notices(con, quarter=str(period), level=level)[["unit_code", "number", "status"]]
    out = out.merge(log.rename(columns={"unit_code": "code"}), on="code", how="left")
    cols = ["code", "name", "number", "status", "score", "rank", "peers", "next_score", "next_rank", "change",
            "next_warned", "left_list", "improved"]
    return out[cols]
