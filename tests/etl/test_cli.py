"""`python -m etl load / template / history` as scripts and cron jobs use it (../shared/spec/cli.md)."""
from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from etl.__main__ import main
from tests.etl import helpers as h

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = re.compile(r"^(?P<file>.+): (?P<table>\w+) read=(?P<read>\d+) loaded=(?P<loaded>\d+) "
                     r"replaced=(?P<replaced>\d+) set_aside=(?P<set_aside>\d+) unchanged=(?P<unchanged>\d+)$")


def etl(*args, db=None, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ENFORCEMENT_USER": "cron"}
    env.pop("ENFORCEMENT_DB", None)
    if db is not None:
        env["ENFORCEMENT_DB"] = str(db)
    return subprocess.run([sys.executable, "-m", "etl", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd or ROOT, timeout=120)


def test_load_prints_a_summary_per_file_and_the_report(base, files):
    register = h.write(files / "名录.csv", "enterprises", [h.enterprise(7), h.enterprise(8, industry="化工")])
    inspections = h.write(files / "检查.xlsx", "inspections", [dict(h.inspection(7, ent=7), 备注="x")])
    p = etl("load", inspections, register, db=base)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    summaries = [SUMMARY.match(line) for line in lines if SUMMARY.match(line)]
    assert [(m["file"], m["table"], m["read"], m["loaded"], m["replaced"], m["set_aside"], m["unchanged"])
            for m in summaries] == [
        (str(inspections), "inspections", "1", "1", "0", "0", "0"),   # in the order given
        (str(register), "enterprises", "2", "1", "0", "1", "0"),
    ]
    assert "  extra columns kept aside: 备注" in lines
    [report_line] = [line for line in lines if line.startswith("set-aside report: ")]
    report = Path(report_line.removeprefix("set-aside report: "))
    assert report.exists() and report.parent == base.parent / "reports"
    rows = list(csv.reader(io.StringIO(report.read_text(encoding="utf-8-sig"))))
    assert rows[1][:3] == ["名录.csv", "3", "行业领域"]
    assert h.one(base, "SELECT count(*) FROM inspections WHERE inspection_id = 'JC0007'") == 1


def test_load_exits_1_when_a_file_is_refused_after_loading_the_others(db, files):
    good = h.write(files / "e.csv", "enterprises", [h.enterprise(1)])
    bad = files / "scan.pdf"
    bad.write_bytes(b"%PDF-1.4")
    p = etl("load", bad, good, "--db", db)  # --db after the sub-command
    assert p.returncode == 1
    assert "scan.pdf" in p.stderr and "不支持的文件类型" in p.stderr
    assert SUMMARY.match(p.stdout.splitlines()[0])["loaded"] == "1"
    assert "set-aside report" not in p.stdout  # nothing set aside, no report
    assert h.one(db, "SELECT count(*) FROM enterprises") == 1


def test_template_then_load_then_history(tmp_path):
    db = tmp_path / "w.duckdb"
    out = tmp_path / "模板" / "penalties.xlsx"
    p = etl("--db", db, "template", "penalties", "--out", out)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == str(out) and out.exists()

    p = etl("--db", db, "load", "--table", "penalties", out)
    assert p.returncode == 0, p.stderr
    assert SUMMARY.match(p.stdout.strip()).groupdict() == dict(
        file=str(out), table="penalties", read="0", loaded="0", replaced="0", set_aside="0", unchanged="0")

    p = etl("history", db=db)
    assert p.returncode == 0, p.stderr
    rows = list(csv.reader(io.StringIO(p.stdout)))
    assert rows[0] == ["load_id", "run_id", "loaded_at", "loaded_by", "file", "table", "read", "loaded", "replaced",
                       "set_aside", "unchanged", "refused", "sha256"]
    assert [(r[0], r[3], r[4], r[5], r[6]) for r in rows[1:]] == [("1", "cron", "penalties.xlsx", "penalties", "0")]
    assert re.fullmatch(r"[0-9a-f]{64}", rows[1][12])


def test_history_without_a_warehouse_exits_1(tmp_path):
    p = etl("history", db=tmp_path / "none.duckdb")
    assert p.returncode == 1 and "none.duckdb" in p.stderr


@pytest.mark.parametrize("argv", [
    [],                                              # no sub-command
    ["load"],                                        # no files
    ["load", "x.csv", "--table", "accidents"],       # unknown table
    ["template", "accidents", "--out", "a.xlsx"],    # unknown table
    ["template", "plans"],                           # --out missing
    ["frobnicate"],
])
def test_wrong_usage_exits_2(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    assert "usage" in capsys.readouterr().err


def test_wrong_usage_exits_2_as_a_process():
    p = etl("load", "--table", "nonsense", "x.csv")
    assert p.returncode == 2 and "usage" in p.stderr
