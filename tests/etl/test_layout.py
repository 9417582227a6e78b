"""Sheets as people keep them: title and notes above the header, a totals row under the data,
blank rows, cells with line breaks, rows with more cells than headers — row numbers stay the ones
the user sees."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.etl import helpers as h

TITLE = [["2024年第一季度行政处罚案件台账"], ["填报单位：上城区应急管理局", None, None, "填报日期：2024年4月2日"],
         ["说明：金额单位为元；决定日期空白表示尚未作出决定"], []]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_title_notes_and_totals_row(base, load, files, suffix):
    rows = [h.penalty(1, fine_company=10000), h.penalty(2, fine_company=5000, fine_person=2000),
            h.penalty(3, fine_company="1.5万")]
    totals = [{"case_id": "合计", "fine_company": 30000, "fine_person": 2000}]
    path = h.write(files / f"台账{suffix}", "penalties", [*rows, *totals], above=TITLE)
    result = load(path)
    f = h.only_file(result)
    # header on row 5 (after 3 title/notes rows and a blank one); data on rows 6–8; totals on row 9
    assert (f.table, f.read, f.loaded, f.set_aside) == ("penalties", 4, 3, 1), f.summary()
    [total] = h.set_aside(result)
    assert (total["file"], total["row"]) == (f"台账{suffix}", 9)
    assert "合计" in total["reason"]
    assert h.query(base, "SELECT case_id, fine_company FROM penalties ORDER BY case_id") == [
        ("AJ0001", Decimal("10000.00")), ("AJ0002", Decimal("5000.00")), ("AJ0003", Decimal("15000.00"))]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_row_numbers_under_a_title(base, load, files, suffix):
    rows = [h.inspection(10), h.inspection(11, inspection_type="抽查"), h.inspection(12)]
    result = load(h.write(files / f"i{suffix}", "inspections", rows, above=TITLE[:2]))
    [bad] = h.set_aside(result)
    assert (bad["row"], bad["column"], bad["value"]) == (5, "检查方式", "抽查")  # title 1–2, header 3


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
@pytest.mark.parametrize("marker", ["合计", "总计", "小计", "合 计", "合　计", "合计：", "小计（上城区）"])
def test_every_totals_marker(base, load, files, marker, suffix):
    rows = [h.penalty(1), {"case_id": None, "enterprise_id": marker, "fine_company": 10000}]
    result = load(h.write(files / f"p{suffix}", "penalties", rows))
    [total] = h.set_aside(result)
    assert total["row"] == 3 and "合计/小计" in total["reason"]


def test_a_later_cell_starting_with_a_marker_is_not_a_totals_row(base, load, files):
    """Only the row's first non-empty cell marks a totals row: 小计算机配件厂 is a name."""
    rows = [h.enterprise(10, name="小计算机配件厂"), h.enterprise(11, name="合计划建材有限公司"),
            h.enterprise(12, name="总计")]
    f = h.only_file(load(h.write(files / "e.csv", "enterprises", rows)))
    assert (f.loaded, f.set_aside) == (3, 0)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_blank_rows_are_skipped_and_counted(base, load, files, suffix):
    path = h.write(files / f"i{suffix}", "inspections", [h.inspection(10), {}, h.inspection(11, inspection_type="抽查"), {}, {}])
    result = load(path)
    f = h.only_file(result)
    assert (f.read, f.loaded, f.set_aside, f.blank_rows) == (2, 1, 1, 3)
    [bad] = h.set_aside(result)
    assert bad["row"] == 4


def test_csv_cell_with_line_breaks_keeps_later_row_numbers(db, load, files):
    rows = [h.enterprise(1, name="某某化工\n有限公司"), h.enterprise(2, industry="化工")]
    result = load(h.write(files / "e.csv", "enterprises", rows))
    f = h.only_file(result)
    assert (f.loaded, f.set_aside) == (1, 1)
    [bad] = h.set_aside(result)
    assert bad["row"] == 4  # row 2 spans lines 2–3 in an editor
    assert h.one(db, "SELECT name FROM enterprises") == "某某化工\n有限公司"


def test_csv_line_break_in_a_later_row_is_not_a_crash(db, load, files):
    """DuckDB's parallel reader refuses quoted line breaks with null_padding: the load must fall back."""
    names = ["\t甲公司", "乙公司\u3000", " 丙公司 ", "丁\n公司\n", "\u00a0戊公司"]
    rows = [h.enterprise(i, name=n) for i, n in enumerate(names, start=1)] + [h.enterprise(6, industry="化工")]
    result = load(h.write(files / "e.csv", "enterprises", rows))
    f = h.only_file(result)
    assert (f.loaded, f.set_aside) == (5, 1)
    assert h.set_aside(result)[0]["row"] == 9  # row 5 spans lines 5–7
    assert h.one(db, "SELECT name FROM enterprises WHERE enterprise_id = ?", [h.eid(4)]) == "丁\n公司"


def test_csv_row_with_more_cells_than_headers_is_set_aside(base, load, files):
    """An unquoted comma in a cell shifts the row: it must not load with a value silently dropped."""
    path = h.write(files / "i.csv", "inspections", [h.inspection(10), h.inspection(11), h.inspection(12)])
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    lines[2] += ",多出的值"
    path.write_bytes("\r\n".join(lines).encode("utf-8"))
    result = load(path)
    f = h.only_file(result)
    assert (f.read, f.loaded, f.set_aside) == (3, 2, 1)
    [bad] = h.set_aside(result)
    assert bad["row"] == 3 and "列数" in bad["reason"] and "多出的值" in bad["raw"]


def test_csv_trailing_empty_cells_are_fine(base, load, files):
    path = h.write(files / "i.csv", "inspections", [h.inspection(10), h.inspection(11)])
    path.write_bytes(path.read_bytes().replace(b"\r\n", b",,,\r\n"))
    f = h.only_file(load(path))
    assert (f.loaded, f.set_aside) == (2, 0)


def test_csv_unterminated_quote(base, load, files):
    """A stray quote swallows the rest of the file into one cell: the row is set aside, nothing crashes."""
    path = h.write(files / "i.csv", "inspections", [h.inspection(10), h.inspection(11), h.inspection(12)])
    text = path.read_text(encoding="utf-8").replace("JC0011", '"JC0011', 1)
    path.write_text(text, encoding="utf-8")
    result = load(path)
    f = h.only_file(result)
    assert f.loaded == 1 and f.set_aside >= 1
    assert {r["row"] for r in h.set_aside(result)} == {3}


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_csv_line_endings(base, load, files, newline):
    rows = [h.inspection(10), h.inspection(11, inspection_type="抽查")]
    result = load(h.write(files / "i.csv", "inspections", rows, newline=newline))
    f = h.only_file(result)
    assert (f.loaded, f.set_aside) == (1, 1)
    assert h.set_aside(result)[0]["row"] == 3


def test_large_csv_row_numbers(base, load, files):
    """Enough rows for DuckDB's parallel reader: positions must still map to lines."""
    n = 12_000
    rows = [h.inspection(10 + i) for i in range(n)]
    rows[n - 5]["inspection_type"] = "抽查"
    rows[7]["inspection_date"] = "2024-13-01"
    result = load(h.write(files / "i.csv", "inspections", rows))
    f = h.only_file(result)
    assert (f.read, f.loaded, f.set_aside) == (n, n - 2, 2)
    assert sorted(r["row"] for r in h.set_aside(result)) == [9, n - 5 + 2]
    assert h.one(base, "SELECT count(*) FROM inspections WHERE inspection_id = ?", [f"JC{10 + n - 1:04d}"]) == 1


def test_data_on_the_first_sheet_only(base, load, files):
    """The first sheet is read; a notes sheet after it is ignored."""
    import openpyxl

    path = h.write(files / "i.xlsx", "inspections", [h.inspection(10)])
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("说明").append(["检查编号", "统一社会信用代码", "执法机构区划代码"])
    wb.save(path)
    f = h.only_file(load(path))
    assert (f.loaded, f.read) == (1, 1)


def _set_cached_value(path, cell: str, value: str) -> None:
    """Give an openpyxl-written formula the calculated value Excel would have saved with it."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    sheet, n = re.subn(rf'(<c r="{cell}"[^>]*>(?:<f>[^<]*</f>))<v\s*/?>(?:</v>)?', rf"\g<1><v>{value}</v>", sheet)
    assert n == 1, sheet
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def test_formula_cells_load_their_cached_value(base, load, files):
    """A formula cell loads the value Excel calculated and saved with it, as the user sees it."""
    import openpyxl

    path = h.write(files / "p.xlsx", "penalties", [h.penalty(1, fine_company=1000, fine_person=200)])
    wb = openpyxl.load_workbook(path)
    wb.active["H2"] = "=G2*2"
    wb.save(path)
    _set_cached_value(path, "H2", "2000")
    f = h.only_file(load(path))
    assert (f.loaded, f.set_aside) == (1, 0)
    assert h.one(base, "SELECT fine_person FROM penalties") == Decimal("2000.00")


def test_formula_cell_without_a_calculated_value_is_set_aside(base, load, files):
    """A formula saved without its value (a workbook written by a program, never opened in Excel)
    reads as blank: the row is set aside with the formula and what to do, never loaded with a blank
    or a default (here fine_person would have been 0)."""
    import openpyxl

    path = h.write(files / "p.xlsx", "penalties", [h.penalty(1, fine_company=1000, fine_person=200), h.penalty(2)])
    wb = openpyxl.load_workbook(path)
    wb.active["H2"] = "=G2*2"
    wb.save(path)
    result = load(path)
    f = h.only_file(result)
    assert (f.read, f.loaded, f.set_aside) == (2, 1, 1)
    [bad] = h.set_aside(result)
    assert (bad["row"], bad["column"], bad["value"]) == (2, "个人罚款(元)", "=G2*2")
    assert "公式单元格无计算结果" in bad["reason"] and "保存" in bad["reason"]
    assert h.query(base, "SELECT case_id FROM penalties") == [("AJ0002",)]


def test_csv_stray_quote_in_a_long_file_is_refused_not_a_crash(base, load, files):
    """When a stray quote runs a cell past the csv module's field limit, the file is refused with a
    message, and the other files of the run still load."""
    path = h.write(files / "i.csv", "inspections", [h.inspection(10 + i) for i in range(3000)])
    path.write_bytes(path.read_bytes().replace(b"JC0011", b'"JC0011', 1))
    other = h.write(files / "e.csv", "enterprises", [h.enterprise(5)])
    result = load(path, other)
    bad, good = result.files
    assert bad.refused and "引号" in bad.refused
    assert (good.loaded, good.refused) == (1, None)


CELL_CHARS = "甲乙丙丁㐀𠀀ab ,;\"'|\t\n\u3000\u00a0=+-()（）/\\"


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.text(alphabet=CELL_CHARS, min_size=1, max_size=10).filter(str.strip), min_size=1, max_size=8),
       csv_extra=st.sampled_from(["", "\r", "\r\n"]))
def test_any_cell_text_round_trips_through_csv_and_excel(_empty_warehouse, tmp_path_factory, names, csv_extra):
    """Whatever a name holds (delimiters, quotes, tabs, line breaks, rare CJK, full-width spaces),
    CSV (DuckDB or Python reader) and Excel load it the same: the text with outer whitespace trimmed."""
    import shutil

    from etl.load import load_files

    d = tmp_path_factory.mktemp("rt")
    db = d / "w.duckdb"
    shutil.copyfile(_empty_warehouse, db)
    csv_rows = [h.enterprise(i, name=n + csv_extra) for i, n in enumerate(names, start=1)]
    xlsx_rows = [h.enterprise(100 + i, name=n) for i, n in enumerate(names, start=1)]
    result = load_files([h.write(d / "e.csv", "enterprises", csv_rows, encoding="utf-8-sig"),
                         h.write(d / "e.xlsx", "enterprises", xlsx_rows)], db=db, today=h.TODAY)
    assert [(f.loaded, f.set_aside) for f in result.files] == [(len(names), 0)] * 2, result.set_aside_rows
    got = dict(h.query(db, "SELECT enterprise_id, name FROM enterprises"))
    for i, n in enumerate(names, start=1):
        assert got[h.eid(i)] == (n + csv_extra).strip(), "csv"
        assert got[h.eid(100 + i)] == n.strip(), "xlsx"
