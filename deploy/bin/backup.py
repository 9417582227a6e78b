#!/usr/bin/env python3
"""Nightly backup of the warehouse and the operational store beside it (notice log, replies, audit trail).

    BACKUP_DIR=/var/backups/enforcement ENFORCEMENT_DB=/srv/enforcement/data/warehouse.duckdb deploy/bin/backup.py

Copies into BACKUP_DIR/STAMP/ the warehouse and every file beside it whose name starts with the
warehouse's (its operational store, the sign-in journal), then checks each copy opens, and removes
backups older than BACKUP_KEEP_DAYS (default 30). Safe while the app runs and loads happen:
- the warehouse is never written in place (a load swaps a new file in with an atomic rename), so a
  copy read from one open file descriptor is one consistent version;
- an SQLite store is copied with SQLite's own online backup, which respects its lock.
Exit status 0 when every copy was made and checked, 1 otherwise (the message says which file).
Uses the standard library and duckdb only, so it runs from the app's virtualenv or any Python.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import sys
from pathlib import Path


def _is_sqlite(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(16) == b"SQLite format 3\x00"


def _copy_open_file(src: Path, dst: Path) -> None:
    """One version of the file: open it once, copy from that descriptor (a rename meanwhile does not matter)."""
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        shutil.copyfileobj(fin, fout, 16 * 1024 * 1024)
        fout.flush()
        os.fsync(fout.fileno())


def _backup_sqlite(src: Path, dst: Path) -> None:
    with sqlite3.connect(f"file:{src}?mode=ro", uri=True) as s, sqlite3.connect(dst) as d:
        s.backup(d)
    with sqlite3.connect(dst) as d:
        ok = d.execute("PRAGMA integrity_check").fetchone()[0]
    if ok != "ok":
        raise RuntimeError(f"the copy of {src} fails SQLite's integrity check: {ok}")


def _check_duckdb(path: Path) -> None:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("SELECT count(*) FROM information_schema.tables").fetchone()
    finally:
        con.close()


def backup(db: Path, out_root: Path, keep_days: int, now: dt.datetime | None = None) -> Path:
    now = now or dt.datetime.now()
    if not db.exists():
        raise FileNotFoundError(f"no warehouse at {db}")
    dest = out_root / now.strftime("%Y%m%d-%H%M%S")
    dest.mkdir(parents=True, exist_ok=False)
    siblings = sorted(p for p in db.parent.iterdir()
                      if p.is_file() and p.name.startswith(db.name + ".") and not p.name.endswith((".lock", ".wal", ".tmp"))
                      and ".tmp" not in p.name)
    _copy_open_file(db, dest / db.name)
    _check_duckdb(dest / db.name)
    for p in siblings:
        if _is_sqlite(p):
            _backup_sqlite(p, dest / p.name)
        else:
            _copy_open_file(p, dest / p.name)
    for old in out_root.iterdir():
        try:
            made = dt.datetime.strptime(old.name, "%Y%m%d-%H%M%S")
        except ValueError:
            continue  # not one of ours
        if old.is_dir() and now - made > dt.timedelta(days=keep_days):
            shutil.rmtree(old)
    return dest


def main() -> int:
    db = Path(os.environ.get("ENFORCEMENT_DB", "data/warehouse.duckdb"))
    out = Path(os.environ.get("BACKUP_DIR", "/var/backups/enforcement"))
    try:
        keep = int(os.environ.get("BACKUP_KEEP_DAYS", "30"))
        dest = backup(db, out, keep)
    except (OSError, RuntimeError, ValueError) as e:
        print(f"备份失败：{e}", file=sys.stderr)
        return 1
    except Exception as e:  # duckdb's errors: the copy does not open
        print(f"备份失败：{type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(f"备份完成：{dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
