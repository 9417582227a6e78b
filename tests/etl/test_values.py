"""Every written form of dates, amounts, booleans and integers, asserted as typed values in the
warehouse; from CSV text and from Excel cells."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.etl import helpers as h

D = dt.date

DATE_FORMS = ["2024-03-05", "2024/3/5", "2024/03/05", "2024年3月5日", "2024年03月05日", "20240305",
              "2024-3-5", "2024.3.5", "２０２４－０３－０５", " 2024-03-05 ", "2024-03-05 00:00:00",
              "2024/3/5 0:00"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_date_forms(base, load, files, suffix):
    rows = [h.inspection(10 + i, inspection_date=v) for i, v in enumerate(DATE_FORMS)]
    f = h.only_file(load(h.write(files / f"i{suffix}", "inspections", rows)))
    assert (f.loaded, f.set_aside) == (len(DATE_FORMS), 0), h.query(base, "SELECT * FROM quarantine")
    assert h.query(base, "SELECT DISTINCT inspection_date FROM inspections WHERE inspection_id >= 'JC0010'") == [
        (D(2024, 3, 5),)]


def test_excel_date_cells(base, load, files):
    """Real Excel date cells (with and without a time, in any display format), and dates typed as text."""
    import openpyxl

    rows = [h.inspection(10, inspection_date=D(2024, 3, 5)),
            h.inspection(11, inspection_date=dt.datetime(2024, 3, 5)),
            h.inspection(12, inspection_date=dt.datetime(2024, 3, 5, 14, 30)),
            h.inspection(13, inspection_date="2024/3/5")]
    path = h.write(files / "i.xlsx", "inspections", rows)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    ws["D2"].number_format = "yyyy\"年\"m\"月\"d\"日\""
    ws["D3"].number_format = "yyyy/m/d"
    wb.save(path)
    assert openpyxl.load_workbook(path).active["D2"].is_date
    f = h.only_file(load(path))
    assert (f.loaded, f.set_aside) == (4, 0), h.query(base, "SELECT * FROM quarantine")
    assert h.query(base, "SELECT inspection_id, inspection_date FROM inspections "
                         "WHERE inspection_id >= 'JC0010' ORDER BY 1") == [
        ("JC0010", D(2024, 3, 5)), ("JC0011", D(2024, 3, 5)), ("JC0012", D(2024, 3, 5)), ("JC0013", D(2024, 3, 5))]


AMOUNTS = [("12000", "12000"), ("1,234.5", "1234.5"), ("1.2万", "12000"), ("1.2万元", "12000"),
           ("12,000元", "12000"), ("￥500", "500"), ("0.35万", "3500"), ("１２３４", "1234"),
           ("1，234", "1234"), (" 800 ", "800"), ("0", "0"), ("1234.567", "1234.57")]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_amount_forms(base, load, files, suffix):
    rows = [h.penalty(i, fine_company=text) for i, (text, _) in enumerate(AMOUNTS, start=1)]
    f = h.only_file(load(h.write(files / f"p{suffix}", "penalties", rows)))
    assert (f.loaded, f.set_aside) == (len(AMOUNTS), 0), h.query(base, "SELECT * FROM quarantine")
    got = h.query(base, "SELECT fine_company FROM penalties ORDER BY case_id")
    assert [g[0] for g in got] == [Decimal(want).quantize(Decimal("0.01")) for _, want in AMOUNTS]


def test_amount_number_cells(base, load, files):
    rows = [h.penalty(1, fine_company=1234.5, fine_person=0), h.penalty(2, fine_company=12000, fine_person=0.1 + 0.2)]
    path = h.write(files / "p.xlsx", "penalties", rows, number_formats={7: "#,##0.00"})
    f = h.only_file(load(path))
    assert (f.loaded, f.set_aside) == (2, 0)
    assert h.query(base, "SELECT fine_company, fine_person FROM penalties ORDER BY case_id") == [
        (Decimal("1234.50"), Decimal("0.00")), (Decimal("12000.00"), Decimal("0.30"))]


BOOLS = [("是", True), ("否", False), ("Y", True), ("N", False), ("y", True), ("n", False), ("1", True),
         ("0", False), ("true", True), ("false", False), ("TRUE", True), ("False", False), ("√", True),
         ("×", False), ("Ｙ", True), (" 是 ", True)]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_bool_forms(base, load, files, suffix):
    rows = [h.inspection(10 + i, via_mobile=text) for i, (text, _) in enumerate(BOOLS)]
    f = h.only_file(load(h.write(files / f"i{suffix}", "inspections", rows)))
    assert (f.loaded, f.set_aside) == (len(BOOLS), 0), h.query(base, "SELECT * FROM quarantine")
    got = h.query(base, "SELECT via_mobile FROM inspections WHERE inspection_id >= 'JC0010' ORDER BY inspection_id")
    assert [g[0] for g in got] == [want for _, want in BOOLS]


def test_bool_cells_in_excel(base, load, files):
    """Excel TRUE/FALSE cells and number cells 1/0."""
    rows = [h.inspection(10, via_mobile=True, with_expert=False), h.inspection(11, via_mobile=0, with_expert=1)]
    f = h.only_file(load(h.write(files / "i.xlsx", "inspections", rows)))
    assert (f.loaded, f.set_aside) == (2, 0)
    assert h.query(base, "SELECT via_mobile, with_expert FROM inspections WHERE inspection_id >= 'JC0010' ORDER BY 1 DESC") == [
        (True, False), (False, True)]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_integer_forms(db, load, files, suffix):
    rows = [h.plan(h.COUNTY, "2024", "120"), h.plan(h.COUNTY, "2025.0", "1,200"), h.plan(h.COUNTY, "２０２６", " 7 ")]
    if suffix == ".xlsx":
        rows.append(h.plan(h.COUNTY, 2027, 95.0))
    f = h.only_file(load(h.write(files / f"plans{suffix}", "plans", rows)))
    assert f.set_aside == 0, h.query(db, "SELECT * FROM quarantine")
    got = h.query(db, "SELECT year, planned_inspections FROM plans ORDER BY year")
    assert got[:3] == [(2024, 120), (2025, 1200), (2026, 7)]
    if suffix == ".xlsx":
        assert got[3] == (2027, 95)


def test_score_and_ids_from_number_cells(base, load, files):
    """Excel stores 92 as a float: ids and scores typed as numbers must not turn into '92.0'."""
    rows = [h.penalty(1, case_id=20240001, review_score=92), h.penalty(2, review_score=88.5)]
    f = h.only_file(load(h.write(files / "p.xlsx", "penalties", rows)))
    assert (f.loaded, f.set_aside) == (2, 0)
    assert h.query(base, "SELECT case_id, review_score FROM penalties ORDER BY case_id") == [
        ("20240001", 92.0), ("AJ0002", 88.5)]


def test_text_is_trimmed_and_full_width_codes_folded(base, load, files):
    rows = [h.enterprise(4, name="  杭州某某有限公司  ", county_code="３３０１０２", industry=" 煤矿 ",
                         enterprise_id=h.eid(4).lower())]
    f = h.only_file(load(h.write(files / "e.csv", "enterprises", rows)))
    assert (f.loaded, f.set_aside) == (1, 0), h.query(base, "SELECT * FROM quarantine")
    assert h.query(base, "SELECT enterprise_id, name, county_code, industry FROM enterprises WHERE name LIKE '杭州%'") == [
        (h.eid(4), "杭州某某有限公司", h.COUNTY, "煤矿")]
