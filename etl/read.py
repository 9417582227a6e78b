"""Read a CSV/XLSX/XLS file into a staging table of text cells, with each row's number.

Everything is read as text first; casting is the validator's job, so that a cell that fails to
cast is set aside with its value instead of failing the file.

- CSV in UTF-8 goes through DuckDB's own ``read_csv`` (parallel, C++). Other encodings (GBK,
  GB18030, UTF-16 as Excel saves "Unicode text") are decoded in Python and rewritten as UTF-8,
  because DuckDB reads only UTF-8/UTF-16/Latin-1 without the ``encodings`` extension, which would
  have to be downloaded at run time.
- Row numbers are the ones a user sees in Excel or an editor. DuckDB's reader has no line-number
  column, so they are derived from the row's position; when the file has blank lines or quoted
  line breaks, positions and lines diverge and the file is re-read with Python's ``csv`` module,
  which knows each record's line.
- Excel goes through openpyxl (``.xlsx``) or xlrd (``.xls``), not DuckDB's ``read_xlsx``: that
  lives in the ``excel`` extension (a download), and it cannot skip title rows found by content.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from etl.contract import Contract, Table, fold

HEADER_SCAN_ROWS = 30
# what str.strip() removes: every path (DuckDB, Python csv, Excel) trims cells the same way, so
# that the same data loads the same from any file (tabs, line breaks, 　 full-width spaces)
WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
TOTAL_MARKERS = ("合计", "总计", "小计")


class Refused(Exception):
    """The file cannot be read at all; the message says why."""


@dataclass
class Staged:
    """A file's rows as text in DuckDB table ``name``: ``_row`` plus ``c0 .. c{n-1}``."""

    name: str
    headers: list[str]
    header_row: int
    table: Table
    mapping: dict[int, str]               # position -> canonical column
    extra_columns: list[str]
    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # (row, reason, raw line)
    blank_rows: int = 0


def _decode(data: bytes, path: Path) -> tuple[str, str]:
    """Return (text, encoding). UTF-8 (BOM or not), UTF-16 (BOM), else GB18030 (⊇ GBK)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as e:
            raise Refused(f"{path.name}: 文件以UTF-16标记开头但无法按UTF-16解码 (byte {e.start})") from e
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as e:
        raise Refused(
            f"{path.name}: 无法识别文件编码（支持 UTF-8、GBK/GB18030、UTF-16），第 {e.start} 字节处无效"
        ) from e


def _looks_binary(head: bytes) -> bool:
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return False
    return b"\x00" in head[:4096]


def _find_header(rows: list[list[str]], contract: Contract, table_name: str | None, path: Path) -> tuple[int, Table, dict[int, str]]:
    """The header is the first of the top rows that names the most contract columns."""
    candidates = [contract[table_name]] if table_name else [contract[t] for t in contract.order]
    best = None  # (matched, -required_missing, -row) , row, table, mapping
    for r, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        cells = ["" if c is None else str(c) for c in row]
        for t in candidates:
            mapping = t.match_headers(cells)
            matched = len(set(mapping.values()))
            if matched < 2:
                continue
            missing = sum(1 for c in t.required if c.name not in mapping.values())
            rank = (-missing, matched, -r)
            if best is None or rank > best[0]:
                best = (rank, r, t, mapping)
        if best is not None and best[0][0] == 0 and best[1] == r:
            break  # a complete header: take the first one found
    if best is None:
        names = "、".join(t.title for t in candidates)  # with --table, only that table's
        raise Refused(f"{path.name}: 前{HEADER_SCAN_ROWS}行中找不到可识别的表头（应为以下表之一：{names}）")
    _, r, t, mapping = best
    return r, t, mapping


def _check_header(headers: list[str], table: Table, mapping: dict[int, str], path: Path) -> list[str]:
    seen: dict[str, int] = {}
    for pos, name in mapping.items():
        if name in seen:
            raise Refused(
                f"{path.name}: 表头重复：第{seen[name] + 1}列“{headers[seen[name]]}”与第{pos + 1}列“{headers[pos]}”"
                f"都对应“{table.column(name).header}”"
            )
        seen[name] = pos
    missing = [c for c in table.required if c.name not in seen]
    if missing:
        parts = []
        for c in missing:
            hint = table.suggest(c.name, [h for i, h in enumerate(headers) if i not in mapping])
            parts.append(f"“{c.header}”" + (f"（是否为“{hint}”？）" if hint else ""))
        raise Refused(f"{path.name}: {table.title}缺少必填列 " + "、".join(parts))
    return [h for i, h in enumerate(headers) if i not in mapping and str(h).strip()]


def _stage_frame(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> None:
    # cells are text: a column with no value at all (a blank optional column, a header-only
    # file) would otherwise be typed INTEGER by DuckDB and break every text function on it
    cols = ", ".join(f"CAST({c} AS VARCHAR) AS {c}" if c != "_row" else "CAST(_row AS BIGINT) AS _row"
                     for c in frame.columns)
    con.register("_stage_df", frame)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {cols} FROM _stage_df")
    finally:
        con.unregister("_stage_df")


def _rows_to_stage(con, name, rows: list[tuple[int, list]], width: int) -> int:
    """rows: (row number, cells). Fully blank rows are dropped (and counted)."""
    data, numbers, blank = [], [], 0
    for number, cells in rows:
        cells = list(cells[:width]) + [None] * (width - len(cells))
        text = [_cell_text(c) for c in cells]
        if all(t is None for t in text):
            blank += 1
            continue
        data.append(text)
        numbers.append(number)
    frame = pd.DataFrame(data, columns=[f"c{i}" for i in range(width)], dtype=object)
    frame.insert(0, "_row", pd.Series(numbers, dtype="int64"))
    _stage_frame(con, name, frame)
    return blank


def _cell_text(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, float):
        if v != v:  # NaN
            return None
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, bool):
        return "是" if v else "否"
    s = str(v).strip()
    return s or None


def read_excel(con, path: Path, contract: Contract, table_name: str | None, stage: str) -> Staged:
    suffix = path.suffix.lower()
    try:
        if suffix == ".xls":
            import xlrd

            book = xlrd.open_workbook(str(path))
            sheet = book.sheet_by_index(0)
            rows = []
            for r in range(sheet.nrows):
                cells = []
                for c in range(sheet.ncols):
                    cell = sheet.cell(r, c)
                    if cell.ctype == xlrd.XL_CELL_DATE:
                        cells.append(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
                    elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                        cells.append(None)
                    else:
                        cells.append(cell.value)
                rows.append(cells)
        else:
            import openpyxl

            wb = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
            try:
                ws = wb.worksheets[0]
                rows = [list(r) for r in ws.iter_rows(values_only=True)]
            finally:
                wb.close()
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError) as e:
        raise Refused(f"{path.name}: 无法作为Excel文件打开（{type(e).__name__}: {e}）") from e
    except Exception as e:  # openpyxl/xlrd raise their own types for corrupt files
        raise Refused(f"{path.name}: 无法作为Excel文件打开（{type(e).__name__}: {e}）") from e
    if not rows:
        raise Refused(f"{path.name}: 文件为空")
    r, table, mapping = _find_header(rows, contract, table_name, path)
    headers = [_cell_text(c) or "" for c in rows[r]]
    extra = _check_header(headers, table, mapping, path)
    width = len(headers)
    body = [(i + 1, row) for i, row in enumerate(rows) if i > r]  # Excel rows are 1-based
    blank = _rows_to_stage(con, stage, body, width)
    return Staged(stage, headers, r + 1, table, mapping, extra, blank_rows=blank)


def read_csv(con, path: Path, contract: Contract, table_name: str | None, stage: str) -> Staged:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise Refused(f"{path.name}: 无法读取文件（{e.strerror}）") from e
    if not data.strip():
        raise Refused(f"{path.name}: 文件为空")
    if _looks_binary(data):
        raise Refused(f"{path.name}: 不是文本文件（含二进制内容），请上传CSV或Excel")
    text, encoding = _decode(data, path)
    try:
        return _read_text(con, path, text, encoding, contract, table_name, stage)
    except csv.Error as e:  # e.g. a stray quote that runs a cell past the field size limit
        raise Refused(f"{path.name}: 无法按CSV解析（{e}；是否有不配对的引号？）") from e


def _csv_reader(text: str, delim: str):
    # newline="": the csv module sees \r, \n and \r\n itself (files saved on a Mac end lines in \r)
    return csv.reader(io.StringIO(text, newline=""), delimiter=delim)


def _read_text(con, path: Path, text: str, encoding: str, contract: Contract, table_name: str | None, stage: str) -> Staged:
    delim = _delimiter(text)
    # the same parser as for the rows below, so that header record r is line_of_record(r)
    head_rows = list(itertools.islice(_csv_reader(text, delim), HEADER_SCAN_ROWS))
    r, table, mapping = _find_header(head_rows, contract, table_name, path)
    headers = [h.strip() for h in head_rows[r]]
    extra = _check_header(headers, table, mapping, path)
    width = len(headers)
    header_line = _line_of_record(text, r, delim)  # 0-based physical line of the header

    tmp = None
    source = path
    if encoding not in ("utf-8", "utf-8-sig"):
        fd, tmp = tempfile.mkstemp(suffix=".csv")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        source = Path(tmp)
    try:
        staged = _duckdb_stage(con, source, stage, header_line, width, delim)
        if staged is None:  # positions and lines diverge: let Python's csv tell each line
            blank, rejects = _python_stage(con, text, stage, header_line, width, delim)
        else:
            blank, rejects = staged
    finally:
        if tmp:
            os.unlink(tmp)
    return Staged(stage, headers, header_line + 1, table, mapping, extra, rejects=rejects, blank_rows=blank)


def _delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:HEADER_SCAN_ROWS])
    counts = {d: sample.count(d) for d in (",", "\t", ";", "|")}
    return max(counts, key=counts.get) if max(counts.values()) else ","


def _line_of_record(text: str, record: int, delim: str) -> int:
    reader = _csv_reader(text, delim)
    line = 0
    for i, _ in enumerate(reader):
        if i == record:
            return line
        line = reader.line_num
    return line


SPARE_COLUMNS = 4  # read past the header's width to notice rows with more cells than headers


def _duckdb_stage(con, source: Path, stage: str, header_line: int, width: int, delim: str):
    # DuckDB (strict_mode = false) silently drops cells beyond the declared columns; a few spare
    # columns show such rows, and then the Python reader sets them aside as the contract wants
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width + SPARE_COLUMNS)) + "}"
    con.execute("DROP TABLE IF EXISTS reject_errors")
    con.execute("DROP TABLE IF EXISTS reject_scans")
    try:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {stage}_raw AS
                SELECT * FROM read_csv(?, header = false, skip = ?, delim = ?, quote = '"', escape = '"',
                                       columns = {columns}, all_varchar = true, null_padding = true,
                                       ignore_errors = true, store_rejects = true, strict_mode = false,
                                       auto_detect = false)""",
            [str(source), header_line + 1, delim],
        )
    except duckdb.Error:
        # e.g. "The parallel scanner does not support null_padding in conjunction with quoted
        # new lines": a cell with a line break further down the file. Python's reader copes.
        return None
    rejects = con.execute(
        "SELECT line, error_type || ': ' || coalesce(error_message, ''), coalesce(csv_line, '') FROM reject_errors ORDER BY line"
    ).fetchall()
    n_rows = con.execute(f"SELECT count(*) FROM {stage}_raw").fetchone()[0]
    with open(source, "rb") as fh:
        content = fh.read()
    n_lines = content.count(b"\n") + (0 if content.endswith(b"\n") else 1)
    ws = "'" + WHITESPACE.replace("'", "''") + "'"
    spill = " OR ".join(f"nullif(trim(c{i}, {ws}), '') IS NOT NULL" for i in range(width, width + SPARE_COLUMNS))
    too_wide = con.execute(f"SELECT count(*) FROM {stage}_raw WHERE {spill}").fetchone()[0]
    # row numbers are derived from positions, so any rejected line (which shifts the positions
    # after it), a row wider than the header, or a count that disagrees with the lines sends the
    # file to the Python reader
    if rejects or too_wide or n_rows + header_line + 1 != n_lines:
        con.execute(f"DROP TABLE {stage}_raw")
        return None
    cols = ", ".join(f"nullif(trim(c{i}, {ws}), '') AS c{i}" for i in range(width))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {stage} AS
            SELECT * FROM (SELECT (rowid - (SELECT min(rowid) FROM {stage}_raw) + {header_line + 2})::BIGINT AS _row, {cols} FROM {stage}_raw)
            WHERE NOT ({" AND ".join(f"c{i} IS NULL" for i in range(width))})"""
    )
    con.execute(f"DROP TABLE {stage}_raw")
    blank = n_rows - con.execute(f"SELECT count(*) FROM {stage}").fetchone()[0]
    return blank, []


def _python_stage(con, text: str, stage: str, header_line: int, width: int, delim: str):
    reader = _csv_reader(text, delim)
    rows, rejects = [], []
    start = 1
    for record in reader:
        line = start
        start = reader.line_num + 1
        if line <= header_line + 1:
            continue
        if len(record) > width and any(c.strip() for c in record[width:]):
            rejects.append((line, f"无法解析的行（列数{len(record)}多于表头的{width}列）", delim.join(record)))
            continue
        rows.append((line, [c.strip() if c.strip() else None for c in record]))
    blank = _rows_to_stage(con, stage, rows, width)
    return blank, rejects


def read_file(con, path: Path, contract: Contract, table_name: str | None, stage: str = "stage") -> Staged:
    suffix = path.suffix.lower()
    if not path.exists():
        raise Refused(f"{path}: 文件不存在")
    if not path.is_file():
        raise Refused(f"{path.name}: 不是文件")
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return read_excel(con, path, contract, table_name, stage)
    if suffix in (".csv", ".txt", ".tsv"):
        return read_csv(con, path, contract, table_name, stage)
    raise Refused(f"{path.name}: 不支持的文件类型“{suffix}”（请使用 .csv、.xlsx 或 .xls）")
