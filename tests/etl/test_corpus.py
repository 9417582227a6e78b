"""The bad-input corpus (tests/corpus): every file gives exactly the outcome expected.toml states,
through the loader and through the 数据导入 page, and no file crashes either; every row read is
accounted for. Plus a very large file generated at test time (constant accounting, bounded time).
"""
from __future__ import annotations

import csv
import io
import shutil
import time
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from etl.load import load_files
from tests.etl import helpers as h

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
EXPECTED = tomllib.loads((CORPUS / "expected.toml").read_text(encoding="utf-8"))
NAMES = sorted(EXPECTED)
RECORD_TABLES = ("regions", "enterprises", "plans", "inspections", "hazards", "penalties")


def corpus_files(d: Path = CORPUS) -> list[str]:
    return sorted(p.name for p in d.iterdir() if p.is_file() and p.suffix not in (".py", ".toml", ".md"))


def test_the_corpus_is_complete():
    """Every committed file has an expectation and every expectation a file; 30 at least."""
    assert corpus_files() == NAMES
    assert len(NAMES) >= 30
    kinds = Counter("refused" if "refused" in e else "loaded" for e in EXPECTED.values())
    assert kinds["refused"] >= 10 and kinds["loaded"] >= 20, kinds


def _counts(db: Path) -> dict[str, int]:
    return {t: h.one(db, f"SELECT count(*) FROM {t}") for t in RECORD_TABLES}


def check_outcome(name: str, f: dict, rows: list[dict]) -> None:
    """f: the file's result (read, loaded, replaced, set_aside, refused, table); rows: its set-aside
    report lines (row, column, reason)."""
    exp = EXPECTED[name]
    if "refused" in exp:
        assert f["refused"] and exp["refused"] in f["refused"], f"{name}: {f['refused']!r}"
        assert (f["read"], f["loaded"], f["set_aside"]) == (0, 0, 0)
        assert rows == []
        return
    assert f["refused"] is None, f"{name} refused: {f['refused']}"
    want = [(s["row"], s["column"]) for s in exp["set_aside"]]
    got = [(r["row"], r["column"] or "") for r in rows]
    assert sorted(got) == sorted(want), f"{name}: set aside {rows}"
    for s in exp["set_aside"]:
        assert any((r["row"], r["column"] or "") == (s["row"], s["column"]) and s["reason"] in r["reason"]
                   for r in rows), f"{name}: no reason containing {s['reason']!r} at row {s['row']}: {rows}"
    n_set_aside = len({s["row"] for s in exp["set_aside"]})
    assert (f["table"], f["read"], f["loaded"], f["replaced"], f["set_aside"]) == (
        exp["table"], exp["read"], exp["loaded"], 0, n_set_aside), f"{name}: {f}"
    assert f["read"] == f["loaded"] + f["replaced"] + f["set_aside"]


@pytest.mark.parametrize("name", NAMES)
def test_corpus_file_through_the_loader(name, base, tmp_path):
    before = _counts(base)
    result = load_files([CORPUS / name], db=base, today=h.TODAY, report_dir=tmp_path / "reports")
    [f] = result.files
    check_outcome(name, dict(table=f.table, read=f.read, loaded=f.loaded, replaced=f.replaced,
                             set_aside=f.set_aside, refused=f.refused), result.set_aside_rows)
    after = _counts(base)
    # the warehouse grew by exactly the rows loaded, in the file's table, and nowhere else
    assert {t: after[t] - before[t] for t in RECORD_TABLES} == {
        t: (f.loaded if t == f.table else 0) for t in RECORD_TABLES}
    # the load history and the quarantine say the same as the result
    hist = h.query(base, "SELECT file_name, table_name, rows_read, loaded, set_aside, refused FROM load_history "
                         "WHERE load_id = ?", [f.load_id])
    assert hist == [(name, f.table, f.read, f.loaded, f.set_aside, f.refused)]
    assert h.one(base, "SELECT count(DISTINCT row_number) FROM quarantine WHERE load_id = ?", [f.load_id]) == f.set_aside
    # the set-aside report: one line per reason, no cell a spreadsheet would run as a formula
    if result.set_aside_rows:
        with open(result.report, encoding="utf-8-sig", newline="") as fh:
            lines = list(csv.reader(fh))
        assert len(lines) == 1 + len(result.set_aside_rows)
        for line in lines[1:]:
            assert not any(cell.startswith(("=", "+", "-", "@")) for cell in line), line


class _Upload:
    """What st.file_uploader hands the page (streamlit's UploadedFile: name, size, getvalue())."""

    def __init__(self, path: Path):
        self.name = path.name
        self._data = path.read_bytes()
        self.size = len(self._data)

    def getvalue(self) -> bytes:
        return self._data


@pytest.mark.parametrize("name", NAMES)
def test_corpus_file_through_the_upload_path(name, base, monkeypatch):
    """The function the 数据导入 page calls with the uploaded files (ui.data.import_uploads)."""
    from ui import data

    monkeypatch.setenv("ENFORCEMENT_DB", str(base))
    monkeypatch.setenv("ENFORCEMENT_USER", "corpus-test")
    result = data.import_uploads([_Upload(CORPUS / name)])
    [f] = result["files"]
    assert f["file"] == name
    check_outcome(name, f, result["set_aside"].to_dict("records"))
    if f["set_aside"]:
        text = result["report_bytes"].decode("utf-8-sig")
        assert name in text and all(not c.startswith(("=", "+", "-", "@"))
                                    for line in csv.reader(io.StringIO(text)) for c in line)
    assert h.one(base, "SELECT loaded_by FROM load_history WHERE file_name = ?", [name]) == "corpus-test"


def test_whole_corpus_uploaded_at_once_on_the_page(_base_warehouse, tmp_path, monkeypatch):
    """All the files in one upload on the real page (AppTest from the entrypoint): no exception,
    one report line per file with the expected counts, every refusal shown."""
    from streamlit.testing.v1 import AppTest

    from tests.pages.conftest import APP, ok, table

    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(_base_warehouse, db)
    monkeypatch.setenv("ENFORCEMENT_DB", str(db))
    at = ok(AppTest.from_file(APP, default_timeout=120))
    at.switch_page("pages/data_import.py")
    ok(at)
    uploader = at.file_uploader(key="upload_files")
    # a type the uploader does not offer (.pdf) cannot be uploaded at all: the browser refuses it
    names = [n for n in NAMES if Path(n).suffix in uploader.allowed_type]
    assert set(NAMES) - set(names) == {"31_unsupported.pdf"}
    uploader.set_value([(n, (CORPUS / n).read_bytes(), "application/octet-stream") for n in names])
    at.button(key="upload_go").click()
    ok(at)
    report = table(at, "读取行数", "新增").set_index("文件")
    assert sorted(report.index) == names
    errors = "\n".join(e.value for e in at.error)
    for name in names:
        exp, row = EXPECTED[name], report.loc[name]
        if "refused" in exp:
            assert row["结果"].startswith("拒收") and exp["refused"] in row["结果"], (name, row["结果"])
            assert name in errors
        else:
            n_set_aside = len({s["row"] for s in exp["set_aside"]})
            assert (row["读取行数"], row["新增"], row["单列（未导入）"]) == (exp["read"], exp["loaded"], n_set_aside), name
    set_aside = table(at, "行号", "原因", "原始行")
    assert len(set_aside) == sum(len(EXPECTED[n].get("set_aside", [])) for n in names)


def test_make_corpus_rebuilds_the_committed_files(tmp_path):
    """The committed files are what tests/corpus/make_corpus.py writes (text byte for byte;
    workbooks cell for cell and merge for merge, since a zip carries timestamps)."""
    pytest.importorskip("xlwt")
    import importlib.util

    import openpyxl
    import xlrd

    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "corpus"
    mod.build(out)
    assert corpus_files(out) == NAMES
    for name in NAMES:
        new, old = out / name, CORPUS / name
        if name in ("13_truncated.xlsx",):
            assert abs(new.stat().st_size - old.stat().st_size) < 200, name
            continue
        if name.endswith(".xlsx") and old.read_bytes()[:2] == b"PK":
            a, b = (openpyxl.load_workbook(p) for p in (old, new))
            assert a.sheetnames == b.sheetnames, name
            for wa, wb_ in zip(a.worksheets, b.worksheets):
                assert [list(r) for r in wa.iter_rows(values_only=True)] == [
                    list(r) for r in wb_.iter_rows(values_only=True)], name
                assert sorted(map(str, wa.merged_cells.ranges)) == sorted(map(str, wb_.merged_cells.ranges)), name
        elif name.endswith(".xls"):
            a, b = (xlrd.open_workbook(str(p)).sheet_by_index(0) for p in (old, new))
            assert [a.row_values(r) for r in range(a.nrows)] == [b.row_values(r) for r in range(b.nrows)], name
        else:
            assert new.read_bytes() == old.read_bytes(), name


LARGE_ROWS = 300_000
BAD_EVERY = 50_000


def test_very_large_file(base, tmp_path):
    """300,000 inspections in one CSV (generated here, not committed): every row accounted for,
    the bad ones set aside at their own line numbers, and within a bounded time."""
    path = tmp_path / "全省检查记录.csv"
    ents = [h.eid(i) for i in (1, 2, 3)]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("检查编号,统一社会信用代码,执法机构区划代码,检查日期,检查方式,移动执法,专家参与\r\n")
        for i in range(LARGE_ROWS):
            kind = "抽查" if i % BAD_EVERY == BAD_EVERY - 1 else "双随机"
            fh.write(f"BIG{i:07d},{ents[i % 3]},{h.COUNTY},2024-0{1 + i % 9}-{1 + i % 28:02d},{kind},是,否\r\n")
    started = time.perf_counter()
    result = load_files([path], db=base, today=h.TODAY, report_dir=tmp_path / "reports")
    took = time.perf_counter() - started
    [f] = result.files
    n_bad = LARGE_ROWS // BAD_EVERY
    assert (f.read, f.loaded, f.replaced, f.set_aside) == (LARGE_ROWS, LARGE_ROWS - n_bad, 0, n_bad)
    assert [r["row"] for r in result.set_aside_rows] == [k * BAD_EVERY + 1 for k in range(1, n_bad + 1)]
    assert h.one(base, "SELECT count(*) FROM inspections WHERE inspection_id LIKE 'BIG%'") == LARGE_ROWS - n_bad
    # a bound that catches a quadratic step, not a benchmark (about 6 s on an idle 2-core machine)
    assert took < 90, f"{LARGE_ROWS:,} rows took {took:.1f} s"
