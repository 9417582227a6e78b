"""Templates: every table's .xlsx and .csv template re-loads cleanly as that table."""
from __future__ import annotations

import openpyxl
import pytest

from etl.template import write_template
from tests.etl import helpers as h


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
@pytest.mark.parametrize("table", h.CONTRACT.order)
def test_template_reloads_as_its_table(load, db, tmp_path, table, suffix):
    path = write_template(table, tmp_path / "templates" / f"{table}{suffix}")
    assert path.exists()
    f = h.only_file(load(path))  # no --table: the header alone says which table
    assert (f.refused, f.table, f.read, f.loaded, f.set_aside, f.extra_columns) == (None, table, 0, 0, 0, [])


@pytest.mark.parametrize("table", h.CONTRACT.order)
def test_filled_template_loads(base, load, tmp_path, table):
    """A template filled in the way a user would (typing under the header) loads its row."""
    path = write_template(table, tmp_path / f"{table}.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    headers = [c.value for c in ws[1]]
    row = {"regions": h.region("330159", "新区"), "plans": h.plan(), "establishment": h.establishment()}.get(table) \
        or h.BUILDERS[table](9)
    if table == "training":  # training names an officer already on the roster
        load(h.write(tmp_path / "roster.csv", "officers", [h.officer(9)]))
    by_header = {h.HEADER[table][k]: v for k, v in row.items()}
    ws.append([by_header.get(hd) for hd in headers])
    wb.save(path)
    f = h.only_file(load(path))
    assert (f.table, f.read, f.loaded, f.set_aside) == (table, 1, 1, 0), h.query(base, "SELECT * FROM quarantine")


def test_xlsx_template_layout(tmp_path):
    path = write_template("penalties", tmp_path / "p.xlsx")
    wb = openpyxl.load_workbook(path)
    data, notes = wb.worksheets
    assert data.title == "行政处罚案件"
    assert [c.value for c in data[1]] == [c.header for c in h.CONTRACT["penalties"].columns]
    assert data.max_row == 1
    # required headers stand out; the notes sheet explains every column
    assert data["A1"].font.color.rgb.endswith("C00000") and not data["B1"].font.color.rgb.endswith("C00000")
    assert notes.title == "填写说明"
    explained = {r[0]: r for r in notes.iter_rows(min_row=2, values_only=True)}
    assert set(explained) == set(h.HEADER["penalties"].values())
    assert explained["单位罚款(元)"][3].startswith("金额") and "1.2万" in explained["单位罚款(元)"][3]
    assert "须已存在于隐患" in explained["隐患编号"][3]


def test_csv_template_is_utf8_with_bom(tmp_path):
    path = write_template("hazards", tmp_path / "h.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8-sig").strip().split(",") == list(h.HEADER["hazards"].values())


def test_unknown_table(tmp_path):
    with pytest.raises(KeyError):
        write_template("accidents", tmp_path / "a.xlsx")


def test_notes_state_the_rules_a_row_is_checked_against(tmp_path):
    from etl.template import column_note

    notes = {c.header: column_note(h.CONTRACT[t], c) for t in ("hazards", "regions", "plans", "penalties")
             for c in h.CONTRACT[t].columns}
    assert "不早于执法检查的检查日期" in notes["发现日期"] and "不晚于今天" in notes["发现日期"]
    assert "不早于发现日期" in notes["整改期限"] and "“需整改”为是时必填" in notes["整改期限"]
    assert "层级不是省时必填" in notes["上级区划代码"]
    assert "2000–2100" in notes["年度"] and "不小于0" in notes["计划检查次数"]
    assert "不能为负" in notes["单位罚款(元)"]
