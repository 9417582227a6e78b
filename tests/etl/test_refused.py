"""Files refused whole, with a message that says why; the other files of the run still load."""
from __future__ import annotations

import zipfile

import pytest

from tests.etl import helpers as h


def _refused_and_other_loads(load, db, path, *, message: str):
    other = h.write(path.parent / "zz_register.csv", "enterprises", [h.enterprise(5)])
    result = load(path, other)
    bad = next(f for f in result.files if f.path.name == path.name)
    good = next(f for f in result.files if f.path.name == other.name)
    assert bad.refused, bad
    assert message in bad.refused, bad.refused
    assert bad.refused.startswith(path.name)  # names the file
    assert (bad.read, bad.loaded, bad.set_aside) == (0, 0, 0)
    assert (good.refused, good.loaded) == (None, 1)
    assert result.any_refused
    # the refusal is in the load history too
    assert h.query(db, "SELECT file_name, table_name, rows_read, refused IS NOT NULL FROM load_history "
                       "WHERE load_id = ?", [bad.load_id]) == [(path.name, None, 0, True)]
    assert h.one(db, "SELECT count(*) FROM enterprises WHERE enterprise_id = ?", [h.eid(5)]) == 1
    return bad


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_no_recognisable_header(db, load, files, suffix):
    cells = [["序号", "名称", "日期"], ["1", "某某", "2024-03-05"]]
    path = files / f"junk{suffix}"
    (h.write_xlsx if suffix == ".xlsx" else h.write_csv)(path, cells)
    bad = _refused_and_other_loads(load, db, path, message="找不到可识别的表头")
    assert "执法检查" in bad.refused  # lists the tables it looked for


def test_header_below_the_scanned_rows(db, load, files):
    above = [[f"说明第{i}行"] for i in range(30)]
    path = h.write(files / "late.csv", "enterprises", [h.enterprise(1)], above=above)
    _refused_and_other_loads(load, db, path, message="前30行")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_required_column_missing(db, load, files, suffix):
    row = {k: v for k, v in h.inspection(1).items() if k != "inspection_date"}
    path = h.write(files / f"inspections{suffix}", "inspections", [row])
    bad = _refused_and_other_loads(load, db, path, message="缺少必填列")
    assert "“检查日期”" in bad.refused and "执法检查" in bad.refused


def test_required_column_misspelt_gets_a_suggestion(db, load, files):
    path = h.write(files / "inspections.csv", "inspections", [h.inspection(1)], headers={"inspection_date": "检查时间"})
    bad = _refused_and_other_loads(load, db, path, message="缺少必填列")
    assert "“检查日期”" in bad.refused and "检查时间" in bad.refused  # 是否为“检查时间”？


def test_several_required_columns_missing_are_all_named(db, load, files):
    row = {k: v for k, v in h.penalty(1).items() if k not in ("filed_date", "agency_code")}
    path = h.write(files / "penalties.csv", "penalties", [row])
    bad = _refused_and_other_loads(load, db, path, message="缺少必填列")
    assert "立案日期" in bad.refused and "执法机构区划代码" in bad.refused


UNREADABLE = {
    "empty.csv": (b"", "文件为空"),
    "blank.csv": (b"\r\n \r\n", "文件为空"),
    "bom_only.csv": (b"\xef\xbb\xbf", "找不到可识别的表头"),
    "empty.xlsx": (b"", "无法作为Excel文件打开"),
    "junk.csv": (bytes(range(256)) * 16, "不是文本文件"),
    "junk.xlsx": (bytes(range(255, -1, -1)) * 16, "无法作为Excel文件打开"),
    "junk.xls": (bytes(range(256)) * 16, "无法作为Excel文件打开"),
    "report.pdf": (b"%PDF-1.4\n", "不支持的文件类型"),
    "register.docx": (b"PK\x03\x04", "不支持的文件类型"),
    "noextension": (b"a,b\n", "不支持的文件类型"),
}


@pytest.fixture(scope="module")
def unreadable_run(tmp_path_factory, _empty_warehouse):
    """All unreadable files and one good register in a single run."""
    import shutil

    from etl.load import load_files

    d = tmp_path_factory.mktemp("unreadable")
    db = d / "warehouse.duckdb"
    shutil.copyfile(_empty_warehouse, db)
    paths = []
    for name, (content, _) in UNREADABLE.items():
        (d / name).write_bytes(content)
        paths.append(d / name)
    good = h.write(d / "zz_register.csv", "enterprises", [h.enterprise(5)])
    result = load_files([*paths, good], db=db, today=h.TODAY, report_dir=d / "reports")
    return result, db


@pytest.mark.parametrize("name", list(UNREADABLE))
def test_unreadable_files(unreadable_run, name):
    result, db = unreadable_run
    f = next(f for f in result.files if f.path.name == name)
    assert f.refused and f.refused.startswith(name) and UNREADABLE[name][1] in f.refused, f.refused
    assert (f.read, f.loaded, f.set_aside) == (0, 0, 0)
    assert h.query(db, "SELECT table_name, rows_read, refused FROM load_history WHERE file_name = ?", [name]) == [
        (None, 0, f.refused)]


def test_unreadable_files_do_not_stop_the_good_one(unreadable_run):
    result, db = unreadable_run
    good = next(f for f in result.files if f.path.name == "zz_register.csv")
    assert (good.refused, good.loaded) == (None, 1)
    assert h.one(db, "SELECT count(*) FROM enterprises") == 1
    assert result.any_refused


def test_csv_renamed_to_xlsx(db, load, files):
    path = h.write(files / "register.csv", "enterprises", [h.enterprise(1)])
    renamed = path.rename(files / "register.xlsx")
    _refused_and_other_loads(load, db, renamed, message="无法作为Excel文件打开")


def test_zip_that_is_not_a_workbook(db, load, files):
    path = files / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    _refused_and_other_loads(load, db, path, message="无法作为Excel文件打开")


def test_empty_workbook(db, load, files):
    path = h.write_xlsx(files / "empty.xlsx", [])
    _refused_and_other_loads(load, db, path, message="文件为空")


def test_missing_file(db, load, files):
    result = load(files / "nowhere.csv", h.write(files / "e.csv", "enterprises", [h.enterprise(5)]))
    assert "文件不存在" in result.files[0].refused
    assert result.files[1].loaded == 1


def test_header_only_file_loads_nothing_and_is_not_refused(db, load, files):
    f = h.only_file(load(h.write(files / "e.csv", "enterprises", [])))
    assert (f.refused, f.table, f.read, f.loaded) == (None, "enterprises", 0, 0)


def test_a_directory_is_refused_not_a_crash(db, load, files):
    folder = files / "exports.csv"
    folder.mkdir()
    _refused_and_other_loads(load, db, folder, message="不是文件")
