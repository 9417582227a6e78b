"""Scale-out trial: two app processes over one warehouse file behind nginx (sticky sessions), and a
load that swaps a new warehouse file in while both serve. README.md "Scaling out" reports it.

    python -m bench.scaleout [--db PATH] [--ports 8603,8604] [--proxy-port 8605]

What it does, on a private copy of the demo warehouse:
1. starts `streamlit run app.py` twice (two ports, same ENFORCEMENT_DB) and nginx in front:
   `hash $route consistent`, where $route is a `route` cookie nginx hands out on the first
   response (open-source nginx has no `sticky cookie`), so a browser session's websocket and its
   uploads always reach the process that holds its session state;
2. opens browser sessions through the proxy, notes which process each one's websocket reached
   (nginx's log) and the record count the sidebar shows;
3. runs `python -m etl load` (a small file of new inspections) meanwhile: the load writes a new
   file and os.replace()s it over the old one;
4. clicks on in the open sessions and opens new ones: every session of both processes must show
   the new count, without an error and without a restart;
5. counts the warehouse files each process still holds open after the swap (deleted inodes).
Prints a JSON report; exit 1 when something did not hold.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import bench_browser as bb
from bench import common

NGINX = "/usr/sbin/nginx"
CONF = """
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {work}/body; proxy_temp_path {work}/proxy; fastcgi_temp_path {work}/fcgi;
    uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;
    log_format up '$route $upstream_addr "$request" $status';
    access_log {work}/access.log up;
    # a route per browser: the cookie if the browser has one, else a new random id
    map $cookie_route $route {{ "" $request_id; default $cookie_route; }}
    map $cookie_route $set_route {{ "" "route=$request_id; Path=/; HttpOnly; SameSite=Lax"; default ""; }}
    map $http_upgrade $connection_upgrade {{ default upgrade; "" close; }}
    upstream app {{
        hash $route consistent;
{servers}
    }}
    server {{
        listen 127.0.0.1:{proxy_port};
        client_max_body_size 200m;
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_read_timeout 1d;
            add_header Set-Cookie $set_route always;
        }}
    }}
}}
"""
COUNT = re.compile(r"检查 ([\d,]+)")


@contextlib.contextmanager
def nginx(work: Path, ports: list[int], proxy_port: int):
    for d in ("body", "proxy", "fcgi", "uwsgi", "scgi"):
        (work / d).mkdir(exist_ok=True)
    conf = work / "nginx.conf"
    conf.write_text(CONF.format(work=work, proxy_port=proxy_port,
                                servers="\n".join(f"        server 127.0.0.1:{p};" for p in ports)))
    proc = subprocess.Popen([NGINX, "-p", str(work), "-c", str(conf), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 10
        while not (work / "nginx.pid").exists():
            if proc.poll() is not None or time.time() > deadline:
                raise bb.PageError(f"nginx did not start: {(work / 'nginx-error.log').read_text()[-2000:]}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{proxy_port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def sidebar_count(page) -> int:
    text = page.locator("[data-testid='stSidebar']").inner_text()
    m = COUNT.search(text)
    if not m:
        raise bb.PageError(f"no record count in the sidebar: {text[:300]}")
    return int(m.group(1).replace(",", ""))


def backends(work: Path, route: str) -> set[str]:
    """The app processes nginx sent this browser's websocket to."""
    out = set()
    for line in (work / "access.log").read_text().splitlines():
        r, upstream, *rest = line.split(" ", 2)
        if r == route and "/_stcore/stream" in line:
            out.add(upstream)
    return out


def new_inspections(db: Path, path: Path, n: int = 5) -> int:
    """A CSV of n new inspections (copies of existing ones under new ids) for the load."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT enterprise_id, agency_code, inspection_date FROM inspections "
                           "ORDER BY inspection_id LIMIT ?", [n]).fetchall()
    finally:
        con.close()
    lines = ["检查编号,统一社会信用代码,执法机构区划代码,检查日期,检查方式,移动执法,专家参与"]
    lines += [f"SCALEOUT-{i},{e},{a},{d},双随机,是,否" for i, (e, a, d) in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(rows)


def held_files(pid: int, wh: Path) -> list[dict]:
    """The warehouse files a process holds open (readers open a private hard link, unlinked at
    once, so every one shows as deleted): whether each is the current file or a replaced one."""
    current = os.stat(wh).st_ino
    out = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if wh.name in target and not target.endswith((".wal", ".lock")):
                out.append({"inode": os.stat(fd).st_ino, "current": os.stat(fd).st_ino == current})
    return out


def run(db: Path | None, ports: list[int], proxy_port: int, sessions: int = 4, log=print) -> dict:
    from playwright.sync_api import sync_playwright

    src = bb.ensure_warehouse(db, log)
    report: dict = {"ports": ports, "proxy_port": proxy_port, "problems": []}
    with tempfile.TemporaryDirectory(prefix="scaleout-") as tmp, sync_playwright() as pw, \
            contextlib.ExitStack() as stack:
        work = Path(tmp)
        wh = work / "wh" / "warehouse.duckdb"
        wh.parent.mkdir()
        shutil.copyfile(src, wh)
        servers = [stack.enter_context(_serve_with_pid(wh, p, work)) for p in ports]
        proxy = stack.enter_context(nginx(work, ports, proxy_port))
        browser = pw.chromium.launch(executable_path=bb.CHROMIUM, args=bb.ARGS, headless=True)
        stack.callback(browser.close)
        opened = []
        for i in range(sessions):
            ctx, page, seconds = bb.open_overview(browser, proxy)
            route = next((c["value"] for c in ctx.cookies() if c["name"] == "route"), None)
            opened.append(dict(ctx=ctx, page=page, route=route, before=sidebar_count(page), seconds=seconds))
        before = opened[0]["before"]
        csv_path = work / "new-inspections.csv"
        added = new_inspections(wh, csv_path)
        # the load runs while session 0 is clicking through a page
        t0 = time.time()
        loader = subprocess.Popen([sys.executable, "-m", "etl", "--db", str(wh), "load", str(csv_path)],
                                  cwd=common.ROOT, env=dict(os.environ, PYTHONPATH=str(common.ROOT)),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        bb.visit(opened[0]["page"], "排名", "ranking")
        out, err = loader.communicate(timeout=300)
        report["load"] = {"exit": loader.returncode, "stdout": out.strip(), "stderr": err.strip()[-500:],
                          "seconds": round(time.time() - t0, 2)}
        after = []
        for s in opened:  # a click in each open session (a rerun) after the swap
            bb.visit(s["page"], "区域分析", "region")
            bb.visit(s["page"], "总览", "overview")
            after.append(sidebar_count(s["page"]))
        for _ in range(2):  # and new sessions
            ctx, page, _ = bb.open_overview(browser, proxy)
            after.append(sidebar_count(page))
            ctx.close()
        for i, port in enumerate(ports):  # straight to each process too
            ctx, page, _ = bb.open_overview(browser, f"http://127.0.0.1:{port}")
            after.append(sidebar_count(page))
            ctx.close()
        report.update(count_before=before, added=added, counts_after=after,
                      held_after=[{"port": p, "files": held_files(pid, wh)} for p, pid in servers])
        for s in opened:
            s["ctx"].close()
        time.sleep(1)  # nginx logs a websocket when it closes
        for s in opened:
            s["backends"] = sorted(backends(work, s["route"])) if s["route"] else []
        report["sessions"] = [{k: s[k] for k in ("route", "backends", "before", "seconds")} for s in opened]
        report["processes_used"] = sorted({b for s in opened for b in s["backends"]})
        if report["load"]["exit"] != 0:
            report["problems"].append("the load failed")
        if any(c != before + added for c in after):
            report["problems"].append(f"not every session shows {before + added} inspections: {after}")
        if any(len(s["backends"]) != 1 for s in opened):
            report["problems"].append("a browser session's websocket reached no process or more than one")
    return report


@contextlib.contextmanager
def _serve_with_pid(db: Path, port: int, work: Path):
    with bb.serve(db, port, work / f"streamlit-{port}.log") as url:
        yield port, url.pid


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default=None)
    ap.add_argument("--ports", default="8603,8604")
    ap.add_argument("--proxy-port", type=int, default=8605)
    ap.add_argument("--sessions", type=int, default=4)
    args = ap.parse_args(argv)
    r = run(Path(args.db) if args.db else None, [int(p) for p in args.ports.split(",")], args.proxy_port,
            args.sessions)
    print(json.dumps(r, ensure_ascii=False, indent=1))
    return 1 if r["problems"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
