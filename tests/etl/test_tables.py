"""Every table of the contract loads from CSV and from XLSX, with typed values in the warehouse."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.etl import helpers as h

D = dt.date


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_regions(db, load, files, suffix):
    rows = [
        h.region("330199", "测试区", "县", "330100"),              # under an existing city
        h.region("331200", "测试市", "市", "330000"),              # a new city …
        h.region("331299", "测试县", "县", "331200"),              # … and its county, in the same file
        h.region("110199", "测试直辖区", "县", "110000"),          # a municipality's district
    ]
    result = load(h.write(files / f"regions{suffix}", "regions", rows))
    f = h.only_file(result)
    assert (f.table, f.read, f.loaded, f.set_aside) == ("regions", 4, 4, 0)
    got = h.query(db, "SELECT code, name, level, parent_code, province_code, city_code FROM regions "
                      "WHERE code IN ('330199', '331200', '331299', '110199') ORDER BY code")
    assert got == [
        ("110199", "测试直辖区", "县", "110000", "110000", None),
        ("330199", "测试区", "县", "330100", "330000", "330100"),
        ("331200", "测试市", "市", "330000", "330000", "331200"),
        ("331299", "测试县", "县", "331200", "330000", "331200"),
    ]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_enterprises(db, load, files, suffix):
    rows = [h.enterprise(1), h.enterprise(2, county_code=h.COUNTY2, industry="煤矿", key_unit="否")]
    f = h.only_file(load(h.write(files / f"register{suffix}", "enterprises", rows)))
    assert (f.table, f.read, f.loaded, f.replaced, f.set_aside) == ("enterprises", 2, 2, 0, 0)
    assert h.query(db, "SELECT enterprise_id, name, county_code, industry, key_unit, load_id IS NOT NULL "
                       "FROM enterprises ORDER BY enterprise_id") == [
        (h.eid(1), "测试化工有限公司1", h.COUNTY, "危险化学品", True, True),
        (h.eid(2), "测试化工有限公司2", h.COUNTY2, "煤矿", False, True),
    ]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_plans(db, load, files, suffix):
    rows = [h.plan(h.COUNTY, "2024", "120"), h.plan(h.CITY, "2024", "300"), h.plan(h.PROVINCE, "2025", "0")]
    f = h.only_file(load(h.write(files / f"plans{suffix}", "plans", rows)))
    assert (f.table, f.loaded, f.set_aside) == ("plans", 3, 0)
    assert h.query(db, "SELECT agency_code, year, planned_inspections FROM plans ORDER BY agency_code DESC") == [
        (h.COUNTY, 2024, 120), (h.CITY, 2024, 300), (h.PROVINCE, 2025, 0)]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_inspections(db, load, files, suffix):
    register = h.write(files / "register.csv", "enterprises", [h.enterprise(1), h.enterprise(2)])
    rows = [h.inspection(1),
            h.inspection(2, ent=2, agency_code=h.CITY, inspection_date=D(2025, 1, 2) if suffix == ".xlsx" else "2025-01-02",
                         inspection_type="专项检查", via_mobile="否", with_expert="是")]
    result = load(h.write(files / f"inspections{suffix}", "inspections", rows), register)
    f = next(f for f in result.files if f.table == "inspections")
    assert (f.read, f.loaded, f.set_aside) == (2, 2, 0)
    assert h.query(db, "SELECT * EXCLUDE (load_id) FROM inspections ORDER BY inspection_id") == [
        ("JC0001", h.eid(1), h.COUNTY, D(2024, 3, 5), "双随机", True, False),
        ("JC0002", h.eid(2), h.CITY, D(2025, 1, 2), "专项检查", False, True),
    ]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_hazards(base, load, files, suffix):
    rows = [h.hazard(2, insp=1, is_major="是", key_matter="是", deadline="2024-03-20", rectified_date=None),
            h.hazard(3, insp=2, found_date="2024-06-01", needs_rectification="否", deadline=None, rectified_date=None)]
    f = h.only_file(load(h.write(files / f"hazards{suffix}", "hazards", rows)))
    assert (f.table, f.read, f.loaded, f.set_aside) == ("hazards", 2, 2, 0)
    assert h.query(base, "SELECT * EXCLUDE (load_id) FROM hazards WHERE hazard_id <> 'YH0001' ORDER BY hazard_id") == [
        ("YH0002", "JC0001", D(2024, 3, 5), True, True, True, D(2024, 3, 20), None),
        ("YH0003", "JC0002", D(2024, 6, 1), False, False, False, None, None),
    ]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_penalties(base, load, files, suffix):
    rows = [h.penalty(1, fine_company="12,000", fine_person="5000", for_major_hazard="是", transferred="是",
                      review_score="92.5", case_reported="是"),
            h.penalty(2, inspection_id=None, hazard_id=None, decision_date=None,
                      fine_company=None, fine_person=None, review_score=None, for_major_hazard=None,
                      transferred=None, case_reported=None)]
    f = h.only_file(load(h.write(files / f"penalties{suffix}", "penalties", rows)))
    assert (f.table, f.read, f.loaded, f.set_aside) == ("penalties", 2, 2, 0)
    assert h.query(base, "SELECT * EXCLUDE (load_id) FROM penalties ORDER BY case_id") == [
        ("AJ0001", "JC0001", h.eid(1), h.COUNTY, D(2024, 3, 10), D(2024, 4, 1), Decimal("12000.00"),
         Decimal("5000.00"), True, "YH0001", True, 92.5, True),
        # blanks: optional ids stay NULL, amounts and flags take their defaults, score stays NULL
        ("AJ0002", None, h.eid(1), h.COUNTY, D(2024, 3, 10), None, Decimal("0.00"), Decimal("0.00"),
         False, None, False, None, False),
    ]


def test_one_run_brings_register_and_records_in_any_order(db, load, files):
    """Files are taken in dependency order, whatever order they are given in."""
    result = load(
        h.write(files / "p.csv", "penalties", [h.penalty(1)]),
        h.write(files / "hz.csv", "hazards", [h.hazard(1)]),
        h.write(files / "i.csv", "inspections", [h.inspection(1)]),
        h.write(files / "e.csv", "enterprises", [h.enterprise(1)]),
    )
    assert {f.table: (f.loaded, f.set_aside) for f in result.files} == {
        "penalties": (1, 0), "hazards": (1, 0), "inspections": (1, 0), "enterprises": (1, 0)}
    assert [f.path.name for f in result.files] == ["p.csv", "hz.csv", "i.csv", "e.csv"]  # reported as given
    assert h.one(db, "SELECT count(*) FROM penalties") == 1


def test_table_option_forces_the_table(db, load, files):
    """--table: a file whose header would be ambiguous is read as the named table."""
    path = h.write(files / "plans.csv", "plans", [h.plan()])
    f = h.only_file(load(path, table="plans"))
    assert (f.table, f.loaded) == ("plans", 1)
    g = h.only_file(load(path, table="inspections"))
    assert g.refused and "执法检查" in g.refused and "年度执法计划" not in g.refused
