"""Crash safety: `python -m etl load` killed with SIGKILL at any point leaves the previous warehouse
exactly as it was (same bytes, opens, same rows), and a retry completes and cleans up after it.

The loader is a real subprocess over a copy of the demo warehouse. It is killed inside every stage of
a write (etl.warehouse.crash_point: $ENFORCEMENT_TEST_PAUSE_AT makes the loader say where it is and
sleep there), loading a 2,000-row file (the pause, not the file's size, decides where it dies), and at
random moments, loading a 20,000-row file (long enough that a random moment falls inside the write).
"""
from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from etl.warehouse import PAUSE_ENV, PAUSE_STAGES, RECORD_TABLES

ROOT = Path(__file__).resolve().parents[2]
N_ROWS = 20_000        # the file killed at random moments
N_STAGE_ROWS = 2_000   # the file killed inside each stage
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def state(db: Path) -> dict:
    """What the warehouse holds: per record table the row count and an order-free checksum of every
    row; how many loads and set-aside rows it records."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {t: con.execute(f"SELECT count(*), coalesce(bit_xor(hash(t)), 0) FROM {t} t").fetchone()
               for t in RECORD_TABLES}
        out["load_history"] = con.execute("SELECT count(*) FROM load_history").fetchone()[0]
        out["quarantine"] = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
        return out
    finally:
        con.close()


def strays(db: Path) -> list[str]:
    return sorted(p.name for p in db.parent.iterdir() if p.name.startswith(db.name + ".") and ".tmp" in p.name)


@pytest.fixture(scope="module")
def setup(demo_db, tmp_path_factory):
    """A live warehouse (the demo's), the file to load, and the states before and after the load."""
    d = tmp_path_factory.mktemp("kill")
    live = d / "wh" / "warehouse.duckdb"
    live.parent.mkdir()
    shutil.copyfile(demo_db, live)
    con = duckdb.connect(str(demo_db), read_only=True)
    ents = con.execute("SELECT enterprise_id, county_code FROM enterprises ORDER BY enterprise_id LIMIT 50").fetchall()
    con.close()
    big, small = d / "检查记录.csv", d / "stage" / "检查记录.csv"
    small.parent.mkdir()
    for path, n in ((big, N_ROWS), (small, N_STAGE_ROWS)):
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write("检查编号,统一社会信用代码,执法机构区划代码,检查日期,检查方式,移动执法,专家参与\r\n")
            for i in range(n):
                e, county = ents[i % len(ents)]
                kind = "抽查" if i % (n // 4) == n // 4 - 1 else "双随机"  # four rows set aside: the quarantine grows too
                fh.write(f"KILL{i:07d},{e},{county},2024-{1 + i % 12:02d}-{1 + i % 28:02d},{kind},是,否\r\n")
    pristine = d / "before.duckdb"
    shutil.copyfile(live, pristine)
    before, after, seconds = state(pristine), {}, None
    for name, path, n in (("big", big, N_ROWS), ("small", small, N_STAGE_ROWS)):
        reference = d / f"ref-{name}" / "warehouse.duckdb"
        reference.parent.mkdir()
        shutil.copyfile(live, reference)
        done = run_load(reference, path)
        assert done.returncode == 0, done.stderr
        after[name] = state(reference)
        assert after[name]["inspections"][0] == before["inspections"][0] + n - 4
        assert after[name]["quarantine"] > before["quarantine"]
        seconds = seconds or done.seconds   # the big file's load
    return dict(live=live, big=big, small=small, pristine=pristine, before=before, after=after["big"],
                after_small=after["small"], sha=_sha256(pristine), seconds=seconds)


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in (PAUSE_ENV, "ENFORCEMENT_DB")}
    return {**env, "PYTHONPATH": str(ROOT), "ENFORCEMENT_USER": "kill-test", **extra}


def run_load(db: Path, big: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "etl", "--db", str(db), "load", str(big)], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=timeout)
    done.seconds = time.monotonic() - started
    return done


def start_load(db: Path, big: Path, **env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "etl", "--db", str(db), "load", str(big)], cwd=ROOT,
                            env=_env(**env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_for_pause(proc: subprocess.Popen, stage: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if line.startswith(f"PAUSED AT {stage}"):
            return
        if not line and proc.poll() is not None:
            break
    proc.kill()
    pytest.fail(f"the loader never reached {stage} (exit {proc.poll()})")


def kill(proc: subprocess.Popen) -> bool:
    """SIGKILL the loader; whether the kill ended it (False: it had just finished on its own — a
    loader that exits between the test's poll and the signal is a zombie, which takes the signal
    without effect; CI saw it once)."""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stderr.close()
    assert proc.returncode in (0, -signal.SIGKILL), proc.returncode
    return proc.returncode == -signal.SIGKILL


def assert_untouched(s: dict, live: Path) -> None:
    """The live file is byte for byte the one before the load, opens, and holds the same rows."""
    assert _sha256(live) == s["sha"], "the live warehouse file was changed"
    assert not Path(str(live) + ".wal").exists()
    assert state(live) == s["before"]


@pytest.mark.parametrize("stage", PAUSE_STAGES)
def test_sigkill_inside_each_stage(setup, stage):
    s, live = setup, setup["live"]
    shutil.copyfile(s["pristine"], live)
    proc = start_load(live, s["small"], **{PAUSE_ENV: stage, "ENFORCEMENT_TEST_PAUSE_SECONDS": "60"})
    wait_for_pause(proc, stage)
    assert kill(proc), "the paused loader finished on its own"
    if stage == "replaced":
        # killed after the swap: the new warehouse is complete and live, nothing is left behind
        assert state(live) == s["after_small"] and strays(live) == []
        return
    assert_untouched(s, live)
    assert strays(live), "the kill should have left the writer's private copy behind"
    # a retry completes, and takes the stray copy away
    done = run_load(live, s["small"])
    assert done.returncode == 0, done.stderr
    assert state(live) == s["after_small"]
    assert strays(live) == []


def test_sigkill_at_random_moments(setup):
    """Kills at arbitrary moments: the live warehouse is always the before or the after state, never
    anything in between."""
    s, live = setup, setup["live"]
    rnd = random.Random(20261122)
    killed, estimate = 0, s["seconds"]  # a load's duration, as the reference run measured it
    for _ in range(6):
        if killed == 3:
            break
        delay = rnd.uniform(0.1, 0.95) * estimate
        shutil.copyfile(s["pristine"], live)
        proc = start_load(live, s["big"])
        time.sleep(delay)
        if proc.poll() is None and kill(proc):
            killed += 1
        else:  # it was quicker than that: aim earlier next time
            proc.stderr.close()
            estimate = delay
        now = state(live)
        assert now in (s["before"], s["after"]), f"half a load after {delay:.2f} s"
        if now == s["before"]:
            assert _sha256(live) == s["sha"]
    assert killed, "every load had finished before its kill"
    done = run_load(live, s["big"])
    assert done.returncode == 0, done.stderr
    assert strays(live) == []
