"""Issue 15 item 8: a full disk ends the command line in a clear message and exit 1 (cli.md), never
a traceback; the warehouse stays as it was and the retry works. Real subprocesses: writes go to
/dev/full (every write fails with ENOSPC), and a load runs under a file-size limit
(RLIMIT_FSIZE, so its writes fail part-way, as on a disk that fills up) — once while the
warehouse is being copied, once inside DuckDB's own writes."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.security.conftest import ROOT

pytestmark = pytest.mark.skipif(not Path("/dev/full").exists() or os.name != "posix", reason="needs /dev/full")
CORPUS = ROOT / "tests" / "corpus"


def cli(*args: str, stdout=subprocess.PIPE, limit: int | None = None) -> subprocess.CompletedProcess:
    def preexec():
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, stdout=stdout, stderr=subprocess.PIPE,
                          text=True, timeout=120, preexec_fn=preexec if limit else None)


def clean(p: subprocess.CompletedProcess) -> str:
    assert p.returncode == 1, (p.returncode, p.stderr[-1500:])
    assert "Traceback" not in p.stderr and "Exception ignored" not in p.stderr, p.stderr[-1500:]
    assert p.stderr.startswith("错误："), p.stderr
    return p.stderr


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("room", ["a quarter of the warehouse", "the warehouse and 4 KB"])
def test_a_load_on_a_full_disk_says_so_and_leaves_the_warehouse_intact(room, demo_db, tmp_path):
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_db, db)
    before = digest(db)
    size = db.stat().st_size
    limit = size // 4 if room.startswith("a quarter") else size + 4096   # fails copying / inside DuckDB
    p = cli("etl", "load", str(CORPUS / "01_utf8_bom.csv"), "--db", str(db), limit=limit)
    assert "磁盘空间不足" in clean(p)
    assert digest(db) == before
    assert not [f for f in tmp_path.iterdir() if f.name.endswith(".tmp")]
    retry = cli("etl", "load", str(CORPUS / "01_utf8_bom.csv"), "--db", str(db))
    assert retry.returncode == 0, retry.stderr


def test_template_out_a_folder_or_a_full_device(tmp_path):
    assert "是一个文件夹" in clean(cli("etl", "template", "inspections", "--out", str(tmp_path)))
    assert "磁盘空间不足" in clean(cli("etl", "template", "inspections", "--out", "/dev/full"))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_metrics_out_dev_full(fmt, demo_db):
    p = cli("metrics", "index", "--period", "2025Q4", "--db", str(demo_db), "--format", fmt, "--out", "/dev/full")
    assert "/dev/full" in clean(p) and "磁盘空间不足" in p.stderr


def test_standard_output_on_a_full_device(demo_db):
    with open("/dev/full", "w") as full:
        p = cli("etl", "history", "--db", str(demo_db), stdout=full)
    assert "标准输出" in clean(p)
