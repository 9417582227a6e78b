"""Issue 15 item 5: enterprise names and file names a spreadsheet would run as formulas. Real files
loaded by the real command line (subprocess): the enterprises of tests/corpus/35 (=HYPERLINK(…),
+cmd|' /C calc'!A0, @SUM(1+1), -2+3) from a file itself named =HYPERLINK(…).csv, and inspections
that put them on 区域分析's enterprise table. The table a page gets (what the grid's "Download as
CSV" writes out, quoting only) and `python -m etl history` carry them as text: a leading '."""
from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys

import pytest

from etl.safe import FORMULA_STARTS
from tests.pages.conftest import APP, ok
from tests.security.conftest import ROOT

NAMES = ['=HYPERLINK("http://example.invalid/","点击查看")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3"]
FILE_NAME = '=HYPERLINK("example.invalid","查看").csv'


@pytest.fixture(scope="module")
def loaded(demo_copy):
    db = demo_copy("formula")
    base = db.parent
    ents = base / FILE_NAME
    shutil.copyfile(ROOT / "tests" / "corpus" / "35_formula_injection.csv", ents)
    insp = base / "inspections.csv"
    ids = ["913301020000001CJ0", "913301020000001CK3", "913301020000001CL6"]
    insp.write_text("检查编号,统一社会信用代码,执法机构区划代码,检查日期,检查方式,移动执法,专家参与\n" + "".join(
        f"JCX{i},{e},330102,2025-11-1{i},专项检查,是,否\n" for i, e in enumerate(ids)), encoding="utf-8")
    for f in (ents, insp):
        p = subprocess.run([sys.executable, "-m", "etl", "load", str(f), "--db", str(db)], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
    return db


def test_load_history_on_the_command_line_prints_the_file_name_as_text(loaded):
    p = subprocess.run([sys.executable, "-m", "etl", "history", "--db", str(loaded)], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    rows = list(csv.reader(io.StringIO(p.stdout)))
    files = [r[4] for r in rows[1:]]
    assert "'" + FILE_NAME in files
    assert not [cell for r in rows for cell in r if cell.startswith(FORMULA_STARTS)]


def test_the_enterprise_table_of_region_analysis_holds_the_names_as_text(loaded, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("ENFORCEMENT_DB", str(loaded))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["region"] = "330102"
    ok(at)
    at.session_state["region_section"] = "逐级下钻"   # the tab holding the enterprise list
    at.switch_page("pages/region.py")
    ok(at)
    shown = [d.value for d in at.dataframe if any(c in d.value.columns for c in ("企业名称", "单位名称", "名称"))]
    cells = [v for df in shown for col in df.columns for v in df[col] if isinstance(v, str)]
    for name in NAMES[:3]:
        assert "'" + name in cells, (name, [c for c in cells if "HYPERLINK" in c or "cmd" in c])
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)]
