"""What every benchmark shares: steps run in child processes (their own peak RSS), medians, the
machine, results files.

Each measured step is a fresh ``python -m bench.<module> --child ...`` process, so that its peak
resident memory is its own: the child reports its timings and the VmHWM of its address space
(Python and DuckDB's native memory alike; see peak_rss) as one JSON line on stdout.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
RESULTS = OUT / "results"
GIB = 1024 ** 3
MEMORY_TARGET = 4 * GIB


def loadavg() -> float:
    return os.getloadavg()[0]


def run_child(module: str, args: list[str], env: dict | None = None, timeout: float | None = None) -> dict:
    """Run ``python -m module --child args`` and return its JSON report plus wall time and peak RSS."""
    cmd = [sys.executable, "-m", module, "--child", *args]
    full_env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    full_env.update(env or {})
    load = loadavg()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise RuntimeError(f"{module} {args} timed out after {timeout}s\n{err[-4000:]}")
    # the child reports its own peak RSS (common.peak_rss); RUSAGE_CHILDREN here
    # would give the maximum over every child this process has had
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-6000:]}")
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"{' '.join(cmd)} printed no report:\n{out[-2000:]}\n{err[-2000:]}")
    report = json.loads(lines[-1])
    report.setdefault("wall_process", wall)
    report["load_before"] = load
    return report


def child_report(**fields) -> None:
    """Print the child's JSON report, with its own peak RSS (bytes, includes DuckDB's memory)."""
    fields["peak_rss"] = peak_rss()
    print(json.dumps(fields, ensure_ascii=False, default=str), flush=True)


def peak_rss() -> int:
    """This process's peak resident memory in bytes: VmHWM of its own address space. (ru_maxrss is
    not it: Linux carries the pre-exec high-water mark across execve, so a child forked from a
    parent holding 7 GiB would report 7 GiB however little it used.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def median(xs):
    return statistics.median(xs) if xs else None


def machine() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024 ** 2, 1)
    except OSError:
        pass
    import duckdb
    import pandas

    info["duckdb"] = duckdb.__version__
    info["pandas"] = pandas.__version__
    try:
        import streamlit

        info["streamlit"] = streamlit.__version__
    except ImportError:
        pass
    return info


def save(name: str, result: dict, out_dir: Path | None = None) -> Path:
    d = Path(out_dir or RESULTS)
    d.mkdir(parents=True, exist_ok=True)
    result = dict(result, measured_at=dt.datetime.now().isoformat(timespec="seconds"), machine=machine())
    path = d / f"{name}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return path


def fmt_bytes(n: float) -> str:
    return f"{n / GIB:.2f} GiB" if n >= GIB / 4 else f"{n / 1024 ** 2:.0f} MiB"


# ---------------------------------------------------------------- profiles

@contextlib.contextmanager
def query_log():
    """Time every DuckDB query Python runs while the block runs (any connection or cursor):
    yields a list that fills with (seconds, one-line SQL, parameters), the parameters kept so that
    a query can be run again (operator_profile)."""
    import duckdb

    real = duckdb.DuckDBPyConnection.execute
    log: list[tuple[float, str, object]] = []

    def timed(self, query, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return real(self, query, *args, **kwargs)
        finally:
            params = args[0] if args else kwargs.get("parameters")
            log.append((time.perf_counter() - t0, " ".join(str(query).split()), params))

    duckdb.DuckDBPyConnection.execute = timed
    try:
        yield log
    finally:
        duckdb.DuckDBPyConnection.execute = real


def heaviest(log: list[tuple[float, str]], n: int = 10, width: int = 160) -> list[dict]:
    """The n slowest queries of a query_log, their SQL cut to `width` characters."""
    return [{"seconds": round(t, 3), "sql": q[:width]} for t, q, _ in sorted(log, key=lambda x: -x[0])[:n]]


def operator_profile(con, sql: str, params=None, top: int = 12) -> dict:
    """DuckDB's own profile of one query: its latency and the operators that took longest
    (operator, seconds, rows out, a cut of its details)."""
    import tempfile

    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    cur = con.cursor()
    try:
        cur.execute("PRAGMA enable_profiling = 'json'")
        cur.execute(f"PRAGMA profiling_output = '{path}'")
        cur.execute(sql, params or []).fetchall()
        cur.execute("PRAGMA disable_profiling")
        tree = json.loads(Path(path).read_text())
    finally:
        cur.close()
        os.unlink(path)
    ops = []

    def walk(node):
        ops.append({"operator": node.get("operator_type") or node.get("operator_name"),
                    "seconds": round(float(node.get("operator_timing", 0) or 0), 3),
                    "rows": node.get("operator_cardinality"),
                    "detail": json.dumps(node.get("extra_info", ""), ensure_ascii=False)[:140]})
        for c in node.get("children", []):
            walk(c)

    for c in tree.get("children", []):
        walk(c)
    ops.sort(key=lambda o: -o["seconds"])
    return {"latency": tree.get("latency"), "operators": ops[:top]}
