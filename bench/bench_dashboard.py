"""Benchmark (c)+(d): the dashboard at national scale, with Streamlit's AppTest.

    python -m bench.bench_dashboard [--db bench/out/national.duckdb] [--province 510000] [--reps 3]
    python -m bench.bench_dashboard --profile    # one cold render, every DuckDB query timed

Each repetition is a fresh process (a cold start: no Streamlit cache, no DuckDB connection, no
imported page modules) that:
- imports Streamlit's AppTest (timed separately: a server has done this before anyone connects),
- runs the app's entrypoint (app.py) once with the province chosen in the sidebar: the first
  render of the overview (总览), timed — target ≤ 3 s — in wall seconds and in the process's CPU
  seconds (Python and DuckDB's threads: on a shared machine the CPU moves less with the load);
- reruns the same page N times with warm caches (what every click that changes nothing the page
  computes costs), timed — target ≤ 300 ms (median);
- reports its peak RSS (target ≤ 4 GiB).
The default province is the one with the most counties (四川).

``--warmup`` first runs the server's warm-up (ui.warmup.warm for the province, what `serve.py`
does before it accepts a connection; timed apart as ``warmup_seconds``): the cold render is then
the first visitor's after a start of the served app.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from bench import common

TARGET_COLD = 2.0   # issue 11: the first overview at national scale in ≤ 2 s (the first benchmark asked ≤ 3 s)
TARGET_WARM = 0.3
WARM_RUNS = 5


def child(db: Path, province: str, warm_runs: int, profile: bool = False, warmup: bool = False) -> None:
    t0 = time.perf_counter()
    os.environ["ENFORCEMENT_DB"] = str(db)
    from streamlit.testing.v1 import AppTest

    t_import = time.perf_counter() - t0
    t_warm = None
    if warmup:
        from ui import warmup as w

        tw = time.perf_counter()
        w.warm(provinces=[province])
        t_warm = time.perf_counter() - tw
    at = AppTest.from_file(str(common.ROOT / "app.py"), default_timeout=900)
    at.session_state["province"] = province  # ui.state.PROVINCE: the sidebar's province
    with common.query_log() as log:
        t1, c1 = time.perf_counter(), time.process_time()
        at.run()
        cold, cold_cpu = time.perf_counter() - t1, time.process_time() - c1
    extra = {}
    if profile:  # what the cold render spent in DuckDB, query by query
        extra = dict(cold_queries=len(log), cold_sql_seconds=round(sum(x[0] for x in log), 3),
                     heaviest=common.heaviest(log, 15))
    errors = [e.value for e in at.exception]
    title = at.title[0].value if len(at.title) else ""
    warm = []
    for _ in range(warm_runs):
        t2 = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - t2)
        errors += [e.value for e in at.exception]
    common.child_report(step="dashboard", import_seconds=t_import, warmup_seconds=t_warm, cold_seconds=cold,
                        cold_cpu_seconds=cold_cpu,
                        warm_seconds=warm,
                        warm_median=statistics.median(warm) if warm else None, title=title,
                        errors=errors[:3], seconds=time.perf_counter() - t0, **extra)


def run(db: Path, province: str | None = None, reps: int = 3, warm_runs: int = WARM_RUNS, save: bool = True,
        log=print, warmup: bool = False) -> dict:
    import duckdb

    from bench.bench_metrics import biggest_province

    con = duckdb.connect(str(db), read_only=True)
    province = province or biggest_province(con)
    hazards = con.execute("SELECT count(*) FROM hazards").fetchone()[0]
    con.close()
    runs = []
    for r in range(reps):
        x = common.run_child("bench.bench_dashboard", [str(db), province, str(warm_runs)]
                             + (["--warmup"] if warmup else []))
        runs.append(x)
        log(f"  rep {r + 1}: " + (f"warm-up {x['warmup_seconds']:.2f}s, " if warmup else "")
            + f"cold first render {x['cold_seconds']:.2f}s ({x['cold_cpu_seconds']:.2f} s CPU), warm rerun median {x['warm_median'] * 1000:.0f} ms, "
            f"peak {common.fmt_bytes(x['peak_rss'])} (load {x['load_before']:.2f}) {x['title']}"
            + (f" ERRORS {x['errors']}" if x["errors"] else ""))
    cold = common.median([x["cold_seconds"] for x in runs])
    warm = common.median([x["warm_median"] for x in runs])
    result = {
        "benchmark": "dashboard", "db": str(db), "province": province, "hazards": hazards, "reps": reps,
        "warmup": warmup, "warmup_seconds": [x.get("warmup_seconds") for x in runs],
        "warm_runs": warm_runs, "cold_seconds": [x["cold_seconds"] for x in runs],
        "cold_cpu_seconds": [x["cold_cpu_seconds"] for x in runs],
        "cold_cpu_median": common.median([x["cold_cpu_seconds"] for x in runs]),
        "warm_medians": [x["warm_median"] for x in runs], "import_seconds": [x["import_seconds"] for x in runs],
        "cold_median": cold, "warm_median": warm, "peak_rss": max(x["peak_rss"] for x in runs),
        "errors": sum((x["errors"] for x in runs), []), "title": runs[-1]["title"],
        "loads_before": [x["load_before"] for x in runs],
        "targets": {"cold": TARGET_COLD, "warm": TARGET_WARM, "peak_rss": common.MEMORY_TARGET},
    }
    result["met"] = {"cold": cold <= TARGET_COLD, "warm": warm <= TARGET_WARM,
                     "peak_rss": result["peak_rss"] <= common.MEMORY_TARGET, "no_errors": not result["errors"]}
    if save:
        common.save("dashboard" + ("-warmup" if warmup else ""), result)
    return result


def profile(db: Path, province: str | None = None, save: bool = True) -> dict:
    """One cold render with every DuckDB query timed (bench/out/results/dashboard-profile.json)."""
    from bench.bench_metrics import chosen_province

    province = chosen_province(db, province)
    r = dict(common.run_child("bench.bench_dashboard", [str(db), province, "1", "--profile"]), province=province)
    if save:
        common.save("dashboard-profile", r)
    return r


def summary(r: dict) -> str:
    ok = lambda b: "met" if b else "NOT MET"
    return "\n".join([
        f"dashboard (AppTest, overview, province {r['province']}, {r['hazards']:,} hazards), median of {r['reps']}"
        + (f", after the server's warm-up ({', '.join(f'{w:.1f}' for w in r['warmup_seconds'])} s)" if r.get("warmup") else "")
        + ":",
        f"  cold first render {r['cold_median']:.2f}s (target ≤ 3 s: {ok(r['met']['cold'])}; "
        f"{r['cold_cpu_median']:.2f} s CPU, DuckDB's threads included, which the load average moves less); "
        f"warm rerun {r['warm_median'] * 1000:.0f} ms (target ≤ 300 ms: {ok(r['met']['warm'])})",
        f"  peak RSS {common.fmt_bytes(r['peak_rss'])} (target ≤ 4 GiB: {ok(r['met']['peak_rss'])}); "
        f"page errors: {len(r['errors'])}",
    ])


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--child":
        child(Path(argv[1]), argv[2], int(argv[3]), profile="--profile" in argv, warmup="--warmup" in argv)
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default=str(common.OUT / "national.duckdb"))
    ap.add_argument("--province", default=None)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warm-runs", type=int, default=WARM_RUNS)
    ap.add_argument("--profile", action="store_true",
                    help="only profile: one cold render with every DuckDB query timed")
    ap.add_argument("--warmup", action="store_true",
                    help="run the server's warm-up first (serve.py): the cold render is the first visitor's after a start")
    args = ap.parse_args(argv)
    if args.profile:
        import json

        print(json.dumps(profile(Path(args.db), args.province), ensure_ascii=False, indent=1))
        return 0
    r = run(Path(args.db), args.province, args.reps, args.warm_runs, warmup=args.warmup)
    print(summary(r))
    return 0 if not r["errors"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
