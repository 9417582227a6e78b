"""The demo warehouse: seeded, realistic, loaded through the ETL, on real region codes."""
import os
import subprocess
import sys
import time

import duckdb
import pandas as pd
import pytest

from etl.demo import DemoConfig, build_demo, generate


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo") / "w.duckdb"
    t0 = time.perf_counter()
    summary = build_demo(DemoConfig(scale=0.1, first_year=2023, last_year=2025), db=db)
    return db, summary, time.perf_counter() - t0


def test_same_seed_same_data():
    a = generate(DemoConfig(scale=0.05, first_year=2024, last_year=2024))
    b = generate(DemoConfig(scale=0.05, first_year=2024, last_year=2024))
    c = generate(DemoConfig(scale=0.05, first_year=2024, last_year=2024, seed=8))
    assert a["inspections"].equals(b["inspections"])
    assert a["penalties"].equals(b["penalties"])
    assert not a["inspections"].equals(c["inspections"])


def test_demo_loads_every_row_through_the_etl(small_demo):
    db, summary, _ = small_demo
    con = duckdb.connect(str(db), read_only=True)
    hist = con.execute("SELECT table_name, rows_read, loaded, set_aside FROM load_history").fetchall()
    assert {h[0] for h in hist} == {"enterprises", "plans", "inspections", "hazards", "penalties",
                                    "officers", "training", "establishment"}
    assert all(read == loaded and aside == 0 for _, read, loaded, aside in hist)
    assert con.execute("SELECT value FROM meta WHERE key = 'demo'").fetchone()[0] == "true"
    # every agency and enterprise county is a real Zhejiang code
    bad = con.execute("""SELECT count(*) FROM inspections i LEFT JOIN regions r ON r.code = i.agency_code
                         WHERE r.province_code IS DISTINCT FROM '330000'""").fetchone()[0]
    assert bad == 0
    assert con.execute("SELECT count(DISTINCT county_code) FROM enterprises").fetchone()[0] == 90
    assert "rectification:" in summary and "fines" in summary


def test_demo_capacity_differs_between_bureaus(small_demo):
    """Bureaus below 75% qualified (Yunnan's target), without technical inspectors (Beijing's 1:2),
    short of the 2 weeks' refresher (Jiangsu), and an establishment that grows (Hunan)."""
    db, _, _ = small_demo
    con = duckdb.connect(str(db), read_only=True)
    per = con.execute("""
        SELECT agency_code,
               avg(CASE WHEN degree OR qualification OR experience THEN 1 ELSE 0 END) FILTER (post = '行政执法') AS q,
               count(*) FILTER (post = '技术检查员') AS tech
        FROM officers WHERE end_date IS NULL GROUP BY 1""").df()
    assert len(per) > 100
    assert (per.q < 0.75).sum() >= 10 and (per.q >= 0.75).sum() >= 10
    assert (per.tech == 0).sum() >= 5 and (per.tech > 0).sum() >= 50
    short = con.execute("""SELECT count(*) FROM (SELECT o.agency_code,
                               avg(CASE WHEN t.refresher_days >= 10 THEN 1 ELSE 0 END) AS met
                           FROM training t JOIN officers o USING (officer_id) WHERE t.year = 2024
                           AND o.post = '行政执法' GROUP BY 1) WHERE met < 0.5""").fetchone()[0]
    assert short >= 5
    posts = dict(con.execute("SELECT year, sum(posts) FROM establishment GROUP BY 1").fetchall())
    assert posts[2025] > posts[2023] * 1.05
    grew = con.execute("""SELECT count(*) FROM establishment a JOIN establishment b USING (agency_code)
                          WHERE a.year = 2023 AND b.year = 2025 AND b.posts >= 1.25 * a.posts""").fetchone()[0]
    assert grew >= 5
    # officers who left have an end date after they started, and no date is in the future
    assert con.execute("SELECT count(*) FROM officers WHERE end_date IS NOT NULL").fetchone()[0] > 0


def test_demo_is_realistic(small_demo):
    db, _, _ = small_demo
    con = duckdb.connect(str(db), read_only=True)
    per_insp = con.execute("SELECT (SELECT count(*) FROM hazards) / (SELECT count(*) FROM inspections)").fetchone()[0]
    assert 1.1 < per_insp < 1.7                      # published 1.36
    major = con.execute("SELECT 1000.0 * count(*) FILTER (is_major) / (SELECT count(*) FROM inspections) FROM hazards").fetchone()[0]
    assert 30 < major < 70                           # published 49.7 per 1,000 inspections
    rect = con.execute("""SELECT count(rectified_date) / count(*) FROM hazards
                          WHERE needs_rectification AND found_date <= DATE '2025-09-30'""").fetchone()[0]
    assert 0.95 < rect < 0.995                       # published 98.6%
    avg_fine, share5 = con.execute("""SELECT avg(fine_company + fine_person) / 1e4,
                                             avg(CASE WHEN fine_company + fine_person >= 50000 THEN 1 ELSE 0 END)
                                      FROM penalties WHERE decision_date IS NOT NULL""").fetchone()
    assert 4 < avg_fine < 12 and 0.15 < share5 < 0.35  # published 7.62万, ~24%
    # December carries the year-end push
    dec, feb = con.execute("""SELECT count(*) FILTER (month(inspection_date) = 12),
                                     count(*) FILTER (month(inspection_date) = 2) FROM inspections""").fetchone()
    assert dec > 1.8 * feb
    # some overdue major hazards, and cities that differ
    assert con.execute("""SELECT count(*) FROM hazards WHERE is_major AND rectified_date IS NULL
                          AND deadline < DATE '2025-12-31'""").fetchone()[0] > 0
    spread = con.execute("""SELECT max(r) - min(r) FROM (SELECT agency_code, avg(via_mobile::INT) r
                            FROM inspections GROUP BY agency_code)""").fetchone()[0]
    assert spread > 0.3


def test_cli_demo_prints_counts_and_distributions(tmp_path):
    db = tmp_path / "w.duckdb"
    out = subprocess.run([sys.executable, "-m", "etl", "demo", "--province", "510000", "--scale", "0.03",
                          "--years", "2024-2025", "--db", str(db)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "inspections: " in out.stdout and "penalty cases:" in out.stdout and "lag days median" in out.stdout
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT value FROM meta WHERE key = 'demo_province'").fetchone()[0] == "510000"
    again = subprocess.run([sys.executable, "-m", "etl", "demo", "--if-missing", "--db", str(db)],
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "not rebuilt" in again.stdout


def test_cli_demo_rejects_a_bad_province(tmp_path):
    out = subprocess.run([sys.executable, "-m", "etl", "demo", "--province", "330100", "--db", str(tmp_path / "w.duckdb")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "province" in out.stderr


def test_a_reader_in_the_same_process_sees_each_new_load(tmp_path):
    """DuckDB caches one instance per path: connect_read must still open the swapped-in file."""
    from etl import warehouse

    db = tmp_path / "w.duckdb"
    warehouse.ensure(db)
    old = warehouse.connect_read(db)
    with warehouse.write(db) as con:
        con.execute("INSERT INTO meta VALUES ('probe', 'new')")
    new = warehouse.connect_read(db)
    assert new.execute("SELECT value FROM meta WHERE key = 'probe'").fetchone() == ("new",)
    assert old.execute("SELECT count(*) FROM meta WHERE key = 'probe'").fetchone()[0] == 0
    assert not list(tmp_path.glob(".w.duckdb.reader-*"))


def test_a_reader_asking_for_an_old_version_is_told_it_changed(tmp_path):
    from etl import warehouse

    db = tmp_path / "w.duckdb"
    warehouse.ensure(db)
    v1 = warehouse.version(db)
    warehouse.connect_read(db, expect=v1).close()
    with warehouse.write(db) as con:
        con.execute("INSERT INTO meta VALUES ('probe', 'new')")
    with pytest.raises(warehouse.WarehouseChanged):
        warehouse.connect_read(db, expect=v1)
    # a link left by a killed reader (pid that does not exist) is cleaned up
    dead = tmp_path / ".w.duckdb.reader-999999999-abcd"
    os.link(db, dead)
    warehouse.connect_read(db).close()
    assert not dead.exists()


def test_demo_runs_up_to_the_last_complete_quarter():
    import datetime as dt

    from etl.demo import default_years, last_complete_quarter

    assert last_complete_quarter(dt.date(2026, 12, 1)) == (2026, 3, dt.date(2026, 9, 30))
    assert last_complete_quarter(dt.date(2027, 1, 1)) == (2026, 4, dt.date(2026, 12, 31))
    assert last_complete_quarter(dt.date(2026, 4, 1)) == (2026, 1, dt.date(2026, 3, 31))
    assert last_complete_quarter(dt.date(2026, 3, 31)) == (2025, 4, dt.date(2025, 12, 31))
    assert default_years(dt.date(2026, 12, 1)) == (2024, 2026)
    assert default_years(dt.date(2026, 2, 1)) == (2023, 2025)
    # the current year's data stop at the end of the last complete quarter (not yesterday)
    year, _, end = last_complete_quarter()
    ins = generate(DemoConfig(scale=0.05, first_year=year, last_year=year))["inspections"]
    last_day = pd.to_datetime(ins["inspection_date"]).max().date()
    assert last_day <= end and (end - last_day).days < 31
