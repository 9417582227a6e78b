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
import contextlib
import csv
import datetime as dt
import io
import itertools
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from etl import limits
from etl.contract import Contract, Table, fold

HEADER_SCAN_ROWS = 30
HEAD_BYTES = 1 << 20   # the header is looked for in the first MiB (whole lines)
CHUNK = 16 << 20       # files are streamed in pieces this size, never read whole
BATCH_ROWS = 100_000   # rows the Python reader hands to DuckDB at a time
# what str.strip() removes: every path (DuckDB, Python csv, Excel) trims cells the same way, so
# that the same data loads the same from any file (tabs, line breaks, 　 full-width spaces)
WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
TOTAL_MARKERS = ("合计", "总计", "小计")
# a totals row: the first non-empty cell, whitespace removed, is a marker alone or followed by a
# colon or bracket (合计, 合　计, 合计：, 小计（上城区）)
TOTAL_PATTERN = "(" + "|".join(TOTAL_MARKERS) + ")([:：(（\\[【].*)?"
TOTAL_RE = re.compile(TOTAL_PATTERN, re.S)


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
    # cells that cannot be read as the user sees them (Excel: merged, formula without a value):
    # (row, column position, value shown, reason); the loader sets their rows aside
    cell_issues: list[tuple[int, int, str | None, str]] = field(default_factory=list)


def _first_error(path: Path, encoding: str) -> int | None:
    """The byte offset where the file stops decoding as `encoding`, or None when all of it does
    (streamed: the file is never held whole)."""
    dec = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            try:
                dec.decode(chunk)
            except UnicodeDecodeError as e:
                return offset + max(0, e.start)
            offset += len(chunk)
        try:
            dec.decode(b"", final=True)
        except UnicodeDecodeError:
            return offset
    return None


def _encoding(path: Path, head: bytes) -> str:
    """utf-8-sig, utf-16 (BOM), utf-8, else gb18030 (⊇ GBK); or Refused saying where it breaks."""
    if head.startswith(codecs.BOM_UTF8):
        at = _first_error(path, "utf-8-sig")
        if at is None:
            return "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        at = _first_error(path, "utf-16")
        if at is not None:
            raise Refused(f"{path.name}: 文件以UTF-16标记开头但无法按UTF-16解码 (byte {at})")
        return "utf-16"
    else:
        at = _first_error(path, "utf-8")
        if at is None:
            return "utf-8"
    if _first_error(path, "gb18030") is None:
        return "gb18030"
    # neither: say where the text stops being UTF-8 (GB18030 fails on any UTF-8 Chinese at once)
    line = 1
    with open(path, "rb") as fh:
        done = 0
        while done < at and (chunk := fh.read(min(CHUNK, at - done))):
            line += chunk.count(b"\n")
            done += len(chunk)
    raise Refused(
        f"{path.name}: 无法识别文件编码（支持 UTF-8、GBK/GB18030、UTF-16），第{line}行（第 {at} 字节）处无效"
    )


def _transcode(path: Path, encoding: str) -> Path:
    """A temporary UTF-8 copy of the file (DuckDB reads UTF-8 only without a downloaded extension),
    written piece by piece."""
    fd, tmp = tempfile.mkstemp(suffix=".csv")
    dec = codecs.getincrementaldecoder(encoding)()
    try:
        with open(path, "rb") as fin, os.fdopen(fd, "w", encoding="utf-8", newline="") as fout:
            while chunk := fin.read(CHUNK):
                fout.write(dec.decode(chunk))
            fout.write(dec.decode(b"", final=True))
    except BaseException:   # a full disk: no half-written copy left behind
        os.unlink(tmp)
        raise
    return Path(tmp)


def _head_text(source: Path, encoding: str) -> str:
    """The first MiB of a UTF-8 file as text, cut at the last whole line (all of a smaller file)."""
    with open(source, "rb") as fh:
        head = fh.read(HEAD_BYTES)
        more = bool(fh.read(1))
    if more and b"\n" in head:
        head = head[: head.rfind(b"\n") + 1]
    text = head.decode("utf-8", errors="ignore" if more else "strict")
    return text[1:] if text.startswith("\ufeff") else text


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


def _stage_frame(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame, append: bool = False) -> None:
    # cells are text: a column with no value at all (a blank optional column, a header-only
    # file) would otherwise be typed INTEGER by DuckDB and break every text function on it
    cols = ", ".join(f"CAST({c} AS VARCHAR) AS {c}" if c != "_row" else "CAST(_row AS BIGINT) AS _row"
                     for c in frame.columns)
    con.register("_stage_df", frame)
    try:
        if append:
            con.execute(f"INSERT INTO {name} SELECT {cols} FROM _stage_df")
        else:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {cols} FROM _stage_df")
    finally:
        con.unregister("_stage_df")


def _rows_to_stage(con, name, rows: list[tuple[int, list]], width: int, keep: set[int] = frozenset(),
                   append: bool = False) -> int:
    """rows: (row number, cells). Fully blank rows are dropped (and counted), except those in
    `keep` (a row that only looks blank: its cells are merged or unevaluated formulas)."""
    data, numbers, blank = [], [], 0
    for number, cells in rows:
        cells = list(cells[:width]) + [None] * (width - len(cells))
        text = [_cell_text(c) for c in cells]
        if all(t is None for t in text) and number not in keep:
            blank += 1
            continue
        data.append(text)
        numbers.append(number)
    frame = pd.DataFrame(data, columns=[f"c{i}" for i in range(width)], dtype=object)
    frame.insert(0, "_row", pd.Series(numbers, dtype="int64"))
    _stage_frame(con, name, frame, append)
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


EXCEL_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
# one <mergeCell ref="A5:A8"/> per merged range (any namespace prefix); <f> marks a formula cell
_MERGE_RE = re.compile(rb"<(?:\w+:)?mergeCell\s[^>]*?ref=\"([A-Za-z]+[0-9]+):([A-Za-z]+[0-9]+)\"")
_FORMULA_RE = re.compile(rb"<(?:\w+:)?f[\s>/]")
UNCALCULATED = "公式单元格无计算结果（{formula}），请在Excel中打开、保存后重新导出"
MERGED_KEY = "合并单元格（{ref}）：{header}不能合并，请拆分后逐行填写"
MERGED_ACROSS = "合并单元格（{ref}）：该格被横向合并，没有自己的值，请拆分后逐格填写"


def _check_xlsx_sizes(path: Path) -> None:
    """Refuse a workbook whose parts unpack past the bounds (etl.limits) before parsing any of it:
    the zip directory declares each part's unpacked size, and Python's zip reader stops there."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError):
        return  # openpyxl says what is wrong with it, in read_excel's words
    limits.XLSX_TOTAL.check(sum(i.file_size for i in infos), path.name)
    # by size, whatever a part is called: openpyxl finds the shared strings and the sheets through
    # [Content_Types].xml and the relationships, so a renamed part is read all the same
    largest_xml = max((i.file_size for i in infos if i.filename.lower().endswith(".xml")), default=0)
    limits.SHEET_XML.check(largest_xml, path.name)
    for i in infos:
        name = i.filename.lower()
        if name.endswith(".xml") and not name.startswith(("xl/worksheets/", "[content_types]")) \
                and not name.endswith(".rels") and i.file_size > limits.SHARED_STRINGS.value:
            limits.SHARED_STRINGS.check(i.file_size, path.name)   # any other part this large holds strings


def _bounded_rows(rows, file_name: str) -> list[list]:
    """The sheet's rows as lists, refused past the row or cell bound (a sheet can declare a million
    empty-looking rows, each of thousands of cells, in a few megabytes)."""
    out, cells = [], 0
    max_rows, max_cells = limits.ROWS.value, limits.CELLS.value
    for r in rows:
        row = list(r)
        out.append(row)
        cells += len(row)
        if len(out) > max_rows:
            limits.ROWS.check(len(out), file_name)
        if cells > max_cells:
            limits.CELLS.check(cells, file_name)
    return out


@dataclass
class _Sheet:
    """One worksheet as read: rows of cell values (row i is Excel row i + 1), merged ranges as
    (first row, first col, last row, last col), 1-based inclusive, and formula cells that have no
    calculated value {(row, col): formula text} (1-based)."""
    title: str
    rows: list[list]
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    uncalculated: dict[tuple[int, int], str] = field(default_factory=dict)


class _Workbook:
    """The sheets of an .xlsx (openpyxl, read-only) or .xls (xlrd): head rows for every sheet, the
    whole of the one chosen."""

    def __init__(self, path: Path):
        self.path = path
        self.xls = path.suffix.lower() == ".xls"
        if self.xls:
            import xlrd

            limits.XLS_FILE.check(path.stat().st_size, path.name)  # xlrd reads a whole .xls into memory
            try:
                self.book = xlrd.open_workbook(str(path), formatting_info=True, on_demand=True)
            except NotImplementedError:  # formatting_info is not supported for some BIFF versions
                self.book = xlrd.open_workbook(str(path), on_demand=True)
            self.titles = self.book.sheet_names()
        else:
            import openpyxl

            _check_xlsx_sizes(path)
            self.book = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
            self.titles = self.book.sheetnames

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.book.release_resources() if self.xls else self.book.close()

    def head(self, i: int, n: int) -> list[list]:
        if self.xls:
            sheet = self.book.sheet_by_index(i)
            return [self._xls_row(sheet, r) for r in range(min(n, sheet.nrows))]
        ws = self.book.worksheets[i]
        ws.reset_dimensions()
        return [list(r) for r in ws.iter_rows(max_row=n, values_only=True)]

    def sheet(self, i: int) -> _Sheet:
        if self.xls:
            sheet = self.book.sheet_by_index(i)
            rows = _bounded_rows((self._xls_row(sheet, r) for r in range(sheet.nrows)), self.path.name)
            merges = [(rlo + 1, clo + 1, rhi, chi) for rlo, rhi, clo, chi in getattr(sheet, "merged_cells", [])]
            return _Sheet(self.titles[i], rows, merges)  # .xls always stores formula results
        ws = self.book.worksheets[i]
        # the <dimension> some programs write is wrong (A1 only, or short): read every row there is
        ws.reset_dimensions()
        rows = _bounded_rows(ws.iter_rows(values_only=True), self.path.name)
        merges, has_formula = self._scan_xml(ws)
        uncalculated = self._uncalculated(ws) if has_formula else {}
        return _Sheet(self.titles[i], rows, merges, uncalculated)

    def _xls_row(self, sheet, r: int) -> list:
        import xlrd

        cells = []
        for c in range(sheet.ncols):
            cell = sheet.cell(r, c)
            if cell.ctype == xlrd.XL_CELL_DATE:
                try:
                    cells.append(xlrd.xldate.xldate_as_datetime(cell.value, self.book.datemode))
                except (xlrd.xldate.XLDateError, ValueError, OverflowError):
                    cells.append(cell.value)
            elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                cells.append(None)
            elif cell.ctype == xlrd.XL_CELL_ERROR:
                cells.append(xlrd.error_text_from_code.get(cell.value, "#VALUE!"))
            elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                cells.append(bool(cell.value))
            else:
                cells.append(cell.value)
        return cells

    def _scan_xml(self, ws) -> tuple[list[tuple[int, int, int, int]], bool]:
        """Merged ranges and whether any formula is present, from the sheet's XML in one streamed
        pass over its bytes (openpyxl's read-only mode keeps neither)."""
        from openpyxl.utils.cell import coordinate_to_tuple

        merges, has_formula, tail = [], False, b""
        with self.book._archive.open(ws._worksheet_path) as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                buf = tail + chunk
                has_formula = has_formula or _FORMULA_RE.search(buf) is not None
                for m in _MERGE_RE.finditer(buf):
                    if m.end() > len(tail):  # not already found in the previous chunk's tail
                        (r1, c1), (r2, c2) = (coordinate_to_tuple(x.decode().upper()) for x in m.groups())
                        merges.append((min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)))
                tail = buf[-200:]
        return sorted(set(merges)), has_formula

    def _uncalculated(self, ws) -> dict[tuple[int, int], str]:
        """Formula cells saved without a calculated value (written by a program, never opened in
        Excel). A formula whose result is an empty string is saved as t="str" with an empty <v>:
        that one has a value (blank) and is not reported."""
        import xml.etree.ElementTree as ET

        from openpyxl.utils.cell import coordinate_to_tuple

        out = {}
        with self.book._archive.open(ws._worksheet_path) as fh:
            for _, el in ET.iterparse(fh, events=("end",)):
                tag = el.tag.rsplit("}", 1)[-1]
                if tag == "c":
                    f = v = None
                    for child in el:
                        name = child.tag.rsplit("}", 1)[-1]
                        if name == "f":
                            f = child
                        elif name == "v":
                            v = child
                    if f is not None and (v is None or not v.text) and el.get("t") not in ("str", "s", "inlineStr"):
                        ref = el.get("r")
                        if ref:
                            text = f.text or ("共享公式" if f.get("t") == "shared" else "")
                            out[coordinate_to_tuple(ref)] = "=" + text if f.text else text
                    el.clear()
                elif tag == "row":
                    el.clear()
        return out


def _pick_sheet(book: _Workbook, contract: Contract, table_name: str | None, path: Path) -> tuple[int, list[list]]:
    """The first sheet with a complete header; else the first with a recognisable one (its missing
    columns are then reported); a notes sheet (说明) before the data is passed over."""
    partial = None
    for i in range(len(book.titles)):
        head = book.head(i, HEADER_SCAN_ROWS)
        try:
            _, t, mapping = _find_header(head, contract, table_name, path)
        except Refused:
            continue
        if all(c.name in mapping.values() for c in t.required):
            return i, head
        if partial is None:
            partial = (i, head)
    if partial is not None:
        return partial
    if not book.titles:
        raise Refused(f"{path.name}: 文件为空")
    if len(book.titles) == 1:
        # the message of the single sheet itself (empty, or no recognisable header)
        head = book.head(0, HEADER_SCAN_ROWS)
        if not any(_cell_text(c) is not None for row in head for c in row):
            raise Refused(f"{path.name}: 文件为空")
        _find_header(head, contract, table_name, path)  # raises
    candidates = [contract[table_name]] if table_name else [contract[t] for t in contract.order]
    raise Refused(f"{path.name}: 工作簿的{len(book.titles)}个工作表（{'、'.join(book.titles)}）前{HEADER_SCAN_ROWS}行中"
                  f"都找不到可识别的表头（应为以下表之一：{'、'.join(t.title for t in candidates)}）")


def read_excel(con, path: Path, contract: Contract, table_name: str | None, stage: str) -> Staged:
    try:
        book = _Workbook(path)
        try:
            i, head = _pick_sheet(book, contract, table_name, path)
            sheet = book.sheet(i)
        finally:
            book.close()
    except Refused:
        raise
    except zipfile.BadZipFile as e:
        raise Refused(f"{path.name}: 无法作为Excel文件打开：不是完整的 .xlsx 文件（可能已损坏、未下载完整，"
                      f"或其实是CSV/其他格式改了扩展名）（{type(e).__name__}: {e}）") from e
    except (OSError, KeyError, ValueError, EOFError) as e:
        raise Refused(f"{path.name}: 无法作为Excel文件打开（{type(e).__name__}: {e}）") from e
    except Exception as e:  # openpyxl/xlrd raise their own types for corrupt files
        raise Refused(f"{path.name}: 无法作为Excel文件打开（{type(e).__name__}: {e}）") from e
    rows = sheet.rows
    if not rows:
        raise Refused(f"{path.name}: 文件为空")
    r, table, mapping = _find_header(rows, contract, table_name, path)
    headers = [_cell_text(c) or "" for c in rows[r]]
    extra = _check_header(headers, table, mapping, path)
    width = len(headers)
    issues = _merge_and_formula_issues(sheet, r + 1, headers, table, mapping)
    keep = {row for row, *_ in issues}
    blank = 0
    for b, start in enumerate(range(r + 1, max(len(rows), r + 2), BATCH_ROWS)):  # in pieces: one frame of all would double the memory
        body = [(i + 1, rows[i]) for i in range(start, min(start + BATCH_ROWS, len(rows)))]  # Excel rows are 1-based
        blank += _rows_to_stage(con, stage, body, width, keep=keep, append=b > 0)
    return Staged(stage, headers, r + 1, table, mapping, extra, blank_rows=blank, cell_issues=issues)


def _merge_and_formula_issues(sheet: _Sheet, header_row: int, headers: list[str], table: Table,
                              mapping: dict[int, str]) -> list[tuple[int, int, str | None, str]]:
    """Fill vertical merges down and list the cells that cannot be read as the user sees them.

    Merged cells hold their value in the top-left cell only; Excel shows it across the range.
    - A merge down one column (the same bureau or date for a group of rows) is filled down: every
      row gets the value Excel shows — except in the table's key columns, where one id over several
      rows cannot name each of them: the rows under the first are set aside (合并单元格).
    - A merge across columns (or a block) leaves the covered cells without a value of their own:
      a row with such a cell in a contract column is set aside (合并单元格), not loaded with a blank.
    - A formula saved without its calculated value (a workbook written by a program and never
      opened in Excel) reads as blank: the row is set aside (公式单元格无计算结果), not loaded with
      a blank or a default.
    Returns (Excel row, column position, value shown, reason), for data rows and mapped columns only.
    """
    rows = sheet.rows
    issues: dict[tuple[int, int], tuple[str | None, str]] = {}
    keys = set(table.key)
    for r1, c1, r2, c2 in sheet.merges:
        if r2 <= header_row:
            continue  # a title or a two-row header above the data
        top = rows[r1 - 1][c1 - 1] if r1 - 1 < len(rows) and c1 - 1 < len(rows[r1 - 1]) else None
        ref = f"{_col_letter(c1)}{r1}:{_col_letter(c2)}{r2}"
        if c1 == c2 and r1 > header_row and mapping.get(c1 - 1) not in keys:
            for rr in range(r1 + 1, min(r2, len(rows)) + 1):
                row = rows[rr - 1]
                if len(row) < c1:
                    row.extend([None] * (c1 - len(row)))
                row[c1 - 1] = top
            continue
        for rr in range(max(r1, header_row + 1), r2 + 1):
            for cc in range(c1, c2 + 1):
                if (rr, cc) == (r1, c1) or (cc - 1) not in mapping:
                    continue
                if rr - 1 < len(rows) and _is_total_cells(rows[rr - 1]):
                    continue  # a totals row merged across: set aside as a totals row
                name = mapping[cc - 1]
                reason = (MERGED_KEY.format(ref=ref, header=headers[cc - 1] or table.column(name).header)
                          if c1 == c2 else MERGED_ACROSS.format(ref=ref))
                issues[(rr, cc - 1)] = (_cell_text(top), reason)
    for (rr, cc), formula in sheet.uncalculated.items():
        if rr > header_row and (cc - 1) in mapping:
            issues.setdefault((rr, cc - 1), (formula, UNCALCULATED.format(formula=formula)))
    return [(rr, cc, value, reason) for (rr, cc), (value, reason) in sorted(issues.items())]


def _col_letter(c: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(c)


def _is_total_cells(cells) -> bool:
    """A totals row: its first non-empty cell is 合计/总计/小计 (spaces inside allowed: 合　计),
    alone or followed by a colon or bracket (合计：, 小计（上城区）). The same rule as the SQL in
    etl.validate."""
    for c in cells:
        t = _cell_text(c)
        if t is not None:
            return TOTAL_RE.fullmatch("".join(t.split())) is not None
    return False


def read_csv(con, path: Path, contract: Contract, table_name: str | None, stage: str) -> Staged:
    """Streamed: the file is checked, transcoded and read piece by piece, never held whole."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError as e:
        raise Refused(f"{path.name}: 无法读取文件（{e.strerror}）") from e
    if not head.strip() and size <= len(head):
        raise Refused(f"{path.name}: 文件为空")
    if _looks_binary(head):
        raise Refused(f"{path.name}: 不是文本文件（含二进制内容），请上传CSV或Excel")
    encoding = _encoding(path, head)
    tmp = _transcode(path, encoding) if encoding not in ("utf-8", "utf-8-sig") else None
    source = tmp or path
    try:
        return _read_text(con, path, source, "utf-8" if tmp else encoding, contract, table_name, stage)
    except csv.Error as e:  # e.g. a stray quote that runs a cell past the field size limit
        raise Refused(f"{path.name}: 无法按CSV解析（{e}；是否有不配对的引号？）") from e
    finally:
        if tmp:
            os.unlink(tmp)


def _csv_reader(text, delim: str):
    # newline="": the csv module sees \r, \n and \r\n itself (files saved on a Mac end lines in \r)
    return csv.reader(io.StringIO(text, newline="") if isinstance(text, str) else text, delimiter=delim)


def _read_text(con, path: Path, source: Path, encoding: str, contract: Contract, table_name: str | None,
               stage: str) -> Staged:
    """`source`: the file as UTF-8 (the upload itself, or its transcoded copy)."""
    head = _head_text(source, encoding)
    delim = _delimiter(head)
    # the same parser as for the rows below, so that header record r is line_of_record(r)
    head_rows = list(itertools.islice(_csv_reader(head, delim), HEADER_SCAN_ROWS))
    r, table, mapping = _find_header(head_rows, contract, table_name, path)
    headers = [h.strip() for h in head_rows[r]]
    extra = _check_header(headers, table, mapping, path)
    width = len(headers)
    header_line = _line_of_record(head, r, delim)  # 0-based physical line of the header
    staged = _duckdb_stage(con, source, stage, header_line, width, delim)
    if staged is None:  # positions and lines diverge: let Python's csv tell each line
        blank, rejects = _python_stage(con, source, encoding, stage, header_line, width, delim)
    else:
        blank, rejects = staged
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


_EMPTY_LINE = re.compile(rb"\n(?=\r?\n)")


def _empty_lines(source: Path) -> tuple[int, np.ndarray]:
    """(number of lines, 0-based numbers of the empty lines — nothing, or only a CR, before the
    line feed), streamed. A file's last line counts when it does not end in a line feed."""
    feeds, found, carry, last, first = 0, [], b"", b"", None
    with open(source, "rb") as fh:
        while chunk := fh.read(CHUNK):
            if first is None:
                first = chunk[:2]
            buf = carry + chunk  # a line feed at a piece's end is matched with the next piece
            before = feeds - carry.count(b"\n")
            found += [before + buf.count(b"\n", 0, m.start()) + 1 for m in _EMPTY_LINE.finditer(buf)]
            feeds += chunk.count(b"\n")
            carry, last = buf[-2:], chunk[-1:]
    if first is not None and (first[:1] == b"\n" or first == b"\r\n"):
        found.append(0)
    return feeds + (0 if last in (b"\n", b"") else 1), np.unique(np.array(found, dtype=np.int64))


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
    n_lines, empty = _empty_lines(source)
    empty = empty[empty > header_line]  # DuckDB's reader passes over empty lines: they hold no row
    spill = " OR ".join(f"{_trimmed(f'c{i}')} IS NOT NULL" for i in range(width, width + SPARE_COLUMNS))
    too_wide = con.execute(f"SELECT count(*) FROM {stage}_raw WHERE {spill}").fetchone()[0]
    # row numbers are derived from positions, so any rejected line (which shifts the positions
    # after it), a row wider than the header, or a count that disagrees with the lines sends the
    # file to the Python reader
    if rejects or too_wide or n_rows + header_line + 1 + len(empty) != n_lines:
        con.execute(f"DROP TABLE {stage}_raw")
        return None
    cols = ", ".join(f"{_trimmed(f'c{i}')} AS c{i}" for i in range(width))
    position = f"(rowid - (SELECT min(rowid) FROM {stage}_raw))"
    if len(empty):  # the k-th row is on the k-th line after the header that is not empty
        lines = np.setdiff1d(np.arange(header_line + 1, n_lines, dtype=np.int64), empty) + 1
        con.register("_line_of_row", pd.DataFrame({"_k": np.arange(len(lines), dtype=np.int64), "_line": lines}))
        con.execute(f"CREATE OR REPLACE TEMP TABLE {stage}_lines AS SELECT * FROM _line_of_row")
        con.unregister("_line_of_row")
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {stage} AS
                SELECT * FROM (SELECT l._line::BIGINT AS _row, {cols}
                               FROM (SELECT {position} AS _k, * FROM {stage}_raw) r JOIN {stage}_lines l USING (_k)
                               ORDER BY l._line)
                WHERE NOT ({" AND ".join(f"c{i} IS NULL" for i in range(width))})"""
        )
        con.execute(f"DROP TABLE {stage}_lines")
    else:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {stage} AS
                SELECT * FROM (SELECT ({position} + {header_line + 2})::BIGINT AS _row, {cols} FROM {stage}_raw)
                WHERE NOT ({" AND ".join(f"c{i} IS NULL" for i in range(width))})"""
        )
    con.execute(f"DROP TABLE {stage}_raw")
    # empty lines count as blank rows, as Python's reader (and a person) counts them
    blank = n_rows - con.execute(f"SELECT count(*) FROM {stage}").fetchone()[0] + len(empty)
    return blank, []


_WS_SQL = "'" + WHITESPACE.replace("'", "''") + "'"
_WS_CLASS = "[" + "".join(f"\\x{{{ord(ch):04x}}}" for ch in WHITESPACE) + "]"


def _trimmed(col: str) -> str:
    """SQL: the cell trimmed of WHITESPACE, NULL when nothing is left. trim() with a character list
    is slow (about 3 µs a cell: 6 s for 300,000 rows of 7 cells), so only cells that start or end
    with whitespace go through it."""
    return (f"nullif(CASE WHEN regexp_matches({col}, '^{_WS_CLASS}|{_WS_CLASS}$') THEN trim({col}, {_WS_SQL}) "
            f"ELSE {col} END, '')")


def _python_stage(con, source: Path, encoding: str, stage: str, header_line: int, width: int, delim: str):
    """Python's csv over the file as a stream: rows go to DuckDB BATCH_ROWS at a time."""
    rejects, batch, blank, first = [], [], 0, True
    with open(source, encoding=encoding, newline="") as fh:
        reader = _csv_reader(fh, delim)
        start = 1
        for record in reader:
            line = start
            start = reader.line_num + 1
            if line <= header_line + 1:
                continue
            if len(record) > width and any(c.strip() for c in record[width:]):
                rejects.append((line, f"无法解析的行（列数{len(record)}多于表头的{width}列）", delim.join(record)))
                continue
            if reader.line_num > line and _swallowed_rows(record, width, delim):
                rejects.append((line, f"引号不配对：第{line}行的引号没有闭合，第{line}–{reader.line_num}行被读成了一行，"
                                      "请检查该处的引号后重新导出", delim.join(record)))
                continue
            batch.append((line, [c.strip() if c.strip() else None for c in record]))
            if len(batch) >= BATCH_ROWS:
                blank += _rows_to_stage(con, stage, batch, width, append=not first)
                batch, first = [], False
    blank += _rows_to_stage(con, stage, batch, width, append=not first)
    return blank, rejects


def _swallowed_rows(record: list[str], width: int, delim: str) -> bool:
    """A cell that holds whole rows: a line inside it with about as many delimiters as a row has.
    That is a quote opened and never closed, not a note written over several lines."""
    need = max(2, (width - 1) // 2)
    return any(line.count(delim) >= need for cell in record for line in cell.splitlines()[1:])


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
