"""The bulk path for large CSVs (etl/bulk.py) loads exactly what the general path loads.

Each test loads the same files twice — once with the bulk path off (ENFORCEMENT_BULK_MIN_BYTES
above every file's size), once with it on for every CSV (0) — and compares the warehouses row by
row: records, set-aside rows (row number, column, value, reason, raw text) and load history.
The files are national-style synthetic data (bench.generate, with rows that break rules) plus
the things real files do: corrections of known ids, repeated ids, totals rows, cells with spaces
and full-width characters, other date and number forms, quoted line breaks, a GBK file.
"""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from bench.generate import generate, paths
from etl import warehouse
from etl.load import load_files

TODAY = dt.date(2026, 1, 1)
RECORDS = ["regions", "enterprises", "plans", "inspections", "hazards", "penalties"]


@pytest.fixture(scope="module")
def national(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("national")
    generate(out, scale=0.0003, seed=11, errors=0.01, log=lambda *a: None)
    return out


def _dump(db: Path) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in RECORDS}
        out["quarantine"] = con.execute(
            "SELECT load_id, file_name, row_number, column_name, value, reason, raw FROM quarantine ORDER BY ALL").fetchall()
        out["history"] = con.execute(
            "SELECT load_id, file_name, file_hash, table_name, rows_read, loaded, replaced, unchanged, set_aside, "
            "refused, extra_columns FROM load_history ORDER BY load_id").fetchall()
        for t, key in (("enterprises", "enterprise_id"), ("inspections", "inspection_id"), ("hazards", "hazard_id"),
                       ("penalties", "case_id"), ("plans", "agency_code, year")):
            assert con.execute(f"SELECT count(*) - count(DISTINCT ({key})) FROM {t}").fetchone()[0] == 0, t
        return out
    finally:
        con.close()


def _both(tmp_path, monkeypatch, runs: list[list[Path]]) -> tuple[dict, dict, list, list]:
    """Load `runs` (one load_files call each) into two fresh warehouses, bulk off then on."""
    dumps, results = [], []
    for mode, min_bytes in (("general", str(1 << 40)), ("bulk", "0")):
        monkeypatch.setenv("ENFORCEMENT_BULK_MIN_BYTES", min_bytes)
        db = tmp_path / mode / "warehouse.duckdb"
        db.parent.mkdir()
        res = [load_files(run, db=db, today=TODAY, report_dir=tmp_path / mode / "reports") for run in runs]
        results.append([[(f.table, f.read, f.loaded, f.replaced, f.unchanged, f.set_aside, f.blank_rows, f.refused)
                         for f in r.files] for r in res])
        dumps.append(_dump(db))
    return dumps[0], dumps[1], results[0], results[1]


def _assert_same(a: dict, b: dict) -> None:
    for k in a:
        assert a[k] == b[k], (k, sorted(set(a[k]) ^ set(b[k]))[:6])


def test_national_files_load_the_same(national, tmp_path, monkeypatch):
    general, bulk, res_g, res_b = _both(tmp_path, monkeypatch, [paths(national)])
    assert res_g == res_b
    _assert_same(general, bulk)
    assert sum(f[5] for f in res_b[0]) > 0  # rows were set aside (the generator breaks rules)
    assert len(bulk["hazards"]) > 1000


def _lines(p: Path) -> list[str]:
    return p.read_text(encoding="utf-8").splitlines()


def _write(p: Path, lines: list[str], encoding="utf-8") -> Path:
    p.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return p


def test_corrections_duplicates_totals_and_odd_cells(national, tmp_path, monkeypatch):
    first = paths(national)
    work = tmp_path / "in"
    work.mkdir()
    hz = _lines(national / "hazards.csv")
    header, rows = hz[0], hz[1:]
    odd = list(rows)
    odd[0] = odd[0].replace(",否,", ", 否 ,", 1)                             # spaces around 是/否
    odd[1] = odd[1].replace("YH", "ＹＨ", 1)                                  # full-width id
    odd[2] = odd[2].replace("-", "/", 2)                                      # 2021/01/26
    odd[3] = rows[3]                                                         # unchanged row
    odd[4] = rows[5].replace(",是,", ",否,", 1) if ",是," in rows[5] else rows[5]  # correction of a known id
    odd.insert(6, rows[6])                                                   # same id twice in the file
    odd.insert(8, "")                                                        # blank line
    odd.append("合计,,,,,,,")                                                  # totals row
    odd.append("YH99999999999,JC0000000001,2021-01-01,是,否,是,2021-02-01,")  # before the inspection
    second = [_write(work / "hazards_fix.csv", [header, *odd])]
    pen = _lines(national / "penalties.csv")
    pen_odd = [pen[0], *pen[1:40], pen[1].replace(".00", "", 1), pen[2].replace(",否,", ",N,", 1)]
    pen_odd[3] = pen_odd[3].replace(pen_odd[3].split(",")[6], "1.5万", 1)
    cells = pen_odd[4].split(",")
    pen_odd[4] = ",".join([*cells[:3], "999999", *cells[4:]])                # no such region
    cells = pen_odd[5].split(",")
    pen_odd[5] = ",".join([*cells[:3], "", *cells[4:]])                      # agency left blank
    second.append(_write(work / "penalties_fix.csv", pen_odd))
    general, bulk, res_g, res_b = _both(tmp_path, monkeypatch, [first, second, second])
    assert res_g == res_b
    _assert_same(general, bulk)
    # the reload changed nothing
    assert all(f[3] == f[4] for f in res_b[2] if f[0])


def test_a_control_character_in_an_id_is_set_aside_on_the_bulk_path(national, tmp_path, monkeypatch):
    """The bulk pass asks the control-character rule only of cells its guard did not admit (a guard
    admits printable ASCII): an id holding one is set aside there, as on the general path."""
    work = tmp_path / "in"
    work.mkdir()
    hz = _lines(national / "hazards.csv")
    hid = hz[11].split(",")[0]
    fix = _write(work / "hazards_bel.csv", [hz[0], *hz[1:30], hz[11].replace(hid, hid + "\x07", 1)])
    general, bulk, res_g, res_b = _both(tmp_path, monkeypatch, [paths(national), [fix]])
    assert res_g == res_b
    _assert_same(general, bulk)
    assert [q[3:6] for q in bulk["quarantine"] if "控制字符" in q[5]] == [
        ("隐患编号", hid + "\x07", "单元格含有不可见的控制字符（文件可能已损坏），请检查后重新导出")]


def test_files_the_bulk_path_hands_to_the_general_path(national, tmp_path, monkeypatch):
    work = tmp_path / "in"
    work.mkdir()
    ins = _lines(national / "inspections.csv")
    quoted = list(ins)
    quoted[3] = quoted[3].replace("重点检查", '"重点\n检查"', 1)  # a quoted line break
    wide = list(ins)
    wide[5] += ",多出的值"
    gbk = list(ins)
    files = [national / "enterprises.csv",
             _write(work / "quoted.csv", quoted), _write(work / "wide.csv", wide),
             _write(work / "gbk.csv", gbk, encoding="gbk")]
    crlf = work / "crlf.csv"
    crlf.write_bytes(("\r\n".join(ins) + "\r\n").encode("utf-8"))
    files.append(crlf)
    general, bulk, res_g, res_b = _both(tmp_path, monkeypatch, [[f] for f in files])
    assert res_g == res_b
    _assert_same(general, bulk)


def test_old_warehouse_with_primary_keys_takes_corrections(national, tmp_path, monkeypatch):
    """Warehouses made before the keys were dropped keep their PRIMARY KEYs: loads still work."""
    monkeypatch.setenv("ENFORCEMENT_BULK_MIN_BYTES", "0")
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    old = {"enterprise_id VARCHAR NOT NULL,": "enterprise_id VARCHAR PRIMARY KEY,",
           "hazard_id           VARCHAR NOT NULL,": "hazard_id VARCHAR PRIMARY KEY,"}
    schema = warehouse.SCHEMA
    for new_text, old_text in old.items():
        assert new_text in schema
        schema = schema.replace(new_text, old_text, 1)
    con.execute(schema)
    con.close()
    first = load_files(paths(national), db=db, today=TODAY, report_dir=tmp_path / "r")
    again = load_files(paths(national), db=db, today=TODAY, report_dir=tmp_path / "r")
    assert [f.loaded for f in again.files] == [0] * len(again.files)
    assert [f.unchanged for f in again.files] == [f.loaded for f in first.files]
    hz = _lines(national / "hazards.csv")
    fixed = [hz[0]] + [line.replace(",否,", ",是,", 1) for line in hz[1:50]]
    third = load_files([_write(tmp_path / "fix.csv", fixed)], db=db, today=TODAY, report_dir=tmp_path / "r")
    assert third.files[0].replaced > 0
    assert duckdb.connect(str(db), read_only=True).execute(
        "SELECT count(*) - count(DISTINCT hazard_id) FROM hazards").fetchone()[0] == 0
    shutil.rmtree(tmp_path / "r", ignore_errors=True)


def test_repeated_ids_found_in_any_order(national, tmp_path, monkeypatch):
    """The bulk path skips its search for repeated ids only when the ids increase down the file:
    a repeat right after itself, after a row without an id, or in a shuffled file is still found."""
    import random

    work = tmp_path / "in"
    work.mkdir()
    ins = _lines(national / "inspections.csv")
    header, rows = ins[0], ins[1:]
    no_id = "," + rows[2].split(",", 1)[1]
    around_blank = [header, *rows[:5], no_id, rows[4], *rows[5:60]]       # id, no id, same id
    shuffled = rows[:80]
    random.Random(3).shuffle(shuffled)
    shuffled = [header, *shuffled, shuffled[10]]                          # unordered, repeated at the end
    files = [national / "enterprises.csv", _write(work / "around_blank.csv", around_blank),
             _write(work / "shuffled.csv", shuffled)]
    general, bulk, res_g, res_b = _both(tmp_path, monkeypatch, [[f] for f in files])
    assert res_g == res_b
    _assert_same(general, bulk)
    assert any("重复" in q[5] for q in bulk["quarantine"] if q[1] == "around_blank.csv")
    assert any("重复" in q[5] for q in bulk["quarantine"] if q[1] == "shuffled.csv")


def test_read_lines_through_the_index(tmp_path, monkeypatch):
    """Lines read again by number, through the scan's index, are the file's lines — also when
    they straddle the index's blocks or the file ends without a line feed."""
    import random

    from etl import bulk

    monkeypatch.setattr(bulk, "BLOCK", 64)
    rnd = random.Random(5)
    lines = [("行" * rnd.randint(0, 30) + str(i)).encode() + (b"\r\n" if i % 7 else b"\n") for i in range(2000)]
    lines[-1] = lines[-1].rstrip()
    p = tmp_path / "f.csv"
    p.write_bytes(b"".join(lines))
    sha, newlines, ends, index = bulk.scan_file(p)
    assert newlines == 1999 and not ends
    wanted = rnd.sample(range(2000), 300) + [0, 1999]
    got = bulk.read_lines(p, index, wanted)
    assert all(got[n] == lines[n] for n in wanted)
