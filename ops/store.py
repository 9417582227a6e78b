"""The operational store: what the app and the command line record while they work — the notice
log, replies, voided numbers, the notice settings set in the app, the audit trail and the
sign-in journal and lockouts — in a small SQLite file beside the warehouse
(``data/warehouse.duckdb.ops.sqlite``), never in the warehouse itself.

Why a second file: the warehouse is rewritten whole on every write (a private copy swapped in,
etl.warehouse.write) and every cached figure is keyed on its version. Recording a reply there
copied the whole warehouse and emptied every user's caches. Here a change is one small SQLite
transaction (WAL journal, so readers never wait for a writer); the warehouse file, its version
and every cache stay as they were.

Its own lock: SQLite's. ``transaction(db)`` starts with BEGIN IMMEDIATE, so writers queue (up to
``BUSY_MS``) and each sees what the previous one committed — numbering is race-free across
processes. Stdlib only (sqlite3).

An existing warehouse's notice log and audit trail (tables ``notices`` and ``audit_log``, and
the old sign-in journal ``<warehouse>.audit.jsonl``) move over by themselves the first time the
store is opened; the warehouse keeps its old tables untouched (they are no longer read).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

SUFFIX = ".ops.sqlite"
BUSY_MS = 30_000
SCHEMA_VERSION = "1"

SCHEMA = """
CREATE TABLE IF NOT EXISTS notices (
    number         TEXT PRIMARY KEY,      -- 川应急函〔2025〕3号
    year           INTEGER NOT NULL,
    seq            INTEGER NOT NULL,      -- N in 〔year〕N号, never reused, voided or not
    unit_code      TEXT NOT NULL,
    unit_name      TEXT NOT NULL,
    level          TEXT NOT NULL,         -- city | county
    quarter        TEXT NOT NULL,         -- 2025Q3
    score          REAL,
    rank           INTEGER,
    peers          INTEGER,
    issued_on      TEXT NOT NULL,         -- ISO dates throughout
    issued_by      TEXT NOT NULL,
    file_name      TEXT,
    file_path      TEXT,                  -- where the issued .docx is kept (data/notices/…)
    reply_due      TEXT,
    reply_received TEXT,
    closed_on      TEXT,
    closed_by      TEXT,
    note           TEXT,
    voided_on      TEXT,
    voided_by      TEXT,
    void_reason    TEXT
);
CREATE INDEX IF NOT EXISTS notices_unit ON notices (unit_code, quarter, level);
CREATE TABLE IF NOT EXISTS audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    happened_at TEXT NOT NULL,            -- ISO timestamp, microseconds
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    detail      TEXT                      -- JSON
);
CREATE INDEX IF NOT EXISTS audit_when ON audit_log (happened_at);
CREATE TABLE IF NOT EXISTS settings (     -- notice settings set in the app (official.config)
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,             -- JSON
    changed_at TEXT NOT NULL,
    changed_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS login_names (  -- failed sign-ins and lockouts per user name (ops.lockout)
    name       TEXT PRIMARY KEY,
    failures   TEXT NOT NULL DEFAULT '[]',-- JSON list of epoch seconds within the window
    locked_until REAL NOT NULL DEFAULT 0,
    locked_from TEXT,                     -- the client address whose failures locked it
    refused    INTEGER NOT NULL DEFAULT 0,-- attempts refused while locked (counted, not journaled)
    first_refused REAL,
    last_refused REAL
);
CREATE TABLE IF NOT EXISTS login_clients (-- failed sign-ins per client address (ops.lockout)
    address    TEXT PRIMARY KEY,
    failures   TEXT NOT NULL DEFAULT '[]',
    blocked_until REAL NOT NULL DEFAULT 0,
    refused    INTEGER NOT NULL DEFAULT 0,
    first_refused REAL,
    last_refused REAL
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT
);
"""


def path(db: str | os.PathLike | None = None) -> Path:
    """The store beside the warehouse: <warehouse>.ops.sqlite."""
    from etl import warehouse

    p = warehouse.db_path(db)
    return p.with_name(p.name + SUFFIX)


def _open(p: Path) -> sqlite3.Connection:
    p.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(p, timeout=BUSY_MS / 1000, isolation_level=None, check_same_thread=False)
    con.row_factory = sqlite3.Row
    con.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
    if con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = FULL")  # each commit fsynced: a number handed out is never lost and reused
    return con


_ready: set[tuple[str, int]] = set()   # stores already set up and migrated in this process
_local = threading.local()              # one open connection per thread and store: closing the last
                                        # connection to a WAL file checkpoints it (≈15 ms a time)


@contextlib.contextmanager
def connect(db: str | os.PathLike | None = None) -> Iterator[sqlite3.Connection]:
    """A connection to the store (created, and the warehouse's old log moved over, on first use),
    kept open for this thread."""
    p = path(db)
    cons = getattr(_local, "cons", None)
    if cons is None:
        cons = _local.cons = {}
    try:
        ino = os.stat(p).st_ino
    except FileNotFoundError:
        ino = None
    cached = cons.get(str(p))
    if cached is None or cached[1] != ino or ino is None:
        if cached is not None:
            with contextlib.suppress(sqlite3.Error):
                cached[0].close()
        con = _open(p)
        ino = os.stat(p).st_ino
        cons[str(p)] = (con, ino)
    else:
        con = cached[0]
    key = (str(p), ino)
    if key not in _ready:
        _setup(con, db)
        _ready.add(key)
    yield con


@contextlib.contextmanager
def transaction(db: str | os.PathLike | None = None, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
    """All or nothing, writers one at a time (BEGIN IMMEDIATE takes SQLite's write lock).
    ``durable=False`` skips the fsync at commit (sign-in counters: losing the last few to a power
    cut costs nothing; the file is never corrupted)."""
    with connect(db) as con:
        if not durable:
            con.execute("PRAGMA synchronous = NORMAL")
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            try:
                con.execute("COMMIT")
            except BaseException:   # SQLite may keep the transaction (busy, I/O): never leave it holding the lock
                with contextlib.suppress(sqlite3.Error):
                    con.execute("ROLLBACK")
                raise
        finally:
            if not durable:
                con.execute("PRAGMA synchronous = FULL")


def _setup(con: sqlite3.Connection, db) -> None:
    con.execute("BEGIN IMMEDIATE")
    try:
        for stmt in SCHEMA.split(";"):
            if stmt.strip():
                con.execute(stmt)
        done = con.execute("SELECT value FROM meta WHERE key = 'migrated'").fetchone()
        if done is None:
            moved = _migrate(con, db)
            con.execute("INSERT INTO meta VALUES ('migrated', ?)",
                        [json.dumps({"at": dt.datetime.now().isoformat(), **moved})])
            con.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", [SCHEMA_VERSION])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _iso(v) -> str | None:
    if v is None:
        return None
    try:
        import pandas as pd

        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v.isoformat() if hasattr(v, "isoformat") else str(v)


NOTICE_COLUMNS = ["number", "year", "seq", "unit_code", "unit_name", "level", "quarter", "score", "rank", "peers",
                  "issued_on", "issued_by", "file_name", "reply_due", "reply_received", "closed_on", "closed_by",
                  "note"]


def _migrate(con: sqlite3.Connection, db) -> dict:
    """Copy an existing warehouse's notice log and audit trail (and the old sign-in journal) in."""
    from etl import warehouse

    moved = {"notices": 0, "audit_log": 0, "journal": 0}
    wp = warehouse.db_path(db)
    if wp.exists():
        try:
            wcon = warehouse.connect_read(wp)
        except Exception:  # an unreadable warehouse: nothing to move; the store still works
            wcon = None
        if wcon is not None:
            try:
                tables = {t for (t,) in wcon.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
                if "notices" in tables:
                    for row in wcon.execute(f"SELECT {', '.join(NOTICE_COLUMNS)} FROM notices").fetchall():
                        con.execute(f"INSERT OR IGNORE INTO notices ({', '.join(NOTICE_COLUMNS)}) "
                                    f"VALUES ({', '.join('?' * len(NOTICE_COLUMNS))})",
                                    [_iso(v) if isinstance(v, (dt.date, dt.datetime)) else v for v in row])
                        moved["notices"] += 1
                if "audit_log" in tables:
                    for when, actor, action, detail in wcon.execute(
                            "SELECT happened_at, actor, action, detail FROM audit_log ORDER BY happened_at").fetchall():
                        con.execute("INSERT INTO audit_log (happened_at, actor, action, detail) VALUES (?,?,?,?)",
                                    [_iso(when), actor, action, detail])
                        moved["audit_log"] += 1
            finally:
                wcon.close()
    journal = wp.with_name(wp.name + ".audit.jsonl")
    if journal.exists():
        for raw in journal.read_bytes().splitlines():
            try:
                e = json.loads(raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                continue
            if not (isinstance(e, dict) and {"id", "when", "actor", "action"} <= set(e)):
                continue
            detail = json.dumps({"event": e["id"], **(e.get("detail") or {})}, ensure_ascii=False, default=str)
            if con.execute("SELECT 1 FROM audit_log WHERE detail = ?", [detail]).fetchone():
                continue  # already folded into the warehouse's audit_log
            con.execute("INSERT INTO audit_log (happened_at, actor, action, detail) VALUES (?,?,?,?)",
                        [e["when"], e["actor"], e["action"], detail])
            moved["journal"] += 1
        journal.rename(journal.with_name(journal.name + ".moved"))
    return moved
