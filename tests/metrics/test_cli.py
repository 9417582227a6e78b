"""python -m metrics index | score | warnings | indicators, as ../shared/spec/cli.md says."""
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from metrics.__main__ import main
from tests.metrics.metrics_data import Data, hangzhou_q1

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return hangzhou_q1().build(tmp_path_factory.mktemp("cli") / "warehouse.duckdb")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_index(capsys, db):
    code, out, _ = run(capsys, "index", "--period", "2024Q1", "--level", "county", "--db", str(db))
    lines = out.splitlines()
    assert code == 0 and lines[0] == "code,name,index,rank,A,B,C,D,E,F,na_count"
    assert "330102,上城区,74.8,1,100.0,66.7,50.0,50.0,100.0,90.0,0" in lines
    assert "330105,拱墅区,32.9,2,50.0,0.0,50.0,0.0,,80.0,2" in lines
    assert "330106,西湖区,,,,,,,,," in lines  # 无数据: a row with empty values
    assert len(lines) == 1 + 90


HEADER = ("code,name,score,rank,bonus,deduction,warned,plan_completion_points,key_coverage_points,"
          "rectification_due_points,penalty_rate_points,major_filing_points,dual_penalty_points,mobile_share_points")


def test_score_and_warnings(capsys, db):
    """cli.md's columns first, then each item's published points. 杭州 (test_score's hand check):
    4.4 + 15 + 15 + 15 + 3.3 + 8.3 + 7.5 = 68.5, + 2 − 2 = 68.5 (68.6 before the items were
    published one by one: the unrounded sum 68.611 rounded)."""
    code, out, _ = run(capsys, "--db", str(db), "score", "--quarter", "2024Q1")
    lines = out.splitlines()
    assert code == 0 and lines[0] == HEADER
    assert "330100,杭州市,68.5,2,2.0,2.0,false,4.4,15.0,15.0,15.0,3.3,8.3,7.5" in lines
    assert "330200,宁波市,70.0,1,0.0,0.0,false,0.0,15.0,20.0,15.0,10.0,10.0,0.0" in lines
    assert "330300,温州市,,,,,,,,,,,," in lines and len(lines) == 12
    code, out, _ = run(capsys, "warnings", "--quarter", "2024Q1", "--db", str(db))
    assert code == 0 and out == HEADER + "\n"


def test_warnings_lists_the_warned_rows(capsys, tmp_path):
    from tests.metrics.metrics_data import ZJ_CITIES, scored_unit

    d = Data()
    for k, city in enumerate(ZJ_CITIES):
        scored_unit(d, city, mobile=k)  # 70 … 80
    db = d.build(tmp_path / "w.duckdb")
    code, out, _ = run(capsys, "warnings", "--quarter", "2024Q1", "--db", str(db))
    items = "0.0,15.0,20.0,15.0,10.0,10.0"
    assert out.splitlines() == [HEADER,
                                f"330100,杭州市,70.0,11,0.0,0.0,true,{items},0.0",
                                f"330200,宁波市,71.0,10,0.0,0.0,true,{items},1.0",
                                f"330300,温州市,72.0,9,0.0,0.0,true,{items},2.0"]


def test_indicators(capsys, db):
    """Machine output is exact: ratios as the float itself (1/3 = 0.3333333333333333, not 0.3333),
    money in 万元 to 0.01 元; printed values read back as the computed ones (the pre-issue-12 CLI
    rounded each value to its display precision: 0.6000, 6.50, 85.0)."""
    code, out, _ = run(capsys, "indicators", "--period", "2024Q1", "--db", str(db))
    lines = out.splitlines()
    assert code == 0 and lines[0] == "code,name,indicator,value,numerator,denominator"
    for row in ["330100,杭州市,rectification,0.6,3,5", "330100,杭州市,avg_fine,2.25,4.5,2",
                "330100,杭州市,transfers,1,1,", "330100,杭州市,fines_total,6.5,6.5,",
                "330100,杭州市,review_score,85,170,2", "330300,温州市,coverage,,0,0",
                "330100,杭州市,major_on_time,0.3333333333333333,1,3"]:
        assert row in lines


def test_indicators_print_money_to_the_yuan_and_ratios_in_full(capsys, tmp_path):
    """A county's fines of 1,005 元 print as 0.1005 万元 (not 0.1); a ratio of 2/3 keeps ≥ 6
    significant digits, and the Excel output holds the same exact numbers."""
    d = Data()
    e = d.enterprise("330102")
    for k in range(3):
        d.inspection("330102", e, f"2024-01-{10 + k:02d}", mobile=k < 2)
    d.penalty("330102", e, "2024-01-20", fine_company=1000, fine_person=5)
    db = d.build(tmp_path / "w.duckdb")
    code, out, _ = run(capsys, "indicators", "--period", "2024Q1", "--level", "county", "--db", str(db))
    rows = {tuple(line.split(",")[:3]): line.split(",")[3:] for line in out.splitlines()[1:]}
    assert code == 0
    assert rows[("330102", "上城区", "fines_total")] == ["0.1005", "0.1005", ""]
    assert rows[("330102", "上城区", "avg_fine")] == ["0.1005", "0.1005", "1"]
    mobile = rows[("330102", "上城区", "mobile_share")]
    assert mobile == ["0.6666666666666666", "2", "3"] and float(mobile[0]) == 2 / 3
    out_file = tmp_path / "ind.xlsx"
    run(capsys, "indicators", "--period", "2024Q1", "--level", "county", "--db", str(db), "--format", "xlsx",
        "--out", str(out_file))
    cells = {(r[0], r[2]): r[3] for r in openpyxl.load_workbook(out_file).active.iter_rows(values_only=True)}
    assert cells[("330102", "fines_total")] == 0.1005 and cells[("330102", "mobile_share")] == 2 / 3


def test_excel_output(capsys, db, tmp_path):
    out_file = tmp_path / "index.xlsx"
    code, out, _ = run(capsys, "index", "--period", "2024Q1", "--level", "county", "--db", str(db),
                       "--format", "xlsx", "--out", str(out_file))
    assert code == 0 and out.strip() == str(out_file)
    ws = openpyxl.load_workbook(out_file).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("code", "name", "index", "rank", "A", "B", "C", "D", "E", "F", "na_count")
    first = next(r for r in rows if r[0] == "330102")
    assert first[2] == 74.8 and first[3] == 1


def test_exit_codes(capsys, db, tmp_path):
    assert run(capsys, "index", "--period", "2024Q1", "--db", str(tmp_path / "none.duckdb"))[0] == 1
    with pytest.raises(SystemExit) as e:
        main(["index", "--period", "2024Q5", "--db", str(db)])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(["score", "--quarter", "2024", "--db", str(db)])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(["index", "--period", "2024", "--format", "xlsx", "--db", str(db)])
    assert e.value.code == 2
    code, _, err = run(capsys, "index", "--period", "2024Q1", "--province", "330100", "--db", str(db))
    assert code == 1 and "not a province" in err
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "default"\n[warning]\nlast = "three"\n', encoding="utf-8")
    code, _, err = run(capsys, "score", "--quarter", "2024Q1", "--scheme", str(bad), "--db", str(db))
    assert code == 1 and f"{bad.resolve()}:3: warning.last should be a whole number" in err


def test_several_provinces_ask_for_one(capsys, tmp_path):
    d = hangzhou_q1()
    e = d.enterprise("510104")
    d.inspection("510104", e, "2024-01-05")
    db = d.build(tmp_path / "two.duckdb")
    code, _, err = run(capsys, "score", "--quarter", "2024Q1", "--db", str(db))
    assert code == 1 and "330000 浙江省" in err and "510000 四川省" in err and "--province" in err
    code, out, _ = run(capsys, "score", "--quarter", "2024Q1", "--db", str(db), "--province", "510000")
    assert code == 0 and out.splitlines()[1].startswith("510100,成都市,") and len(out.splitlines()) == 22


def test_as_a_module_with_the_environment_variable(db):
    env = {**os.environ, "ENFORCEMENT_DB": str(db)}
    p = subprocess.run([sys.executable, "-m", "metrics", "index", "--period", "2024Q1"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0] == "code,name,index,rank,A,B,C,D,E,F,na_count"


def test_a_warehouse_without_marts_is_refused_with_a_message(capsys, db, tmp_path):
    """A warehouse built before the marts: exit 1 and the sentence saying what to run, no traceback."""
    import shutil

    import duckdb

    from etl import marts

    old = tmp_path / "old.duckdb"
    shutil.copyfile(db, old)
    con = duckdb.connect(str(old))
    con.execute(f"DROP TABLE {marts.STATE}")
    con.close()
    code, out, err = run(capsys, "score", "--quarter", "2024Q1", "--db", str(old))
    assert code == 1 and out == "" and "python -m etl marts" in err and "Traceback" not in err
