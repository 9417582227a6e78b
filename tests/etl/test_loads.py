"""Loads: reloading changes nothing, corrections replace by id, every load is recorded, every row is
accounted for, and a load is all-or-nothing against the warehouse."""
from __future__ import annotations

import hashlib
import threading

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl import warehouse
from etl.load import load_files
from tests.etl import helpers as h


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _records(db) -> dict[str, list[tuple]]:
    return {t: h.query(db, f"SELECT * FROM {t} ORDER BY ALL") for t in warehouse.RECORD_TABLES}


def _history(db, load_id):
    return h.query(db, "SELECT file_name, file_hash, table_name, rows_read, loaded, replaced, unchanged, set_aside, "
                       "refused FROM load_history WHERE load_id = ?", [load_id])[0]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_reloading_the_same_file_changes_nothing(base, load, files, suffix):
    path = h.write(files / f"i{suffix}", "inspections",
                   [h.inspection(10), h.inspection(11, via_mobile="N"), h.inspection(12, inspection_type="抽查")])
    first = h.only_file(load(path))
    assert (first.read, first.loaded, first.replaced, first.unchanged, first.set_aside) == (3, 2, 0, 0, 1)
    before = _records(base)

    second = h.only_file(load(path))
    assert (second.read, second.loaded, second.replaced, second.unchanged, second.set_aside) == (3, 0, 2, 2, 1)
    assert second.load_id > first.load_id
    assert _records(base) == before  # same rows, and their load_id is still the first load's
    assert {r[0] for r in h.query(base, "SELECT load_id FROM inspections WHERE inspection_id IN ('JC0010', 'JC0011')")} == {
        first.load_id}
    assert _history(base, second.load_id) == (path.name, _sha(path), "inspections", 3, 0, 2, 2, 1, None)
    assert _history(base, first.load_id)[1] == _history(base, second.load_id)[1]


def test_correction_by_the_same_id(base, load, files):
    load(h.write(files / "i.csv", "inspections", [h.inspection(10), h.inspection(11)]))
    fix = h.write(files / "i_fix.csv", "inspections",
                  [h.inspection(10), h.inspection(11, inspection_type="复查", inspection_date="2024年3月6日")])
    f = h.only_file(load(fix))
    assert (f.read, f.loaded, f.replaced, f.unchanged, f.set_aside) == (2, 0, 2, 1, 0)
    assert h.query(base, "SELECT inspection_type, inspection_date::VARCHAR, load_id FROM inspections "
                         "WHERE inspection_id = 'JC0011'") == [("复查", "2024-03-06", f.load_id)]
    assert h.one(base, "SELECT load_id FROM inspections WHERE inspection_id = 'JC0010'") < f.load_id  # untouched
    assert _history(base, f.load_id)[2:8] == ("inspections", 2, 0, 2, 1, 0)


def test_correction_of_one_row_only(base, load, files):
    f = h.only_file(load(h.write(files / "e.csv", "enterprises", [h.enterprise(2, name="更正后的名称", key_unit="否")])))
    assert (f.loaded, f.replaced, f.unchanged) == (0, 1, 0)
    assert h.query(base, "SELECT name, key_unit FROM enterprises WHERE enterprise_id = ?", [h.eid(2)]) == [
        ("更正后的名称", False)]
    assert h.one(base, "SELECT count(*) FROM enterprises") == 3


def test_correction_within_one_run_over_two_files(base, load, files):
    """Two files of one run both correcting the same id: the later file wins, nothing errors."""
    a = h.write(files / "a.csv", "inspections", [h.inspection(1, inspection_type="复查")])
    b = h.write(files / "b.csv", "inspections", [h.inspection(1, inspection_type="联合执法")])
    fa, fb = load(a, b).files
    assert (fa.replaced, fb.replaced, fb.unchanged) == (1, 1, 0)
    assert h.one(base, "SELECT inspection_type FROM inspections WHERE inspection_id = 'JC0001'") == "联合执法"


def test_composite_key_correction(db, load, files):
    load(h.write(files / "p1.csv", "plans", [h.plan(h.COUNTY, "2024", "100"), h.plan(h.CITY, "2024", "50")]))
    f = h.only_file(load(h.write(files / "p2.csv", "plans", [h.plan(h.COUNTY, "2024", "120"), h.plan(h.COUNTY, "2025", "90")])))
    assert (f.loaded, f.replaced, f.unchanged) == (1, 1, 0)
    assert h.query(db, "SELECT agency_code, year, planned_inspections FROM plans ORDER BY ALL") == [
        (h.CITY, 2024, 50), (h.COUNTY, 2024, 120), (h.COUNTY, 2025, 90)]


def test_every_load_is_recorded(db, files, tmp_path, monkeypatch):
    monkeypatch.setenv("ENFORCEMENT_USER", "王科长")
    good = h.write(files / "e.csv", "enterprises", [h.enterprise(1), h.enterprise(2, industry="x")])
    refused = files / "x.pdf"
    refused.write_bytes(b"%PDF")
    result = load_files([good, refused], db=db, today=h.TODAY, report_dir=tmp_path / "r")
    rows = h.query(db, "SELECT load_id, run_id, file_name, file_hash, table_name, rows_read, loaded, replaced, "
                       "unchanged, set_aside, refused IS NOT NULL, loaded_by, loaded_at IS NOT NULL "
                       "FROM load_history ORDER BY load_id")
    assert len(rows) == 2
    assert {r[1] for r in rows} == {result.run_id}  # one run
    by_name = {r[2]: r for r in rows}
    assert by_name["e.csv"][3:] == (_sha(good), "enterprises", 2, 1, 0, 0, 1, False, "王科长", True)
    assert by_name["x.pdf"][4:11] == (None, 0, 0, 0, 0, 0, True)
    assert h.query(db, "SELECT file_name, row_number, column_name FROM quarantine") == [("e.csv", 3, "行业领域")]


def test_display_names_for_uploads(db, load, files):
    """Uploads are saved under temporary names; history and report use the name the user gave."""
    tmp = h.write(files / "upload_8f3a.csv", "enterprises", [h.enterprise(1, industry="x")])
    result = load(tmp, names={tmp: "名录.csv"})
    f = h.only_file(result)
    assert f.path.name == "名录.csv"
    assert result.set_aside_rows[0]["file"] == "名录.csv"
    assert h.one(db, "SELECT file_name FROM load_history") == "名录.csv"


# ---------------------------------------------------------------- all-or-nothing

def _stray(db):
    return sorted(p.name for p in db.parent.iterdir() if p.name not in (db.name, db.name + ".lock"))


def test_failure_halfway_leaves_the_warehouse_as_it_was(base, files, tmp_path):
    before_bytes, before_rows = base.read_bytes(), _records(base)
    before_history = h.query(base, "SELECT * FROM load_history ORDER BY load_id")
    paths = [h.write(files / "e.csv", "enterprises", [h.enterprise(7)]),
             h.write(files / "i.csv", "inspections", [h.inspection(7, ent=7)]),
             h.write(files / "hz.csv", "hazards", [h.hazard(7, insp=7)])]
    with pytest.raises(RuntimeError, match="injected"):
        load_files(paths, db=base, today=h.TODAY, report_dir=tmp_path / "r", _fail_after=1)
    assert base.read_bytes() == before_bytes  # byte for byte
    assert _records(base) == before_rows
    assert h.query(base, "SELECT * FROM load_history ORDER BY load_id") == before_history
    assert _stray(base) == []  # no copy, no WAL left behind
    assert not (tmp_path / "r").exists()  # no report for a run that did not happen

    retry = load_files(paths, db=base, today=h.TODAY, report_dir=tmp_path / "r")
    assert [f.loaded for f in retry.files] == [1, 1, 1]
    assert h.one(base, "SELECT count(*) FROM hazards WHERE hazard_id = 'YH0007'") == 1
    assert _stray(base) == []


def test_failure_on_a_new_warehouse_creates_nothing(tmp_path, files):
    db = tmp_path / "new" / "warehouse.duckdb"
    path = h.write(files / "e.csv", "enterprises", [h.enterprise(1)])
    with pytest.raises(RuntimeError):
        load_files([path], db=db, today=h.TODAY, _fail_after=1)
    assert not db.exists()
    assert _stray(db) == []


def test_stale_copy_of_a_killed_writer_is_cleaned_up(base, load, files):
    (base.parent / (base.name + ".abc123.tmp")).write_bytes(b"half a warehouse")
    (base.parent / (base.name + ".abc123.tmp.wal")).write_bytes(b"")
    load(h.write(files / "e.csv", "enterprises", [h.enterprise(7)]))
    assert _stray(base) == []


def test_a_reader_keeps_its_snapshot_while_a_load_swaps_the_file(base, load, files):
    reader = duckdb.connect(str(base), read_only=True)
    try:
        version, inode = warehouse.version(base), base.stat().st_ino
        load(h.write(files / "e.csv", "enterprises", [h.enterprise(7)]))
        assert base.stat().st_ino != inode  # a new file swapped in, never the live one rewritten
        assert reader.execute("SELECT count(*) FROM enterprises").fetchone()[0] == 3  # old file, still readable
        assert warehouse.version(base) != version  # the app notices and reopens
    finally:
        reader.close()
    assert h.one(base, "SELECT count(*) FROM enterprises") == 4


def test_concurrent_loads_queue_and_both_land(base, files, tmp_path):
    errors = []

    def run(n):
        try:
            path = h.write(files / f"e{n}.csv", "enterprises", [h.enterprise(n)])
            load_files([path], db=base, today=h.TODAY, report_dir=tmp_path / "r")
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(n,)) for n in (7, 8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert h.one(base, "SELECT count(*) FROM enterprises") == 5
    assert h.one(base, "SELECT count(*) FROM load_history") == 5  # 3 base files + 2


# ---------------------------------------------------------------- accounting

ROW_KINDS = st.sampled_from(["new", "existing", "changed", "bad_date", "bad_type", "no_enterprise", "blank_id"])


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.tuples(ROW_KINDS, st.integers(0, 5)), max_size=12))
def test_every_row_is_accounted_for(base, files, tmp_path, kinds):
    """read = loaded + replaced + set aside, for any mix of new, existing, changed, bad and
    duplicated rows; and loaded/replaced/unchanged count exactly the ids they should."""
    import shutil

    db = tmp_path / "acc.duckdb"
    shutil.copyfile(base, db)
    rows = []
    for kind, n in kinds:
        number = 1 if kind in ("existing", "changed") else 20 + n  # JC0001 is in the base
        row = h.inspection(number)
        if kind == "changed":
            row["inspection_type"] = "复查"
        elif kind == "bad_date":
            row["inspection_date"] = "2024-02-30"
        elif kind == "bad_type":
            row["inspection_type"] = "抽查"
        elif kind == "no_enterprise":
            row["enterprise_id"] = h.eid(99)
        elif kind == "blank_id":
            row["inspection_id"] = None
        rows.append(row)
    path = h.write(files / "acc.csv", "inspections", rows)
    result = load_files([path], db=db, today=h.TODAY, report_dir=tmp_path / "r")
    f = h.only_file(result)
    assert f.read == len(rows)
    assert f.read == f.loaded + f.replaced + f.set_aside
    # expected: the first occurrence of an id decides; later ones are duplicates and set aside
    seen, loaded, replaced, unchanged, aside = set(), 0, 0, 0, 0
    for (kind, _), row in zip(kinds, rows):
        rid = row["inspection_id"]
        dup = rid is not None and rid in seen
        if rid is not None:
            seen.add(rid)
        if dup or kind in ("bad_date", "bad_type", "no_enterprise", "blank_id"):
            aside += 1
        elif kind in ("existing", "changed"):
            replaced += 1
            unchanged += kind == "existing"
        else:
            loaded += 1
    assert (f.loaded, f.replaced, f.unchanged, f.set_aside) == (loaded, replaced, unchanged, aside)
    assert h.one(db, "SELECT count(*) FROM inspections") == 2 + loaded
