"""Uploads that would exhaust the server (issue 15 item 4), as real files through the loader:
workbooks whose parts unpack to far more than they weigh are refused from the zip's directory
before any parsing, a sheet past the row or cell bound is refused while streaming, a CSV with a
blank line keeps DuckDB's reader (it used to fall back to a whole-file Python parse), a GBK file
is decoded piece by piece, and no file is parsed while the writer lock is held."""
from __future__ import annotations

import fcntl
import re
import time
from pathlib import Path

import pytest

from bench.bench_uploads import make_row_bomb, make_shared_strings_bomb
from etl import read
from tests.etl import helpers as h


def test_a_shared_strings_bomb_is_refused_before_parsing(load, files):
    bomb = files / "检查.xlsx"
    make_shared_strings_bomb(bomb, 70 << 20)  # 70 MB of strings in a file of a few hundred KB
    assert bomb.stat().st_size < 2 << 20
    t0 = time.perf_counter()
    [f] = load(bomb).files
    assert time.perf_counter() - t0 < 20
    assert re.match(r"检查\.xlsx: 工作簿共享字符串解压后的大小超过上限（6[5-9] MB > 64 MB），未读取", f.refused), f.refused


def test_a_row_bomb_is_refused_before_parsing(load, files):
    bomb = files / "检查.xlsx"
    make_row_bomb(bomb, 170 << 20)
    t0 = time.perf_counter()
    [f] = load(bomb).files
    assert time.perf_counter() - t0 < 20
    assert "工作表解压后的大小超过上限" in f.refused and "160 MB" in f.refused


def test_rows_and_cells_past_the_bound_are_refused_while_streaming(load, files, monkeypatch):
    rows = [h.inspection(n, ent=1) for n in range(1, 30)]
    book = h.write(files / "检查.xlsx", "inspections", rows)
    monkeypatch.setenv("ENFORCEMENT_LIMIT_ROWS", "20")
    [f] = load(book).files
    assert "工作表行数超过上限（21行 > 20行）" in f.refused
    monkeypatch.delenv("ENFORCEMENT_LIMIT_ROWS")
    monkeypatch.setenv("ENFORCEMENT_LIMIT_CELLS", "100")
    [f] = load(book).files
    assert "工作表单元格数超过上限" in f.refused


@pytest.fixture
def no_python_reader(monkeypatch):
    def refuse(*a, **kw):
        raise AssertionError("the file went to the Python reader")
    monkeypatch.setattr(read, "_python_stage", refuse)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_blank_lines_keep_duckdbs_reader_and_the_row_numbers(load, files, db, no_python_reader, newline):
    load(h.write(files / "e.csv", "enterprises", [h.enterprise(1)]))
    header = ",".join(h.HEADER["inspections"][c] for c in h.HEADER["inspections"])
    good = [",".join(h.inspection(n).values()) for n in (1, 2, 3)]
    bad = ",".join(h.inspection(4, inspection_date="2024-13-45").values())
    lines = [header, good[0], "", good[1], "", "", bad, good[2], ""]
    path = files / "检查.csv"
    path.write_bytes(newline.join(lines).encode("utf-8"))
    result = load(path)
    [f] = result.files
    assert (f.loaded, f.set_aside, f.blank_rows) == (3, 1, 3)
    [row] = h.set_aside(result)
    assert row["row"] == 7 and row["column"] == "检查日期"  # the line a person sees in an editor


def test_a_gbk_file_is_read_piece_by_piece(load, files, db, monkeypatch):
    """Pieces of a few bytes: characters, line ends and blank lines cut across pieces."""
    monkeypatch.setattr(read, "CHUNK", 7)
    rows = [h.enterprise(n, name=f"测试化工有限公司{n}号") for n in range(1, 6)]
    path = h.write(files / "名录.csv", "enterprises", rows, encoding="gbk")
    lines = path.read_bytes().splitlines()
    path.write_bytes(b"\n".join(lines[:3] + [b""] + lines[3:]) + b"\n")  # one blank line
    [f] = load(path).files
    assert (f.loaded, f.set_aside, f.blank_rows) == (5, 0, 1)
    assert h.query(db, "SELECT name FROM enterprises ORDER BY name")[0] == ("测试化工有限公司1号",)


@pytest.fixture
def lock_seen(db, monkeypatch) -> list[str]:
    """Each time the loader reads a file: whether the warehouse's writer lock was free then."""
    seen = []
    original = read.read_file

    def probe(*a, **kw):
        with open(str(db) + ".lock", "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fh, fcntl.LOCK_UN)
                seen.append("free")
            except BlockingIOError:
                seen.append("held")
        return original(*a, **kw)

    monkeypatch.setattr("etl.load.read_file", probe)
    return seen


def test_files_are_read_before_the_writer_lock_is_taken(load, files, lock_seen):
    """A large upload is parsed without holding up other loads: while the file is read, the
    warehouse's writer lock is free (another process could take it)."""
    [f] = load(h.write(files / "e.xlsx", "enterprises", [h.enterprise(1)])).files
    assert f.loaded == 1 and lock_seen == ["free"]


def test_an_upload_takes_no_bulk_path_so_even_a_large_csv_is_read_before_the_lock(load, files, lock_seen,
                                                                                    monkeypatch):
    """The bulk path reads a large UTF-8 CSV in one pass while holding the lock (fastest for a
    nightly load from the command line); an upload from the app is parsed before the lock instead."""
    monkeypatch.setenv("ENFORCEMENT_BULK_MIN_BYTES", "0")  # every CSV counts as large
    [f] = load(h.write(files / "e.csv", "enterprises", [h.enterprise(1), h.enterprise(2)]), upload=True).files
    assert f.loaded == 2 and lock_seen == ["free"]


def test_set_aside_rows_go_to_the_report_all_of_them_and_to_memory_a_preview(load, files, tmp_path, monkeypatch):
    """A file of bad rows costs no memory per row: the report is streamed from the quarantine table,
    only the first rows come back to the caller (the app shows them); a failed load leaves no report."""
    monkeypatch.setattr("etl.load.SET_ASIDE_PREVIEW", 3)
    rows = [h.enterprise(n, industry="化工") for n in range(1, 9)]  # 行业领域 not in the list: all set aside
    path = h.write(files / "名录.csv", "enterprises", rows)
    result = load(path)
    assert result.files[0].set_aside == 8 and len(result.set_aside_rows) == 3
    lines = result.report.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 1 + 8 and result.report.name.endswith(".csv")
    with pytest.raises(RuntimeError):
        load(path, _fail_after=1, report_dir=tmp_path / "failed")
    assert not list((tmp_path / "failed").glob("*")) if (tmp_path / "failed").exists() else True


def test_a_renamed_shared_strings_part_is_bounded_all_the_same(load, files):
    """openpyxl finds the shared strings through [Content_Types].xml, whatever the part is called."""
    import zipfile

    bomb = files / "bomb.xlsx"
    make_shared_strings_bomb(bomb, 70 << 20)
    renamed = files / "检查.xlsx"
    with zipfile.ZipFile(bomb) as zin, zipfile.ZipFile(renamed, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            name = "xl/s.xml" if item.filename == "xl/sharedStrings.xml" else item.filename
            if item.filename in ("[Content_Types].xml", "xl/_rels/workbook.xml.rels"):
                data = data.replace(b"sharedStrings.xml", b"s.xml")
            zout.writestr(name, data)
    [f] = load(renamed).files
    assert f.refused and "共享字符串解压后的大小超过上限" in f.refused, f.refused
