"""metrics.kpis: the KPI tiles' totals follow the counting rule and compare periods correctly."""
import math

import duckdb
import pandas as pd
import pytest

from metrics import kpis
from metrics.periods import Period


@pytest.fixture(scope="module")
def con(demo_db):
    c = duckdb.connect(str(demo_db), read_only=True)
    yield c
    c.close()


def _frames(con):
    return {t: con.execute(f"SELECT * FROM {t}").df() for t in ("regions", "inspections", "hazards", "penalties")}


def _expected(f, period, agencies):
    p = Period.parse(period)
    start, end = pd.Timestamp(p.start), pd.Timestamp(p.end)
    ins = f["inspections"]
    ins_in = ins[ins.agency_code.isin(agencies)]
    n_ins = ins_in.inspection_date.between(start, end).sum()
    haz = f["hazards"].merge(ins[["inspection_id", "agency_code"]], on="inspection_id")
    haz = haz[haz.agency_code.isin(agencies) & haz.found_date.between(start, end)]
    need = haz[haz.needs_rectification]
    rect = (need.rectified_date <= end).sum()
    pen = f["penalties"]
    pen = pen[pen.agency_code.isin(agencies) & pen.filed_date.between(start, end)]
    fines = float((pen.fine_company.astype(float) + pen.fine_person.astype(float)).sum()) / 10000
    return dict(inspections=n_ins, hazards=len(haz), rectification=rect / len(need) if len(need) else None,
                cases=len(pen), fines=fines)


def test_region_totals_match_an_independent_count(con):
    f = _frames(con)
    r = f["regions"]
    city = "330700"
    city_agencies = set(r[r.city_code == city].code)
    got = kpis.region_totals(con, "2025Q2", city)
    want = _expected(f, "2025Q2", city_agencies)
    for k, v in want.items():
        assert got[k] == pytest.approx(v), k
    # a county counts its own bureau only; the province counts every agency incl. its own bureau
    county = sorted(r[(r.city_code == city) & (r.level == "县")].code)[0]
    assert kpis.region_totals(con, "2025Q2", county)["inspections"] == _expected(f, "2025Q2", {county})["inspections"]
    prov = kpis.region_totals(con, "2025", "330000")
    assert prov["inspections"] == _expected(f, "2025", set(r[r.province_code == "330000"].code))["inspections"]


def test_city_total_is_its_counties_plus_its_own_bureau(con):
    counties = kpis.unit_totals(con, "2024Q3", "county", "330000", parent="330100")
    own = kpis.region_totals(con, "2024Q3", "330100")["inspections"]
    bureau = con.execute("SELECT count(*) FROM inspections WHERE agency_code = '330100' AND "
                         "inspection_date BETWEEN '2024-07-01' AND '2024-09-30'").fetchone()[0]
    assert own == counties.inspections.sum() + bureau
    assert set(counties.code.str[:4]) == {"3301"}


def test_every_unit_of_the_level_has_a_row(con):
    cities = kpis.unit_totals(con, "2025Q4", "city", "330000")
    assert len(cities) == 11 and cities.code.is_unique
    assert len(kpis.unit_totals(con, "2025Q4", "county", "330000")) == 90
    # a period without records: zeros, and no rectification rate (NA, not 0)
    empty = kpis.unit_totals(con, "2019Q1", "city", "330000")
    assert (empty.inspections == 0).all() and empty.rectification.isna().all()


def test_tiles_compare_with_the_previous_period(con):
    tiles = kpis.kpi_tiles(con, "2025Q3", "330000").set_index("kpi")
    assert list(tiles.index) == [k for k, *_ in kpis.KPIS]
    now = kpis.region_totals(con, "2025Q3", "330000")
    then = kpis.region_totals(con, "2025Q2", "330000")
    assert tiles.loc["inspections", "previous_period"] == "2025Q2"
    assert tiles.loc["inspections", "change"] == pytest.approx((now["inspections"] - then["inspections"]) / then["inspections"])
    assert tiles.loc["rectification", "change"] == pytest.approx((now["rectification"] - then["rectification"]) * 100)
    yoy = kpis.kpi_tiles(con, "2025Q3", "330000", against="year_ago").set_index("kpi")
    assert yoy.loc["cases", "previous_period"] == "2024Q3"


def test_no_change_against_an_empty_period(con):
    tiles = kpis.kpi_tiles(con, "2023Q1", "330000").set_index("kpi")  # 2022Q4 holds nothing
    assert tiles.loc["inspections", "previous"] == 0
    assert tiles.loc["inspections", "change"] is None or math.isnan(tiles.loc["inspections", "change"])
    assert pd.isna(tiles.loc["rectification", "previous"])


def test_unknown_region_and_level(con):
    with pytest.raises(KeyError):
        kpis.region_totals(con, "2025Q1", "999999")
    with pytest.raises(ValueError):
        kpis.unit_totals(con, "2025Q1", "town", "330000")
