"""The DuckDB warehouse: where it lives, its schema, and how it is read and written.

DuckDB lets one process hold a file read-write, and then no other process may open it at all.
So a writer never touches the live file: it copies it, changes the copy in one transaction,
checkpoints, and swaps the copy in with an atomic ``os.replace``. Readers (the app, the metrics
CLI) keep serving the old file until they notice the new one (``version`` changes), and a crash
or SIGKILL mid-load leaves only a stray copy behind, never a half-done warehouse. Writers queue
on an ``flock`` beside the file. Before a write commits, the marts (etl.marts: every record
stamped with the units it counts for) are rebuilt in the copy when its records changed, so they
swap in with the records they are made of.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB = ROOT / "data" / "warehouse.duckdb"
SCHEMA_VERSION = "1"

SCHEMA = """
-- reference: GB/T 2260 regions, with the enclosing province and city precomputed
CREATE TABLE IF NOT EXISTS regions (
    code          VARCHAR PRIMARY KEY,
    name          VARCHAR NOT NULL,
    level         VARCHAR NOT NULL CHECK (level IN ('省', '市', '县')),
    parent_code   VARCHAR,
    province_code VARCHAR NOT NULL,
    city_code     VARCHAR            -- the city a county lies in (itself for a city); NULL when none
);

-- records, as the data contract defines them; load_id says which load wrote the row.
-- Each table's id (enterprise_id, agency_code + year, inspection_id, hazard_id, case_id) is unique:
-- the ETL, which alone writes these tables, sets a file's repeated ids aside and replaces a known
-- id's row. No PRIMARY KEY index backs it: at national scale (25M hazards) maintaining one costs
-- more than the rest of the load and GBs of memory, and no query looks rows up by id often
-- enough to need it (bench/README.md). Warehouses made before keep theirs; loads work on both.
CREATE TABLE IF NOT EXISTS enterprises (
    enterprise_id VARCHAR NOT NULL,
    name          VARCHAR NOT NULL,
    county_code   VARCHAR NOT NULL,
    industry      VARCHAR NOT NULL,
    key_unit      BOOLEAN NOT NULL,
    load_id       INTEGER
);
CREATE TABLE IF NOT EXISTS plans (
    agency_code         VARCHAR NOT NULL,
    year                INTEGER NOT NULL,
    planned_inspections INTEGER NOT NULL,
    load_id             INTEGER
);
CREATE TABLE IF NOT EXISTS inspections (
    inspection_id   VARCHAR NOT NULL,
    enterprise_id   VARCHAR NOT NULL,
    agency_code     VARCHAR NOT NULL,
    inspection_date DATE NOT NULL,
    inspection_type VARCHAR NOT NULL,
    via_mobile      BOOLEAN NOT NULL,
    with_expert     BOOLEAN NOT NULL,
    load_id         INTEGER
);
CREATE TABLE IF NOT EXISTS hazards (
    hazard_id           VARCHAR NOT NULL,
    inspection_id       VARCHAR NOT NULL,
    found_date          DATE NOT NULL,
    is_major            BOOLEAN NOT NULL,
    key_matter          BOOLEAN NOT NULL,
    needs_rectification BOOLEAN NOT NULL,
    deadline            DATE,
    rectified_date      DATE,
    load_id             INTEGER
);
CREATE TABLE IF NOT EXISTS penalties (
    case_id          VARCHAR NOT NULL,
    inspection_id    VARCHAR,
    enterprise_id    VARCHAR NOT NULL,
    agency_code      VARCHAR NOT NULL,
    filed_date       DATE NOT NULL,
    decision_date    DATE,
    fine_company     DECIMAL(18, 2) NOT NULL,
    fine_person      DECIMAL(18, 2) NOT NULL,
    for_major_hazard BOOLEAN NOT NULL,
    hazard_id        VARCHAR,
    transferred      BOOLEAN NOT NULL,
    review_score     DOUBLE,
    case_reported    BOOLEAN NOT NULL,
    load_id          INTEGER
);
-- the enforcement staff (officer_id unique), their refresher training (officer_id + year) and the
-- approved posts (agency_code + year)
CREATE TABLE IF NOT EXISTS officers (
    officer_id          VARCHAR NOT NULL,
    agency_code         VARCHAR NOT NULL,
    name                VARCHAR,
    post                VARCHAR NOT NULL,
    degree              BOOLEAN NOT NULL,
    qualification       BOOLEAN NOT NULL,
    experience          BOOLEAN NOT NULL,
    entry_training_days INTEGER,
    start_date          DATE NOT NULL,
    end_date            DATE,
    load_id             INTEGER
);
CREATE TABLE IF NOT EXISTS training (
    officer_id     VARCHAR NOT NULL,
    year           INTEGER NOT NULL,
    refresher_days DOUBLE NOT NULL,
    load_id        INTEGER
);
CREATE TABLE IF NOT EXISTS establishment (
    agency_code VARCHAR NOT NULL,
    year        INTEGER NOT NULL,
    posts       INTEGER NOT NULL,
    load_id     INTEGER
);

-- bookkeeping: every load, every set-aside row, facts about the warehouse
CREATE TABLE IF NOT EXISTS load_history (
    load_id       INTEGER PRIMARY KEY,
    run_id        VARCHAR NOT NULL,   -- one command or upload; all its files swap in together
    file_name     VARCHAR NOT NULL,
    file_hash     VARCHAR NOT NULL,   -- sha256 of the bytes
    table_name    VARCHAR,            -- NULL when the file was refused before its table was known
    rows_read     BIGINT NOT NULL,
    loaded        BIGINT NOT NULL,    -- new ids
    replaced      BIGINT NOT NULL,    -- ids already present, overwritten (incl. unchanged)
    unchanged     BIGINT NOT NULL,    -- of replaced: identical to what was there
    set_aside     BIGINT NOT NULL,
    refused       VARCHAR,            -- why the whole file was refused, else NULL
    extra_columns VARCHAR,            -- unknown headers kept aside, '|'-separated
    loaded_at     TIMESTAMP NOT NULL,
    loaded_by     VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine (
    load_id     INTEGER NOT NULL,
    file_name   VARCHAR NOT NULL,
    row_number  BIGINT,               -- the row as the user sees it in Excel / a text editor
    column_name VARCHAR,
    value       VARCHAR,
    reason      VARCHAR NOT NULL,
    raw         VARCHAR               -- the whole row as JSON {header: cell}
);
-- the notice log and the audit trail live in the operational store beside the warehouse (ops.store);
-- a warehouse built before keeps its old tables notices and audit_log (moved over, no longer read)
CREATE TABLE IF NOT EXISTS meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR
);
"""

RECORD_TABLES = ("enterprises", "plans", "inspections", "hazards", "penalties", "officers", "training", "establishment")


class WarehouseMissing(FileNotFoundError):
    """The warehouse file does not exist yet."""


def db_path(arg: str | os.PathLike | None = None) -> Path:
    """--db, else $ENFORCEMENT_DB, else data/warehouse.duckdb (the CLI's and the app's rule)."""
    if arg:
        return Path(arg)
    env = os.environ.get("ENFORCEMENT_DB")
    return Path(env) if env else DEFAULT_DB


def version(path: str | os.PathLike) -> tuple[int, int, int] | None:
    """Changes whenever a load swaps a new file in: readers reopen on a new version."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


PAUSE_ENV = "ENFORCEMENT_TEST_PAUSE_AT"
PAUSE_STAGES = ("copy", "staged", "validated", "upserted", "committed", "checkpointed", "replaced")


def crash_point(stage: str) -> None:
    """Crash tests only: when $ENFORCEMENT_TEST_PAUSE_AT names `stage`, say so on stderr and sleep
    ($ENFORCEMENT_TEST_PAUSE_SECONDS, default 60) so that a test can SIGKILL the writer right there.
    Stages of a write, in order: copy (half the live file copied), staged (files read), validated
    (the first file's rules checked), upserted (every row written, history recorded), committed,
    checkpointed (the copy complete on disk), replaced (swapped in)."""
    if os.environ.get(PAUSE_ENV) == stage:
        import sys
        import time

        print(f"PAUSED AT {stage}", file=sys.stderr, flush=True)
        time.sleep(float(os.environ.get("ENFORCEMENT_TEST_PAUSE_SECONDS", "60")))


def _copy(src: Path, dst: Path) -> None:
    if os.environ.get(PAUSE_ENV) != "copy":
        shutil.copyfile(src, dst)
        return
    with open(src, "rb") as a, open(dst, "wb") as b:  # the crash test's slow path: pause half-way
        size = os.fstat(a.fileno()).st_size
        b.write(a.read(size // 2))
        b.flush()
        crash_point("copy")
        shutil.copyfileobj(a, b)


def _setup(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")


class WarehouseChanged(RuntimeError):
    """The warehouse was replaced since the version a reader asked for: start over on the new one."""


def connect_read(path: str | os.PathLike | None = None, *, expect: tuple | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the warehouse as it is *now*; many processes may hold one.

    DuckDB keeps one database instance per path in a process: while any connection to a file
    that a load has since replaced is open, ``duckdb.connect(path)`` hands back that old
    instance. So the current file is opened through a private hard link (a new path to the new
    inode), unlinked at once; the connection keeps the file open. Where a hard link is
    impossible (read-only directory, another filesystem) the path itself is opened.
    ``expect`` (a ``version``) refuses with WarehouseChanged when the file is no longer that one,
    so a cache keyed by version never holds a newer file under an older key.
    """
    p = db_path(path)
    if not p.exists():
        raise WarehouseMissing(f"no warehouse at {p}: build one with `python -m etl demo` or load files")
    _remove_dead_reader_links(p)
    link = p.with_name(f".{p.name}.reader-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        os.link(p, link)
    except OSError:
        link = None
    try:
        opened = version(link or p)
        if expect is not None and opened != tuple(expect):
            raise WarehouseChanged(f"{p} changed since version {expect}")
        con = duckdb.connect(str(link or p), read_only=True)
    finally:
        if link is not None:
            with contextlib.suppress(FileNotFoundError):
                link.unlink()
    _setup(con)
    return con


def is_reader_link(path: str | os.PathLike) -> bool:
    """Whether ``path`` is one of connect_read's private links: a name used by one database
    instance only, never reopened on another file (metrics.query remembers what it checked of a
    read-only warehouse under it)."""
    return re.fullmatch(r"\..+\.reader-\d+-[0-9a-f]{8}", Path(path).name) is not None


def _remove_dead_reader_links(p: Path) -> None:
    """Links left by a reader killed between linking and unlinking keep an old file on disk."""
    for stray in p.parent.glob(f".{p.name}.reader-*"):
        pid = stray.name.rsplit(".reader-", 1)[1].split("-", 1)[0]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            with contextlib.suppress(FileNotFoundError):
                stray.unlink()


def init_schema(con: duckdb.DuckDBPyConnection) -> None:
    from etl.regions import load_reference_regions

    con.execute(SCHEMA)
    con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
    if con.execute("SELECT count(*) FROM regions").fetchone()[0] == 0:
        load_reference_regions(con)


def get_meta(con: duckdb.DuckDBPyConnection, key: str, default: str | None = None) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else default


@contextlib.contextmanager
def writer_lock(path: Path) -> Iterator[None]:
    """Serialise writers (loads, demo builds, notice logs) on one warehouse."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(str(path) + ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def write(path: str | os.PathLike | None = None, *, fresh: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Change the warehouse all-or-nothing: yields a read-write connection to a private copy.

    On normal exit the copy is checkpointed and atomically swapped in; on any exception (or a
    kill) the live warehouse is untouched. ``fresh`` starts from an empty warehouse (demo).
    """
    p = db_path(path)
    with writer_lock(p):
        _remove_stale_copies(p)
        fd, tmp_name = tempfile.mkstemp(prefix=p.name + ".", suffix=".tmp", dir=p.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        tmp.unlink()  # DuckDB wants to create the file itself
        con = None
        try:
            if p.exists() and not fresh:
                _copy(p, tmp)
            con = duckdb.connect(str(tmp))
            _setup(con)
            init_schema(con)
            con.execute("BEGIN TRANSACTION")
            yield con
            from etl import marts

            marts.refresh(con, private=True)  # the stamped records (etl.marts) swap in with the records they are made of
            con.execute("COMMIT")
            crash_point("committed")
            con.execute("CHECKPOINT")
            con.close()
            con = None
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            crash_point("checkpointed")
            os.replace(tmp, p)
            crash_point("replaced")
            dir_fd = os.open(p.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        finally:
            if con is not None:
                with contextlib.suppress(Exception):
                    con.close()
            for stray in (tmp, Path(str(tmp) + ".wal")):
                with contextlib.suppress(FileNotFoundError):
                    stray.unlink()


def _remove_stale_copies(p: Path) -> None:
    """Copies left by killed writers (we hold the lock, so none is in use)."""
    for stray in p.parent.glob(p.name + ".*.tmp*"):
        with contextlib.suppress(FileNotFoundError):
            stray.unlink()


def ensure(path: str | os.PathLike | None = None) -> Path:
    """Create an empty warehouse (schema + reference regions) if none exists."""
    p = db_path(path)
    if not p.exists():
        with write(p):
            pass
    return p
