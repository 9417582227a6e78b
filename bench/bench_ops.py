"""Recording a reply or closing a notice (issue 12): time it on a given warehouse, check that the
warehouse file is left byte for byte as it was, and time what one reply cost before the notice log
left the warehouse (a warehouse write: private copy, checkpoint, swap).

    python -m bench.bench_ops --db PATH   # works on PATH's operational store (adds 10 test notices)

Use a copy: the notices it issues stay in the store beside PATH.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import statistics
import time
from pathlib import Path

from etl import warehouse
from official import log


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.bench_ops", description=__doc__.splitlines()[0])
    p.add_argument("--db", required=True)
    db = Path(p.parse_args(argv).db)
    digest = hashlib.sha256(db.read_bytes()).hexdigest(), warehouse.version(db)
    on = dt.date(2025, 10, 15)
    t = time.perf_counter()
    log.notices(db)                       # first use: the store is created (an old log moved over)
    first = time.perf_counter() - t
    reqs = [log.NoticeRequest(f"bench{k}", f"单位{k}", "city", "2025Q3", 60.0, 20, 21) for k in range(10)]
    issued = log.issue(db, reqs, prefix="测试函", issued_on=on, actor="bench")
    reply, close = [], []
    for i in issued:
        t = time.perf_counter()
        log.mark_reply(db, i.number, on + dt.timedelta(days=5), actor="bench")
        reply.append(time.perf_counter() - t)
        t = time.perf_counter()
        log.close(db, i.number, on + dt.timedelta(days=6), actor="bench")
        close.append(time.perf_counter() - t)
    unchanged = (hashlib.sha256(db.read_bytes()).hexdigest(), warehouse.version(db)) == digest
    before = []
    for _ in range(3):
        t = time.perf_counter()
        with warehouse.write(db):
            pass
        before.append(time.perf_counter() - t)
    ms = lambda xs: f"median {statistics.median(xs) * 1000:.1f} ms, max {max(xs) * 1000:.1f} ms"  # noqa: E731
    print(f"warehouse {db.stat().st_size / 1e6:.1f} MB; store first use {first * 1000:.0f} ms; "
          f"reply {ms(reply)}; close {ms(close)}; warehouse unchanged: {unchanged}; "
          f"a warehouse write (one reply before the move) {ms(before)}")
    return 0 if unchanged else 1


if __name__ == "__main__":
    raise SystemExit(main())
