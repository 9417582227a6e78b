"""Scheme parts to SQL: the records of a part, in its window, through its filter, per unit.

One query per table counts every part over that table for all units of a level at once
(``count(*) FILTER (WHERE …)``), so a level's indicators cost one pass over each table.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from metrics import expr
from metrics.periods import Period
from metrics.scheme import Part
from metrics.sources import SOURCES, unit_map_sql


def run(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    """Run a query on its own cursor (a shared connection is not thread-safe) and return a frame."""
    cur = con.cursor()
    try:
        return cur.execute(sql, params or []).df()
    finally:
        cur.close()


def period_variables(period: Period) -> dict[str, object]:
    return {"period_start": period.start, "period_end": period.end, "year_start": period.year_start,
            "period_year": period.year, "period_months": period.months, "months_elapsed": period.months_elapsed}


def _column(name: str) -> str:
    return f's."{name}"'


def condition_sql(part: Part, period: Period) -> str:
    """The WHERE of a part: its window on its date column, and its filter."""
    v = period_variables(period)
    conds = []
    if part.window != "all":
        d = _column(part.date)
        lo = {"period": v["period_start"], "year_to_date": v["year_start"], "as_of": None}[part.window]
        conds.append(f"{d} <= {expr.sql_literal(v['period_end'])}")
        if lo is not None:
            conds.append(f"{d} >= {expr.sql_literal(lo)}")
    if part.where is not None:
        conds.append(expr.compile_sql(part.where, SOURCES[part.table].columns, _column, v))
    return " AND ".join(conds) or "TRUE"


def aggregate_sql(part: Part, period: Period) -> str:
    """The part's number over the rows of a group."""
    cond = condition_sql(part, period)
    if part.agg == "count":
        return f"count(*) FILTER (WHERE {cond})"
    if part.agg == "distinct":
        return f"count(DISTINCT {_column(part.column)}) FILTER (WHERE {cond})"
    amount = expr.compile_sql(part.amount, SOURCES[part.table].columns, _column, period_variables(period))
    return f"coalesce(sum({amount}) FILTER (WHERE {cond}), 0)"


def placed_source_sql(table: str, level: str, province: str, sliced: bool = False) -> str:
    """The table's records with ``unit``: the unit of the level each counts for (rows of other
    provinces, or counting for no unit of the level, are left out). ``sliced``: read the source
    already joined from a province slice (metrics.slice) instead of joining the warehouse."""
    src = SOURCES[table]
    units = unit_map_sql(level, province, src.role)
    rows = f"src_{table}" if sliced else f"({src.select(f'SELECT region FROM ({units})')})"
    return f"SELECT m.unit, s.* FROM {rows} s JOIN ({units}) m ON m.region = s.\"{src.region_column}\""


def sliced_for(con: duckdb.DuckDBPyConnection, province: str) -> bool:
    """Whether `con` is a province slice (metrics.slice) — of `province`, else ValueError."""
    from metrics.slice import slice_province

    held = slice_province(con)
    if held is not None and held != str(province):
        raise ValueError(f"this province slice holds {held}, not {province}")
    return held is not None


def parts_by_unit_sql(parts: list[Part], period: Period, level: str, province: str,
                      sliced: bool = False) -> dict[str, tuple[str, dict]]:
    """For each table used: (SELECT unit, p0, p1 … GROUP BY unit, {part: column alias})."""
    out = {}
    for table in dict.fromkeys(p.table for p in parts):
        aliases, cols = {}, []
        for p in parts:
            if p.table == table and p not in aliases:
                aliases[p] = f"{table}_{len(aliases)}"
                cols.append(f"{aggregate_sql(p, period)} AS {aliases[p]}")
        sql = f"SELECT s.unit, {', '.join(cols)} FROM ({placed_source_sql(table, level, province, sliced)}) s GROUP BY s.unit"
        out[table] = (sql, aliases)
    return out
