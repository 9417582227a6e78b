"""Benchmark (b)+(d): the metrics package vs a straightforward pandas implementation.

    python -m bench.bench_metrics [--db bench/out/national.duckdb] [--province 510000] [--reps 3]
    python -m bench.bench_metrics --profile      # each call timed, slowest queries, DuckDB operators

The workload is what the app computes for a province (the app and the metrics package work one
province at a time: peers are the units of a level in one province): every base indicator for the
year (cities and counties), the effectiveness index for cities and counties, and the quarterly
score for the year's four quarters (cities and counties) — 12 calls of metrics.compute_indicators,
compute_index and compute_score — made as the app makes them: straight on the warehouse, whose
records the ETL has stamped with their units (etl.marts), so a province's numbers filter its rows
and join nothing. The default province is the one with the most counties (四川, 183
counties and 21 cities). ``--all-provinces`` runs it for every province (the ministry's view).

The yardstick (bench/pandas_reference.py) computes the same numbers with pandas from the same
warehouse; the benchmark first checks that the two agree (every indicator's numerator,
denominator and value; the published index, sub-indices and ranks; the published scores and
ranks), then times each in fresh child processes, alternating, and reports medians and peak RSS.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench import common

TARGET_SECONDS = 5.0
TARGET_SPEEDUP = 10.0
YEAR = 2025


def ours(con, province: str, year: int = YEAR) -> dict[str, pd.DataFrame]:
    """The 12 calls, as the app makes them: on the warehouse (its marts)."""
    from metrics.index import compute_index
    from metrics.indicators import compute_indicators
    from metrics.score import compute_score

    out = {}
    for level in ("city", "county"):
        out[f"indicators/{level}"] = compute_indicators(con, str(year), level, province)
        out[f"index/{level}"] = compute_index(con, str(year), level, province)
        for q in range(1, 5):
            out[f"score/{year}Q{q}/{level}"] = compute_score(con, f"{year}Q{q}", level, province)
    return out


def biggest_province(con) -> str:
    return con.execute("""SELECT province_code FROM regions WHERE level = '县'
                          GROUP BY province_code ORDER BY count(*) DESC, province_code LIMIT 1""").fetchone()[0]


def provinces(con) -> list[str]:
    from metrics.provinces import provinces_with_records

    return [c for c, _ in provinces_with_records(con)]


def _close(a: pd.Series, b: pd.Series) -> pd.Series:
    a, b = a.astype(float).to_numpy(), b.astype(float).to_numpy()
    return pd.Series((np.isnan(a) & np.isnan(b)) | (np.abs(a - b) <= 1e-9 * np.maximum(1.0, np.abs(b))))


def compare(mine: dict[str, pd.DataFrame], ref: dict[str, pd.DataFrame]) -> list[str]:
    """Differences between the metrics package's frames and the pandas reference's ([] = equal)."""
    problems = []
    for key, r in ref.items():
        m = mine[key]
        if key.startswith("indicators/"):
            m = m[m["indicator"].isin(r["indicator"].unique())]  # the indicators the reference defines
            j = r.merge(m, on=["code", "indicator"], how="outer", suffixes=("_ref", ""), indicator=True)
            if (j["_merge"] != "both").any():
                problems.append(f"{key}: rows differ ({(j['_merge'] != 'both').sum()})")
                continue
            cols = ["value", "numerator", "denominator"]
            checks = {c: _close(j[f"{c}_ref"], j[c]) for c in cols}
            checks["assessed"] = pd.Series(j["assessed_ref"].astype(bool).to_numpy() == j["assessed"].astype(bool).to_numpy())
        else:
            cols = ["index", "rank", "A", "B", "C", "D", "E", "F"] if key.startswith("index/") else ["score", "rank"]
            j = r.merge(m, on="code", how="outer", suffixes=("_ref", ""), indicator=True)
            if (j["_merge"] != "both").any():
                problems.append(f"{key}: units differ")
                continue
            checks = {c: _close(j[f"{c}_ref"], j[c]) for c in cols}
        for c, ok in checks.items():
            if not ok.all():
                bad = j[~ok.to_numpy()]
                sample = bad[[x for x in ("code", "indicator", f"{c}_ref", c) if x in bad]].head(3).to_dict("records")
                problems.append(f"{key} {c}: {int((~ok).sum())} differ, e.g. {sample}")
    return problems


def check(db: Path, province: str | None = None) -> dict:
    """Both implementations on `db`: the differences (none expected) and the sizes compared."""
    import duckdb

    from bench import pandas_reference

    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET enable_progress_bar = false")
    try:
        province = province or biggest_province(con)
        mine = ours(con, province)
        ref = pandas_reference.workload(con, province)
    finally:
        con.close()
    return {"province": province, "problems": compare(mine, ref),
            "compared": {k: len(v) for k, v in ref.items()}}


# ---------------------------------------------------------------- children

def child_profile(db: Path, province: str) -> None:
    """Each of the 12 calls timed on its own, their slowest queries, and DuckDB's operator profile
    of the slowest query (bench/out/results/metrics-profile.json)."""
    import duckdb

    from metrics.index import compute_index
    from metrics.indicators import compute_indicators
    from metrics.score import compute_score

    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET enable_progress_bar = false")
    calls, everything = [], []
    for level in ("city", "county"):
        todo = [("indicators", compute_indicators, str(YEAR)), ("index", compute_index, str(YEAR))]
        todo += [("score", compute_score, f"{YEAR}Q{q}") for q in range(1, 5)]
        for name, fn, period in todo:
            with common.query_log() as log:
                t0 = time.perf_counter()
                fn(con, period, level, province)
                calls.append({"call": f"{name} {period} {level}", "seconds": round(time.perf_counter() - t0, 3),
                              "queries": len(log), "sql_seconds": round(sum(x[0] for x in log), 3)})
            everything += log
    _, slowest, params = max(everything, key=lambda x: x[0])
    common.child_report(step="profile", calls=calls, heaviest=common.heaviest(everything),
                        slowest_query=common.operator_profile(con, slowest, params))
    con.close()


def child(kind: str, db: Path, province: str, all_provinces: bool) -> None:
    import duckdb

    t0, c0 = time.perf_counter(), time.process_time()
    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET enable_progress_bar = false")
    todo = provinces(con) if all_provinces else [province]
    n = 0
    if kind == "ours":
        import metrics.index  # noqa: F401  (imports are not the workload)
        t0, c0 = time.perf_counter(), time.process_time()
        for p in todo:
            n += sum(len(v) for v in ours(con, p).values())
    else:
        from bench import pandas_reference

        t0, c0 = time.perf_counter(), time.process_time()
        d = pandas_reference.Data(con)
        for p in todo:
            out = {}
            for level in ("city", "county"):
                long = pandas_reference.indicators(d, str(YEAR), level, p)
                out[level] = pandas_reference.index(d, str(YEAR), level, p, long)
                for q in range(1, 5):
                    pandas_reference.score(d, f"{YEAR}Q{q}", level, p)
            n += len(out)
    seconds = time.perf_counter() - t0
    con.close()
    common.child_report(step=kind, seconds=seconds, cpu=time.process_time() - c0, provinces=len(todo), rows=n)


# ---------------------------------------------------------------- parent

def run(db: Path, province: str | None = None, reps: int = 3, all_provinces: bool = False, save: bool = True,
        log=print) -> dict:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    province = province or biggest_province(con)
    name = con.execute("SELECT name FROM regions WHERE code = ?", [province]).fetchone()[0]
    sizes = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
             for t in ("enterprises", "inspections", "hazards", "penalties")}
    con.close()
    t0 = time.perf_counter()
    verdict = check(db, province)
    log(f"  check vs pandas ({time.perf_counter() - t0:.0f}s): "
        + ("equal" if not verdict["problems"] else f"{len(verdict['problems'])} DIFFERENCES"))
    for p in verdict["problems"][:10]:
        log("    " + p)
    args = [str(db), province] + (["--all"] if all_provinces else [])
    mine, ref = [], []
    for r in range(reps):
        m = common.run_child("bench.bench_metrics", ["ours", *args])
        mine.append(m)
        log(f"  rep {r + 1}: metrics {m['seconds']:.2f}s peak {common.fmt_bytes(m['peak_rss'])} (load {m['load_before']:.2f})")
        p = common.run_child("bench.bench_metrics", ["pandas", *args])
        ref.append(p)
        log(f"  rep {r + 1}: pandas  {p['seconds']:.2f}s peak {common.fmt_bytes(p['peak_rss'])} (load {p['load_before']:.2f})")
    t_ours = common.median([m["seconds"] for m in mine])
    t_ref = common.median([p["seconds"] for p in ref])
    result = {
        "benchmark": "metrics", "db": str(db), "province": province, "province_name": name,
        "all_provinces": all_provinces, "sizes": sizes, "reps": reps,
        "ours_seconds": [m["seconds"] for m in mine], "pandas_seconds": [p["seconds"] for p in ref],
        "ours_median": t_ours, "pandas_median": t_ref, "speedup": t_ref / t_ours,
        "ours_peak_rss": max(m["peak_rss"] for m in mine), "pandas_peak_rss": max(p["peak_rss"] for p in ref),
        "loads_before": [x["load_before"] for x in mine + ref],
        "equal": not verdict["problems"], "problems": verdict["problems"], "compared": verdict["compared"],
        "targets": {"seconds": TARGET_SECONDS, "speedup": TARGET_SPEEDUP, "peak_rss": common.MEMORY_TARGET},
    }
    result["met"] = {"seconds": t_ours <= TARGET_SECONDS, "speedup": result["speedup"] >= TARGET_SPEEDUP,
                     "peak_rss": result["ours_peak_rss"] <= common.MEMORY_TARGET, "equal": result["equal"]}
    if save:
        common.save("metrics-all" if all_provinces else "metrics", result)
    return result


def chosen_province(db: Path, province: str | None) -> str:
    """`province`, or the warehouse's province with the most counties."""
    if province:
        return province
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return biggest_province(con)
    finally:
        con.close()


def profile(db: Path, province: str | None = None, save: bool = True) -> dict:
    province = chosen_province(db, province)
    result = dict(common.run_child("bench.bench_metrics", ["profile", str(db), province]), province=province)
    if save:
        common.save("metrics-profile", result)
    return result


def summary(r: dict) -> str:
    ok = lambda b: "met" if b else "NOT MET"
    scope = "all provinces" if r["all_provinces"] else f"{r['province_name']} ({r['province']})"
    return "\n".join([
        f"metrics, {scope}, warehouse of {r['sizes']['hazards']:,} hazards, median of {r['reps']}:",
        f"  ours {r['ours_median']:.2f}s (target ≤ {TARGET_SECONDS:g}s: {ok(r['met']['seconds'])}); "
        f"pandas {r['pandas_median']:.2f}s; speedup {r['speedup']:.2f}× (target ≥ 10×: {ok(r['met']['speedup'])})",
        f"  results equal to the pandas reference: {ok(r['equal'])}",
        f"  peak RSS ours {common.fmt_bytes(r['ours_peak_rss'])} (target ≤ 4 GiB: {ok(r['met']['peak_rss'])}), "
        f"pandas {common.fmt_bytes(r['pandas_peak_rss'])}",
    ])


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--child":
        if argv[1] == "profile":
            child_profile(Path(argv[2]), argv[3])
        else:
            child(argv[1], Path(argv[2]), argv[3], "--all" in argv)
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default=str(common.OUT / "national.duckdb"))
    ap.add_argument("--province", default=None, help="default: the province with the most counties")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--all-provinces", action="store_true")
    ap.add_argument("--profile", action="store_true",
                    help="only profile: each call timed, the slowest queries and their DuckDB operators")
    args = ap.parse_args(argv)
    if args.profile:
        print(json.dumps(profile(Path(args.db), args.province), ensure_ascii=False, indent=1))
        return 0
    r = run(Path(args.db), args.province, args.reps, args.all_provinces)
    print(summary(r))
    return 0 if r["equal"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
