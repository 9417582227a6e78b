"""The one compiler: scheme parts to SQL over the stamped marts, for a list of periods.

Every number of a scheme (indicators, hence index, score, warnings, year-on-year, the panels of
the analysts' tools, the KPI tiles, the drill-down lists) is compiled here. A part counts, counts
distinct or sums one table's records of a unit (the mart's stamped unit column: a WHERE, no join),
in its window, through its filter. The records are joined to a small table of the periods on the
part's window and grouped by unit × period, so one period is the one-element case of many: one
query answers every part of every period (``count(*) FILTER (WHERE …)`` per part).

A filter or amount that names a period variable (``period_end`` …) reads it from the periods
table (compiled with stand-in literals that are swapped for the column; where that is ambiguous
it is compiled once per period in a CASE).
"""
from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from metrics import expr
from metrics.growth import growth
from metrics.periods import Period
from metrics.scheme import Part, Scheme
from metrics.sources import ACTIVITY, SOURCES, placed_sql, units_sql

COLUMNS = ["code", "name", "indicator", "value", "numerator", "denominator", "indicator_name", "unit", "assessed"]

# a unit is assessed in a period when it has an inspection, a hazard found or a case filed in it
ACTIVITY_PARTS = [Part(t, "count", window="period", date=SOURCES[t].date) for t in ACTIVITY]


class MartsMissing(RuntimeError):
    """A read-only warehouse made before the marts existed: a write (any load) builds them."""


def run(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    """Run a query on its own cursor (a shared connection is not thread-safe) and return a frame."""
    cur = con.cursor()
    try:
        return cur.execute(sql, params or []).df()
    finally:
        cur.close()


def ensure_marts(con: duckdb.DuckDBPyConnection) -> None:
    """Make sure ``con`` reads up-to-date marts. A warehouse file is written only by the ETL, which
    rebuilds them in every write (etl.warehouse.write), so a read-only connection is trusted as is.
    A connection open for writing (a test or a notebook inserting records by hand) gets them
    rebuilt here when its records changed, through the very build a load runs (etl.marts)."""
    from etl import marts

    cur = con.cursor()
    try:
        readonly = cur.execute("SELECT readonly FROM duckdb_databases() "
                               "WHERE database_name = current_database()").fetchone()[0]
        if readonly:
            if not marts.present(cur):
                raise MartsMissing("数据仓库缺少汇总表（marts）：它建于旧版本，请重新导入一次数据或运行 "
                                   "`python -m etl marts` 重建后再查看")
        else:
            marts.refresh(cur)
    finally:
        cur.close()


def period_variables(period: Period) -> dict[str, object]:
    return {"period_start": period.start, "period_end": period.end, "year_start": period.year_start,
            "period_year": period.year, "period_months": period.months, "months_elapsed": period.months_elapsed}


def _column(name: str) -> str:
    return f's."{name}"'


def condition_sql(part: Part, period: Period) -> str:
    """The WHERE of a part for one period: its window on its date column, and its filter
    (the drill-down's and explain's record lists use it with the compiler's own pieces)."""
    return _window_sql(part, {k: expr.sql_literal(v) for k, v in period_variables(period).items()},
                       ) + " AND " + _per_period(part.where, part.table, [period], "TRUE")


def amount_sql(part: Part, period: Period) -> str:
    """A sum part's amount for one period."""
    return _per_period(part.amount, part.table, [period], "0")


# --- period variables inside filters -------------------------------------------------------------
def _names(node: expr.Node) -> set[str]:
    """The column and variable names an expression uses."""
    if isinstance(node, expr.Name):
        return {node.name}
    out: set[str] = set()
    for attr in ("arg", "left", "right"):
        child = getattr(node, attr, None)
        if isinstance(child, expr.Node):
            out |= _names(child)
    return out


_SENTINELS = [  # stand-ins for the period variables, swapped for the periods table's columns
    {"period_start": dt.date(1901, 2, 3), "period_end": dt.date(1901, 4, 5), "year_start": dt.date(1901, 6, 7),
     "period_year": 190108.25, "period_months": 190109.25, "months_elapsed": 190110.25},
    {"period_start": dt.date(1902, 3, 4), "period_end": dt.date(1902, 5, 6), "year_start": dt.date(1902, 7, 8),
     "period_year": 290108.75, "period_months": 290109.75, "months_elapsed": 290110.75},
]


def _per_period(node: expr.Node | None, table: str, periods: list[Period], default: str) -> str:
    """SQL of a filter or amount. With one period, its values are literals; with several, a period
    variable becomes a column of the periods table ``q`` (compiled with stand-in literals that are
    then swapped for ``q.<variable>``; two different stand-in sets must give the same SQL, else it
    is compiled once per period in a CASE)."""
    if node is None:
        return default
    cols = SOURCES[table].columns
    if len(periods) == 1 or not (_names(node) & set(expr.PERIOD_VARIABLES)):
        return expr.compile_sql(node, cols, _column, period_variables(periods[0]))
    swapped = []
    for stand_in in _SENTINELS:
        sql = expr.compile_sql(node, cols, _column, stand_in)
        for name, v in stand_in.items():
            sql = sql.replace(expr.sql_literal(v), f"q.{name}")
        swapped.append(sql)
    if swapped[0] == swapped[1]:
        return swapped[0]
    whens = " ".join(f"WHEN {i} THEN {expr.compile_sql(node, cols, _column, period_variables(p))}"
                     for i, p in enumerate(periods))
    return f"(CASE q.pid {whens} END)"


def _window_sql(part: Part, q: dict[str, str]) -> str:
    """The part's window on its date column; ``q`` maps period_start/period_end/year_start to SQL."""
    if part.window == "all":
        return "TRUE"
    d = _column(part.date)
    lo = {"period": q["period_start"], "year_to_date": q["year_start"], "as_of": None}[part.window]
    return f"{d} <= {q['period_end']}" + (f" AND {d} >= {lo}" if lo else "")


def _aggregate(part: Part, periods: list[Period]) -> str:
    cond = _per_period(part.where, part.table, periods, "TRUE")
    if part.agg == "count":
        return f"count(*) FILTER (WHERE {cond})"
    if part.agg == "distinct":
        return f'count(DISTINCT s."{part.column}") FILTER (WHERE {cond})'
    amount = _per_period(part.amount, part.table, periods, "0")
    return f"coalesce(sum({amount}) FILTER (WHERE {cond}), 0)"


def _bounds(part: Part, periods: list[Period]) -> str:
    """A plain date range on the mart holding every period's window: lets the scan skip the row
    groups outside it (the marts are sorted by province and date)."""
    if part.window == "all":
        return "TRUE"
    d = _column(part.date)
    hi = expr.sql_literal(max(p.end for p in periods))
    if part.window == "as_of":
        return f"{d} <= {hi}"
    lo = min(p.start if part.window == "period" else p.year_start for p in periods)
    return f"{d} BETWEEN {expr.sql_literal(lo)} AND {hi}"


def parts_sql(parts: list[Part], periods: list[Period], level: str, province: str, *,
              units: str | None = None, unit_col: str | None = None, only: str | None = None,
              by: str | None = None) -> tuple[str, dict[Part, str]]:
    """One query: a row per unit × period (code, name, pid) with a column per part.

    The units are those of ``level`` in ``province`` (every one, records or not), or the rows of
    ``units`` (a SELECT code, name). ``unit_col``/``only`` place records otherwise (see
    metrics.sources.placed_sql). ``by`` groups by that mart column instead of the unit (the
    drill-down's enterprises): then the rows are the values that have a record in some part."""
    names = list(expr.PERIOD_VARIABLES)
    rows = ", ".join("(" + ", ".join([str(i)] + [expr.sql_literal(period_variables(p)[n]) for n in names]) + ")"
                     for i, p in enumerate(periods))
    ctes = [f"periods(pid, {', '.join(names)}) AS (VALUES {rows})"]
    groups: dict[tuple, list[Part]] = {}
    for p in parts:
        groups.setdefault((p.table, p.window, p.date if p.window != "all" else None), []).append(p)
    alias: dict[Part, str] = {}
    q = {n: f"q.{n}" for n in ("period_start", "period_end", "year_start")}
    key = f's."{by}"' if by else "s.unit"
    selects = []
    for g, members in enumerate(groups.values()):
        first = members[0]
        cols = []
        for p in members:
            alias[p] = f"c{len(alias)}"
            cols.append(f"{_aggregate(p, periods)} AS {alias[p]}")
        win = _window_sql(first, q)
        join = "CROSS JOIN periods q" if win == "TRUE" else f"JOIN periods q ON {win}"
        extra = (by,) if by else ()
        src = placed_sql(first.table, level, province, extra, unit_col=unit_col, only=only)
        ctes.append(f"g{g} AS (SELECT {key} AS k, q.pid, {', '.join(cols)} "
                    f"FROM ({src} AND {_bounds(first, periods)}) s {join} GROUP BY ALL)")
        selects.append((g, [alias[p] for p in members]))
    if by:
        keys = " UNION ".join(f"SELECT k, pid FROM g{g}" for g, _ in selects)
        ctes.append(f"base AS (SELECT k AS code, CAST(NULL AS VARCHAR) AS name, pid FROM ({keys}) WHERE k IS NOT NULL)")
    else:
        ctes.append(f"units AS ({units or units_sql(level, province)})")
        ctes.append("base AS (SELECT u.code, u.name, q.pid FROM units u CROSS JOIN periods q)")
    cols = ", ".join(f"CAST(coalesce(g{g}.{a}, 0) AS DOUBLE) AS {a}" for g, names_ in selects for a in names_)
    joins = " ".join(f"LEFT JOIN g{g} ON g{g}.k = b.code AND g{g}.pid = b.pid" for g, _ in selects)
    sql = (f"WITH {', '.join(ctes)}\nSELECT b.code, b.name, b.pid, {cols} FROM base b {joins} "
           f"ORDER BY b.pid, b.code")
    return sql, alias


def parts_frame(con: duckdb.DuckDBPyConnection, parts: list[Part], periods: list[Period], level: str,
                province: str, **how) -> tuple[pd.DataFrame, dict[Part, str]]:
    """``parts_sql`` run: the wide frame (code, name, pid, a column per part) and the columns."""
    ensure_marts(con)
    parts = list(dict.fromkeys(parts))
    sql, alias = parts_sql(parts, periods, level, province, **how)
    return run(con, sql), alias


def indicator_frame(con: duckdb.DuckDBPyConnection, periods: list[Period], level: str, province: str,
                    scheme: Scheme, codes: list[str]) -> pd.DataFrame:
    """The long frame of ``codes`` for every unit of the level × period: period, code, name,
    indicator, value, numerator, denominator, indicator_name, unit, assessed (metrics.indicators
    states the rules: a ratio over 0 is NA, units without records are not assessed)."""
    cols = ["period", *COLUMNS]
    if not periods:
        return pd.DataFrame(columns=cols)
    if any(scheme.indicator(c).growth_of for c in codes):
        return _with_growth(con, periods, level, province, scheme, codes)
    inds = [scheme.indicator(c) for c in codes]
    parts = [p for i in inds for p in (i.numerator, i.denominator) if p is not None] + ACTIVITY_PARTS
    wide, alias = parts_frame(con, parts, periods, level, province)
    active = sum(wide[alias[p]] for p in ACTIVITY_PARTS) > 0
    frames = []
    for order, ind in enumerate(inds):
        num = wide[alias[ind.numerator]].astype(float)
        if ind.denominator is None:
            den = pd.Series(np.nan, index=wide.index)
            val = num
        else:
            den = wide[alias[ind.denominator]].astype(float)
            val = (num / den.where(den != 0)).where(den != 0)
        frames.append(pd.DataFrame({"pid": wide["pid"], "code": wide["code"], "name": wide["name"], "ord": order,
                                    "indicator": ind.code, "value": val, "numerator": num, "denominator": den,
                                    "indicator_name": ind.name, "unit": ind.unit, "assessed": active}))
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True).sort_values(["pid", "code", "ord"], kind="stable")
    out.insert(0, "period", out["pid"].map({i: str(p) for i, p in enumerate(periods)}))
    out["assessed"] = out["assessed"].astype(bool)
    return out[cols].reset_index(drop=True)


def _with_growth(con: duckdb.DuckDBPyConnection, periods: list[Period], level: str, province: str,
                 scheme: Scheme, codes: list[str]) -> pd.DataFrame:
    """indicator_frame where some codes are year-on-year growth of other indicators
    (``growth = "fines_total"``): the other indicators are compiled for the periods and the same
    periods a year earlier in one query; a growth row has numerator = the other indicator's value
    now, denominator = its value a year earlier, value = metrics.growth.growth (methodology §4: NA where
    then is 0 or either is NA)."""
    inds = {c: scheme.indicator(c) for c in codes}
    bases = list(dict.fromkeys(i.growth_of for i in inds.values() if i.growth_of))
    plain = [c for c in codes if not inds[c].growth_of]
    ago = {str(p): str(p.year_ago()) for p in periods}
    every = list(dict.fromkeys([*periods, *(p.year_ago() for p in periods)]))
    long = indicator_frame(con, every, level, province, scheme, list(dict.fromkeys(plain + bases)))
    now = long[long["period"].isin(ago)]
    value = long.set_index(["period", "code", "indicator"])["value"]
    frames = [now[now["indicator"].isin(plain)]]
    for c in codes:
        base = inds[c].growth_of
        if not base:
            continue
        g = now[now["indicator"] == base].copy()
        num = g["value"].astype(float)
        then = pd.MultiIndex.from_arrays([g["period"].map(ago), g["code"], g["indicator"]])
        den = pd.Series(value.reindex(then).to_numpy(dtype=float), index=g.index)
        g["numerator"], g["denominator"] = num, den
        g["value"] = growth(num, den)
        g["indicator"], g["indicator_name"], g["unit"] = c, inds[c].name, inds[c].unit
        frames.append(g)
    out = pd.concat(frames, ignore_index=True)
    order = {c: k for k, c in enumerate(codes)}
    pids = {str(p): k for k, p in enumerate(periods)}
    out = out.assign(_p=out["period"].map(pids), _o=out["indicator"].map(order))
    out = out.sort_values(["_p", "code", "_o"], kind="stable")
    return out[["period", *COLUMNS]].reset_index(drop=True)


def part_records_sql(part: Part, period: Period, level: str, province: str, unit: str,
                     extra: tuple[str, ...] = (), unit_col: str | None = None) -> str:
    """The records one part counts (or sums) for one unit and period, with the source's columns
    (+ ``amount`` for a sum, + ``extra`` mart columns): the rows behind the compiler's number."""
    src = SOURCES[part.table]
    amount = f", {amount_sql(part, period)} AS amount" if part.agg == "sum" else ""
    order = f's."{part.column}", s."{src.key}"' if part.agg == "distinct" else f's."{src.key}"'
    placed = placed_sql(part.table, level, province, extra, unit_col=unit_col, only=str(unit))
    return (f"SELECT s.* EXCLUDE (unit){amount} FROM ({placed}) s "
            f"WHERE s.unit = {expr.sql_literal(str(unit))} AND {condition_sql(part, period)} ORDER BY {order}")
