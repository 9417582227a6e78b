"""Builders for ETL tests: valid rows of every table, and writers for CSV (any encoding) and XLSX.

Rows are dicts keyed by canonical column name; the writers turn them into the Chinese headers users
type (or canonical ones, or any header text a test wants) and keep the dict's column order.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb

from etl import credit_code
from etl.contract import load_contract

TODAY = dt.date(2026, 11, 22)
PROVINCE, CITY, COUNTY, COUNTY2 = "330000", "330100", "330102", "330106"  # 浙江 杭州 上城 西湖

CONTRACT = load_contract()
HEADER = {t: {c.name: c.header for c in CONTRACT[t].columns} for t in CONTRACT.order}


def eid(n: int, county: str = COUNTY) -> str:
    """A valid 统一社会信用代码 for enterprise number n."""
    return credit_code.make(county, n)


def bad_check_char(code: str) -> str:
    """The same code with a wrong check character."""
    chars = credit_code.CREDIT_CHARS
    return code[:17] + chars[(chars.index(code[17]) + 1) % len(chars)]


# ---------------------------------------------------------------- valid rows, one builder per table

def region(code="330199", name="测试区", level="县", parent_code=CITY, **kw) -> dict:
    return dict(code=code, name=name, level=level, parent_code=parent_code, **kw)


def enterprise(n=1, **kw) -> dict:
    row = dict(enterprise_id=eid(n), name=f"测试化工有限公司{n}", county_code=COUNTY,
               industry="危险化学品", key_unit="是")
    row.update(kw)
    return row


def plan(agency_code=COUNTY, year="2024", planned_inspections="120", **kw) -> dict:
    return dict(agency_code=agency_code, year=year, planned_inspections=planned_inspections, **kw)


def inspection(n=1, ent=1, **kw) -> dict:
    row = dict(inspection_id=f"JC{n:04d}", enterprise_id=eid(ent), agency_code=COUNTY,
               inspection_date="2024-03-05", inspection_type="双随机", via_mobile="是", with_expert="否")
    row.update(kw)
    return row


def hazard(n=1, insp=1, **kw) -> dict:
    row = dict(hazard_id=f"YH{n:04d}", inspection_id=f"JC{insp:04d}", found_date="2024-03-05",
               is_major="否", key_matter="否", needs_rectification="是", deadline="2024-04-05",
               rectified_date="2024-03-20")
    row.update(kw)
    return row


def penalty(n=1, insp=1, ent=1, haz=1, **kw) -> dict:
    row = dict(case_id=f"AJ{n:04d}", inspection_id=f"JC{insp:04d}", enterprise_id=eid(ent),
               agency_code=COUNTY, filed_date="2024-03-10", decision_date="2024-04-01",
               fine_company="10000", fine_person="0", for_major_hazard="否", hazard_id=f"YH{haz:04d}",
               transferred="否", review_score="85", case_reported="否")
    row.update(kw)
    return row


def officer(n=1, **kw) -> dict:
    row = dict(officer_id=f"ZF{n:04d}", agency_code=COUNTY, name=f"执法员{n}", post="行政执法", degree="是",
               qualification="否", experience="否", entry_training_days="90", start_date="2020-01-01",
               end_date=None)
    row.update(kw)
    return row


def training(n=1, year="2024", refresher_days="12", **kw) -> dict:
    row = dict(officer_id=f"ZF{n:04d}", year=year, refresher_days=refresher_days)
    row.update(kw)
    return row


def establishment(agency_code=COUNTY, year="2024", posts="30", **kw) -> dict:
    return dict(agency_code=agency_code, year=year, posts=posts, **kw)


BUILDERS = {"regions": region, "enterprises": enterprise, "plans": plan,
            "inspections": inspection, "hazards": hazard, "penalties": penalty,
            "officers": officer, "training": training, "establishment": establishment}


# ---------------------------------------------------------------- writers

def header_row(table: str | None, columns: Sequence[str], headers="zh") -> list[str]:
    """Header text for `columns`: "zh" (the contract's Chinese headers), "canonical", or a dict
    {canonical: text} overriding some of the Chinese ones."""
    out = []
    for c in columns:
        if isinstance(headers, dict) and c in headers:
            out.append(headers[c])
        elif headers == "canonical" or table is None or c not in HEADER[table]:
            out.append(c)
        else:
            out.append(HEADER[table][c])
    return out


def grid(table: str | None, rows: Sequence[dict], columns: Sequence[str] | None = None, headers="zh") -> list[list]:
    """Header row + one list per row (missing keys are blank cells)."""
    if columns is None:
        columns = list(dict.fromkeys(k for r in rows for k in r)) if rows else list(HEADER[table])
    return [header_row(table, columns, headers)] + [[r.get(c) for c in columns] for r in rows]


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return str(v)


def write_csv(path: Path, cells: Iterable[Sequence], *, encoding="utf-8", delimiter=",",
              above: Sequence[Sequence] = (), below: Sequence[Sequence] = (), newline="\r\n") -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    for row in [*above, *cells, *below]:
        w.writerow([_text(v) for v in row])
    path = Path(path)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, cells: Iterable[Sequence], *, above: Sequence[Sequence] = (),
               below: Sequence[Sequence] = (), sheet_title="Sheet1", number_formats: dict[int, str] | None = None) -> Path:
    """cells keep their Python types: dates become Excel date cells, numbers number cells."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet_title
    for row in [*above, *cells, *below]:
        ws.append(list(row))
    for xl_row in ws.iter_rows():
        for cell in xl_row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text, as '=… typed in Excel; openpyxl would store a formula
    for col, fmt in (number_formats or {}).items():
        for (cell,) in ws.iter_rows(min_col=col, max_col=col):
            if isinstance(cell.value, (int, float)):
                cell.number_format = fmt
    wb.save(path)
    return Path(path)


def write(path: Path, table: str | None, rows: Sequence[dict], *, columns=None, headers="zh", **kw) -> Path:
    """Write rows of `table` to `path`; .xlsx → Excel, anything else → CSV (kw: encoding, delimiter, above, below)."""
    cells = grid(table, rows, columns, headers)
    if Path(path).suffix.lower() == ".xlsx":
        return write_xlsx(path, cells, **kw)
    return write_csv(path, cells, **kw)


# ---------------------------------------------------------------- reading the warehouse

def query(db: Path, sql: str, params: Sequence | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def one(db: Path, sql: str, params: Sequence | None = None):
    rows = query(db, sql, params)
    assert len(rows) == 1, rows
    return rows[0][0] if len(rows[0]) == 1 else rows[0]


def set_aside(result, **match) -> list[dict]:
    """The set-aside rows of a run matching all of `match` (file is compared by file name)."""
    out = []
    for r in result.set_aside_rows:
        if all((Path(r[k]).name if k == "file" else r[k]) == v for k, v in match.items()):
            out.append(r)
    return out


def only_file(result):
    assert len(result.files) == 1, result.files
    return result.files[0]


def assert_accounted(result) -> None:
    for f in result.files:
        if not f.refused:
            assert f.read == f.loaded + f.replaced + f.set_aside, f.summary()
