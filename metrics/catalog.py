"""What the warehouse holds: record counts, the periods with data, the regions, the load history.

The app's frame asks these questions on every page; they read only small bookkeeping tables and
the catalog mart the ETL keeps (mart_catalog: the months and provinces holding records). Pure functions: a DuckDB connection (or cursor) in, plain values
or a DataFrame out.
"""
from __future__ import annotations

import pandas as pd

from metrics.periods import Period

RECORD_TABLES = ("enterprises", "plans", "inspections", "hazards", "penalties")


def record_counts(con) -> dict[str, int]:
    """Rows per record table (an empty warehouse has zeros)."""
    sql = " UNION ALL ".join(f"SELECT '{t}' AS t, count(*) AS n FROM {t}" for t in RECORD_TABLES)
    return {t: int(n) for t, n in con.execute(sql).fetchall()}


def meta(con) -> dict[str, str]:
    """The warehouse's facts (demo flag, demo province, schema version …)."""
    return dict(con.execute("SELECT key, value FROM meta").fetchall())


def periods(con, kind: str = "quarter") -> list[str]:
    """The periods of `kind` ('quarter', 'year', 'month') that hold at least one inspection,
    hazard or case, oldest first, as strings Period.parse accepts ('2025Q4', '2025', '2025-12')."""
    if kind not in ("quarter", "year", "month"):
        raise ValueError(f"kind must be quarter, year or month, not {kind!r}")
    return all_periods(con)[kind]


# What the app's frame asks on every page — the months holding records, the provinces whose
# agencies have records — changes only when the ETL writes. One definition, two uses: the ETL
# stores it as the mart ``mart_catalog`` (etl.marts, in each write's transaction), and a read-only
# reader of a warehouse made before that mart runs the same SELECT over the record tables. One row per
# record table × province of the agency (NULL: an agency not in regions; a hazard has no agency of
# its own) × month of the record's date (NULL for a plan, which has only a year).
CATALOG_MART = "mart_catalog"
_CATALOG_SOURCES = (("inspections", "agency_code", "inspection_date"), ("hazards", None, "found_date"),
                    ("penalties", "agency_code", "filed_date"), ("plans", "agency_code", None))


def _catalog_rows(table: str, agency: str | None, date: str | None) -> str:
    # the month as year * 100 + month: grouping on it is about 3× faster than on date_trunc's timestamp
    agency = agency or "CAST(NULL AS VARCHAR)"
    ym = f"year({date}) * 100 + month({date})" if date else "CAST(NULL AS INTEGER)"
    return f"SELECT DISTINCT '{table}' AS table_name, {agency} AS agency_code, {ym} AS ym FROM {table}"


CATALOG_SQL = (f"SELECT DISTINCT c.table_name, r.province_code, make_date(c.ym // 100, c.ym % 100, 1) AS month "
               f"FROM ({' UNION ALL '.join(_catalog_rows(*s) for s in _CATALOG_SOURCES)}) c "
               f"LEFT JOIN regions r ON r.code = c.agency_code")
# which record tables each question counts (a plan has no month; a hazard counts for no province)
_MONTH_TABLES = ("inspections", "hazards", "penalties")
PROVINCE_TABLES = ("inspections", "penalties", "plans")


def catalog_source(con) -> str:
    """What to read the catalog from: the mart the ETL builds. A connection open for writing (a
    test or a notebook writing records by hand) first gets the marts brought up to date by
    metrics.query.ensure_marts, as every metrics read does. Only a read-only warehouse made before
    the mart (which ensure_marts would refuse with MartsMissing) runs the definition itself over
    the record tables: the app's frame reads the catalog on every page, and must still show —
    with the metrics saying how to rebuild the marts — where ui.data cannot rebuild them (a
    read-only directory)."""
    row = con.execute(
        "SELECT (SELECT readonly FROM duckdb_databases() WHERE database_name = current_database()), "
        "EXISTS (SELECT 1 FROM duckdb_tables() WHERE table_name = ? AND NOT temporary)", [CATALOG_MART]).fetchone()
    if not row[0]:
        from metrics.query import ensure_marts

        ensure_marts(con)
        return CATALOG_MART
    return CATALOG_MART if row[1] else f"({CATALOG_SQL})"


def tables_in(tables) -> str:
    """``table_name IN (…)`` of the catalog's rows for these record tables."""
    return "table_name IN (" + ", ".join(f"'{t}'" for t in tables) + ")"


def all_periods(con) -> dict[str, list[str]]:
    """periods() of every kind from the months holding an inspection, hazard or case."""
    months = [d for (d,) in con.execute(
        f"SELECT DISTINCT month FROM {catalog_source(con)} WHERE {tables_in(_MONTH_TABLES)} "
        "AND month IS NOT NULL ORDER BY month").fetchall()]
    out: dict[str, list[str]] = {"year": [], "quarter": [], "month": []}
    for d in months:
        q = (d.month - 1) // 3 + 1
        for kind, p in (("year", Period(d.year)), ("quarter", Period(d.year, "quarter", q)),
                        ("month", Period(d.year, "month", d.month))):
            if str(p) not in out[kind]:
                out[kind].append(str(p))
    return out


def latest_complete_quarter(con, today=None, quarters: list[str] | None = None) -> str | None:
    """The latest quarter with data that has ended (today's quarter is still being recorded),
    else the latest quarter with data. (`quarters`: periods(con, "quarter") when already known.)"""
    import datetime as dt

    today = today or dt.date.today()
    qs = periods(con, "quarter") if quarters is None else quarters
    done = [q for q in qs if Period.parse(q).end < today]
    return (done or qs or [None])[-1]


def regions(con, province: str, level: str | None = None) -> pd.DataFrame:
    """The regions of a province: code, name, level ('province' | 'city' | 'county'), parent_code,
    city_code, sorted by code."""
    sql = """SELECT code, name, CASE level WHEN '省' THEN 'province' WHEN '市' THEN 'city' ELSE 'county' END AS level,
                    parent_code, city_code
             FROM regions WHERE province_code = ?"""
    df = con.execute(sql + " ORDER BY code", [str(province)]).df()
    return df[df.level == level].reset_index(drop=True) if level else df


def load_history(con, limit: int = 200) -> pd.DataFrame:
    """Past loads, newest first: load_id, run_id, loaded_at, loaded_by, file_name, table_name,
    rows_read, loaded, replaced, unchanged, set_aside, refused, extra_columns."""
    return con.execute(
        """SELECT load_id, run_id, loaded_at, loaded_by, file_name, table_name, rows_read, loaded, replaced,
                  unchanged, set_aside, refused, extra_columns
           FROM load_history ORDER BY load_id DESC LIMIT ?""",
        [int(limit)],
    ).df()


def set_aside(con, run_id: str | None = None, load_id: int | None = None) -> pd.DataFrame:
    """The set-aside (quarantined) rows of one run or one load: file_name, row_number, column_name,
    value, reason, raw."""
    if load_id is not None:
        where, arg = "q.load_id = ?", int(load_id)
    elif run_id is not None:
        where, arg = "h.run_id = ?", str(run_id)
    else:
        raise ValueError("give run_id or load_id")
    return con.execute(
        f"""SELECT q.file_name, q.row_number, q.column_name, q.value, q.reason, q.raw
            FROM quarantine q JOIN load_history h USING (load_id) WHERE {where}
            ORDER BY q.load_id, q.row_number""",
        [arg],
    ).df()
