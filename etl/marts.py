"""Marts: every record stamped, at load time, with the units it counts for (dbt's staging → marts).

The data contract's counting rule ("How a region's figures are counted"): a region's records are
those of every agency inside it — a city's own bureau and its counties' bureaus; a county's own
bureau only (a city bureau's inspection counts for the city, not the county); a province
bureau's records count for the province alone. A hazard belongs where its inspection belongs.
The register (enterprises) counts where the enterprise is located.

Applying that rule means joining hazards to inspections to regions (and every record to the
register for its key-unit flag and industry). Here it is done once per write: each ``mart_<table>``
holds the table's records with the columns metrics.sources exposes to scheme files, plus

- ``province_code``: the province the agency (the register: the enterprise's county) lies in;
- ``province_unit``, ``city_unit``, ``county_unit``: the unit of each level the record counts
  for (NULL when it counts for none of that level: a city bureau's inspection has no county);
- ``load_id``: the load that wrote the record (the data-quality panel's lateness test).

Reads then filter (``WHERE city_unit = …``) and never join. The three large marts (inspections,
hazards, penalties) are views over stored tables ``_mart_<table>`` that keep their few-valued
text columns as ENUMs (see STORED below): the views show the same columns, as text.

The marts are rebuilt wholesale inside the write's transaction, in the new file, before the
atomic swap (etl.warehouse.write calls ``refresh``), so every write keeps them right —
corrections included: a re-loaded inspection with a new agency or date takes its hazards with
it, because the hazards are re-stamped from it.
A fingerprint of the record tables skips the rebuild when a write changed no record (a notice);
it names the marts' definitions too, so a version adding or changing a mart rebuilds them.

``mart_orphan_hazards``: the hazards citing an inspection the warehouse does not hold (which
mart_hazards, an inner join, cannot place), counted by the month they were found — what the
data-quality panel shows for the whole warehouse, read without joining hazards to inspections.

``mart_catalog`` (metrics.catalog's definition) holds what the app's frame asks on every page:
the months and provinces holding records, a few hundred rows instead of a scan of every date.

Last comes the panel (metrics.query.build_panel): every part of the installed schemes (the
numerators and denominators of metrics/schemes/*.toml, the KPI tiles' and activity counts) for
every unit of every level — additive counts and sums by month, the others (distinct counts,
filters naming the period's end) per quarter and year, computed by the compiler itself — so that
reads sum a few panel rows instead of scanning records. The fingerprint names the installed parts
too: a write after a scheme file changed rebuilds the panel with the new parts.
"""
from __future__ import annotations

import contextlib
import hashlib
import time

import duckdb

from metrics.catalog import CATALOG_MART, CATALOG_SQL

# the unit columns each mart carries, by level (metrics.sources.LEVELS)
ORPHANS_MART = "mart_orphan_hazards"  # hazards whose inspection is not held, by month found (below)
UNIT_COLUMNS = {"province": "province_unit", "city": "city_unit", "county": "county_unit"}
STATE = "mart_state"
FINGERPRINTED = ("regions", "enterprises", "plans", "inspections", "hazards", "penalties", "officers", "training",
                 "establishment")


# The large marts (a row per inspection, hazard, case) are stored as ``_mart_<table>`` with their
# few-valued text columns (region codes, the inspection type, the industry) as ENUMs — a small
# integer a row. Writing them as text was most of the cost of a load's marts: DuckDB's analysis and
# compression of text columns (dictionary, FSST) took 12–14 of the 18–20 CPU-s of mart_hazards at
# scale 0.2, an ENUM column about a fifth of that. The mart itself is a view over the stored table
# with those columns cast back to text, under the same name and columns: readers see no change.
# ``province_code`` stays text in the stored table: the rows are sorted by it, and its min/max per
# row group lets a read of one province skip the others. The ENUMs are made at each build from the
# values present (every region code, every inspection type and industry), so every value casts.
STORED_PREFIX = "_"
CODE, KIND, INDUSTRY = "mart_code", "mart_inspection_type", "mart_industry"
ENUMS = {
    CODE: ("SELECT code FROM regions UNION SELECT province_code FROM regions UNION SELECT city_code FROM regions "
           "UNION SELECT agency_code FROM inspections UNION SELECT agency_code FROM penalties "
           "UNION SELECT county_code FROM enterprises"),
    KIND: "SELECT inspection_type FROM inspections",
    INDUSTRY: "SELECT industry FROM enterprises",
}


def _coded(e: str, enum: str, name: str | None = None) -> str:
    """``e`` stored as the ENUM ``enum``, named ``name`` (default: the column's own name)."""
    return f"CAST({e} AS {enum}) AS {name or e.split('.')[-1]}"


def _agency_units(r: str, coded: bool = False) -> str:
    """The unit columns of a record placed by its agency's region row ``r`` (counting rule);
    ``coded``: the unit columns as the region code ENUM (the large marts' stored tables, below)."""
    c = (lambda e, name: _coded(e, CODE, name)) if coded else (lambda e, name: f"{e} AS {name}")
    return (f"{r}.province_code AS province_code, "
            + c(f"CASE WHEN {r}.level = '省' THEN {r}.code END", "province_unit") + ", "
            + c(f"CASE WHEN {r}.level = '市' THEN {r}.code WHEN {r}.level = '县' THEN {r}.city_code END", "city_unit")
            + ", " + c(f"CASE WHEN {r}.level = '县' THEN {r}.code END", "county_unit"))


def _location_units(r: str) -> str:
    """The unit columns of a register entry placed by its county's region row ``r``."""
    return (f"{r}.province_code AS province_code, {r}.province_code AS province_unit, "
            f"CASE WHEN {r}.level = '市' THEN {r}.code WHEN {r}.level = '县' THEN {r}.city_code END AS city_unit, "
            f"CASE WHEN {r}.level = '县' THEN {r}.code END AS county_unit")


def _own_units(r: str) -> str:
    """The unit columns of a record that counts for its own bureau's unit only (a city bureau's
    case-reporting windows are the city's, a county's are the county's, never the city's)."""
    return (f"{r}.province_code AS province_code, "
            f"CASE WHEN {r}.level = '省' THEN {r}.code END AS province_unit, "
            f"CASE WHEN {r}.level = '市' THEN {r}.code END AS city_unit, "
            f"CASE WHEN {r}.level = '县' THEN {r}.code END AS county_unit")


def units_of(role: str) -> str:
    """SELECT code, province_code, province_unit, city_unit, county_unit: the units a record of a
    source with this role (metrics.sources.Source.role) counts for, by the region code that
    places it — the rule the marts below stamp with (the panel groups by that code, then places)."""
    units = {"agency": _agency_units, "location": _location_units, "own": _own_units}[role]("r")
    return f"SELECT r.code AS code, {units} FROM regions r"


# Case reporting to the Ministry (应急厅函〔2021〕92号): each bureau's reporting windows — the province
# bureau's half-years, a city bureau's quarters, a county bureau's two-month windows — from the year
# of the first record to the last window that ended before the day of the build (a window ending
# after the data was loaded cannot be judged yet), each with the reported cases of that bureau's
# own agency filed in it. Every bureau of a province with records gets its windows, records or not.
REPORT_WINDOW_MONTHS = {"省": 6, "市": 3, "县": 2}
_WINDOWS = f"""
    SELECT lv.level, make_date(y.y, m.m, 1) AS window_start,
           last_day(make_date(y.y, m.m + lv.step - 1, 1)) AS window_end,
           CASE lv.level
             WHEN '省' THEN CAST(y.y AS VARCHAR) || CASE WHEN m.m = 1 THEN '年上半年' ELSE '年下半年' END
             WHEN '市' THEN CAST(y.y AS VARCHAR) || '年第' || CAST((m.m + 2) // 3 AS VARCHAR) || '季度'
             ELSE CAST(y.y AS VARCHAR) || '年' || CAST(m.m AS VARCHAR) || '—' || CAST(m.m + 1 AS VARCHAR) || '月'
           END AS window_name
    FROM (VALUES {", ".join(f"('{lv}', {k})" for lv, k in REPORT_WINDOW_MONTHS.items())}) lv(level, step),
         range((SELECT coalesce(least(min(year(filed_date)), (SELECT min(year(inspection_date)) FROM inspections)),
                                year(current_date)) FROM penalties),
               year(current_date) + 1) y(y),
         range(1, 13) m(m)
    WHERE (m.m - 1) % lv.step = 0 AND last_day(make_date(y.y, m.m + lv.step - 1, 1)) < current_date"""

# the coded columns come from small tables already coded (a cast per region and per enterprise,
# not per record; an agency missing from the regions is coded on its own)
_CODED_AGENCIES = f"SELECT r.code, {_coded('r.code', CODE, 'agency_code')}, {_agency_units('r', coded=True)} FROM regions r"
_CODED_REGISTER = (f"SELECT enterprise_id, key_unit, {_coded('industry', INDUSTRY)}, "
                   f"{_coded('county_code', CODE, 'enterprise_county')} FROM enterprises")

# mart name -> SELECT over the record tables. Rows sorted by province and date so that a read of
# one province (and one period) skips the other row groups (DuckDB's min/max zone maps).
MARTS: dict[str, str] = {
    "mart_inspections": f"""
        SELECT i.inspection_id, i.enterprise_id,
               coalesce(r.agency_code, CAST(i.agency_code AS {CODE})) AS agency_code, i.inspection_date,
               {_coded('i.inspection_type', KIND)}, i.via_mobile, i.with_expert,
               e.key_unit, e.industry, e.enterprise_county,
               coalesce(hz.n, 0) AS hazards_found, coalesce(hz.n_major, 0) AS major_hazards_found,
               i.load_id, r.province_code, r.province_unit, r.city_unit, r.county_unit
        FROM inspections i
        LEFT JOIN ({_CODED_REGISTER}) e USING (enterprise_id)
        LEFT JOIN ({_CODED_AGENCIES}) r ON r.code = i.agency_code
        LEFT JOIN (SELECT inspection_id, count(*) AS n, count(*) FILTER (WHERE is_major) AS n_major
                   FROM hazards GROUP BY inspection_id) hz USING (inspection_id)
        ORDER BY province_code, i.inspection_date""",
    # a hazard belongs where its inspection belongs: read from the inspections' mart just built
    # (its units, date, type and the enterprise's flags, already coded), one join instead of three.
    # Not sorted: the join streams the inspections' mart (sorted by province and date) past a hash
    # table of the hazards (PROBE_ORDER below), so the rows come out in its order — by province,
    # then by inspection date (a hazard is found at its inspection), a chunk's worth of rows
    # interleaved where two threads meet. Sorting 25M rows again had cost a third of this mart.
    "mart_hazards": f"""
        SELECT h.hazard_id, h.inspection_id, h.found_date, h.is_major, h.key_matter, h.needs_rectification,
               h.deadline, h.rectified_date,
               i.agency_code, i.enterprise_id, i.inspection_date, i.inspection_type,
               i.key_unit, i.industry, i.enterprise_county,
               h.load_id, i.province_code, i.province_unit, i.city_unit, i.county_unit
        FROM {STORED_PREFIX}mart_inspections i
        JOIN hazards h USING (inspection_id)""",
    # hazards citing an inspection the warehouse does not hold: mart_hazards (an inner join) drops
    # them, so the data-quality panel (metrics.quality: ``orphan_hazards``, for the whole
    # warehouse) reads their count per month found here instead of an anti-join of the records on
    # every call. Counted as the hazards of the month less those mart_hazards placed — exact, as an
    # inspection_id is unique in inspections (the ETL keeps it so: etl.warehouse), and two scans of
    # a date column instead of hashing every hazard's inspection_id again (an anti-join cost about
    # 8x this on 15M synthetic hazards). Months without such a hazard have no row.
    ORPHANS_MART: f"""
        SELECT make_date(ym // 100, ym % 100, 1) AS month, sum(n) AS hazards
        FROM (SELECT year(found_date) * 100 + month(found_date) AS ym, count(*) AS n FROM hazards GROUP BY ALL
              UNION ALL
              SELECT year(found_date) * 100 + month(found_date), -count(*) FROM {STORED_PREFIX}mart_hazards
              GROUP BY ALL) c
        GROUP BY ym HAVING sum(n) <> 0 ORDER BY month""",
    "mart_penalties": f"""
        SELECT p.case_id, p.inspection_id, p.enterprise_id,
               coalesce(r.agency_code, CAST(p.agency_code AS {CODE})) AS agency_code, p.filed_date,
               p.decision_date, CAST(p.fine_company AS DOUBLE) AS fine_company,
               CAST(p.fine_person AS DOUBLE) AS fine_person,
               p.for_major_hazard, p.hazard_id, p.transferred, p.review_score, p.case_reported,
               e.key_unit, e.industry, e.enterprise_county,
               p.load_id, r.province_code, r.province_unit, r.city_unit, r.county_unit
        FROM penalties p
        LEFT JOIN ({_CODED_REGISTER}) e USING (enterprise_id)
        LEFT JOIN ({_CODED_AGENCIES}) r ON r.code = p.agency_code
        ORDER BY province_code, p.filed_date""",
    "mart_plans": f"""
        SELECT p.agency_code, p.year, p.planned_inspections, p.load_id, {_agency_units('r')}
        FROM plans p LEFT JOIN regions r ON r.code = p.agency_code
        ORDER BY province_code, p.year""",
    "mart_officers": f"""
        SELECT o.officer_id, o.agency_code, o.name, o.post, o.degree, o.qualification, o.experience,
               (o.degree OR o.qualification OR o.experience) AS qualified, o.entry_training_days,
               o.start_date, o.end_date, o.load_id, {_agency_units('r')}
        FROM officers o LEFT JOIN regions r ON r.code = o.agency_code
        ORDER BY province_code, o.start_date""",
    "mart_training": f"""
        SELECT o.officer_id || ' ' || CAST(t.year AS VARCHAR) AS training_id, t.officer_id, t.year,
               CAST(t.refresher_days AS DOUBLE) AS refresher_days, o.agency_code, o.name, o.post,
               (o.degree OR o.qualification OR o.experience) AS qualified, o.start_date, o.end_date,
               t.load_id, {_agency_units('r')}
        FROM training t JOIN officers o USING (officer_id) LEFT JOIN regions r ON r.code = o.agency_code
        ORDER BY province_code, o.start_date""",
    "mart_establishment": f"""
        SELECT e.agency_code, e.year, e.posts, e.load_id, {_agency_units('r')}
        FROM establishment e LEFT JOIN regions r ON r.code = e.agency_code
        ORDER BY province_code, e.year""",
    "mart_report_windows": f"""
        WITH w AS (
            SELECT r.code AS agency_code, r.level AS agency_level, w.window_start, w.window_end, w.window_name
            FROM regions r JOIN ({_WINDOWS}) w ON w.level = r.level
            WHERE r.province_code IN (SELECT DISTINCT rr.province_code FROM regions rr
                                      WHERE rr.code IN (SELECT agency_code FROM inspections
                                                        UNION SELECT agency_code FROM penalties))),
        c AS (
            SELECT w.agency_code, w.window_start, count(*) AS reported_cases,
                   string_agg(p.case_id, '、' ORDER BY p.filed_date, p.case_id) AS case_ids
            FROM w JOIN (SELECT case_id, agency_code, filed_date FROM penalties WHERE case_reported) p
              ON p.agency_code = w.agency_code AND p.filed_date BETWEEN w.window_start AND w.window_end
            GROUP BY ALL)
        SELECT w.agency_code || ' ' || strftime(w.window_start, '%Y-%m') AS window_id, w.agency_code,
               w.agency_level, w.window_name, w.window_start, w.window_end,
               coalesce(c.reported_cases, 0) AS reported_cases, coalesce(c.reported_cases, 0) > 0 AS met,
               c.case_ids, CAST(NULL AS INTEGER) AS load_id, {_own_units('r')}
        FROM w LEFT JOIN c USING (agency_code, window_start) JOIN regions r ON r.code = w.agency_code
        ORDER BY province_code, w.window_end""",
    "mart_enterprises": f"""
        SELECT e.enterprise_id, e.name, e.county_code, e.industry, e.key_unit, e.load_id, {_location_units('r')}
        FROM enterprises e LEFT JOIN regions r ON r.code = e.county_code
        ORDER BY province_code, e.county_code""",
    # the months and provinces holding records (metrics.catalog: the app's frame reads it on every
    # page; its definition lives there, where a warehouse made before this mart scans with it)
    CATALOG_MART: CATALOG_SQL + " ORDER BY ALL",
}


def fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """Row count and an order-free hash of every row of the tables the marts are made of."""
    sql = " UNION ALL ".join(f"SELECT '{t}' AS t, count(*) AS n, coalesce(sum(hash({t})), 0) AS h FROM {t}"
                             for t in FINGERPRINTED)
    # mart_report_windows keeps the windows that ended before the build date: a new month can
    # close a window, so the month of the build is part of what the marts were made from
    month = con.execute("SELECT strftime(date_trunc('month', current_date), '%Y-%m')").fetchone()[0]
    return (";".join(f"{t}:{n}:{h}" for t, n, h in con.execute(sql).fetchall()) + f";month:{month}"
            + f";parts:{_parts_digest()};defs:{_definitions_digest()}")


def _definitions_digest() -> str:
    """The marts' definitions (a new version that adds or changes a mart rebuilds them)."""
    return hashlib.sha1(repr(sorted(MARTS.items())).encode()).hexdigest()[:16]


def _parts_digest() -> str:
    """The installed parts the panel holds (a scheme edited since the last build changes it)."""
    from metrics.query import installed_parts, part_key

    return hashlib.sha1(" ".join(sorted(part_key(p) for p in installed_parts())).encode()).hexdigest()[:16]


# marts whose join is run as written: the left side streamed (probed) in its order, a hash table
# built of the right (DuckDB would build it of the smaller side and lose the order)
PROBE_ORDER = ("mart_hazards",)
STORED = ("mart_inspections", "mart_hazards", "mart_penalties")  # stored as _mart_<table>, read through a view


def present(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the marts exist in the database ``con`` reads (any schema in its search path)."""
    names = [STATE, *MARTS]
    n = con.execute("SELECT count(DISTINCT name) FROM (SELECT table_name AS name FROM duckdb_tables() "
                    "WHERE NOT temporary UNION ALL SELECT view_name FROM duckdb_views() "
                    "WHERE NOT temporary AND NOT internal) WHERE name IN (SELECT unnest(?::VARCHAR[]))",
                    [names]).fetchone()[0]
    return n == len(names)


def _drop(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop the table or view ``name`` of the main schema, whichever it is (a warehouse made
    before the stored marts holds mart_hazards as a table)."""
    kind = con.execute("SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main' "
                       "AND NOT temporary AND database_name = current_database() UNION ALL "
                       "SELECT 'VIEW' FROM duckdb_views() WHERE view_name = ? AND schema_name = 'main' "
                       "AND NOT temporary AND database_name = current_database()", [name, name]).fetchone()
    if kind:
        con.execute(f"DROP {kind[0]} {name}")


def _as_written(con: duckdb.DuckDBPyConnection):
    """Within: joins run as written (see PROBE_ORDER); the connection's own setting comes back after."""
    from metrics.query import changed_setting

    return changed_setting(con, "disabled_optimizers", lambda now: ",".join(dict.fromkeys(
        [*filter(None, (now or "").split(",")), "join_order", "build_side_probe_side"])))


def _drop_stored(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the large marts' views, the stored tables behind them and the ENUMs they hold (the
    types cannot go while a column uses them)."""
    for name in STORED:
        _drop(con, name)
        _drop(con, STORED_PREFIX + name)
    for enum in ENUMS:
        con.execute(f"DROP TYPE IF EXISTS {enum}")


def drop(con: duckdb.DuckDBPyConnection) -> None:
    """Drop every mart, the stored tables behind the views, their ENUMs and the build state (what
    a warehouse made before the marts looks like; the next write or ensure_marts builds them)."""
    _drop_stored(con)
    for name in (*MARTS, STATE):
        _drop(con, name)


def _stored(con: duckdb.DuckDBPyConnection, name: str, sql: str) -> None:
    """The mart ``name`` as its stored table (ENUM columns) and a view casting them back to text."""
    table = STORED_PREFIX + name
    con.execute(f"CREATE TABLE {table} AS {sql}")
    coded = [c for (c,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main' "
        "AND database_name = current_database() AND data_type_id = 104 ORDER BY column_index", [table]).fetchall()]
    cast = f" REPLACE ({', '.join(f'CAST({c} AS VARCHAR) AS {c}' for c in coded)})" if coded else ""
    con.execute(f"CREATE VIEW {name} AS SELECT *{cast} FROM {table}")


def fresh(con: duckdb.DuckDBPyConnection, current: str | None = None) -> bool:
    """Whether the marts exist and were built from the record tables as they are now
    (``current``: their fingerprint, when the caller has it already)."""
    if not present(con):
        return False
    row = con.execute(f"SELECT fingerprint FROM {STATE}").fetchone()
    return bool(row) and row[0] == (current or fingerprint(con))


def build(con: duckdb.DuckDBPyConnection, current: str | None = None, *, private: bool = False) -> float:
    """(Re)build every mart from the record tables; seconds taken. Runs in the caller's
    transaction (a load's), so the marts and the records swap in together. ``current``: the
    record tables' fingerprint, when the caller has it (a hash of every row: not computed twice).

    ``private``: ``con`` writes a private copy that is swapped in only once the write is over
    (etl.warehouse.write), so each mart is committed as soon as it is built — DuckDB scans a
    table made inside the open transaction on one core only, and every mart is read by the next
    ones (mart_hazards reads mart_inspections, the panel reads them all). A failure still leaves
    the live warehouse as it was: the copy is thrown away."""
    from metrics.query import build_panel

    current = current or fingerprint(con)
    t0 = time.perf_counter()

    def settle():
        if private:
            con.execute("COMMIT")
            con.execute("BEGIN TRANSACTION")

    settle()  # the records the marts are made of
    _drop_stored(con)  # the ENUMs are made again from the values present now
    for enum, values in ENUMS.items():
        con.execute(f"CREATE TYPE {enum} AS ENUM (SELECT DISTINCT v FROM ({values}) t(v) WHERE v IS NOT NULL "
                    "ORDER BY v)")
    for name, sql in MARTS.items():
        with _as_written(con) if name in PROBE_ORDER else contextlib.nullcontext():
            if name in STORED:
                _stored(con, name, sql)
            else:
                con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")
        settle()
    build_panel(con)
    seconds = time.perf_counter() - t0
    con.execute(f"CREATE OR REPLACE TABLE {STATE} (fingerprint VARCHAR, built_at TIMESTAMP, seconds DOUBLE)")
    con.execute(f"INSERT INTO {STATE} VALUES (?, current_timestamp::TIMESTAMP, ?)", [current, seconds])
    return seconds


def refresh(con: duckdb.DuckDBPyConnection, *, private: bool = False) -> bool:
    """Rebuild the marts when the record tables changed since they were built (or they are
    missing); whether they were rebuilt. ``private``: see ``build``."""
    current = fingerprint(con)
    if fresh(con, current):
        return False
    build(con, current, private=private)
    return True
