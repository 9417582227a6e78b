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

Reads then filter (``WHERE city_unit = …``) and never join. The marts are rebuilt wholesale inside
the write's transaction, in the new file, before the atomic swap (etl.warehouse.write calls
``refresh``), so every write keeps them right — corrections included: a re-loaded inspection with
a new agency or date takes its hazards with it, because the hazards are re-stamped from it.
A fingerprint of the record tables skips the rebuild when a write changed no record (a notice).
"""
from __future__ import annotations

import time

import duckdb

# the unit columns each mart carries, by level (metrics.sources.LEVELS)
UNIT_COLUMNS = {"province": "province_unit", "city": "city_unit", "county": "county_unit"}
STATE = "mart_state"
FINGERPRINTED = ("regions", "enterprises", "plans", "inspections", "hazards", "penalties")


def _agency_units(r: str) -> str:
    """The unit columns of a record placed by its agency's region row ``r`` (counting rule)."""
    return (f"{r}.province_code AS province_code, "
            f"CASE WHEN {r}.level = '省' THEN {r}.code END AS province_unit, "
            f"CASE WHEN {r}.level = '市' THEN {r}.code WHEN {r}.level = '县' THEN {r}.city_code END AS city_unit, "
            f"CASE WHEN {r}.level = '县' THEN {r}.code END AS county_unit")


def _location_units(r: str) -> str:
    """The unit columns of a register entry placed by its county's region row ``r``."""
    return (f"{r}.province_code AS province_code, {r}.province_code AS province_unit, "
            f"CASE WHEN {r}.level = '市' THEN {r}.code WHEN {r}.level = '县' THEN {r}.city_code END AS city_unit, "
            f"CASE WHEN {r}.level = '县' THEN {r}.code END AS county_unit")


# mart name -> SELECT over the record tables. Rows sorted by province and date so that a read of
# one province (and one period) skips the other row groups (DuckDB's min/max zone maps).
MARTS: dict[str, str] = {
    "mart_inspections": f"""
        SELECT i.inspection_id, i.enterprise_id, i.agency_code, i.inspection_date, i.inspection_type,
               i.via_mobile, i.with_expert,
               e.key_unit, e.industry, e.county_code AS enterprise_county,
               coalesce(hz.n, 0) AS hazards_found, coalesce(hz.n_major, 0) AS major_hazards_found,
               i.load_id, {_agency_units('r')}
        FROM inspections i
        LEFT JOIN enterprises e USING (enterprise_id)
        LEFT JOIN regions r ON r.code = i.agency_code
        LEFT JOIN (SELECT inspection_id, count(*) AS n, count(*) FILTER (WHERE is_major) AS n_major
                   FROM hazards GROUP BY inspection_id) hz USING (inspection_id)
        ORDER BY province_code, i.inspection_date""",
    "mart_hazards": f"""
        SELECT h.hazard_id, h.inspection_id, h.found_date, h.is_major, h.key_matter, h.needs_rectification,
               h.deadline, h.rectified_date,
               i.agency_code, i.enterprise_id, i.inspection_date, i.inspection_type,
               e.key_unit, e.industry, e.county_code AS enterprise_county,
               h.load_id, {_agency_units('r')}
        FROM hazards h
        JOIN inspections i USING (inspection_id)
        LEFT JOIN enterprises e ON e.enterprise_id = i.enterprise_id
        LEFT JOIN regions r ON r.code = i.agency_code
        ORDER BY province_code, h.found_date""",
    "mart_penalties": f"""
        SELECT p.case_id, p.inspection_id, p.enterprise_id, p.agency_code, p.filed_date, p.decision_date,
               CAST(p.fine_company AS DOUBLE) AS fine_company, CAST(p.fine_person AS DOUBLE) AS fine_person,
               p.for_major_hazard, p.hazard_id, p.transferred, p.review_score, p.case_reported,
               e.key_unit, e.industry, e.county_code AS enterprise_county,
               p.load_id, {_agency_units('r')}
        FROM penalties p
        LEFT JOIN enterprises e USING (enterprise_id)
        LEFT JOIN regions r ON r.code = p.agency_code
        ORDER BY province_code, p.filed_date""",
    "mart_plans": f"""
        SELECT p.agency_code, p.year, p.planned_inspections, p.load_id, {_agency_units('r')}
        FROM plans p LEFT JOIN regions r ON r.code = p.agency_code
        ORDER BY province_code, p.year""",
    "mart_enterprises": f"""
        SELECT e.enterprise_id, e.name, e.county_code, e.industry, e.key_unit, e.load_id, {_location_units('r')}
        FROM enterprises e LEFT JOIN regions r ON r.code = e.county_code
        ORDER BY province_code, e.county_code""",
}


def fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """Row count and an order-free hash of every row of the tables the marts are made of."""
    sql = " UNION ALL ".join(f"SELECT '{t}' AS t, count(*) AS n, coalesce(sum(hash({t})), 0) AS h FROM {t}"
                             for t in FINGERPRINTED)
    return ";".join(f"{t}:{n}:{h}" for t, n, h in con.execute(sql).fetchall())


def present(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the marts exist in the database ``con`` reads (any schema in its search path)."""
    names = [STATE, *MARTS]
    n = con.execute("SELECT count(DISTINCT table_name) FROM duckdb_tables() WHERE table_name IN "
                    "(SELECT unnest(?::VARCHAR[])) AND NOT temporary", [names]).fetchone()[0]
    return n == len(names)


def fresh(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the marts exist and were built from the record tables as they are now."""
    if not present(con):
        return False
    row = con.execute(f"SELECT fingerprint FROM {STATE}").fetchone()
    return bool(row) and row[0] == fingerprint(con)


def build(con: duckdb.DuckDBPyConnection) -> float:
    """(Re)build every mart from the record tables; seconds taken. Runs in the caller's
    transaction (a load's), so the marts and the records swap in together."""
    t0 = time.perf_counter()
    for name, sql in MARTS.items():
        con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")
    seconds = time.perf_counter() - t0
    con.execute(f"CREATE OR REPLACE TABLE {STATE} (fingerprint VARCHAR, built_at TIMESTAMP, seconds DOUBLE)")
    con.execute(f"INSERT INTO {STATE} VALUES (?, current_timestamp::TIMESTAMP, ?)", [fingerprint(con), seconds])
    return seconds


def refresh(con: duckdb.DuckDBPyConnection) -> bool:
    """Rebuild the marts when the record tables changed since they were built (or they are
    missing); whether they were rebuilt."""
    if fresh(con):
        return False
    build(con)
    return True
