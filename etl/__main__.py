"""python -m etl demo | load | template | history | audit | export | marts  (see ../shared/spec/cli.md)."""
from __future__ import annotations

import argparse
import sys

from etl import warehouse


def _progress_bar():
    """A tqdm bar on a terminal, nothing when output is piped (cron, tests)."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar = tqdm(total=0, unit="file", file=sys.stderr)

    def update(name: str, done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.set_description(name or "done")
        bar.refresh()
        if done == total:
            bar.close()

    return update


def cmd_demo(args) -> int:
    from etl.demo import DemoConfig, build_demo, default_years

    try:
        first, last = (int(y) for y in args.years.split("-")) if args.years else default_years()
    except ValueError:
        print(f"--years wants FIRST-LAST, e.g. 2023-2025, not {args.years!r}", file=sys.stderr)
        return 2
    if args.if_missing and warehouse.db_path(args.db).exists():
        print(f"warehouse {warehouse.db_path(args.db)} exists; demo not rebuilt (drop --if-missing to rebuild)")
        return 0
    cfg = DemoConfig(province=args.province, seed=args.seed, first_year=first, last_year=last, scale=args.scale)
    try:
        summary = build_demo(cfg, db=args.db, progress=not args.quiet and sys.stderr.isatty())
    except ValueError as e:
        print(str(e), file=sys.stderr)
        return 1
    print(summary)
    return 0


def cmd_load(args) -> int:
    from etl.load import load_files

    result = load_files(args.files, db=args.db, table=args.table, progress=_progress_bar())
    for f in result.files:
        if f.refused:
            print(f.summary(), file=sys.stderr)
        else:
            print(f.summary())
            if f.extra_columns:
                print(f"  extra columns kept aside: {', '.join(f.extra_columns)}")
    if result.report:
        print(f"set-aside report: {result.report}")
    return 1 if result.any_refused else 0


def cmd_template(args) -> int:
    from etl.template import write_template

    try:
        path = write_template(args.table, args.out)
    except KeyError as e:
        print(e.args[0], file=sys.stderr)
        return 2
    print(path)
    return 0


def cmd_history(args) -> int:
    import csv

    try:
        con = warehouse.connect_read(args.db)
    except warehouse.WarehouseMissing as e:
        print(str(e), file=sys.stderr)
        return 1
    rows = con.execute(
        "SELECT load_id, run_id, loaded_at, loaded_by, file_name, table_name, rows_read, loaded, replaced, "
        "set_aside, unchanged, coalesce(refused, ''), file_hash FROM load_history ORDER BY load_id"
    ).fetchall()
    w = csv.writer(sys.stdout)
    w.writerow(["load_id", "run_id", "loaded_at", "loaded_by", "file", "table", "read", "loaded", "replaced",
                "set_aside", "unchanged", "refused", "sha256"])
    from etl.safe import safe_cell

    for r in rows:  # file names come from uploads: =HYPERLINK(…).csv must not run in a spreadsheet
        w.writerow([*r[:2], r[2].isoformat(sep=" ", timespec="seconds"), *(safe_cell(v) for v in r[3:])])
    return 0


def cmd_audit(args) -> int:
    import csv
    import datetime as dt

    from etl.safe import safe_cell
    from ops.audit import audit_trail

    try:
        since = dt.date.fromisoformat(args.since) if args.since else None
    except ValueError:
        print(f"--since wants YYYY-MM-DD, not {args.since!r}", file=sys.stderr)
        return 2
    try:
        con = warehouse.connect_read(args.db)
    except warehouse.WarehouseMissing as e:
        print(str(e), file=sys.stderr)
        return 1
    trail = audit_trail(con, since=since, who=args.who, db=warehouse.db_path(args.db))  # + the operational store
    w = csv.writer(sys.stdout)
    w.writerow(["when", "who", "action", "detail", "ref"])
    for r in trail.itertuples(index=False):
        w.writerow([r.when.isoformat(sep=" ", timespec="seconds"), *(safe_cell(v) for v in (r.who, r.action, r.detail, r.ref))])
    return 0


def cmd_export(args) -> int:
    from etl.export import ExportError, export_parquet

    try:
        written = export_parquet(args.parquet, db=args.db)
    except (warehouse.WarehouseMissing, ExportError) as e:
        print(str(e), file=sys.stderr)
        return 1
    for e in written:
        by = f" by {', '.join(e.partitions)}" if e.partitions else ""
        print(f"{e.table}: {e.rows} rows -> {e.path}{by}")
    return 0


def cmd_marts(args) -> int:
    """Rebuild the marts (etl.marts) of a warehouse made before they existed; a load does it anyway."""
    from etl import marts

    path = warehouse.db_path(args.db)
    if not path.exists():
        print(f"no warehouse at {path}", file=sys.stderr)
        return 1
    with warehouse.write(path) as con:
        seconds = marts.build(con, private=True)  # (a private copy: see etl.warehouse.write)
    print(f"marts rebuilt in {seconds:.2f}s: {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from etl.contract import load_contract

    p = argparse.ArgumentParser(prog="python -m etl", description="Load enforcement records into the warehouse.")
    p.add_argument("--db", help="warehouse file (default: $ENFORCEMENT_DB or data/warehouse.duckdb)")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="build a synthetic, seeded demo warehouse")
    d.add_argument("--province", default="330000", help="GB/T 2260 province code (default 330000 浙江)")
    d.add_argument("--seed", type=int, default=7)
    d.add_argument("--years", default=None,
                   help="FIRST-LAST, e.g. 2023-2025 (default: three years up to the last complete quarter)")
    d.add_argument("--scale", type=float, default=1.0, help="size multiplier (1 = a realistic province)")
    d.add_argument("--quiet", action="store_true")
    d.add_argument("--if-missing", action="store_true", help="do nothing when the warehouse exists")
    d.set_defaults(func=cmd_demo)

    ld = sub.add_parser("load", help="load CSV/XLSX files")
    ld.add_argument("files", nargs="+")
    ld.add_argument("--table", choices=list(load_contract().order))
    ld.set_defaults(func=cmd_load)

    t = sub.add_parser("template", help="write an empty template (.xlsx or .csv)")
    t.add_argument("table", choices=list(load_contract().order))
    t.add_argument("--out", required=True)
    t.set_defaults(func=cmd_template)

    h = sub.add_parser("history", help="list past loads (CSV)")
    h.set_defaults(func=cmd_history)

    a = sub.add_parser("audit", help="who loaded which file, who issued which notice, when (CSV, newest first)")
    a.add_argument("--since", help="from this day on (YYYY-MM-DD)")
    a.add_argument("--who", help="only this user")
    a.set_defaults(func=cmd_audit)

    x = sub.add_parser("export", help="facts and marts as Parquet, partitioned by province and year (a data lake)")
    x.add_argument("--parquet", required=True, metavar="DIR", help="directory to write (one sub-directory per table)")
    x.set_defaults(func=cmd_export)

    m = sub.add_parser("marts", help="rebuild the stamped records the metrics read (a warehouse made before them)")
    m.set_defaults(func=cmd_marts)

    # --db is accepted before or after the sub-command
    for sp in (d, ld, t, h, a, x, m):
        sp.add_argument("--db", dest="db_sub", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.db = getattr(args, "db_sub", None) or args.db
    from etl.failures import run_command

    return run_command(args.func, args)  # a full disk, a folder for a file: a message, exit 1


if __name__ == "__main__":
    sys.exit(main())
