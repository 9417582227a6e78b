"""What a hostile or careless upload costs a load: peak memory, time, and how long an ordinary
2-row load waits meanwhile (issue 15 item 4).

    python -m bench.bench_uploads [--mb 190] [--bomb-mb 1024] [--code DIR] [--repeat 1]

Files, made in a temporary folder (nothing is downloaded):
- shared_strings.xlsx   a valid inspections sheet whose sharedStrings.xml unpacks to --bomb-mb
- row_bomb.xlsx         a sheet whose XML unpacks to --bomb-mb of empty-looking rows
- blank_line.csv        --mb of valid inspections (UTF-8) with one blank line in the middle
- gbk.csv               the same rows in GBK, no blank line
Each is loaded as the app's 数据导入 loads an upload (the bytes held in memory, load_files(upload=True);
--as-cli: as `python -m etl load`) in a child process over a copy of a small demo warehouse (its
register makes the rows valid); a second child starts a 2-row load one second later and reports
how long it took. --code runs another checkout's etl/ (the
"before" figures), with this benchmark's own file maker.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from bench.common import ROOT, fmt_bytes, machine, peak_rss, save

HEADERS = ["检查编号", "统一社会信用代码", "执法机构区划代码", "检查日期", "检查方式", "移动执法", "专家参与"]


def _register(db: Path) -> tuple[list[str], list[str]]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        ents = [r[0] for r in con.execute("SELECT enterprise_id FROM enterprises ORDER BY 1 LIMIT 2000").fetchall()]
        agencies = [r[0] for r in con.execute("SELECT DISTINCT agency_code FROM inspections ORDER BY 1").fetchall()]
    finally:
        con.close()
    return ents, agencies


def _rows(n_bytes: int, ents: list[str], agencies: list[str], prefix: str):
    """Lines of valid inspections until about n_bytes (UTF-8) have been made."""
    kinds = ["重点检查", "双随机", "专项检查", "联合执法", "复查"]
    made, i = 0, 0
    while made < n_bytes:
        line = (f"BU{prefix}{i:09d},{ents[i % len(ents)]},{agencies[i % len(agencies)]},"
                f"2024-{1 + i % 12:02d}-{1 + i % 28:02d},{kinds[i % 5]},{'是' if i % 3 else '否'},否\n")
        made += len(line.encode())
        i += 1
        yield line


def make_csv(path: Path, n_bytes: int, ents, agencies, encoding: str, blank_line: bool) -> int:
    rows = 0
    with open(path, "w", encoding=encoding, newline="") as fh:
        fh.write(",".join(HEADERS) + "\n")
        half = n_bytes // 2
        written = 0
        for line in _rows(n_bytes, ents, agencies, path.stem[:2].upper()):
            fh.write(line)
            written += len(line)
            rows += 1
            if blank_line and written >= half:
                fh.write("\n")
                blank_line = False
    return rows


def _workbook_parts(path: Path) -> dict[str, bytes]:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADERS)
    ws.append(["BX000000001", "91330102MA00000001", "330102", "2024-03-05", "双随机", "是", "否"])
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def make_shared_strings_bomb(path: Path, n_bytes: int) -> None:
    """A valid workbook whose shared-string table unpacks to n_bytes (Excel writes strings there)."""
    parts = _workbook_parts(path)
    one = "<si><t>" + "执" * 4000 + "</t></si>"
    count = max(1, n_bytes // len(one.encode()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in parts.items():
            if name == "[Content_Types].xml" and b"sharedStrings" not in data:
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            if name == "xl/_rels/workbook.xml.rels" and b"sharedStrings" not in data:
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdSS" Type="http://schemas.openxmlformats'
                                    b'.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                                    b"</Relationships>")
            z.writestr(name, data)
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh:
            fh.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
                     f'spreadsheetml/2006/main" count="{count}" uniqueCount="{count}">'.encode())
            block = one.encode() * 256
            for _ in range(count // 256):
                fh.write(block)
            fh.write(b"</sst>")


def make_row_bomb(path: Path, n_bytes: int) -> None:
    """A workbook whose first sheet's XML unpacks to n_bytes of rows of empty cells."""
    parts = _workbook_parts(path)
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    head, tail = sheet.split("<sheetData>")[0] + "<sheetData>", "</sheetData>" + sheet.split("</sheetData>")[1]
    rows = sheet.split("<sheetData>")[1].split("</sheetData>")[0]
    row = "<row>" + '<c t="inlineStr"><is><t> </t></is></c>' * 64 + "</row>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in parts.items():
            if name != "xl/worksheets/sheet1.xml":
                z.writestr(name, data)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write((head + rows).encode())
            block = (row * 256).encode()
            for _ in range(max(1, n_bytes // len(block))):
                fh.write(block)
            fh.write(tail.encode())


def child(args) -> None:
    """Load one file; report time, peak memory and the outcome."""
    sys.path.insert(0, args.code)
    os.chdir(args.code)
    from etl.load import load_files

    import inspect

    t0 = time.perf_counter()
    if args.as_cli:
        result = load_files([args.file], db=args.db)
    else:  # as the app's 数据导入 does it (ui.data.import_uploads): the upload's bytes stay in memory
        held = Path(args.file).read_bytes()
        copy = Path(args.db).parent / ("upload-" + Path(args.file).name)
        copy.write_bytes(held)
        kw = {"upload": True} if "upload" in inspect.signature(load_files).parameters else {}
        result = load_files([copy], db=args.db, names={copy: Path(args.file).name}, **kw)
        copy.unlink()
    f = result.files[0]
    print(json.dumps({"seconds": time.perf_counter() - t0, "peak_rss": peak_rss(), "loaded": f.loaded,
                      "set_aside": f.set_aside, "refused": f.refused}, ensure_ascii=False), flush=True)


def _spawn(code: str, file: Path, db: Path, as_cli: bool = False) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=code)
    return subprocess.Popen([sys.executable, "-m", "bench.bench_uploads", "--child", "--code", code, "--file", str(file),
                             "--db", str(db)] + (["--as-cli"] if as_cli else []),
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _report(proc: subprocess.Popen, timeout: float) -> dict:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return {"timeout": timeout}
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": err[-2000:]}
    return json.loads(lines[-1])


def measure(code: str, file: Path, base_db: Path, work: Path, small: Path, timeout: float, as_cli: bool) -> dict:
    db = work / "warehouse.duckdb"
    for p in work.glob("warehouse.duckdb*"):
        p.unlink()
    shutil.copyfile(base_db, db)
    t0 = time.perf_counter()
    big = _spawn(code, file, db, as_cli)
    time.sleep(1.0)
    started = time.perf_counter()
    two = _spawn(code, small, db)
    two_report = _report(two, timeout)
    two_wait = time.perf_counter() - started
    rep = _report(big, max(1.0, timeout - (time.perf_counter() - t0)))
    rep["two_row_load_seconds"] = round(two_wait, 2)
    rep["size"] = file.stat().st_size
    rep["two_row_ok"] = two_report.get("loaded") == 2
    return rep


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--code", default=str(ROOT))
    ap.add_argument("--file")
    ap.add_argument("--db")
    ap.add_argument("--mb", type=float, default=190)
    ap.add_argument("--bomb-mb", type=float, default=1024)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--as-cli", action="store_true", help="load as `python -m etl load` does (bulk path allowed)")
    args = ap.parse_args(argv)
    if args.child:
        child(args)
        return 0
    from etl.demo import DemoConfig, build_demo

    with tempfile.TemporaryDirectory(prefix="bench-uploads-") as tmp:
        tmp = Path(tmp)
        base = tmp / "base.duckdb"
        build_demo(DemoConfig(province="330000", seed=7, first_year=2024, last_year=2024, scale=0.05), db=base)
        ents, agencies = _register(base)
        files = {}
        mb = int(args.mb * (1 << 20))
        bomb = int(args.bomb_mb * (1 << 20))
        makers = {
            "shared_strings.xlsx": lambda p: make_shared_strings_bomb(p, bomb),
            "row_bomb.xlsx": lambda p: make_row_bomb(p, bomb),
            "blank_line.csv": lambda p: make_csv(p, mb, ents, agencies, "utf-8", True),
            "gbk.csv": lambda p: make_csv(p, int(mb * 175 / 190), ents, agencies, "gbk", False),
        }
        for name, make in makers.items():
            if args.only and name not in args.only:
                continue
            files[name] = tmp / name
            make(files[name])
        small = tmp / "two_rows.csv"
        make_csv(small, 1, ents, agencies, "utf-8", False)
        small.write_text("\n".join(small.read_text(encoding="utf-8").splitlines()[:3]) + "\n", encoding="utf-8")
        work = tmp / "work"
        work.mkdir()
        results = {}
        for name, path in files.items():
            results[name] = measure(args.code, path, base, work, small, args.timeout, args.as_cli)
            r = results[name]
            print(f"{name:20s} {fmt_bytes(r['size']):>10s}  "
                  + (f"timeout {r['timeout']}s" if "timeout" in r else
                     f"{r.get('seconds', float('nan')):7.1f} s  peak {fmt_bytes(r.get('peak_rss', 0)):>10s}  "
                     f"loaded={r.get('loaded')} refused={(r.get('refused') or '')[:60]!r}")
                  + f"  | 2-row load took {r['two_row_load_seconds']} s", flush=True)
        save("uploads", {"machine": machine(), "code": args.code, "mb": args.mb, "bomb_mb": args.bomb_mb,
                         "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
