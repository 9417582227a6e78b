"""A province's records, joined once, in memory: the metrics of one province at national scale.

Every metric is computed for one province (peers are the units of a level in one province), and
each call joins the record tables afresh: a hazard counts where its inspection's agency is, so
finding a province's 1.5M hazards among the country's 25M, joined to their inspections and
enterprises, costs about 2 s a call here (bench/README.md). A *province slice* is an in-memory
DuckDB database holding each source of metrics.sources already joined, for the province's regions
only (``src_<table>``), beside the regions and meta. On a slice, metrics.query.placed_source_sql
reads those tables instead of joining the warehouse's (``is_slice``), so a call reads the
province's pre-joined rows and nothing else: the joins are paid once per warehouse version.

What a slice serves: the functions that read records only through metrics.sources (indicators,
index, score, warnings, commendations, year-on-year, the panel, explain). Functions that read the
raw tables (kpis, drill, quality, catalog) take the warehouse. Results are the same either way
(tests/metrics/test_slice.py compares them on a warehouse of two provinces); a slice is a copy of
one warehouse version, never updated: after a load, make a new one (ui.data caches them by version).
"""
from __future__ import annotations

import duckdb

from metrics.expr import sql_literal
from metrics.sources import SOURCES

MARK = "_province_slice"


def province_slice(con: duckdb.DuckDBPyConnection, province: str) -> duckdb.DuckDBPyConnection:
    """A new in-memory database with `province`'s joined sources, from the warehouse `con` reads.

    The warehouse is read once, with plain filters (the province's agencies' inspections, cases
    and plans; the hazards of those inspections; the enterprises they name or that lie in the
    province); the sources are then joined in memory from those rows, and the rows dropped."""
    p = sql_literal(str(province))
    places = f"SELECT code FROM regions WHERE province_code = {p}"
    raw = {
        "regions": "SELECT * FROM regions",
        "meta": "SELECT * FROM meta",
        "inspections": f"SELECT * FROM inspections WHERE agency_code IN ({places})",
        "penalties": f"SELECT * FROM penalties WHERE agency_code IN ({places})",
        "plans": f"SELECT * FROM plans WHERE agency_code IN ({places})",
        "hazards": (f"SELECT h.* FROM hazards h SEMI JOIN (SELECT inspection_id FROM inspections "
                    f"WHERE agency_code IN ({places})) i USING (inspection_id)"),
        "enterprises": (f"SELECT * FROM enterprises WHERE county_code IN ({places}) OR enterprise_id IN "
                        f"(SELECT enterprise_id FROM inspections WHERE agency_code IN ({places}) "
                        f"UNION SELECT enterprise_id FROM penalties WHERE agency_code IN ({places}))"),
    }
    mem = duckdb.connect(":memory:")
    cur = con.cursor()
    try:
        for name, sql in raw.items():
            mem.register("_slice_in", cur.execute(sql).arrow())  # streamed batches
            mem.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _slice_in')
            mem.unregister("_slice_in")
        for t, src in SOURCES.items():  # the joins, once, over the province's rows only
            mem.execute(f'CREATE TABLE "src_{t}" AS {src.select(places)}')
        for t in SOURCES:
            mem.execute(f'DROP TABLE "{t}"')
        mem.execute(f"CREATE TABLE {MARK} AS SELECT CAST(? AS VARCHAR) AS province", [str(province)])
    except BaseException:
        mem.close()
        raise
    finally:
        cur.close()
    return mem


def is_slice(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether `con` reads a province slice (then sources are its src_<table> tables)."""
    cur = con.cursor()
    try:
        return bool(cur.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [MARK]).fetchone()[0])
    finally:
        cur.close()


def slice_province(con: duckdb.DuckDBPyConnection) -> str | None:
    """The province a slice holds (None for a warehouse)."""
    if not is_slice(con):
        return None
    cur = con.cursor()
    try:
        return cur.execute(f"SELECT province FROM {MARK}").fetchone()[0]
    finally:
        cur.close()


def rows(mem: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per source of a slice (for reports and benchmarks)."""
    return {t: mem.execute(f'SELECT count(*) FROM "src_{t}"').fetchone()[0] for t in SOURCES}
