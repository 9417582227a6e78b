"""`python -m etl export --parquet DIR` (cli.md): the facts as Hive-partitioned Parquet that another
engine reads back to the warehouse's own numbers; an unwritable DIR is a message, not a traceback."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.etl.test_cli import etl


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    from etl.demo import DemoConfig, build_demo

    db = tmp_path_factory.mktemp("export") / "warehouse.duckdb"
    build_demo(DemoConfig(province="330000", seed=7, first_year=2024, last_year=2025, scale=0.02), db=db)
    return db


@pytest.fixture(scope="module")
def lake(demo, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lake") / "lake"
    p = etl("export", "--parquet", out, db=demo)
    assert p.returncode == 0, p.stderr
    assert "hazards: " in p.stdout and "by province, year" in p.stdout
    return out


def _read(lake: Path, table: str) -> str:
    types = "{'province': VARCHAR}" if table == "enterprises" else "{'province': VARCHAR, 'year': INTEGER}"
    return f"read_parquet('{lake / table}/**/*.parquet', hive_partitioning = true, hive_types = {types})"


def test_hive_layout_by_province_and_year(lake):
    years = sorted(p.name for p in (lake / "hazards" / "province=330000").iterdir())
    assert years == ["year=2024", "year=2025"]
    assert list((lake / "enterprises").iterdir()) == [lake / "enterprises" / "province=330000"]
    assert (lake / "regions" / "data_0.parquet").exists()
    assert not [p for p in lake.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_read_back_gives_the_warehouse_figures(demo, lake):
    con = duckdb.connect()
    con.execute(f"ATTACH '{demo}' AS wh (READ_ONLY)")
    for table, date in (("inspections", "inspection_date"), ("hazards", "found_date"), ("penalties", "filed_date")):
        got = con.execute(f"SELECT province, year, count(*) FROM {_read(lake, table)} GROUP BY ALL ORDER BY ALL").fetchall()
        want = con.execute(f"SELECT '330000', year({date}), count(*) FROM wh.{table} GROUP BY ALL ORDER BY ALL").fetchall()
        assert got == want and got, table
    # money and flags survive exactly
    got = con.execute(f"SELECT sum(fine_company), sum(fine_person), count(*) FILTER (transferred) "
                      f"FROM {_read(lake, 'penalties')}").fetchone()
    assert got == con.execute("SELECT sum(fine_company), sum(fine_person), count(*) FILTER (transferred) "
                              "FROM wh.penalties").fetchone()
    # the counting rule: a hazard counts for the city and county of the agency that inspected
    got = con.execute(f"SELECT city_code, county_code, count(*) FILTER (is_major) FROM {_read(lake, 'hazards')} "
                      "GROUP BY ALL ORDER BY ALL").fetchall()
    want = con.execute("SELECT r.city_code, CASE WHEN r.level = '县' THEN r.code END, count(*) FILTER (h.is_major) "
                       "FROM wh.hazards h JOIN wh.inspections i USING (inspection_id) "
                       "JOIN wh.regions r ON r.code = i.agency_code GROUP BY ALL ORDER BY ALL").fetchall()
    assert got == want and len(got) > 11
    n = con.execute(f"SELECT count(*) FROM {_read(lake, 'enterprises')}").fetchone()[0]
    assert n == con.execute("SELECT count(*) FROM wh.enterprises").fetchone()[0]
    # the marts the app reads (etl.marts) go out as they are, by province and year
    got = con.execute(f"SELECT year, city_unit, count(*) FILTER (is_major) FROM {_read(lake, 'mart_hazards')} "
                      "GROUP BY ALL ORDER BY ALL").fetchall()
    want = con.execute("SELECT year(found_date), city_unit, count(*) FILTER (is_major) FROM wh.mart_hazards "
                       "GROUP BY ALL ORDER BY ALL").fetchall()
    assert got == want and got


def test_the_facts_go_out_placed_as_the_marts_place_them(demo, lake):
    """The facts are read from the marts the ETL built (etl.marts): each record's exported units are
    its mart's stamp (issue 11: one writing of the counting rule), and its own columns are its
    record table's, with their types."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{demo}' AS wh (READ_ONLY)")
    for table, key, units, stamp in (
            ("inspections", "inspection_id", "province, city_code, county_code", "province_code, city_unit, county_unit"),
            ("hazards", "hazard_id", "province, city_code, county_code", "province_code, city_unit, county_unit"),
            ("penalties", "case_id", "province, city_code, county_code", "province_code, city_unit, county_unit"),
            ("plans", "agency_code, year", "province, city_code, county_code", "province_code, city_unit, county_unit"),
            ("enterprises", "enterprise_id", "province, city_code", "province_code, city_unit")):
        got = con.execute(f"SELECT {key}, {units} FROM {_read(lake, table)} ORDER BY ALL").fetchall()
        want = con.execute(f"SELECT {key}, {stamp} FROM wh.mart_{table} ORDER BY ALL").fetchall()
        assert got == want and got, table
        cols = con.execute(f"SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = 'wh' "
                           f"AND table_name = '{table}' AND column_name <> 'load_id' ORDER BY column_index").fetchall()
        have = dict(r[:2] for r in con.execute(f"DESCRIBE SELECT * FROM {_read(lake, table)}").fetchall())
        assert {c: have.get(c) for c, _ in cols} == dict(cols), table  # (a plan's year: its partition)
    # a city bureau's records count for no county, the province bureau's for no city
    assert con.execute(f"SELECT count(*) FROM {_read(lake, 'inspections')} WHERE city_code IS NULL").fetchone()[0] > 0


def test_export_again_replaces_not_appends(demo, lake):
    p = etl("export", "--parquet", lake, db=demo)
    assert p.returncode == 0, p.stderr
    con = duckdb.connect()
    n = con.execute(f"SELECT count(*) FROM {_read(lake, 'inspections')}").fetchone()[0]
    assert n == duckdb.connect(str(demo), read_only=True).execute("SELECT count(*) FROM inspections").fetchone()[0]


def test_unwritable_dir_is_a_message_and_exit_1(demo, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    p = etl("export", "--parquet", blocker / "lake", db=demo)
    assert p.returncode == 1
    assert "cannot write to" in p.stderr and str(blocker / "lake") in p.stderr
    assert "Traceback" not in p.stderr


def test_missing_warehouse_and_usage(tmp_path):
    p = etl("export", "--parquet", tmp_path / "lake", db=tmp_path / "none.duckdb")
    assert p.returncode == 1 and "no warehouse at" in p.stderr and "Traceback" not in p.stderr
    assert etl("export", db=tmp_path / "none.duckdb").returncode == 2


def test_marts_are_exported_by_province_and_year(demo, tmp_path):
    """Any further table (a mart, the panel) goes out too, partitioned by its province_code and the
    year of its date; a build-state table does not."""
    import shutil

    from etl import warehouse

    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo, db)
    with warehouse.write(db) as con:
        con.execute("CREATE TABLE mart_x AS SELECT h.hazard_id, h.found_date, r.province_code, r.city_code AS city_unit "
                    "FROM hazards h JOIN inspections i USING (inspection_id) JOIN regions r ON r.code = i.agency_code")
        con.execute("CREATE TABLE mart_x_state AS SELECT 'x' AS fingerprint")
    p = etl("export", "--parquet", tmp_path / "lake", db=db)
    assert p.returncode == 0, p.stderr
    assert "mart_x: " in p.stdout and "mart_x_state" not in p.stdout
    assert sorted(d.name for d in (tmp_path / "lake" / "mart_x" / "province=330000").iterdir()) == ["year=2024", "year=2025"]
    got = duckdb.connect().execute(f"SELECT city_unit, count(*) FROM {_read(tmp_path / 'lake', 'mart_x')} "
                                   "GROUP BY ALL ORDER BY ALL").fetchall()
    want = duckdb.connect(str(db), read_only=True).execute(
        "SELECT city_unit, count(*) FROM mart_x GROUP BY ALL ORDER BY ALL").fetchall()
    assert got == want and len(got) == 12  # 11 cities and the province bureau's own (NULL)


def test_the_panel_and_the_catalog_read_back_to_the_warehouse_figures(demo, lake):
    """What the app's figures are read from goes out by province and year: the panel's parts sum,
    per province, year and part, to the warehouse's; the catalog's rows (NULL partitions included)
    are the warehouse's, and give the app's list of months."""
    from metrics import catalog

    con = duckdb.connect()
    con.execute(f"ATTACH '{demo}' AS wh (READ_ONLY)")
    for table in ("mart_panel", "mart_panel_exact", "mart_catalog"):
        assert {"year=2024", "year=2025"} <= {p.name for p in (lake / table / "province=330000").iterdir()}, table
    got = con.execute(f"SELECT province, year, placement, part, sum(value), count(*) FROM {_read(lake, 'mart_panel')} "
                      "GROUP BY ALL ORDER BY ALL").fetchall()
    want = con.execute("SELECT province_code, year(month), placement, part, sum(value), count(*) FROM wh.mart_panel "
                       "GROUP BY ALL ORDER BY ALL").fetchall()
    assert got == want and len(got) > 20
    got = con.execute(f"SELECT province, year, period, placement, part, sum(value), count(*) "
                      f"FROM {_read(lake, 'mart_panel_exact')} GROUP BY ALL ORDER BY ALL").fetchall()
    want = con.execute("SELECT province_code, CAST(left(period, 4) AS INTEGER), period, placement, part, sum(value), "
                       "count(*) FROM wh.mart_panel_exact GROUP BY ALL ORDER BY ALL").fetchall()
    assert got == want and {r[2] for r in got} >= {"2024", "2024Q1", "2025Q4"}
    got = con.execute(f"SELECT table_name, province, month FROM {_read(lake, 'mart_catalog')} ORDER BY ALL").fetchall()
    want = con.execute("SELECT table_name, province_code, month FROM wh.mart_catalog ORDER BY ALL").fetchall()
    assert got == want and any(r[1] is None for r in got) and any(r[2] is None for r in got)
    months = con.execute(f"SELECT DISTINCT strftime(month, '%Y-%m') FROM {_read(lake, 'mart_catalog')} "
                         "WHERE table_name <> 'plans' AND month IS NOT NULL ORDER BY 1").fetchall()
    wh = duckdb.connect(str(demo), read_only=True)
    try:
        assert [m for (m,) in months] == catalog.periods(wh, "month")
    finally:
        wh.close()
    got = con.execute(f"SELECT * FROM read_parquet('{lake / 'mart_panel_parts'}/*.parquet') ORDER BY ALL").fetchall()
    assert got == con.execute("SELECT * FROM wh.mart_panel_parts ORDER BY ALL").fetchall() and got


def test_a_warehouse_made_before_the_marts_is_a_message(demo, tmp_path):
    """The facts are read from the marts: a file without them (opened read-only, as an export
    does) says how to build them instead of exporting a second reading of the records."""
    import shutil

    from etl import marts

    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo, db)
    con = duckdb.connect(str(db))
    try:
        marts.drop(con)
    finally:
        con.close()
    p = etl("export", "--parquet", tmp_path / "lake", db=db)
    assert p.returncode == 1 and "python -m etl marts" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "lake" / "inspections").exists()
