"""metrics.drill: region → counties → enterprises → records, consistent with the totals."""
import duckdb
import pytest

from metrics import drill, kpis


@pytest.fixture(scope="module")
def con(demo_db):
    c = duckdb.connect(str(demo_db), read_only=True)
    yield c
    c.close()


def test_children_of_province_city_county(con):
    cities = drill.children(con, "2025Q1", "330000")
    assert len(cities) == 11
    counties = drill.children(con, "2025Q1", "330700")
    assert len(counties) > 0 and counties.code.str.startswith("3307").all()
    assert drill.children(con, "2025Q1", counties.code.iloc[0]).empty


def test_records_add_up_to_the_totals(con):
    for code in ("330700", "330702", "330000"):
        tot = kpis.region_totals(con, "2025Q1", code)
        assert len(drill.records(con, "2025Q1", code, "inspections")) == tot["inspections"]
        haz = drill.records(con, "2025Q1", code, "hazards")
        assert len(haz) == tot["hazards"]
        cases = drill.records(con, "2025Q1", code, "cases")
        assert len(cases) == tot["cases"]
        assert (cases.fine_company_wan + cases.fine_person_wan).sum() == pytest.approx(tot["fines"])


def test_enterprises_add_up_and_lead_to_their_records(con):
    ents = drill.enterprises(con, "2025Q1", "330700")
    tot = kpis.region_totals(con, "2025Q1", "330700")
    assert ents.enterprise_id.is_unique
    assert ents.inspections.sum() == tot["inspections"]
    assert ents.hazards.sum() == tot["hazards"]
    assert ents.cases.sum() == tot["cases"]
    worst = ents.iloc[0]
    haz = drill.records(con, "2025Q1", "330700", "hazards", enterprise_id=worst.enterprise_id)
    # the hazards found in the period, plus the backlog its 逾期未整改重大隐患 counts (found before it)
    assert (haz.source == drill.FOUND_SOURCE).sum() == worst.hazards
    assert (haz.is_major & (haz.status == "逾期未整改")).sum() == worst.overdue_major
    assert (haz.enterprise_id == worst.enterprise_id).all()
    assert (haz.status.isin(["已整改", "未整改", "逾期未整改", "无需整改"])).all()
    assert len(drill.enterprises(con, "2025Q1", "330700", limit=5)) == 5


def test_hazard_status_is_judged_at_the_periods_end(con):
    haz = drill.records(con, "2024Q1", "330000", "hazards")
    done = haz[haz.status == "已整改"]
    assert (done.rectified_date <= "2024-03-31").all()
    late = haz[haz.status == "逾期未整改"]
    assert (late.deadline < "2024-03-31").all()
    assert late.rectified_date.isna().all() or (late.rectified_date.dropna() > "2024-03-31").all()


def test_unknown_kind(con):
    with pytest.raises(ValueError):
        drill.records(con, "2025Q1", "330700", "plans")
