"""The staff roster (执法人员名录), its training (执法人员培训) and the establishment (执法队伍编制) go
through the ETL as every other table: header detection, typed values, repeated ids set aside,
corrections by id recorded in the load history. (Each rule's set-aside reason: test_rules.py.)"""
from __future__ import annotations

import datetime as dt

import pytest

from tests.etl import helpers as h

D = dt.date


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_roster_training_establishment_detected_and_typed(db, load, files, suffix):
    """No --table: each file's header says which table it is; one run brings the roster and the
    training that names its officers, in any order."""
    roster = h.write(files / f"名录{suffix}", "officers", [
        h.officer(1),
        h.officer(2, post="技术检查员", degree="否", qualification="是", entry_training_days=None, name=None),
        h.officer(3, agency_code=h.CITY, post="执法辅助", experience="是", start_date="2019/3/5",
                  end_date="2024年6月30日"),
    ])
    training = h.write(files / f"培训{suffix}", "training", [h.training(1, "2024", "12.5"), h.training(2, "2024", "0")])
    posts = h.write(files / f"编制{suffix}", "establishment", [h.establishment(h.COUNTY, "2024", "30"),
                                                               h.establishment(h.CITY, "2025", "45")])
    result = load(training, posts, roster)
    got = {f.path.name: (f.table, f.read, f.loaded, f.set_aside) for f in result.files}
    assert got == {f"名录{suffix}": ("officers", 3, 3, 0), f"培训{suffix}": ("training", 2, 2, 0),
                   f"编制{suffix}": ("establishment", 2, 2, 0)}
    assert h.query(db, "SELECT officer_id, agency_code, name, post, degree, qualification, experience, "
                       "entry_training_days, start_date, end_date FROM officers ORDER BY officer_id") == [
        ("ZF0001", h.COUNTY, "执法员1", "行政执法", True, False, False, 90, D(2020, 1, 1), None),
        ("ZF0002", h.COUNTY, None, "技术检查员", False, True, False, None, D(2020, 1, 1), None),
        ("ZF0003", h.CITY, "执法员3", "执法辅助", True, False, True, 90, D(2019, 3, 5), D(2024, 6, 30)),
    ]
    assert h.query(db, "SELECT officer_id, year, refresher_days FROM training ORDER BY ALL") == [
        ("ZF0001", 2024, 12.5), ("ZF0002", 2024, 0.0)]
    assert h.query(db, "SELECT agency_code, year, posts FROM establishment ORDER BY ALL") == [
        (h.CITY, 2025, 45), (h.COUNTY, 2024, 30)]


def test_officer_id_unique_in_a_file(db, load, files):
    result = load(h.write(files / "r.csv", "officers", [h.officer(1), h.officer(2), h.officer(1, post="技术检查员")]))
    f = h.only_file(result)
    assert (f.read, f.loaded, f.set_aside) == (3, 2, 1)
    [row] = h.set_aside(result)
    assert (row["row"], row["column"], row["value"]) == (4, "执法证号", "ZF0001")
    assert "重复" in row["reason"] and "第2行" in row["reason"]
    assert h.one(db, "SELECT post FROM officers WHERE officer_id = 'ZF0001'") == "行政执法"


def test_corrections_by_id_replace_and_are_recorded(db, load, files):
    """An officer who leaves: the roster re-sent with an end date replaces the row; training and
    establishment are corrected by (officer, year) and (agency, year)."""
    load(h.write(files / "r1.csv", "officers", [h.officer(1), h.officer(2)]),
         h.write(files / "t1.csv", "training", [h.training(1, "2024", "5")]),
         h.write(files / "e1.csv", "establishment", [h.establishment(year="2024", posts="30")]))
    result = load(h.write(files / "r2.csv", "officers", [h.officer(1, end_date="2025-03-31"), h.officer(2)]),
                  h.write(files / "t2.csv", "training", [h.training(1, "2024", "11"), h.training(1, "2025", "3")]),
                  h.write(files / "e2.csv", "establishment", [h.establishment(year="2024", posts="32")]))
    got = {f.table: (f.read, f.loaded, f.replaced, f.unchanged) for f in result.files}
    assert got == {"officers": (2, 0, 2, 1), "training": (2, 1, 1, 0), "establishment": (1, 0, 1, 0)}
    assert h.query(db, "SELECT officer_id, end_date FROM officers ORDER BY 1") == [
        ("ZF0001", D(2025, 3, 31)), ("ZF0002", None)]
    assert h.query(db, "SELECT year, refresher_days FROM training ORDER BY 1") == [(2024, 11.0), (2025, 3.0)]
    assert h.one(db, "SELECT posts FROM establishment") == 32
    history = h.query(db, "SELECT file_name, table_name, rows_read, loaded, replaced, unchanged FROM load_history "
                          "WHERE file_name IN ('r2.csv', 't2.csv', 'e2.csv') ORDER BY load_id")
    assert history == [("r2.csv", "officers", 2, 0, 2, 1), ("t2.csv", "training", 2, 1, 1, 0),
                       ("e2.csv", "establishment", 1, 0, 1, 0)]


def test_training_of_an_officer_loaded_earlier(db, load, files):
    load(h.write(files / "r.csv", "officers", [h.officer(5)]))
    f = h.only_file(load(h.write(files / "t.csv", "training", [h.training(5), h.training(6)])))
    assert (f.loaded, f.set_aside) == (1, 1)


def test_establishment_is_not_taken_for_a_plan(db, load, files):
    """Both have 执法机构区划代码 and 年度: the third column decides."""
    f = h.only_file(load(h.write(files / "x.csv", "establishment", [h.establishment()])))
    assert f.table == "establishment"
    f = h.only_file(load(h.write(files / "y.csv", "plans", [h.plan()])))
    assert f.table == "plans"
