"""Load files into the warehouse: read, validate, upsert, record — all-or-nothing per run.

One run (a command, an upload) may carry several files; they are taken in the contract's
dependency order (register before inspections before hazards …) so a run may bring a register
and the inspections that refer to it. The run changes a private copy of the warehouse that is
swapped in only when every file has been handled (etl.warehouse.write).

Accounting, per file: read = loaded (new ids) + replaced (ids already there) + set aside.
Replaced rows identical to what was there are counted in `unchanged` and not rewritten, so
loading the same file twice changes no record.
"""
from __future__ import annotations

import contextlib
import csv
import datetime as dt
import getpass
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from etl import bulk, warehouse
from etl.contract import Contract, load_contract
from etl.read import Refused, Staged, read_file
from etl.safe import safe_cell
from etl.validate import compile_checks, lit


@dataclass
class FileResult:
    path: Path
    table: str | None = None
    read: int = 0
    loaded: int = 0
    replaced: int = 0
    unchanged: int = 0
    set_aside: int = 0
    refused: str | None = None
    extra_columns: list[str] = field(default_factory=list)
    blank_rows: int = 0
    load_id: int | None = None

    def summary(self) -> str:
        if self.refused:
            return f"{self.path}: REFUSED {self.refused}"
        return (f"{self.path}: {self.table} read={self.read} loaded={self.loaded} replaced={self.replaced} "
                f"set_aside={self.set_aside} unchanged={self.unchanged}")


@dataclass
class RunResult:
    run_id: str
    files: list[FileResult]
    report: Path | None
    set_aside_rows: list[dict] = field(default_factory=list)

    @property
    def any_refused(self) -> bool:
        return any(f.refused for f in self.files)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


UPLOAD_MEMORY = "768MB"


def upload_memory_limit() -> str:
    """DuckDB's memory for a load from the app (ENFORCEMENT_UPLOAD_MEMORY, default 768 MB; it spills
    beyond): the app's process also holds the uploaded bytes and every session's figures."""
    return os.environ.get("ENFORCEMENT_UPLOAD_MEMORY") or UPLOAD_MEMORY


def memory_limit() -> str:
    """DuckDB's memory for a load: ENFORCEMENT_ETL_MEMORY (e.g. "2GB"), else 3 GiB or half the
    machine's memory if that is less. A national load needs about that much and spills beyond it."""
    if os.environ.get("ENFORCEMENT_ETL_MEMORY"):
        return os.environ["ENFORCEMENT_ETL_MEMORY"]
    try:
        half = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        half = 3 << 30
    return f"{min(3 << 30, half) >> 20}MB"


@contextlib.contextmanager
def _spill_dir(db_file: Path):
    """Where DuckDB spills beyond memory_limit() during a load: a private directory beside the
    warehouse, removed once the load is over (also when it fails)."""
    db_file.parent.mkdir(parents=True, exist_ok=True)
    for stale in db_file.parent.glob(".etl-spill-*"):  # left by a killed load (its process is gone)
        pid = stale.name.split("-")[2]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    spill = Path(tempfile.mkdtemp(prefix=f".etl-spill-{os.getpid()}-", dir=db_file.parent))
    try:
        yield spill
    finally:
        shutil.rmtree(spill, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sha256_or_blank(path: Path) -> str:
    try:
        return _sha256(path)
    except OSError:  # missing, a directory, unreadable: read_file refuses it
        return ""


def _user() -> str:
    try:
        return os.environ.get("ENFORCEMENT_USER") or getpass.getuser()
    except Exception:
        return "unknown"


def load_files(
    paths: Iterable[str | os.PathLike],
    db: str | os.PathLike | None = None,
    *,
    table: str | None = None,
    user: str | None = None,
    today: dt.date | None = None,
    report_dir: str | os.PathLike | None = None,
    names: dict[Path, str] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    fresh: bool = False,
    meta: dict[str, str] | None = None,
    upload: bool = False,
    _fail_after: int | None = None,
) -> RunResult:
    """Load `paths` into the warehouse at `db`. `names` gives display names (uploads).

    `fresh` starts from an empty warehouse and `meta` sets warehouse facts in the same swap
    (the demo builder uses both). `upload` (the app's 数据导入): every file is parsed before the
    writer lock is taken — no bulk path, which reads a large CSV in one pass while holding it — and
    DuckDB works in upload_memory_limit() so that the app's process stays small. `_fail_after` injects a failure after that many files have been written (tests only).
    """
    contract = load_contract()
    today = today or dt.date.today()
    user = user or _user()
    paths = [Path(p) for p in paths]
    names = names or {}
    run_id = dt.datetime.now().strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    db_file = warehouse.db_path(db)
    set_aside_rows: list[dict] = []

    # file hashes (and the bulk path's line counts) are computed beside the database work; every
    # file is read and checked before the writer lock is taken (a large upload must not hold up
    # other loads while it is parsed): into a staging database of the load's own, copied into the
    # warehouse's private copy once the lock is held
    draft = None
    try:
        with _spill_dir(db_file) as spill, ThreadPoolExecutor(1, "etl-hash") as pool:
            memory = upload_memory_limit() if upload else memory_limit()
            staged, results = _stage(paths, names, contract, table, spill, pool, memory, bulk_path=not upload)
            with warehouse.write(db_file, fresh=fresh) as con:
                con.execute(f"SET memory_limit = '{memory}'")
                con.execute(f"SET temp_directory = '{spill}'")
                for key, value in (meta or {}).items():
                    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])
                _take_staged(con, spill, staged)
                warehouse.crash_point("staged")
                order = {name: k for k, name in enumerate(contract.order)}
                todo = sorted(staged, key=lambda item: order.get(item[0].table, -1))
                load_id = con.execute("SELECT coalesce(max(load_id), 0) FROM load_history").fetchone()[0]
                for n, (res, st, digest, i, path) in enumerate(todo):
                    load_id += 1
                    res.load_id = load_id
                    if progress:
                        progress(res.path.name, n, len(todo))
                    if isinstance(st, bulk.Sniffed):
                        try:
                            set_aside_rows += bulk.load(con, contract, st, res, load_id, today, f"stage_{i}", _load_one)
                            st = None
                        except bulk.Fallback:  # the general path reads it (and may refuse it)
                            try:
                                st = read_file(con, path, contract, table, stage=f"stage_{i}")
                                res.blank_rows = st.blank_rows
                            except Refused as e:
                                res.refused = str(e).replace(str(path.name), res.path.name, 1)
                                st = None
                    if st is not None:
                        set_aside_rows += _load_one(con, contract, st, res, load_id, today)
                    if isinstance(digest, Future):
                        digest = digest.result()
                        digest = digest[0] if isinstance(digest, tuple) else digest
                    con.execute(
                        "INSERT INTO load_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [load_id, run_id, res.path.name, digest, res.table, res.read, res.loaded, res.replaced,
                         res.unchanged, res.set_aside, res.refused, "|".join(res.extra_columns) or None,
                         dt.datetime.now(), user],
                    )
                    if _fail_after is not None and n + 1 >= _fail_after:
                        raise RuntimeError("injected failure (test)")
                warehouse.crash_point("upserted")
                if progress:
                    progress("", len(todo), len(todo))
                report_dir = Path(report_dir or db_file.parent / "reports")
                draft = (_write_report(con, [r.load_id for r in results if r.set_aside], run_id, report_dir)
                         if any(r.set_aside for r in results) else None)
    except BaseException:
        if draft is not None:
            draft.unlink(missing_ok=True)
        raise
    # the report is published once the load is: a failed load leaves none behind
    report = None
    if draft is not None:
        try:
            report = draft.rename(draft.with_suffix(""))
        except OSError:   # the load is in: keep the report under its draft name rather than fail
            report = draft
    return RunResult(run_id, results, report, set_aside_rows[:SET_ASIDE_PREVIEW])


STAGING = "staging.duckdb"


def _stage(paths: list[Path], names: dict[Path, str], contract: Contract, table: str | None, spill: Path,
           pool: ThreadPoolExecutor, memory: str, bulk_path: bool = True):
    """Read every file without the writer lock: each as text rows in table keep_{i} of the load's
    staging database (a large UTF-8 CSV is only sniffed: the bulk path reads it while loading)."""
    results: list[FileResult] = []
    staged: list[tuple[FileResult, Staged | bulk.Sniffed | None, str | Future, int, Path]] = []
    scon = duckdb.connect(str(spill / STAGING))
    try:
        scon.execute(f"SET memory_limit = '{memory}'")
        scon.execute(f"SET temp_directory = '{spill}'")
        for i, path in enumerate(paths):
            display = names.get(path, str(path))
            res = FileResult(Path(display))
            sniffed = bulk.sniff(path, contract, table, pool) if bulk_path else None
            if sniffed is not None:
                res.table = sniffed.table.name
                res.extra_columns = sniffed.extra_columns
                staged.append((res, sniffed, sniffed.scan, i, path))
                results.append(res)
                continue
            digest = pool.submit(_sha256_or_blank, path)
            try:
                st = read_file(scon, path, contract, table, stage=f"stage_{i}")
                scon.execute(f"CREATE TABLE main.keep_{i} AS SELECT * FROM temp.stage_{i}")
                scon.execute(f"DROP TABLE temp.stage_{i}")
                res.table = st.table.name
                res.extra_columns = st.extra_columns
                res.blank_rows = st.blank_rows
                staged.append((res, st, digest, i, path))
            except Refused as e:
                res.refused = str(e).replace(str(path.name), Path(display).name, 1)
                staged.append((res, None, digest, i, path))
            results.append(res)
    finally:
        scon.close()
    return staged, results


def _take_staged(con, spill: Path, staged) -> None:
    """The staged rows into the writer's connection, as the temp tables the loaders read."""
    kept = [i for _, st, _, i, _ in staged if isinstance(st, Staged)]
    if not kept:
        return
    # attached read-only for the rest of the write (a database cannot be detached inside the
    # transaction that read it); it goes with the spill directory afterwards
    con.execute(f"ATTACH '{spill / STAGING}' AS staging (READ_ONLY)")
    for i in kept:
        con.execute(f"CREATE OR REPLACE TEMP TABLE stage_{i} AS SELECT * FROM staging.main.keep_{i}")


def _load_one(con, contract: Contract, st: Staged, res: FileResult, load_id: int, today: dt.date) -> list[dict]:
    table = st.table
    typed_sql, violations_sql = compile_checks(st, contract, today)
    con.execute(typed_sql)
    con.execute(violations_sql)
    if st.cell_issues:  # Excel cells not readable as shown (merged, formula without a value)
        issues = [[row, st.headers[pos] or f"列{pos + 1}", value, reason] for row, pos, value, reason in st.cell_issues]
        # the issue is why the cell reads blank: it replaces "必填项为空" and the like for that cell
        con.executemany("DELETE FROM violations WHERE _row = ? AND column_name = ?", [i[:2] for i in issues])
        con.executemany(f"INSERT INTO violations SELECT ?, ?, ?, ? WHERE ? IN (SELECT _row FROM {st.name})",
                        [[*i, i[0]] for i in issues])
    warehouse.crash_point("validated")

    cols = [c.name for c in table.columns]
    key_match = " AND ".join(f"w.{k} = g.{k}" for k in table.key)
    same = " AND ".join(f"w.{c} IS NOT DISTINCT FROM g.{c}" for c in cols)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE good AS
            SELECT {", ".join(f"g.{c}" for c in cols)},
                   w.{table.key[0]} IS NOT NULL AS _exists,
                   coalesce(w.{table.key[0]} IS NOT NULL AND {same}, FALSE) AS _same
            FROM typed g LEFT JOIN {table.name} w ON {key_match}
            WHERE g._row NOT IN (SELECT _row FROM violations)"""
    )
    n_good, n_new, n_same = con.execute(
        "SELECT count(*), count(*) FILTER (NOT _exists), count(*) FILTER (_same) FROM good"
    ).fetchone()
    if n_good > n_same:
        replace(con, table, "good", _derived_columns(con, table.name, load_id))

    # set-aside rows, with the whole row as the user wrote it
    raw_json = "json_object(" + ", ".join(f"{lit(h)}, s.c{i}" for i, h in enumerate(_unique_labels(st.headers))) + ")"
    con.execute(
        f"""INSERT INTO quarantine
            SELECT {int(load_id)}, ?, v._row, v.column_name, v.value, v.reason, CAST({raw_json} AS VARCHAR)
            FROM violations v JOIN {st.name} s USING (_row) ORDER BY v._row""",
        [res.path.name],
    )
    for line, reason, raw in st.rejects:
        con.execute("INSERT INTO quarantine VALUES (?, ?, ?, NULL, NULL, ?, ?)",
                    [load_id, res.path.name, line, reason, json.dumps({"原始行": raw}, ensure_ascii=False)])
    n_bad = con.execute("SELECT count(DISTINCT _row) FROM violations").fetchone()[0]
    n_rows = con.execute(f"SELECT count(*) FROM {st.name}").fetchone()[0]

    res.read = n_rows + len(st.rejects)
    res.set_aside = n_bad + len(st.rejects)
    res.loaded = n_new
    res.replaced = n_good - n_new
    res.unchanged = n_same
    assert res.read == res.loaded + res.replaced + res.set_aside, "row accounting broken"

    rows = con.execute(  # the first rows only: the report is written from the quarantine table
        "SELECT file_name, row_number, column_name, value, reason, raw FROM quarantine WHERE load_id = ? "
        "ORDER BY row_number LIMIT ?", [load_id, SET_ASIDE_PREVIEW]
    ).fetchall()
    for tmp in (st.name, "typed", "violations", "good"):
        con.execute(f"DROP TABLE IF EXISTS {tmp}")
    return [dict(file=f, row=r, column=c, value=v, reason=why, raw=raw) for f, r, c, v, why, raw in rows]


def replace(con, table, source: str, extra: dict[str, str]) -> None:
    """Write the rows of `source` (the table's columns, _exists, _same) that are not already there
    as they are: rows of known ids replace the old ones (delete, then insert — the record tables
    have no key index for INSERT OR REPLACE; see etl/warehouse.py)."""
    cols = [c.name for c in table.columns]
    if con.execute(f"SELECT count(*) FROM {source} WHERE _exists AND NOT _same").fetchone()[0]:
        match = " AND ".join(f"w.{k} = g.{k}" for k in table.key)
        con.execute(f"DELETE FROM {table.name} w USING {source} g WHERE {match} AND g._exists AND NOT g._same")
    con.execute(
        f"INSERT INTO {table.name} ({', '.join([*cols, *extra])}) "
        f"SELECT {', '.join([*cols, *extra.values()])} FROM {source} WHERE NOT _same"
    )


def _unique_labels(headers: list[str]) -> list[str]:
    """Keys for the raw row's JSON: the header, 列N for a blank one, 备注(2) for a repeated one."""
    out, seen = [], set()
    for i, h in enumerate(headers):
        label = h or f"列{i + 1}"
        n = 1
        while label in seen:
            n += 1
            label = f"{h or f'列{i + 1}'}({n})"
        seen.add(label)
        out.append(label)
    return out


def _derived_columns(con, table_name: str, load_id: int) -> dict[str, str]:
    """Warehouse columns that a file does not carry: name -> SQL over the `good` rows.

    Records get the load's id. Regions (no load_id) get the enclosing province and city the way
    etl.regions derives them for the reference list: a county's city is its xxxx00 code when that
    city exists (in the warehouse or this file), else NULL (municipalities' districts).
    """
    present = {r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main'", [table_name]
    ).fetchall()}
    out = {}
    if "load_id" in present:
        out["load_id"] = str(int(load_id))
    if table_name == "regions":
        city = "substr(code, 1, 4) || '00'"
        out["province_code"] = "substr(code, 1, 2) || '0000'"
        out["city_code"] = (
            f"CASE WHEN level = '省' THEN NULL WHEN level = '市' THEN code "
            f"WHEN {city} IN (SELECT code FROM regions WHERE level = '市' "
            f"UNION SELECT code FROM good WHERE level = '市') THEN {city} END"
        )
    return out


REPORT_HEADER = ["文件", "行号", "列", "值", "原因", "原始行"]
SET_ASIDE_PREVIEW = 10_000  # set-aside rows a load hands back in memory (the report holds them all)


def _write_report(con, load_ids: list[int], run_id: str, report_dir: Path) -> Path:
    """Every set-aside row and its reason, as a CSV Excel opens (UTF-8 with BOM), streamed from the
    quarantine table of the load's own copy (a file of a million bad rows is not held in memory).
    Written as set-aside-RUN.csv.part; load_files renames it once the load has been swapped in."""
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / f"set-aside-{run_id}.csv.part"
    cur = con  # not a cursor: a cursor is another connection and would not see this transaction's rows
    try:
        cur.execute("SELECT file_name, row_number, column_name, value, reason, raw FROM quarantine "
                    "WHERE list_contains(?, load_id) ORDER BY load_id, row_number", [load_ids])
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(REPORT_HEADER)
            while batch := cur.fetchmany(50_000):
                w.writerows([safe_cell(v) for v in r] for r in batch)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
