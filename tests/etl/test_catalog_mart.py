"""The catalog mart (metrics.catalog, built by etl.marts): the months and provinces holding records
that the app's frame reads on every page. Every write keeps it equal to a scan of the records —
a load adding a month or a province, a correction moving the only record of a month away, a
deletion — and a warehouse made before it reads the same answer from the scan."""
from __future__ import annotations

import duckdb
import pytest

from etl import warehouse
from metrics import catalog
from metrics.provinces import provinces_with_records
from tests.etl import helpers as h

SICHUAN_CITY = "510100"  # 成都市

# the questions as the record tables answer them, written out plainly (what the app asked before
# the mart existed): months of inspections, hazards and cases; provinces of the agencies of
# inspections, cases and plans
SCAN_MONTHS = """SELECT DISTINCT strftime(d, '%Y-%m') FROM (
                   SELECT date_trunc('month', inspection_date) AS d FROM inspections
                   UNION SELECT date_trunc('month', found_date) FROM hazards
                   UNION SELECT date_trunc('month', filed_date) FROM penalties) WHERE d IS NOT NULL ORDER BY 1"""
SCAN_PROVINCES = """SELECT p.code, p.name
                    FROM (SELECT agency_code FROM inspections UNION SELECT agency_code FROM penalties
                          UNION SELECT agency_code FROM plans) a
                    JOIN regions r ON r.code = a.agency_code JOIN regions p ON p.code = r.province_code
                    GROUP BY p.code, p.name ORDER BY p.code"""


def answers(db) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    """(months, provinces) the app reads (a read-only connection: from the mart), and the scan's."""
    con = warehouse.connect_read(db)
    try:
        assert catalog.catalog_source(con) == catalog.CATALOG_MART
        got = catalog.all_periods(con)["month"], provinces_with_records(con)
        want = [m for (m,) in con.execute(SCAN_MONTHS).fetchall()], con.execute(SCAN_PROVINCES).fetchall()
    finally:
        con.close()
    assert got == want
    return got


def test_every_write_keeps_the_catalog_equal_to_the_scan(base, load, files):
    assert answers(base) == (["2024-03", "2024-06"], [("330000", "浙江省")])
    # a load adds a month and a province (成都's bureau inspected in September) and a hazard found
    # in a month of its own adds that month (a hazard counts for no province)
    load(h.write(files / "i.csv", "inspections", [h.inspection(3, agency_code=SICHUAN_CITY,
                                                               inspection_date="2024-09-10")]),
         h.write(files / "hz.csv", "hazards", [h.hazard(3, insp=3, found_date="2024-10-02", deadline="2024-11-02",
                                                        rectified_date="")]))
    assert answers(base) == (["2024-03", "2024-06", "2024-09", "2024-10"], [("330000", "浙江省"), ("510000", "四川省")])
    # a correction moves the only record of September to June and to a 浙江 bureau: both go
    fix = h.write(files / "i_fix.csv", "inspections", [h.inspection(3, inspection_date="2024-06-15")])
    assert h.only_file(load(fix)).replaced == 1
    assert answers(base) == (["2024-03", "2024-06", "2024-10"], [("330000", "浙江省")])
    # a plan of another province's bureau counts for the provinces, not the months
    load(h.write(files / "pl.csv", "plans", [h.plan(agency_code=SICHUAN_CITY)]))
    assert answers(base) == (["2024-03", "2024-06", "2024-10"], [("330000", "浙江省"), ("510000", "四川省")])
    # any write rebuilds it, a deletion too
    with warehouse.write(base) as con:
        con.execute("DELETE FROM hazards WHERE hazard_id = 'YH0003'")
        con.execute("DELETE FROM plans")
    assert answers(base) == (["2024-03", "2024-06"], [("330000", "浙江省")])

def test_a_warehouse_made_before_the_mart_reads_the_scan(base, tmp_path):
    """Without mart_catalog (an old file opened read-only) the same answers come from the same
    definition run over the record tables; a connection open for writing reads the mart, brought
    up to date with the records it wrote by hand (metrics.query.ensure_marts)."""
    want = answers(base)
    con = duckdb.connect(str(base))
    try:
        assert catalog.catalog_source(con) == catalog.CATALOG_MART  # open for writing: the mart
        assert (catalog.all_periods(con)["month"], provinces_with_records(con)) == want
        con.execute("UPDATE inspections SET inspection_date = DATE '2024-09-10' WHERE inspection_id = 'JC0002'")
        assert catalog.catalog_source(con) == catalog.CATALOG_MART  # the mart follows the hand-written record
        assert catalog.all_periods(con)["month"] == ["2024-03", "2024-09"]
        con.execute("UPDATE inspections SET inspection_date = DATE '2024-06-01' WHERE inspection_id = 'JC0002'")
        assert (catalog.all_periods(con)["month"], provinces_with_records(con)) == want
        con.execute(f"DROP TABLE {catalog.CATALOG_MART}")
    finally:
        con.close()
    con = warehouse.connect_read(base)
    try:
        assert catalog.catalog_source(con).startswith("(SELECT")
        assert (catalog.all_periods(con)["month"], provinces_with_records(con)) == want
    finally:
        con.close()


def test_the_catalog_is_one_of_the_marts_a_write_rebuilds(base):
    """A file whose marts predate the catalog is stale: the next write (or `python -m etl marts`) builds it."""
    from etl import marts

    con = duckdb.connect(str(base))
    try:
        con.execute(f"DROP TABLE {catalog.CATALOG_MART}")
        assert not marts.present(con) and not marts.fresh(con)
    finally:
        con.close()
    with warehouse.write(base):
        pass
    assert h.one(base, f"SELECT count(*) FROM {catalog.CATALOG_MART}") > 0
    answers(base)
