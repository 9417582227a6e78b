"""The marts (etl.marts): every load stamps each record with the units it counts for, in the same
write; a corrected inspection takes its hazards with it; a write that changes no record keeps them."""
from __future__ import annotations

from etl import marts, warehouse
from metrics.indicators import compute_indicators
from tests.etl import helpers as h

CITY2, COUNTY3 = "330200", "330203"  # 宁波, 海曙


def _units(db, mart, key):
    return h.query(db, f"SELECT {key}, province_code, province_unit, city_unit, county_unit FROM {mart} ORDER BY 1")


def test_a_load_stamps_every_record_with_its_units(base, load, files):
    load(h.write(files / "i.csv", "inspections", [h.inspection(3, agency_code=h.CITY),
                                                  h.inspection(4, agency_code=h.PROVINCE)]),
         h.write(files / "p.csv", "penalties", [h.penalty(1, insp=3, hazard_id="", agency_code=h.CITY)]))
    load(h.write(files / "h.csv", "hazards", [h.hazard(3, insp=3), h.hazard(4, insp=4)]))
    assert _units(base, "mart_inspections", "inspection_id") == [
        ("JC0001", "330000", None, h.CITY, h.COUNTY),   # a county bureau: its county, its city
        ("JC0002", "330000", None, h.CITY, h.COUNTY),
        ("JC0003", "330000", None, h.CITY, None),       # a city bureau's inspection: the city, no county
        ("JC0004", "330000", "330000", None, None),     # the province bureau: the province alone
    ]
    # a hazard belongs where its inspection belongs
    assert _units(base, "mart_hazards", "hazard_id") == [
        ("YH0001", "330000", None, h.CITY, h.COUNTY),
        ("YH0003", "330000", None, h.CITY, None),
        ("YH0004", "330000", "330000", None, None),
    ]
    assert _units(base, "mart_penalties", "case_id") == [("AJ0001", "330000", None, h.CITY, None)]
    # the register counts where the enterprise is located
    assert {r[1:] for r in _units(base, "mart_enterprises", "enterprise_id")} == {("330000", "330000", h.CITY, h.COUNTY)}
    assert h.one(base, "SELECT hazards_found FROM mart_inspections WHERE inspection_id = 'JC0001'") == 1


def test_a_corrected_inspection_takes_its_hazards_with_it(base, load, files):
    load(h.write(files / "h.csv", "hazards", [h.hazard(2, insp=1, is_major="是", rectified_date="")]))
    con = warehouse.connect_read(base)
    try:
        before = compute_indicators(con, "2024Q1", "county", "330000", indicators=["rectification"])
    finally:
        con.close()
    assert before.set_index("code").loc[h.COUNTY, "denominator"] == 2
    # the inspection was really 宁波海曙's, on another day: re-loaded under the same id
    fix = h.write(files / "i_fix.csv", "inspections",
                  [h.inspection(1, agency_code=COUNTY3, inspection_date="2024-05-02")])
    assert h.only_file(load(fix)).replaced == 1
    assert _units(base, "mart_inspections", "inspection_id")[0] == ("JC0001", "330000", None, CITY2, COUNTY3)
    assert [r[3:] for r in _units(base, "mart_hazards", "hazard_id")] == [(CITY2, COUNTY3), (CITY2, COUNTY3)]
    assert h.query(base, "SELECT DISTINCT inspection_date::VARCHAR FROM mart_hazards") == [("2024-05-02",)]
    con = warehouse.connect_read(base)
    try:
        after = compute_indicators(con, "2024Q1", "county", "330000", indicators=["rectification"]).set_index("code")
    finally:
        con.close()
    assert after.loc[h.COUNTY, "denominator"] == 0 and after.loc[COUNTY3, "denominator"] == 2


def test_a_write_that_changes_no_record_keeps_the_marts(base):
    built = h.one(base, f"SELECT built_at FROM {marts.STATE}")
    with warehouse.write(base) as con:
        con.execute("INSERT OR REPLACE INTO meta VALUES ('note', 'x')")
    assert h.one(base, f"SELECT built_at FROM {marts.STATE}") == built
    with warehouse.write(base) as con:
        con.execute("UPDATE hazards SET is_major = TRUE")
        assert not marts.fresh(con)
    assert h.query(base, "SELECT DISTINCT is_major FROM mart_hazards") == [(True,)]
    assert h.one(base, f"SELECT built_at FROM {marts.STATE}") > built


def test_a_write_hashes_the_records_once_and_stores_that_fingerprint(base, monkeypatch):
    """The fingerprint reads every row of every record table: the freshness check and the state
    the build stores share one computation (it was made twice per write)."""
    calls = []
    real = marts.fingerprint
    monkeypatch.setattr(marts, "fingerprint", lambda con: calls.append(1) or real(con))
    with warehouse.write(base) as con:
        con.execute("UPDATE hazards SET key_matter = NOT key_matter")
    assert len(calls) == 1
    con = warehouse.connect_read(base)
    try:
        assert marts.fresh(con)  # what was stored is what the records hash to now
    finally:
        con.close()


def test_every_source_metrics_reads_has_a_mart_with_its_columns(base):
    """A table metrics counts (metrics.sources) is read from its mart only: each needs one, holding
    the source's columns and the stamped units (a new source without one fails here, not in a page)."""
    from metrics.sources import SOURCES

    for name, src in SOURCES.items():
        assert src.mart in marts.MARTS, name
        have = {c for (c,) in h.query(base, "SELECT column_name FROM duckdb_columns() WHERE table_name = ?", [src.mart])}
        assert set(src.columns) | {"province_code", *marts.UNIT_COLUMNS.values()} <= have, name


def test_the_panel_built_by_nested_loops_equals_the_default_plans_and_leaves_the_setting(monkeypatch):
    """build_panel pairs facts with periods by nested loops (fast); the rows must be those DuckDB's
    default plans (piecewise merge joins) give, and the connection's own setting comes back."""
    from metrics import query
    from tests.metrics.metrics_data import hangzhou_q1

    con = hangzhou_q1().memory()
    query.ensure_marts(con)
    con.execute("SET nested_loop_join_threshold = 7")
    query.build_panel(con)
    assert con.execute("SELECT current_setting('nested_loop_join_threshold')").fetchone()[0] == 7
    assert con.execute("SELECT count(DISTINCT period) FROM mart_panel_exact").fetchone()[0] > 7  # a real range join
    fast = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ("mart_panel", "mart_panel_exact")}
    monkeypatch.setattr(query, "PANEL_LOOP_JOIN_ROWS", 0)
    con.execute("RESET nested_loop_join_threshold")
    query.build_panel(con)
    plain = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in fast}
    assert fast == plain and len(fast["mart_panel_exact"]) > 0
    assert not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '\\_panel%' ESCAPE '\\'").fetchone()[0]


def test_a_load_failing_after_some_marts_were_committed_leaves_the_warehouse_as_it_was(base, load, files, monkeypatch):
    """A write commits each mart in its private copy as soon as it is built (parallel scans for
    the next); a failure further on (here: the panel) must still leave the live file untouched."""
    import pytest

    from metrics import query

    before = {t: h.query(base, f"SELECT * FROM {t} ORDER BY ALL") for t in ("inspections", "mart_inspections", "mart_hazards")}
    version = warehouse.version(base)

    def broken(con, parts=None):
        assert h.CITY in {r[0] for r in con.execute("SELECT agency_code FROM mart_inspections").fetchall()}
        raise RuntimeError("panel failed (test)")

    monkeypatch.setattr(query, "build_panel", broken)
    fix = h.write(files / "i_fix.csv", "inspections", [h.inspection(1, agency_code=h.CITY, inspection_date="2024-05-02")])
    with pytest.raises(RuntimeError, match="panel failed"):
        load(fix)
    assert warehouse.version(base) == version
    assert {t: h.query(base, f"SELECT * FROM {t} ORDER BY ALL") for t in before} == before
    assert not list(base.parent.glob(base.name + ".*.tmp*"))  # the private copy is gone


# the hazards citing an inspection not in the warehouse, by month found: what the data-quality
# panel counted with an anti-join of the records on every call before mart_orphan_hazards
ORPHANS_SCAN = """SELECT CAST(date_trunc('month', h.found_date) AS DATE), count(*)
                  FROM hazards h LEFT JOIN inspections i USING (inspection_id)
                  WHERE i.inspection_id IS NULL GROUP BY ALL ORDER BY 1"""


def _orphans(db):
    got = h.query(db, f"SELECT month, hazards FROM {marts.ORPHANS_MART} ORDER BY month")
    assert got == h.query(db, ORPHANS_SCAN)
    return [(str(m), n) for m, n in got]


def test_hazards_without_their_inspection_are_counted_by_month_in_every_write(base):
    """The contract refuses a hazard citing an inspection not loaded (the corpus's
    23_orphan_hazards.csv: Y23-2 cites JC9999), so such hazards reach a warehouse only by hand; the
    mart still counts them, by month found, equal to the anti-join the quality panel ran before."""
    assert _orphans(base) == []
    with warehouse.write(base) as con:
        con.execute("""INSERT INTO hazards (hazard_id, inspection_id, found_date, is_major, key_matter,
                                            needs_rectification, deadline, rectified_date) VALUES
            ('Y23-1', 'JC0001', DATE '2024-03-05', false, false, true, DATE '2024-04-05', DATE '2024-03-20'),
            ('Y23-2', 'JC9999', DATE '2024-03-05', false, false, true, DATE '2024-04-05', DATE '2024-03-20'),
            ('Y23-3', 'JC9998', DATE '2024-03-28', true, false, true, DATE '2024-04-28', NULL),
            ('Y23-4', 'JC9998', DATE '2024-07-01', false, false, false, NULL, NULL)""")
    assert _orphans(base) == [("2024-03-01", 2), ("2024-07-01", 1)]
    assert h.one(base, "SELECT count(*) FROM mart_hazards") == 2  # YH0001 and Y23-1, the placeable ones
    # the inspection JC9998 arrives: its hazards are placed, no longer orphans
    with warehouse.write(base) as con:
        con.execute("INSERT INTO inspections SELECT * REPLACE ('JC9998' AS inspection_id) FROM inspections "
                    "WHERE inspection_id = 'JC0001'")
    assert _orphans(base) == [("2024-03-01", 1)]
    with warehouse.write(base) as con:
        con.execute("DELETE FROM hazards WHERE hazard_id = 'Y23-2'")
    assert _orphans(base) == []
