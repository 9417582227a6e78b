"""Benchmark (a)+(d): the ETL's full load of the national CSVs vs DuckDB's bare ``read_csv``.

    python -m bench.generate --scale 1.0                 # once: bench/out/national/*.csv
    python -m bench.bench_etl [--data bench/out/national] [--reps 3] [--profile]

Each repetition runs, in fresh child processes, one after the other:
- the yardstick: ``CREATE TABLE t AS SELECT * FROM read_csv(file)`` for every file into a new
  DuckDB database file (type detection on, as anyone would write it), then close (checkpoint);
- ours: ``etl.load.load_files(files, db=new warehouse)`` — the whole product path: header
  matching, every rule of the contract, references, set-aside report, load history, upsert
  accounting, the all-or-nothing swap.
Yardstick and ours alternate, so a burst of load on the shared machine hits both alike.
Reported: median seconds of each, the ratio, rows/s (rows read ÷ median seconds), each step's
peak RSS (child process, Python + DuckDB). ``--profile`` adds one extra ETL run that times every
SQL statement and the Python phases (bench/out/results/etl-profile.json).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path

from bench import common

TARGET_ROWS_PER_S = 1_000_000
TARGET_RATIO = 2.0


def _files(data: Path) -> list[Path]:
    from bench.generate import paths

    return [p for p in paths(data) if p.exists()]


def _fresh(db: Path) -> None:
    for p in db.parent.glob(db.name + "*"):
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink()


# ---------------------------------------------------------------- children

def child_bare(data: Path, db: Path) -> None:
    import duckdb

    files = _files(data)
    _fresh(db)
    t0, c0 = time.perf_counter(), time.process_time()
    con = duckdb.connect(str(db))
    rows = 0
    for f in files:
        con.execute(f"CREATE TABLE {f.stem} AS SELECT * FROM read_csv(?, ignore_errors = true)", [str(f)])
        rows += con.execute(f"SELECT count(*) FROM {f.stem}").fetchone()[0]
    con.close()
    seconds = time.perf_counter() - t0
    common.child_report(step="bare", seconds=seconds, cpu=time.process_time() - c0, rows=rows)


class _TimedConnection:
    """Wraps a DuckDB connection: times every execute() by its statement's first words."""

    def __init__(self, con, log, plans: Path | None = None):
        self._con, self._log, self._plans, self._n = con, log, plans, 0
        if plans:
            plans.mkdir(parents=True, exist_ok=True)
            con.execute("PRAGMA enable_profiling = 'query_tree'")

    def execute(self, sql, params=None):
        key = " ".join(str(sql).split())[:90]
        plan = None
        if self._plans:
            self._n += 1
            plan = self._plans / f"{self._n:04d}.txt"
            self._con.execute(f"PRAGMA profiling_output = '{plan}'")
        t0, c0 = time.perf_counter(), time.process_time()
        if params is None:
            self._con.execute(sql)
        else:
            self._con.execute(sql, params)
        dt = time.perf_counter() - t0
        self._log[key] += dt
        self._log["[cpu] " + key] += time.process_time() - c0
        if plan is not None:  # keep the operator tree of slow statements only
            if dt < 0.5 and plan.exists():
                plan.unlink()
            elif plan.exists():
                plan.write_text(f"-- {dt:.2f}s\n-- {' '.join(str(sql).split())}\n" + plan.read_text())
        return self

    def __getattr__(self, name):
        return getattr(self._con, name)


def _install_profiler(plans: Path | None = None) -> dict:
    import duckdb

    import etl.load
    import etl.warehouse

    log: dict[str, float] = defaultdict(float)
    real_connect = duckdb.connect

    class _Duck:  # etl.warehouse's `duckdb` module, with a timing connect()
        def __getattr__(self, name):
            return getattr(duckdb, name)

        @staticmethod
        def connect(*a, **kw):
            return _TimedConnection(real_connect(*a, **kw), log, plans)

    etl.warehouse.duckdb = _Duck()

    def timed(name, fn):
        def wrapper(*a, **kw):
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return fn(*a, **kw)
            finally:
                log[f"[python] {name}"] += time.perf_counter() - t0
                log[f"[cpu] [python] {name}"] += time.process_time() - c0
        return wrapper

    for name in ("read_file", "_load_one", "_sha256", "_write_report"):
        setattr(etl.load, name, timed(name, getattr(etl.load, name)))
    import etl.read
    for name in ("_decode", "_duckdb_stage", "_python_stage", "_find_header", "_line_of_record", "_delimiter"):
        if hasattr(etl.read, name):
            setattr(etl.read, name, timed("read." + name, getattr(etl.read, name)))
    etl.warehouse.shutil.copyfile = timed("warehouse copy", etl.warehouse.shutil.copyfile)
    return log


def child_etl(data: Path, db: Path, profile: bool) -> None:
    import datetime as dt

    log = _install_profiler(db.parent / "plans" if os.environ.get("BENCH_PLANS") else None) if profile else None
    from etl.load import load_files

    files = _files(data)
    _fresh(db)
    t0, c0 = time.perf_counter(), time.process_time()
    result = load_files(files, db=db, report_dir=db.parent / "reports", user="bench",
                        today=dt.date(2026, 1, 1))
    seconds = time.perf_counter() - t0
    per_file = [dict(file=f.path.name, table=f.table, read=f.read, loaded=f.loaded, replaced=f.replaced,
                     set_aside=f.set_aside, refused=f.refused) for f in result.files]
    fields = dict(step="etl", seconds=seconds, cpu=time.process_time() - c0, rows=sum(f.read for f in result.files), files=per_file)
    if log is not None:
        fields["profile"] = dict(sorted(log.items(), key=lambda kv: -kv[1]))
    common.child_report(**fields)


# ---------------------------------------------------------------- parent

def _warm(files: list[Path]) -> None:
    """Read the files once, so that both contenders find them in the page cache."""
    for f in files:
        with open(f, "rb") as fh:
            while fh.read(8 << 20):
                pass


def run(data: Path, reps: int = 3, work: Path | None = None, profile: bool = False, save: bool = True,
        log=print) -> dict:
    data = Path(data)
    files = _files(data)
    if not files:
        raise SystemExit(f"no CSVs in {data}: run `python -m bench.generate` first")
    work = Path(work or common.OUT / "etl-work")
    work.mkdir(parents=True, exist_ok=True)
    manifest = json.loads((data / "manifest.json").read_text()) if (data / "manifest.json").exists() else {}
    bare, ours = [], []
    for r in range(reps):
        _warm(files)
        b = common.run_child("bench.bench_etl", ["bare", str(data), str(work / "bare.duckdb")])
        bare.append(b)
        log(f"  rep {r + 1}: bare read_csv {b['seconds']:.2f}s peak {common.fmt_bytes(b['peak_rss'])} (load {b['load_before']:.2f})")
        _warm(files)
        e = common.run_child("bench.bench_etl", ["etl", str(data), str(work / "warehouse.duckdb")])
        ours.append(e)
        log(f"  rep {r + 1}: etl load      {e['seconds']:.2f}s peak {common.fmt_bytes(e['peak_rss'])} (load {e['load_before']:.2f})")
    prof = None
    if profile:
        prof = common.run_child("bench.bench_etl", ["etl", str(data), str(work / "warehouse.duckdb"), "--profile"])
        if save:
            common.save("etl-profile", prof)
    # the last load's warehouse is the one the metrics and dashboard benchmarks read
    kept = work.parent / f"{data.name}.duckdb"
    shutil.copyfile(work / "warehouse.duckdb", kept)
    t_bare = common.median([b["seconds"] for b in bare])
    t_etl = common.median([e["seconds"] for e in ours])
    rows = ours[0]["rows"]
    result = {
        "benchmark": "etl",
        "data": str(data), "scale": manifest.get("scale"), "rows": rows, "bytes": manifest.get("bytes_total"),
        "reps": reps,
        "bare_seconds": [b["seconds"] for b in bare], "etl_seconds": [e["seconds"] for e in ours],
        "bare_median": t_bare, "etl_median": t_etl,
        "ratio": t_etl / t_bare, "rows_per_s": rows / t_etl,
        "bare_peak_rss": max(b["peak_rss"] for b in bare), "etl_peak_rss": max(e["peak_rss"] for e in ours),
        "loads_before": [x["load_before"] for x in bare + ours],
        "files": ours[-1]["files"], "warehouse": str(kept),
        "bare_cpu": [b["cpu"] for b in bare], "etl_cpu": [e["cpu"] for e in ours],
        "targets": {"rows_per_s": TARGET_ROWS_PER_S, "ratio": TARGET_RATIO, "peak_rss": common.MEMORY_TARGET},
    }
    result["met"] = {
        "rows_per_s": result["rows_per_s"] >= TARGET_ROWS_PER_S,
        "ratio": result["ratio"] <= TARGET_RATIO,
        "peak_rss": result["etl_peak_rss"] <= common.MEMORY_TARGET,
    }
    if prof:
        result["profile_seconds"] = prof["seconds"]
    if save:
        common.save("etl", result)
    return result


def summary(r: dict) -> str:
    ok = lambda b: "met" if b else "NOT MET"
    return "\n".join([
        f"ETL, {r['rows']:,} rows, median of {r['reps']}:",
        f"  ours {r['etl_median']:.2f}s ({r['rows_per_s'] / 1e6:.2f}M rows/s, target ≥ 1M: {ok(r['met']['rows_per_s'])})",
        f"  bare read_csv {r['bare_median']:.2f}s; ratio {r['ratio']:.2f}× (target ≤ 2×: {ok(r['met']['ratio'])})",
        f"  peak RSS ours {common.fmt_bytes(r['etl_peak_rss'])}, bare {common.fmt_bytes(r['bare_peak_rss'])} "
        f"(target ≤ 4 GiB: {ok(r['met']['peak_rss'])})",
        # CPU seconds (user + sys of the child, DuckDB's threads included): on a shared machine
        # they move much less than wall time, so versions are compared by them
        f"  CPU ours {cpu(r['etl_cpu']):.1f}s, bare {cpu(r['bare_cpu']):.1f}s; ratio "
        f"{cpu(r['etl_cpu']) / cpu(r['bare_cpu']):.2f}×; load average before the runs "
        f"{', '.join(f'{x:.1f}' for x in r['loads_before'])}",
    ])


def cpu(xs: list[float]) -> float:
    return common.median(xs)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--child":
        kind, data, db = argv[1], Path(argv[2]), Path(argv[3])
        if kind == "bare":
            child_bare(data, db)
        else:
            child_etl(data, db, profile="--profile" in argv)
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(common.OUT / "national"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--work", default=None, help="where the benchmark warehouses go (default bench/out/etl-work)")
    ap.add_argument("--profile", action="store_true", help="one more ETL run timing every statement")
    args = ap.parse_args(argv)
    r = run(Path(args.data), reps=args.reps, work=args.work and Path(args.work), profile=args.profile)
    print(summary(r))
    if args.profile:
        prof = json.loads((common.RESULTS / "etl-profile.json").read_text())["profile"]
        print("profile (seconds):")
        for k, v in list(prof.items())[:25]:
            print(f"  {v:8.2f}  {k}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
