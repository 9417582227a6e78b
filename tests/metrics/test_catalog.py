"""metrics.catalog: what the warehouse holds."""
import datetime as dt

import duckdb
import pytest

from metrics import catalog


@pytest.fixture(scope="module")
def con(demo_db):
    c = duckdb.connect(str(demo_db), read_only=True)
    yield c
    c.close()


def test_counts_meta_and_periods(con):
    counts = catalog.record_counts(con)
    assert set(counts) == set(catalog.RECORD_TABLES) and counts["inspections"] > 0
    assert catalog.meta(con)["demo"] == "true"
    qs = catalog.periods(con, "quarter")
    assert qs[0] == "2023Q1" and qs == sorted(qs) and len(qs) == len(set(qs))
    assert catalog.periods(con, "year") == ["2023", "2024", "2025"]
    assert catalog.periods(con, "month")[0] == "2023-01"
    with pytest.raises(ValueError):
        catalog.periods(con, "week")


def test_latest_complete_quarter_skips_the_running_one(con):
    assert catalog.latest_complete_quarter(con, today=dt.date(2030, 1, 1)) == catalog.periods(con)[-1]
    assert catalog.latest_complete_quarter(con, today=dt.date(2025, 8, 1)) == "2025Q2"


def test_regions_provinces_and_history(con):
    assert len(catalog.regions(con, "330000", "city")) == 11
    assert len(catalog.regions(con, "330000", "county")) == 90
    hist = catalog.load_history(con)
    # the demo loads one file per table (the staff tables too)
    assert sorted(hist.table_name) == sorted(["enterprises", "plans", "inspections", "hazards", "penalties",
                                              "officers", "training", "establishment"])
    assert hist.load_id.is_monotonic_decreasing
    assert catalog.set_aside(con, run_id=hist.run_id.iloc[0]).empty
    with pytest.raises(ValueError):
        catalog.set_aside(con)


def test_the_catalog_mart_answers_as_the_scan_does(con):
    """The months and provinces the app's frame reads from mart_catalog (built by the ETL) are the
    ones a scan of the record tables gives (tests/etl/test_catalog_mart.py: after every write)."""
    from metrics.provinces import provinces_with_records
    from tests.etl.test_catalog_mart import SCAN_MONTHS, SCAN_PROVINCES

    assert catalog.catalog_source(con) == catalog.CATALOG_MART
    months = catalog.all_periods(con)["month"]
    assert months == [m for (m,) in con.execute(SCAN_MONTHS).fetchall()] and len(months) == 36
    assert provinces_with_records(con) == con.execute(SCAN_PROVINCES).fetchall() == [("330000", "浙江省")]
    # the shared definition run as the scan (a warehouse made before the mart) gives the mart's rows
    assert (con.execute(f"SELECT * FROM ({catalog.CATALOG_SQL}) ORDER BY ALL").fetchall()
            == con.execute(f"SELECT * FROM {catalog.CATALOG_MART} ORDER BY ALL").fetchall())
