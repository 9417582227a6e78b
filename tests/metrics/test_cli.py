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


def test_score_and_warnings(capsys, db):
    code, out, _ = run(capsys, "--db", str(db), "score", "--quarter", "2024Q1")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "code,name,score,rank,bonus,deduction,warned"
    assert "330100,杭州市,68.6,2,2.0,2.0,false" in lines and "330200,宁波市,70.0,1,0.0,0.0,false" in lines
    assert "330300,温州市,,,,," in lines and len(lines) == 12
    code, out, _ = run(capsys, "warnings", "--quarter", "2024Q1", "--db", str(db))
    assert code == 0 and out == "code,name,score,rank,bonus,deduction,warned\n"


def test_warnings_lists_the_warned_rows(capsys, tmp_path):
    from tests.metrics.metrics_data import ZJ_CITIES, scored_unit

    d = Data()
    for k, city in enumerate(ZJ_CITIES):
        scored_unit(d, city, mobile=k)  # 70 … 80
    db = d.build(tmp_path / "w.duckdb")
    code, out, _ = run(capsys, "warnings", "--quarter", "2024Q1", "--db", str(db))
    assert out.splitlines() == ["code,name,score,rank,bonus,deduction,warned",
                                "330100,杭州市,70.0,11,0.0,0.0,true",
                                "330200,宁波市,71.0,10,0.0,0.0,true",
                                "330300,温州市,72.0,9,0.0,0.0,true"]


def test_indicators(capsys, db):
    code, out, _ = run(capsys, "indicators", "--period", "2024Q1", "--db", str(db))
    lines = out.splitlines()
    assert code == 0 and lines[0] == "code,name,indicator,value,numerator,denominator"
    for row in ["330100,杭州市,rectification,0.6000,3,5", "330100,杭州市,avg_fine,2.25,4.5,2",
                "330100,杭州市,transfers,1,1,", "330100,杭州市,fines_total,6.50,6.5,",
                "330100,杭州市,review_score,85.0,170,2", "330300,温州市,coverage,,0,0"]:
        assert row in lines


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
