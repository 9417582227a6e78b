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

The same compiler fills the panel mart at every write (``build_panel``: every installed part by
unit × month, or × quarter and year where a part does not add up over months) and reads it back
(``parts_frame``: the parts and periods the panel holds come from it, the rest from the stamped
records), so a number read from the panel is the number compiled from the records.
"""
from __future__ import annotations

import collections
import contextlib
import contextvars
import datetime as dt
import hashlib
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from metrics import expr
from metrics.growth import growth
from metrics.periods import Period
from metrics.scheme import Part, Scheme
from metrics.sources import ACTIVITY, SOURCES, mart_table, placed_sql, stored_marts, switched, unit_column, units_sql

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


def run_one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple | None:
    """The first row of a query run on its own cursor, as a tuple (None: no row). For one value
    asked on every metrics call, where building a frame cost ten times the query."""
    cur = con.cursor()
    try:
        return cur.execute(sql, params or []).fetchone()
    finally:
        cur.close()


# what ensure_marts and panel_serves learned of a read-only warehouse, under the path of the
# instance that read it (etl.warehouse.connect_read's private link: one file, never another):
# {path: {"panel": rows of the panel's parts}}. A page's first run asked both again on every
# metrics call (two catalog queries each, 0.1–0.2 s of a national cold overview).
_READ_ONLY: collections.OrderedDict[str, dict] = collections.OrderedDict()
_READ_ONLY_MAX = 16


def ensure_marts(con: duckdb.DuckDBPyConnection) -> str | None:
    """Make sure ``con`` reads up-to-date marts. A warehouse file is written only by the ETL, which
    rebuilds them in every write (etl.warehouse.write), so a read-only connection is trusted as is.
    A connection open for writing (a test or a notebook inserting records by hand) gets them
    rebuilt here when its records changed, through the very build a load runs (etl.marts).
    Returns the key under which a read-only warehouse opened by etl.warehouse.connect_read is
    remembered (checked once per open file), else None."""
    from etl import marts, warehouse

    cur = con.cursor()
    try:
        readonly, path = cur.execute("SELECT readonly, path FROM duckdb_databases() "
                                     "WHERE database_name = current_database()").fetchone()
        if readonly:
            if path in _READ_ONLY:
                return path
            if not marts.present(cur):
                raise MartsMissing("数据仓库缺少汇总表（marts）：它建于旧版本，请重新导入一次数据或运行 "
                                   "`python -m etl marts` 重建后再查看")
            if path and warehouse.is_reader_link(path):
                _READ_ONLY[path] = {}
                while len(_READ_ONLY) > _READ_ONLY_MAX:
                    _READ_ONLY.popitem(last=False)
                return path
        else:
            marts.refresh(cur)
    finally:
        cur.close()
    return None


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


def _conjuncts(node: expr.Node) -> list[expr.Node]:
    if isinstance(node, expr.Binary) and node.op == "and":
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node]


def _prefilter(members: list[Part]) -> str:
    """A WHERE that keeps every record some member could count: the OR of each member's filter
    conjuncts that name no period variable. Applied before the join to the periods, so that an
    as-of part over many periods (the backlog of major hazards) joins only its candidates."""
    alts = []
    for p in members:
        static = [c for c in (_conjuncts(p.where) if p.where is not None else [])
                  if not (_names(c) & set(expr.PERIOD_VARIABLES))]
        if not static:
            return "TRUE"
        alts.append(" AND ".join(expr.compile_sql(c, SOURCES[p.table].columns, _column, {}) for c in static))
    return "(" + " OR ".join(dict.fromkeys(alts)) + ")"


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}
_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "=": None}


def _implied(node: expr.Node, table: str) -> set[str]:
    """Conditions on the periods join implied by one filter conjunct that compares a date column
    with period_start or period_end (period_start <= period_end): "the date is on or before the
    period's end" (a deadline due by then) or "the date is empty or on or after the period's start"
    (a hazard still open at the period's start). A record failing them cannot count."""
    negated = isinstance(node, expr.Unary) and node.op == "not"
    cmp = node.arg if negated else node
    if not (isinstance(cmp, expr.Binary) and cmp.op in _FLIP):
        return set()
    left, right, op = cmp.left, cmp.right, cmp.op
    if isinstance(left, expr.Name) and left.name in ("period_start", "period_end"):
        left, right, op = right, left, _FLIP[op]
    cols = SOURCES[table].columns
    if not (isinstance(left, expr.Name) and cols.get(left.name) == expr.DATE and isinstance(right, expr.Name)
            and right.name in ("period_start", "period_end")):
        return set()
    col = _column(left.name)
    if negated:
        op = _NEGATE[op]  # NOT coalesce(col op var, FALSE): col empty, or the opposite comparison
        if op in (">", ">="):
            return {f"coalesce({col}, DATE '9999-12-31') >= q.period_start"}
        return set()
    if op in ("<", "<=", "="):
        return {f"{col} <= q.period_end"}
    return {f"coalesce({col}, DATE '9999-12-31') >= q.period_start"}  # col > / >= a bound ≥ the start
    # (the empty date as the last day: a plain inequality, so the join stays a range join)


def _join_bounds(members: list[Part]) -> list[str]:
    """The conditions every member's filter implies (``_implied``), added to the periods join:
    an as-of part over many periods (the hazards still to be rectified) then joins a record only
    to the periods it can count in, not to every period after its date."""
    common = None
    for p in members:
        got = set().union(*(_implied(c, p.table) for c in _conjuncts(p.where))) if p.where is not None else set()
        common = got if common is None else common & got
        if not common:
            return []
    return sorted(common or ())


def parts_sql(parts: list[Part], periods: list[Period], level: str, province: str, *,
              units: str | None = None, unit_col: str | None = None, only: str | None = None,
              by: str | tuple[str, ...] | None = None) -> tuple[str, dict[Part, str]]:
    """One query: a row per unit × period (code, name, pid) with a column per part.

    The units are those of ``level`` in ``province`` (every one, records or not), or the rows of
    ``units`` (a SELECT code, name). ``unit_col``/``only`` place records otherwise (see
    metrics.sources.placed_sql). ``by`` groups by that mart column instead of the unit (the
    drill-down's enterprises): then the rows are the values that have a record in some part
    (several columns: ``code`` is a struct of them, as the panel mart is built). A blank value of
    one column is no row; a tuple's struct is never blank, so ``by=(column,)`` keeps the records
    without one (the bulletin's 未登记 industry)."""
    names = list(expr.PERIOD_VARIABLES)
    rows = ", ".join("(" + ", ".join([str(i)] + [expr.sql_literal(period_variables(p)[n]) for n in names]) + ")"
                     for i, p in enumerate(periods))
    ctes = [f"periods(pid, {', '.join(names)}) AS (VALUES {rows})"]
    groups: dict[tuple, list[Part]] = {}
    for p in parts:
        groups.setdefault((p.table, p.window, p.date if p.window != "all" else None), []).append(p)
    alias: dict[Part, str] = {}
    q = {n: f"q.{n}" for n in ("period_start", "period_end", "year_start")}
    if isinstance(by, tuple):
        key = "struct_pack(" + ", ".join(f'{c} := s."{c}"' for c in by) + ")"
    else:
        key = f's."{by}"' if by else "s.unit"
    selects = []
    for g, members in enumerate(groups.values()):
        first = members[0]
        cols = []
        for p in members:
            alias[p] = f"c{len(alias)}"
            cols.append(f"{_aggregate(p, periods)} AS {alias[p]}")
        win = _window_sql(first, q)
        on = " AND ".join(c for c in (win, *_join_bounds(members)) if c != "TRUE")
        join = f"JOIN periods q ON {on}" if on else "CROSS JOIN periods q"
        extra = (by if isinstance(by, tuple) else (by,)) if by else ()
        src = placed_sql(first.table, level, province, extra, unit_col=unit_col, only=only)
        ctes.append(f"g{g} AS (SELECT {key} AS k, q.pid, {', '.join(cols)} "
                    f"FROM ({src} AND {_bounds(first, periods)} AND {_prefilter(members)}) s {join} GROUP BY ALL)")
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
    """The wide frame (code, name, pid, a column per part) and the columns: the parts the panel
    mart holds for these periods are read from it, the others compiled over the stamped facts
    (``parts_sql``); the same frame either way."""
    checked = ensure_marts(con)
    parts = list(dict.fromkeys(parts))
    served = panel_serves(con, parts, periods, level, checked=checked, **how)
    if not served:
        sql, alias = parts_sql(parts, periods, level, province, **how)
        return run(con, sql), alias
    how = {k: v for k, v in how.items() if k != "by"}
    sql, alias = panel_sql(served, periods, level, province, **how)
    wide = run(con, sql)
    rest = [p for p in parts if p not in alias]
    if rest:
        sql, more = parts_sql(rest, periods, level, province, **how)
        facts = run(con, sql)
        if not (facts["code"].equals(wide["code"]) and facts["pid"].equals(wide["pid"])):
            raise AssertionError("panel and facts frames disagree on their units")  # same base, same order
        for p in rest:
            alias[p] = f"f{len(alias)}"
            wide[alias[p]] = facts[more[p]].to_numpy()
    return wide, alias


# --- the panel mart: a unit × period panel of every installed part's value ------------------------
# Built with the other marts in every write (etl.marts.build calls build_panel). Two kinds of part:
# - additive (a count or a sum whose filter and amount name no period variable): one row per
#   unit × month of the part's date (undated, window "all": one row, month NULL); any period's value
#   is the sum over its months, so every period of every kind is exact;
# - the others (distinct counts, filters naming period_end …): the compiler's own value for every
#   quarter and year from the first to the last year holding activity (PANEL_PERIODS lists them);
#   other periods (months, years beyond the data) are compiled from the stamped facts.
# A placement is the mart column a record is placed by: each level's unit, or the whole province
# (province_code: the KPI tiles and the bulletin's province totals).
# Both panel tables are sorted by placement and province only: a read takes one placement of one
# province (a few thousand to tens of thousands of rows, within one or two of DuckDB's row groups
# of 122,880), so sorting further (part, unit, month) skipped nothing and cost a third of the build
# of mart_panel.
PANEL, PANEL_EXACT, PANEL_PARTS, PANEL_PERIODS = "mart_panel", "mart_panel_exact", "mart_panel_parts", "mart_panel_periods"
PANEL_TABLES = (PANEL, PANEL_EXACT, PANEL_PARTS, PANEL_PERIODS)
PLACEMENTS = {"province_unit": "province", "city_unit": "city", "county_unit": "county", "province_code": "province"}
_PANEL_ON = contextvars.ContextVar("panel_on", default=True)


def facts_only():
    """Compile every part over the stamped facts, ignoring the panel mart (tests, benchmarks)."""
    return switched(_PANEL_ON, False)


def part_key(part: Part) -> str:
    """A stable name for a part's definition: its table, aggregate, window and the SQL of its
    filter and amount (so the same definition written twice, or in another scheme, is one part)."""
    cols = SOURCES[part.table].columns

    def sql(node):
        return None if node is None else expr.compile_sql(node, cols, _column, _SENTINELS[0])

    date = part.date if part.window != "all" else None
    text = repr((part.table, part.agg, part.column, part.window, date, sql(part.where), sql(part.amount)))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def additive(part: Part) -> bool:
    """A count or sum whose filter and amount name no period variable: the sum of its months."""
    uses = set()
    for node in (part.where, part.amount):
        if node is not None:
            uses |= _names(node)
    return part.agg in ("count", "sum") and not (uses & set(expr.PERIOD_VARIABLES))


_INSTALLED: dict[tuple, list[Part]] = {}


def installed_parts(directory: Path | None = None) -> list[Part]:
    """Every part of the installed schemes (each metrics/schemes/*.toml that loads), the KPI tiles'
    and the activity counts: the parts the panel mart holds. Cached on the files' times."""
    from metrics.scheme import SCHEME_DIR, SchemeError, load_scheme

    files = sorted(Path(directory or SCHEME_DIR).glob("*.toml"))
    stamp = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    if stamp not in _INSTALLED:
        parts = list(ACTIVITY_PARTS)
        for f in files:
            try:
                scheme = load_scheme(f)
            except (SchemeError, ValueError, OSError):
                continue  # not a whole scheme (indicators.toml) or a broken one: refused when used,
                          # never a reason for a load to fail
            parts += [p for i in scheme.indicators.values() for p in (i.numerator, i.denominator) if p is not None]
        keyed = {}
        for p in parts:
            keyed.setdefault(part_key(p), p)
        _INSTALLED.clear()
        _INSTALLED[stamp] = list(keyed.values())
    return _INSTALLED[stamp]


def _exact_periods(con: duckdb.DuckDBPyConnection) -> list[Period]:
    """Every quarter and year from the first to the last year holding an inspection, hazard or case."""
    years = " UNION ALL ".join(f"SELECT min({SOURCES[t].date}) AS lo, max({SOURCES[t].date}) AS hi "
                               f"FROM {mart_table(t)}" for t in ACTIVITY)
    lo, hi = con.execute(f"SELECT year(min(lo)), year(max(hi)) FROM ({years})").fetchone()
    if lo is None:
        return []
    return [p for y in range(lo, hi + 1) for p in (*(Period(y, "quarter", q) for q in range(1, 5)), Period(y))]


def build_panel(con: duckdb.DuckDBPyConnection, parts: list[Part] | None = None) -> None:
    """(Re)build the panel mart from the stamped marts just built (etl.marts.build, in the write's
    transaction): ``mart_panel`` (additive parts by month), ``mart_panel_exact`` (the others, per
    quarter and year), ``mart_panel_parts`` and ``mart_panel_periods`` (what they hold)."""
    with _small_joins_loop(con), stored_marts():
        _build_panel(con, installed_parts() if parts is None else parts)


# every range join of the panel's build pairs the facts with the list of periods (a few dozen
# rows): a nested loop streams the facts past them, where DuckDB's default for more than 5 rows
# (a piecewise merge join) sorts the facts first — twice the build's time for the same rows
PANEL_LOOP_JOIN_ROWS = 256


@contextlib.contextmanager
def changed_setting(con: duckdb.DuckDBPyConnection, name: str, change):
    """Within: DuckDB's setting ``name`` at ``change(its current value)``; the connection's own value
    comes back afterwards (the builds' tuning of one statement must not outlive it)."""
    before = con.execute(f"SELECT current_setting('{name}')").fetchone()[0]
    con.execute(f"SET {name} = {expr.sql_literal(change(before))}")
    try:
        yield
    finally:
        with contextlib.suppress(duckdb.Error):  # (a failed build's transaction refuses it: its error stands)
            con.execute(f"SET {name} = {expr.sql_literal(before)}")


def _small_joins_loop(con: duckdb.DuckDBPyConnection):
    return changed_setting(con, "nested_loop_join_threshold", lambda now: max(int(now), PANEL_LOOP_JOIN_ROWS))


def _build_panel(con: duckdb.DuckDBPyConnection, parts: list[Part]) -> None:
    keyed = {part_key(p): p for p in parts}
    add = {k: p for k, p in keyed.items() if additive(p)}
    exact = {k: p for k, p in keyed.items() if not additive(p)}
    # additive: one pass per (table, date) over its mart, grouped by the agency (the column that
    # places the records: a few thousand values) × month, given the agency's units by the marts' own
    # rule (etl.marts.units_of: half the work of grouping by the four unit columns themselves), then
    # summed per placement and unpivoted to (placement, province, unit, month, part, value)
    from etl.marts import units_of

    groups: dict[tuple, dict[str, Part]] = {}
    for k, p in add.items():
        groups.setdefault((p.table, p.date if p.window != "all" else None), {})[k] = p
    ctes, selects = [], []
    for g, ((table, date), members) in enumerate(groups.items()):
        cols = []
        for k, p in members.items():
            cond = _per_period(p.where, table, [Period(2000)], "TRUE")
            agg = "count(*)" if p.agg == "count" else f"sum({_per_period(p.amount, table, [Period(2000)], '0')})"
            cols.append(f'{agg} FILTER (WHERE {cond}) AS "{k}"')
        month = f"CAST(date_trunc('month', s.\"{date}\") AS DATE)" if date else "CAST(NULL AS DATE)"
        dated = f's."{date}" IS NOT NULL' if date else "TRUE"
        # (a temp table each, not a MATERIALIZED CTE: DuckDB computed those more than once)
        # grouped by the column that places the records, then given its units (see units_of below)
        src = SOURCES[table]
        names = ", ".join(f'f."{k}"' for k in members)
        ctes.append(f"CREATE OR REPLACE TEMP TABLE _panel_f{g} AS SELECT u.* EXCLUDE (code), f.month, {names} "
                    f"FROM (SELECT s.\"{src.region_column}\" AS code, {month} AS month, {', '.join(cols)} "
                    f"FROM {mart_table(table)} s WHERE s.province_code IS NOT NULL AND {dated} GROUP BY ALL) f "
                    f"JOIN ({units_of(src.role)}) u ON u.code = f.code")
        sums = ", ".join(f'sum("{k}") AS "{k}"' for k in members)
        names = ", ".join(f'"{k}"' for k in members)
        for placement in PLACEMENTS:
            per = (f"SELECT province_code, {placement} AS unit, month, {sums} FROM _panel_f{g} "
                   f"WHERE {placement} IS NOT NULL GROUP BY ALL")
            selects.append(f"SELECT '{placement}' AS placement, province_code, part, unit, month, "
                           f"CAST(value AS DOUBLE) AS value FROM (UNPIVOT ({per}) ON {names} "
                           f"INTO NAME part VALUE value) WHERE value <> 0")
    cols = ("placement VARCHAR, province_code VARCHAR, part VARCHAR, unit VARCHAR, month DATE, value DOUBLE")
    if selects:
        for sql in ctes:
            con.execute(sql)
        con.execute(f"CREATE OR REPLACE TABLE {PANEL} AS "
                    f"{' UNION ALL '.join(selects)} ORDER BY placement, province_code")
        for g in range(len(ctes)):
            con.execute(f"DROP TABLE _panel_f{g}")
    else:
        con.execute(f"CREATE OR REPLACE TABLE {PANEL} ({cols})")
    # the others: the compiler's own numbers for every quarter and year, every province at once.
    # Counts and sums add up across units: compiled once per agency (the column that places the
    # records), then summed per placement; distinct counts do not: compiled per placement.
    periods = _exact_periods(con) if exact else []
    con.execute(f"CREATE OR REPLACE TABLE {PANEL_EXACT} (placement VARCHAR, province_code VARCHAR, part VARCHAR, "
                f"unit VARCHAR, period VARCHAR, value DOUBLE)")
    if periods:
        names = "VALUES " + ", ".join(f"({i}, {expr.sql_literal(str(p))})" for i, p in enumerate(periods))
        summed = {k: p for k, p in exact.items() if p.agg != "distinct"}
        distinct = {k: p for k, p in exact.items() if p.agg == "distinct"}
        inserts = []
        # (grouped by the column that places the records, then given its units, as above)
        by_place: dict[tuple[str, str], dict[str, Part]] = {}
        for k, p in summed.items():
            by_place.setdefault((SOURCES[p.table].region_column, SOURCES[p.table].role), {})[k] = p
        for j, ((column, role), members) in enumerate(by_place.items()):
            sql, alias = parts_sql(list(members.values()), periods, "province", None, unit_col="province_code",
                                   by=column)
            on = ", ".join(f'f.{alias[p]} AS "{k}"' for k, p in members.items())
            con.execute(f"CREATE OR REPLACE TEMP TABLE _panel_fine{j} AS SELECT u.* EXCLUDE (code), f.pid, {on} "
                        f"FROM ({sql}) f JOIN ({units_of(role)}) u ON u.code = f.code")
            sums = ", ".join(f'sum("{k}") AS "{k}"' for k in members)
            for placement in PLACEMENTS:
                inserts.append((f"SELECT {placement} AS code, pid, {sums} FROM _panel_fine{j} "
                                f"WHERE {placement} IS NOT NULL GROUP BY ALL", placement, list(members)))
        for placement, level in PLACEMENTS.items():
            if not distinct:
                break
            units = "SELECT code, name FROM regions WHERE level = '省'" if placement == "province_code" else None
            sql, alias = parts_sql(list(distinct.values()), periods, level, None, unit_col=placement, units=units)
            on = ", ".join(f'{alias[p]} AS "{k}"' for k, p in distinct.items())
            inserts.append((f"SELECT code, pid, {on} FROM ({sql})", placement, list(distinct)))
        selects = [f"""SELECT '{placement}' AS placement, r.province_code, part, w.code AS unit, n.period,
                              CAST(value AS DOUBLE) AS value
                       FROM (UNPIVOT ({sql}) ON {', '.join(f'"{k}"' for k in keys)} INTO NAME part VALUE value) w
                       JOIN n USING (pid) JOIN regions r ON r.code = w.code
                       WHERE value <> 0""" for sql, placement, keys in inserts]
        con.execute(f"CREATE OR REPLACE TABLE {PANEL_EXACT} AS WITH n(pid, period) AS ({names}) "
                    f"{' UNION ALL '.join(selects)} ORDER BY placement, province_code")
        for j in range(len(by_place)):
            con.execute(f"DROP TABLE IF EXISTS _panel_fine{j}")
    con.execute(f"CREATE OR REPLACE TABLE {PANEL_PARTS} (part VARCHAR, additive BOOLEAN, definition VARCHAR)")
    if keyed:
        con.executemany(f"INSERT INTO {PANEL_PARTS} VALUES (?, ?, ?)",
                        [[k, k in add, repr(p.text or (p.table, p.agg, p.window))] for k, p in keyed.items()])
    con.execute(f"CREATE OR REPLACE TABLE {PANEL_PERIODS} AS SELECT unnest(?::VARCHAR[]) AS period",
                [[str(p) for p in periods]])


def panel_serves(con: duckdb.DuckDBPyConnection, parts: list[Part], periods: list[Period], level: str, *,
                 units: str | None = None, unit_col: str | None = None, only: str | None = None,
                 by: str | None = None, checked: str | None = None) -> list[Part]:
    """The parts the panel mart answers for these periods: held in it (the installed schemes' at
    the last write) and, for a non-additive part, every period materialised. None when grouped by
    another column (the drill-down's enterprises), placed otherwise, or the panel is absent
    (a warehouse built before it: everything is compiled from the facts). ``checked``: what
    ensure_marts returned for ``con`` (the panel's list is then read once per open file)."""
    if not _PANEL_ON.get() or by or not parts or not periods:
        return []
    if (unit_col or unit_column(level)) not in PLACEMENTS:
        return []
    known = _READ_ONLY.get(checked) if checked else None
    rows = known.get("panel") if known is not None else None
    if rows is None:
        cur = con.cursor()
        try:
            rows = cur.execute(f"SELECT part, additive, (SELECT list(period) FROM {PANEL_PERIODS}) "
                               f"FROM {PANEL_PARTS}").fetchall()
        except duckdb.CatalogException:
            rows = []
        finally:
            cur.close()
        if known is not None:
            known["panel"] = rows
    if not rows:
        return []
    held = {k: a for k, a, _ in rows}
    have = set(rows[0][2] or []) if rows else set()
    every = all(str(p) in have for p in periods)
    out = []
    for p in parts:
        k = part_key(p)
        if k in held and (held[k] or every):
            out.append(p)
    return out


_FIRST = dt.date(1, 1, 1)  # before every month: an as-of window's start, an undated part's month


def panel_sql(parts: list[Part], periods: list[Period], level: str, province: str, *,
              units: str | None = None, unit_col: str | None = None, only: str | None = None
              ) -> tuple[str, dict[Part, str]]:
    """``parts_sql``'s frame read from the panel mart (the parts ``panel_serves`` names): an
    additive part sums its months in the window, another reads its period's row."""
    placement = unit_col or unit_column(level)
    rows = ", ".join(f"({i}, {expr.sql_literal(str(p))}, {expr.sql_literal(p.start)}, {expr.sql_literal(p.end)}, "
                     f"{expr.sql_literal(p.year_start)})" for i, p in enumerate(periods))
    ctes = [f"periods(pid, name, period_start, period_end, year_start) AS (VALUES {rows})",
            f"units AS ({units or units_sql(level, province)})",
            "base AS (SELECT u.code, u.name, q.pid FROM units u CROSS JOIN periods q)"]

    def where(t: str) -> str:
        return (f"{t}.placement = {expr.sql_literal(placement)} AND {t}.province_code = {expr.sql_literal(str(province))}"
                + (f" AND {t}.unit = {expr.sql_literal(str(only))}" if only is not None else ""))

    alias: dict[Part, str] = {}
    add = [p for p in parts if additive(p)]
    ex = [p for p in parts if not additive(p)]
    joins, cols = [], []
    if add:
        # each part's months for each period (its window as a month range; an undated part's one
        # row has no month), summed per unit × period × part, then one column per part
        lo = {"period": lambda q: q.start, "year_to_date": lambda q: q.year_start, "as_of": lambda q: _FIRST,
              "all": lambda q: _FIRST}
        hi = {"all": lambda q: _FIRST}
        ranges = []
        for p in add:
            alias[p] = f"c{len(alias)}"
            for i, q in enumerate(periods):
                ranges.append(f"('{part_key(p)}', {i}, {expr.sql_literal(lo[p.window](q))}, "
                              f"{expr.sql_literal(hi.get(p.window, lambda q: q.end)(q))})")
        ctes.append(f"pr(part, pid, lo, hi) AS (VALUES {', '.join(ranges)})")
        ctes.append(f"pl AS (SELECT m.unit AS k, pr.pid, m.part, sum(m.value) AS v FROM {PANEL} m "
                    f"JOIN pr ON m.part = pr.part AND coalesce(m.month, {expr.sql_literal(_FIRST)}) BETWEEN pr.lo AND pr.hi "
                    f"WHERE {where('m')} GROUP BY ALL)")
        aggs = ", ".join(f"max(v) FILTER (WHERE part = '{part_key(p)}') AS {alias[p]}" for p in add)
        ctes.append(f"pm AS (SELECT k, pid, {aggs} FROM pl GROUP BY ALL)")
        joins.append("LEFT JOIN pm ON pm.k = b.code AND pm.pid = b.pid")
        cols += [f"CAST(coalesce(pm.{alias[p]}, 0) AS DOUBLE) AS {alias[p]}" for p in add]
    if ex:
        aggs = []
        for p in ex:
            alias[p] = f"c{len(alias)}"
            aggs.append(f"max(e.value) FILTER (WHERE e.part = '{part_key(p)}') AS {alias[p]}")
        keys = ", ".join(f"'{part_key(p)}'" for p in ex)
        ctes.append(f"pe AS (SELECT e.unit AS k, q.pid, {', '.join(aggs)} FROM {PANEL_EXACT} e "
                    f"JOIN periods q ON e.period = q.name "
                    f"WHERE {where('e')} "
                    f"AND e.part IN ({keys}) GROUP BY ALL)")
        joins.append("LEFT JOIN pe ON pe.k = b.code AND pe.pid = b.pid")
        cols += [f"CAST(coalesce(pe.{alias[p]}, 0) AS DOUBLE) AS {alias[p]}" for p in ex]
    sql = (f"WITH {', '.join(ctes)}\nSELECT b.code, b.name, b.pid, {', '.join(cols)} FROM base b {' '.join(joins)} "
           f"ORDER BY b.pid, b.code")
    return sql, alias


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
    if not inds:
        return pd.DataFrame(columns=cols)
    # one row per unit × period (in period, code order) × indicator (in the scheme's order), built
    # from arrays at once: a frame per indicator and their concat cost a page's first run ~0.05 s
    wide = wide.sort_values(["pid", "code"], kind="stable")
    n, m = len(wide), len(inds)
    num = np.column_stack([wide[alias[i.numerator]].to_numpy(dtype=float) for i in inds])
    den = np.column_stack([np.full(n, np.nan) if i.denominator is None else wide[alias[i.denominator]].to_numpy(dtype=float)
                           for i in inds])
    ratio = np.array([i.denominator is not None for i in inds])
    with np.errstate(divide="ignore", invalid="ignore"):
        val = np.where(ratio, np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan), num)
    active = sum(wide[alias[p]].to_numpy() for p in ACTIVITY_PARTS) > 0
    names = {i: str(p) for i, p in enumerate(periods)}

    def each(values) -> np.ndarray:   # a unit's value on each of its m rows
        return np.repeat(np.asarray(values), m)

    def every(values) -> np.ndarray:  # the indicators' values, unit after unit
        return np.tile(np.asarray(values, dtype=object), n)

    out = pd.DataFrame({
        "period": pd.Series(each(wide["pid"].map(names).to_numpy(dtype=object)), dtype="str"),
        "code": pd.Series(each(wide["code"].to_numpy(dtype=object)), dtype=wide["code"].dtype),
        "name": pd.Series(each(wide["name"].to_numpy(dtype=object)), dtype=wide["name"].dtype),
        "indicator": pd.Series(every([i.code for i in inds]), dtype="str"),
        "value": val.reshape(-1), "numerator": num.reshape(-1), "denominator": den.reshape(-1),
        "indicator_name": pd.Series(every([i.name for i in inds]), dtype="str"),
        "unit": pd.Series(every([i.unit for i in inds]), dtype="str"),
        "assessed": each(active).astype(bool),
    })
    return out[cols]


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
