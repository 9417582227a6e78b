"""The deployment's nightly load and backup scripts, run as the systemd units run them (a real
subprocess with the environment file's variables)."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.etl import helpers as h

ROOT = Path(__file__).resolve().parents[2]


def _env(**kw) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENFORCEMENT_")}
    return {**env, "ENFORCEMENT_PYTHON": sys.executable, "PYTHONPATH": str(ROOT), **{k: str(v) for k, v in kw.items()}}


def test_nightly_load_loads_the_inbox_and_files_each_file_by_outcome(db, files):
    inbox = files / "inbox"
    inbox.mkdir()
    good = h.write(inbox / "名录.csv", "enterprises", [h.enterprise(1), h.enterprise(2)])
    bad = inbox / "scan.pdf.csv"
    bad.write_bytes(b"%PDF-1.4 \x00\x01 not a table")
    p = subprocess.run([str(ROOT / "deploy" / "bin" / "nightly-load.sh")], capture_output=True, text=True, timeout=120,
                       env=_env(ENFORCEMENT_DB=db, ENFORCEMENT_INBOX=inbox))
    assert p.returncode == 1, p.stdout + p.stderr  # one file refused whole
    assert "load finished with status 1" in p.stdout
    assert list(inbox.iterdir()) == []
    [loaded] = list((files / "loaded").iterdir())
    [refused] = list((files / "refused").iterdir())
    assert [f.name for f in loaded.iterdir()] == [good.name]
    assert [f.name for f in refused.iterdir()] == [bad.name]
    assert h.one(db, "SELECT count(*) FROM enterprises") == 2
    # an empty inbox is a quiet success
    p = subprocess.run([str(ROOT / "deploy" / "bin" / "nightly-load.sh")], capture_output=True, text=True, timeout=60,
                       env=_env(ENFORCEMENT_DB=db, ENFORCEMENT_INBOX=inbox))
    assert p.returncode == 0 and "nothing to load" in p.stdout


def test_backup_copies_the_warehouse_and_its_stores_and_prunes_old_ones(demo_db, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    db = data / "warehouse.duckdb"
    shutil.copyfile(demo_db, db)
    store = data / "warehouse.duckdb.ops.sqlite"
    with sqlite3.connect(store) as s:
        s.execute("CREATE TABLE notice_log (number TEXT, unit TEXT)")
        s.execute("INSERT INTO notice_log VALUES ('浙应急函〔2026〕1号', '330700')")
    (data / "warehouse.duckdb.lock").write_text("")      # a writer's lock file is not data
    (data / "other.duckdb").write_text("not ours")       # nor is another warehouse
    out = tmp_path / "backups"
    stale = out / (dt.datetime.now() - dt.timedelta(days=40)).strftime("%Y%m%d-%H%M%S")
    recent = out / (dt.datetime.now() - dt.timedelta(days=2)).strftime("%Y%m%d-%H%M%S")
    stale.mkdir(parents=True)
    recent.mkdir()
    (out / "keep-me").mkdir()
    p = subprocess.run([sys.executable, str(ROOT / "deploy" / "bin" / "backup.py")], capture_output=True, text=True,
                       timeout=120, env=_env(ENFORCEMENT_DB=db, BACKUP_DIR=out, BACKUP_KEEP_DAYS=30))
    assert p.returncode == 0, p.stderr
    dest = Path(p.stdout.strip().removeprefix("备份完成："))
    assert sorted(f.name for f in dest.iterdir()) == ["warehouse.duckdb", "warehouse.duckdb.ops.sqlite"]
    con = duckdb.connect(str(dest / "warehouse.duckdb"), read_only=True)
    try:
        live = duckdb.connect(str(db), read_only=True)
        try:
            assert con.execute("SELECT count(*) FROM inspections").fetchone() == \
                live.execute("SELECT count(*) FROM inspections").fetchone()
        finally:
            live.close()
    finally:
        con.close()
    with sqlite3.connect(dest / "warehouse.duckdb.ops.sqlite") as s:
        assert s.execute("SELECT * FROM notice_log").fetchall() == [("浙应急函〔2026〕1号", "330700")]
    assert not stale.exists() and recent.exists() and (out / "keep-me").exists()


def test_backup_without_a_warehouse_says_so(tmp_path):
    p = subprocess.run([sys.executable, str(ROOT / "deploy" / "bin" / "backup.py")], capture_output=True, text=True,
                       timeout=60, env=_env(ENFORCEMENT_DB=tmp_path / "none.duckdb", BACKUP_DIR=tmp_path / "b"))
    assert p.returncode == 1 and "备份失败" in p.stderr and "Traceback" not in p.stderr
