"""The bulk path for large CSV files: typed rows straight from DuckDB's reader, on every core.

The general path (etl.read + etl.validate + etl.load._load_one) stages every cell as trimmed text,
builds a typed table beside it with the raw text of every cell, computes the violations of every
row and joins the warehouse to upsert. That is right for the files people upload and far too heavy
for a national export (25M rows: tens of GB of intermediate text). For a large UTF-8 CSV this path
gives the same result with much less work:

1. sniff: the header is found in the file's first MiB with the general path's own functions; the
   file's SHA-256 and line count are computed in a background thread (one read of the bytes).
2. a pass over ``read_csv`` computes per row the typed columns (etl.validate.cast_expr — the same
   expressions, so the same values) and a flag `_bad`: a rule of the contract holds (the same
   conditions, etl.validate.rules) or the row is a totals row. Canonical cells (ASCII ids, ISO
   dates, 是/否) take the cheap form of the cast without being trimmed (trimming could not change
   them). The pass has no join, so DuckDB keeps the file's order and the table's row i is the
   file's row i; the rules that look into other tables (references, dates not before an
   inspection's) run next, as one join over the typed columns, and add to the flag.
3. whatever the general path would read differently sends the file there instead (Fallback):
   rows DuckDB's reader rejects, rows wider than the header, a line count that disagrees with the
   rows (quoted line breaks, CR line ends), a reader error.
4. the flagged rows, and every row of an id that occurs more than once (skipped when the ids only
   increase down the file), are read again from the file and go through the general path
   (_load_one) as a small staged table: their violations, the set-aside report and the
   first-occurrence rule come out exactly as the general path makes them. (The ids read again are
   checked against the pass's, row by row.)
5. the other rows are valid by construction: a plain INSERT when the table is empty, else the
   general path's upsert (new, replaced, unchanged).

So the bulk path never decides what is valid: it only routes rows, and any row that might break a
rule is judged by the general path. tests/etl/test_bulk.py loads the same files both ways and
compares warehouses, accounting and set-aside reports; tests/etl runs with the bulk path forced
(ENFORCEMENT_BULK_MIN_BYTES=0) as well.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import itertools
import os
import re
import tempfile
import time
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from etl.contract import Contract, Table
from etl.read import (HEADER_SCAN_ROWS, SPARE_COLUMNS, Refused, Staged, _check_header, _csv_reader, _delimiter,
                      _find_header, _line_of_record, _looks_binary, _trimmed)
from etl.validate import (OUT_OF_RANGE, _fast_cast, cast_expr, control_chars, isin, lit, number_expr, rules)

HEAD_BYTES = 1 << 20
CHUNK = 8 << 20
TOTAL_CHAR = "计"  # every totals marker (合计, 总计, 小计) holds it


def min_bytes() -> int:
    """Files at least this large take the bulk path (ENFORCEMENT_BULK_MIN_BYTES; tests set 0)."""
    return int(os.environ.get("ENFORCEMENT_BULK_MIN_BYTES", 16 << 20))


class Fallback(Exception):
    """The file must go through the general path (the reason is the message)."""


@dataclass
class Sniffed:
    """A large CSV whose header has been found; its rows are read in load()."""
    path: Path
    table: Table
    headers: list[str]
    header_line: int                   # 0-based physical line of the header
    mapping: dict[int, str]            # position -> canonical column
    extra_columns: list[str]
    delim: str
    scan: Future                       # -> (sha256 hex, newline count, ends with a newline)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        return self.scan.result()[0]


BLOCK = 1 << 20


def scan_file(path: Path) -> tuple[str, int, bool, list[tuple[int, int]]]:
    """SHA-256 of the bytes, the number of line feeds, whether the last byte is one, and an index
    of the file: (offset, line feeds before it) every MiB — to read given lines again cheaply."""
    h = hashlib.sha256()
    lines, last, offset, index = 0, b"", 0, []
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
            for i in range(0, len(chunk), BLOCK):
                index.append((offset + i, lines))
                lines += chunk.count(b"\n", i, i + BLOCK)
            offset += len(chunk)
            last = chunk[-1:]
    return h.hexdigest(), lines, last == b"\n", index


def read_lines(path: Path, index: list[tuple[int, int]], wanted: list[int]) -> dict[int, bytes]:
    """The given lines (0-based line numbers), with their line ends, found through the index."""
    import bisect

    starts = [n for _, n in index]
    out: dict[int, bytes] = {}
    with open(path, "rb") as fh:
        for n in sorted(set(wanted)):
            b = max(0, bisect.bisect_left(starts, n) - 1)  # a block that begins before line n starts
            while b > 0 and starts[b] >= n:
                b -= 1
            offset, before = index[b]
            fh.seek(offset)
            buf = fh.read(2 * BLOCK)
            pos = 0
            for _ in range(n - before):  # skip to the start of line n
                pos = buf.index(b"\n", pos) + 1
                if pos >= len(buf) - 1:
                    buf += fh.read(BLOCK)
            end = buf.find(b"\n", pos)
            while end < 0:
                more = fh.read(BLOCK)
                if not more:
                    end = len(buf) - 1
                    break
                buf += more
                end = buf.find(b"\n", pos)
            out[n] = buf[pos:end + 1]
    return out


def _self_referencing(table: Table) -> bool:
    return any(c.ref and c.ref.split(".")[0] == table.name for c in table.columns)


def sniff(path: Path, contract: Contract, table_name: str | None, executor: Executor) -> Sniffed | None:
    """The header of a large UTF-8 CSV from its head, or None when the general path should read it
    (small, not UTF-8, unreadable, no recognisable header, a table that refers to itself)."""
    if path.suffix.lower() not in (".csv", ".txt", ".tsv"):
        return None
    try:
        if not path.is_file() or path.stat().st_size < max(min_bytes(), 1):
            return None
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
            more = bool(fh.read(1))
    except OSError:
        return None
    if not head.strip() or _looks_binary(head) or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    if more:  # whole lines only; a multi-byte character cut at the end is not an error
        head = head[: head.rfind(b"\n") + 1]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return None  # GBK and the like: the general path decodes them
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        delim = _delimiter(text)
        head_rows = list(itertools.islice(_csv_reader(text, delim), HEADER_SCAN_ROWS))
        r, table, mapping = _find_header(head_rows, contract, table_name, path)
        headers = [h.strip() for h in head_rows[r]]
        extra = _check_header(headers, table, mapping, path)
        header_line = _line_of_record(text, r, delim)
    except (Refused, csv.Error):
        return None  # the general path says why, with its own message
    if _self_referencing(table):
        return None
    return Sniffed(path, table, headers, header_line, mapping, extra, delim, executor.submit(scan_file, path))


# ---------------------------------------------------------------------------------------------

def _ref_type(contract: Contract, col) -> str | None:
    if not col.ref:
        return None
    rt, rc = col.ref.split(".")
    return contract[rt].column(rc).type


def _reader(width: int, store_rejects: bool = False) -> str:
    """read_csv of the data lines as text, the general path's options (etl.read._duckdb_stage);
    parameters: path, lines to skip, delimiter."""
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width + SPARE_COLUMNS)) + "}"
    return (f"""read_csv(?, header = false, skip = ?, delim = ?, quote = '"', escape = '"', columns = {columns},
                         all_varchar = true, null_padding = true, ignore_errors = true,
                         store_rejects = {str(store_rejects).lower()}, strict_mode = false, auto_detect = false)""")


def pass_sql(sn: Sniffed, contract: Contract, today, name: str = "bulk") -> tuple[str, list, str]:
    """The pass over the file, in two statements:
    1. CREATE TEMP TABLE `name`: per row, the typed columns and _blank, _wide, _bad (a rule that
       needs no other table holds, or a totals row). Row i of the file (0-based, after the header)
       is the table's i-th row (rowid order): a scan into a table keeps the file's order, which
       is what lets this statement run on every core (a window numbering the rows would not).
    2. CREATE TEMP TABLE `name`_looked: the rowids of the rows that break a rule needing a lookup
       (references, dates not before another table's). Those rules read typed columns only.
    Returns (statement 1, its parameters, statement 2)."""
    table = sn.table
    width = len(sn.headers)
    pos_of = {c: p for p, c in sn.mapping.items()}
    label = {c.name: (sn.headers[pos_of[c.name]] if c.name in pos_of else c.header) for c in table.columns}
    cell = {p: _trimmed(f"c{p}") for p in range(width + SPARE_COLUMNS)}  # the general path's staged cell

    select = []
    guards = []
    r_of = {}
    printable = {}  # column -> the guard that, when it holds, says the cell has no control character
    for c in table.columns:
        header = sn.headers[pos_of[c.name]] if c.name in pos_of else None
        if c.name not in pos_of:
            raw = "CAST(NULL AS VARCHAR)"
            e = cast_expr(c, raw, header, _ref_type(contract, c))
            if c.default is not None:
                e = lit(c.default)
            select += [f"{e} AS {c.name}", f"{raw} AS r_{c.name}"]
            r_of[c.name] = raw
            if c.type in OUT_OF_RANGE:
                select.append(f"{number_expr(c, raw, header)} AS n_{c.name}")
            continue
        p = pos_of[c.name]
        staged = cell[p]
        general = cast_expr(c, staged, header, _ref_type(contract, c))
        if c.default is not None:
            general = f"CASE WHEN {staged} IS NULL THEN {lit(c.default)} ELSE {general} END"
        fast = _fast_cast(c, f"c{p}", header, _ref_type(contract, c))
        if fast is not None and fast[1] is not None:
            # the guard admits only non-empty text without whitespace at either end: trimming the
            # cell would not change it, so the cheap form of the cast applies to it as read
            guard, quick = fast
            guards.append(f"{guard} AS _g{p}")  # computed once, below, for both columns
            select.append(f"CASE WHEN _g{p} THEN {quick} ELSE {general} END AS {c.name}")
            select.append(f"CASE WHEN _g{p} THEN c{p} ELSE {staged} END AS r_{c.name}")
            if c.type not in ("text", "enum"):  # the other guards admit printable ASCII, 是/否 only
                printable[c.name] = f"_g{p}"
                select.append(f"_g{p}")
        else:
            select += [f"{general} AS {c.name}", f"{staged} AS r_{c.name}"]
        r_of[c.name] = f"r_{c.name}"
        if c.type in OUT_OF_RANGE:
            select.append(f"{number_expr(c, staged, header)} AS n_{c.name}")
    # a totals row (the general path's rule, etl.validate.compile_checks) — only rows with 计 anywhere
    first = f"coalesce({', '.join(cell[p] for p in range(width))})"
    from etl.read import TOTAL_PATTERN, WHITESPACE
    any_total = " OR ".join(f"contains(c{p}, {lit(TOTAL_CHAR)})" for p in range(width))
    select.append(f"CASE WHEN {any_total} THEN coalesce(contains({first}, {lit(TOTAL_CHAR)}) AND "
                  f"regexp_full_match(translate({first}, {lit(WHITESPACE)}, ''), {lit(TOTAL_PATTERN)}, 's'), FALSE) "
                  f"ELSE FALSE END AS _is_total")
    # a blank row: every staged cell empty (one mapped cell that is not settles it for most rows)
    first_mapped = r_of[sn.mapping[min(sn.mapping)]]
    all_blank = " AND ".join(f"(c{p} IS NULL OR {cell[p]} IS NULL)" for p in range(width))
    select.append(f"CASE WHEN {first_mapped} IS NOT NULL THEN FALSE ELSE ({all_blank}) END AS _blank")
    spare = range(width, width + SPARE_COLUMNS)
    select.append(f"CASE WHEN {' AND '.join(f'c{p} IS NULL' for p in spare)} THEN FALSE "
                  f"ELSE ({' OR '.join(f'{cell[p]} IS NOT NULL' for p in spare)}) END AS _wide")
    select.append("CAST(NULL AS BIGINT) AS _dup_first")

    checks, conditions, joins = rules(table, contract, today, label)
    # rules that read another table (a join, a subquery) go to the second statement: a join in
    # the first would let DuckDB reorder its rows, and the rows' order is their line number
    aliases = [re.search(r"\s(\w+) ON ", j).group(1) for j in joins]  # LEFT JOIN <table> <alias> ON …
    looked_up = [c for c in conditions if any(a + "." in c for a in aliases) or "SELECT" in c.upper()]
    local = [c for c in conditions if c not in looked_up]
    # those rules may ask whether a cell is empty (r_x IS [NOT] NULL): the table keeps that answer
    blank_cells = sorted({m for c in looked_up for m in re.findall(r"\br_(\w+) IS (?:NOT )?NULL", c)})
    looked_up = [re.sub(r"\br_(\w+) IS NOT NULL", r"NOT t._empty_\1", re.sub(r"\br_(\w+) IS NULL", r"t._empty_\1", c))
                 for c in looked_up]
    if any(re.search(r"\br_", c) for c in looked_up):  # not in today's contract
        raise Fallback("a rule reads both another table and a cell's text")
    # a cell its guard admits holds no control character: the rule's regular expression (a fifth
    # of the pass over hazards.csv) is asked of the other cells only
    skip = {control_chars(f"r_{n}"): f"CASE WHEN {g} THEN FALSE ELSE {control_chars(f'r_{n}')} END" for n, g in printable.items()}
    local = [skip.get(c, c) for c in local]
    broken = " OR ".join(f"coalesce({c}, FALSE)" for c in local) or "FALSE"
    cols = ", ".join([c.name for c in table.columns] + [f"r_{n} IS NULL AS _empty_{n}" for n in blank_cells])
    sql = f"""
        CREATE OR REPLACE TEMP TABLE {name} AS
        WITH g AS (SELECT *{''.join(', ' + g for g in guards)} FROM {_reader(width, store_rejects=True)}),
        s AS (SELECT {', '.join(select)} FROM g),
        flagged AS (SELECT t.*, (NOT t._blank AND (t._is_total OR {broken})) AS _bad FROM s t)
        SELECT _blank, _wide, _bad, {cols} FROM flagged t
    """
    lookups = " OR ".join(f"coalesce({c}, FALSE)" for c in looked_up)
    update = f"""
        CREATE OR REPLACE TEMP TABLE {name}_looked AS
        SELECT t.rowid AS _rid FROM {name} t {' '.join(joins)}
        WHERE NOT t._blank AND NOT t._bad AND ({lookups or 'FALSE'})
    """
    return sql, [str(sn.path), sn.header_line + 1, sn.delim], update


def load(con: duckdb.DuckDBPyConnection, contract: Contract, sn: Sniffed, res, load_id: int, today, stage: str,
         load_one) -> list[dict]:
    """Load a sniffed file; `load_one` is etl.load._load_one (the general path, for flagged rows).
    Raises Fallback (before writing anything) when the general path must read the file instead."""
    from etl import warehouse
    from etl.load import _derived_columns, replace

    table = sn.table
    t = sn.timings
    t0 = time.perf_counter()
    con.execute("DROP TABLE IF EXISTS reject_errors")
    con.execute("DROP TABLE IF EXISTS reject_scans")
    sql, params, update = pass_sql(sn, contract, today)
    # DuckDB scans a table made inside a transaction on one core only: the pass's table is made
    # between two transactions of the private copy (etl.warehouse.write: nothing reaches the live
    # warehouse before the swap, so this changes nothing of a load's all-or-nothing)
    con.execute("COMMIT")
    try:
        con.execute(sql, params)
    except duckdb.Error as e:  # e.g. null_padding with quoted line breaks further down the file
        raise Fallback(f"reader: {e}") from e
    finally:
        con.execute("BEGIN TRANSACTION")
    t["pass"] = time.perf_counter() - t0
    try:
        if con.execute("SELECT count(*) FROM reject_errors").fetchone()[0]:
            raise Fallback("rows the reader rejects")
        n_rows, n_blank, n_wide, n_bad = con.execute(
            "SELECT count(*), count(*) FILTER (_blank), count(*) FILTER (_wide), count(*) FILTER (_bad) FROM bulk"
        ).fetchone()
        _, newlines, ends_nl, _ = sn.scan.result()
        n_lines = newlines + (0 if ends_nl else 1)
        if n_wide:
            raise Fallback("rows wider than the header")
        if n_rows + sn.header_line + 1 != n_lines:
            raise Fallback("rows and lines disagree (quoted line breaks, CR line ends)")
    except Fallback:
        _drop(con)
        raise
    t0 = time.perf_counter()
    con.execute(update)  # (a table of the few, not an UPDATE: scans of an updated table cost more)
    n_bad += con.execute("SELECT count(*) FROM bulk_looked").fetchone()[0]
    t["lookups"] = time.perf_counter() - t0
    # the file's row number of each row (the table keeps the file's order)
    first = con.execute("SELECT coalesce(min(rowid), 0) FROM bulk").fetchone()[0]
    row = f"(rowid - {int(first)} + {sn.header_line + 2})"
    warehouse.crash_point("validated")

    # ids that occur more than once: every occurrence goes to the general path (first one wins there)
    keys = list(table.key)
    t0 = time.perf_counter()
    present = " AND ".join(f"{k} IS NOT NULL" for k in keys)
    # ids that only ever increase down the file are distinct (exports are mostly sorted by id); a
    # blank id, or an id not above the one before it, sends the loader looking for repeats
    increasing = False
    if len(keys) == 1:
        k = keys[0]
        increasing = con.execute(f"""
            SELECT count(*) FILTER (WHERE _i > 1 AND NOT coalesce({k} > _prev, FALSE)) = 0
            FROM (SELECT {k}, lag({k}) OVER () AS _prev, row_number() OVER () AS _i FROM bulk)""").fetchone()[0]
    if increasing and len(keys) == 1:
        n_dup_keys = 0
    else:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE bulk_dups AS
            SELECT {', '.join(keys)} FROM bulk WHERE NOT _blank AND {present}
            GROUP BY ALL HAVING count(*) > 1""")
        n_dup_keys = con.execute("SELECT count(*) FROM bulk_dups").fetchone()[0]
    # the rows for the general path: flagged, or of an id that occurs more than once
    key_cols = ", ".join(f"{k} AS _k{i}" for i, k in enumerate(keys))
    con.execute(f"CREATE OR REPLACE TEMP TABLE bulk_sub AS SELECT {row} AS _row, {key_cols} FROM bulk "
                f"WHERE _bad OR rowid IN (SELECT _rid FROM bulk_looked)")
    if n_dup_keys:
        match = " AND ".join(f"b.{k} = d.{k}" for k in keys)
        con.execute(f"INSERT INTO bulk_sub SELECT {row.replace('rowid', 'b.rowid')}, "
                    f"{', '.join(f'b.{k}' for k in keys)} FROM bulk b JOIN bulk_dups d ON {match} "
                    f"WHERE NOT b._bad AND b.rowid NOT IN (SELECT _rid FROM bulk_looked)")
    t["dups"] = time.perf_counter() - t0

    # the general path for flagged rows and duplicates
    width = len(sn.headers)
    n_sub = con.execute("SELECT count(*) FROM bulk_sub").fetchone()[0]
    # (the flagged rows and the rest share no id, so the rest may go in plainly when the table was empty)
    empty = con.execute(f"SELECT count(*) = 0 FROM (SELECT 1 FROM {table.name} LIMIT 1)").fetchone()[0]
    set_aside: list[dict] = []
    sub_counts = (0, 0, 0, 0, 0)  # read, loaded, replaced, unchanged, set aside
    if n_sub:
        t0 = time.perf_counter()
        # their text, as the general path stages it, read again (the pass keeps none: 25M rows of
        # mostly empty text columns cost GBs)
        # — the lines only, found through the scan's index, and parsed by the same reader
        staged = ", ".join(_trimmed(f"c{p}") + f" AS c{p}" for p in range(width))
        rows = [r for (r,) in con.execute("SELECT _row FROM bulk_sub ORDER BY _row").fetchall()]
        lines = read_lines(sn.path, sn.scan.result()[3], [r - 1 for r in rows])
        fd, tmp = tempfile.mkstemp(suffix=".csv")
        try:
            with os.fdopen(fd, "wb") as fh:
                for r in rows:
                    line = lines[r - 1]
                    fh.write(line if line.endswith(b"\n") else line + b"\n")
            con.execute("CREATE OR REPLACE TEMP TABLE bulk_rows AS SELECT * FROM bulk_sub ORDER BY _row")
            con.execute(f"""
                CREATE OR REPLACE TEMP TABLE bulk_text AS
                SELECT r._row, t.* EXCLUDE (_n)
                FROM (SELECT row_number() OVER () AS _n, * FROM {_reader(width)}) t
                JOIN (SELECT _row, row_number() OVER (ORDER BY _row) AS _n FROM bulk_rows) r USING (_n)""",
                        [tmp, 0, sn.delim])
        finally:
            os.unlink(tmp)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {stage} AS SELECT _row, {staged} FROM bulk_text")
        # the rows read again are the rows flagged: same row numbers, same ids (else the file
        # changed under us, or the pass did not keep the file's order — the general path reads it)
        pos_of = {c: p for p, c in sn.mapping.items()}
        same = " AND ".join(
            f"b._k{i} IS NOT DISTINCT FROM "
            f"{cast_expr(table.column(k), f's.c{pos_of[k]}', sn.headers[pos_of[k]], _ref_type(contract, table.column(k)))}"
            for i, k in enumerate(keys))
        if con.execute(f"SELECT count(*) FROM bulk_sub b LEFT JOIN {stage} s USING (_row) "
                       f"WHERE s._row IS NULL OR NOT ({same})").fetchone()[0]:
            con.execute(f"DROP TABLE IF EXISTS {stage}")
            _drop(con)
            raise Fallback("the rows read again are not the rows flagged")
        st = Staged(stage, sn.headers, sn.header_line + 1, table, sn.mapping, sn.extra_columns)
        sub = type(res)(res.path)
        set_aside = load_one(con, contract, st, sub, load_id, today)
        sub_counts = (sub.read, sub.loaded, sub.replaced, sub.unchanged, sub.set_aside)
        t["general"] = time.perf_counter() - t0

    # the rest is valid: insert (empty table) or upsert
    t0 = time.perf_counter()
    cols = [c.name for c in table.columns]
    rest = f"SELECT {', '.join(cols)} FROM bulk WHERE NOT _blank AND NOT _bad AND rowid NOT IN (SELECT _rid FROM bulk_looked)"
    if n_dup_keys:
        rest += f" AND {row} NOT IN (SELECT _row FROM bulk_sub)"  # (the flagged ones are out already)
    extra = _derived_columns(con, table.name, load_id)
    target = f"{table.name} ({', '.join([*cols, *extra])})"
    values = ", ".join([*cols, *extra.values()])
    if empty:
        n_new = con.execute(f"INSERT INTO {target} SELECT {values} FROM ({rest})").fetchone()[0]
        n_good, n_same = n_new, 0
    else:
        key_match = " AND ".join(f"w.{k} = g.{k}" for k in table.key)
        same = " AND ".join(f"w.{c} IS NOT DISTINCT FROM g.{c}" for c in cols)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE bulk_good AS
            SELECT {", ".join(f"g.{c}" for c in cols)},
                   w.{table.key[0]} IS NOT NULL AS _exists,
                   coalesce(w.{table.key[0]} IS NOT NULL AND {same}, FALSE) AS _same
            FROM ({rest}) g LEFT JOIN {table.name} w ON {key_match}""")
        n_good, n_new, n_same = con.execute(
            "SELECT count(*), count(*) FILTER (NOT _exists), count(*) FILTER (_same) FROM bulk_good").fetchone()
        if n_good > n_same:
            replace(con, table, "bulk_good", extra)
    t["insert"] = time.perf_counter() - t0

    res.blank_rows = n_blank
    res.read = (n_rows - n_blank - n_sub) + sub_counts[0]
    res.loaded = n_new + sub_counts[1]
    res.replaced = (n_good - n_new) + sub_counts[2]
    res.unchanged = n_same + sub_counts[3]
    res.set_aside = sub_counts[4]
    assert res.read == res.loaded + res.replaced + res.set_aside, "row accounting broken (bulk)"
    _drop(con)
    return set_aside


def _drop(con) -> None:
    for tmp in ("bulk", "bulk_looked", "bulk_dups", "bulk_sub", "bulk_good", "bulk_text", "bulk_rows"):
        con.execute(f"DROP TABLE IF EXISTS {tmp}")
