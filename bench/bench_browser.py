"""Benchmark (e): what a person waits for in a real browser, on the Zhejiang demo warehouse.

    python -m bench.bench_browser [--db PATH] [--reps 3] [--port 8602] [--label before]

The steps of issue 11's table, each timed from the action (navigation, click, choice) until the
page is done: `streamlit run app.py` has finished the script run the action caused and the step's
key content (the page's title with its KPI tiles or table) is on screen.

Each repetition starts a fresh server (`streamlit run app.py`, headless, no file watcher, open
mode: no users file) over the same warehouse and, in one headless Debian Chromium (1440×1000):
1. cold:   a first browser session opens the overview right after the server started;
2. warm:   a new browser session opens the overview (the server is warm now);
3. 排名, 区域分析, 季度考评: that second session clicks each in the sidebar, first visit each;
4. unit:   on 区域分析 it picks another unit in 选择设区市, twice (two different units);
5. floor:  the yardstick, on a server of its own: bench/floor_page.py (the overview's title and one
   KPI tile, nothing else), once to warm the server (not timed), then in a new browser session and
   in a new tab of that browser — Streamlit's own floor on this machine, below which no page of the
   app can come (as bench_etl's bare read_csv).
The figure per step is the median over the repetitions (the unit switch: over both switches of
every repetition). Beside each wall time the benchmark records the CPU time the server process
used during the step (/proc/PID/stat): on a shared machine the wall time grows with everyone
else's work, the server's CPU time hardly does, so it compares runs made under different loads. Likewise the CPU time of the Chromium processes
(what drawing the page costs the client: the map, the charts, the tables), and the bytes the
app sent over its websocket during the step (what the page weighs on the wire).

How the end of a step is found (see the house notes, "Timing a page in a real browser"): after
the action, wait until the script run it caused has started, then for
`[data-testid='stApp'][data-test-script-state='notRunning']`, pause 100 ms, wait again, then wait
for the key content (and start over if another run began meanwhile). The time recorded is not when these waits returned
(that would add the pause and Playwright's polling) but what the page itself saw: a script in the
page notes the moment stApp last turned to notRunning and the first animation frame in which the
step's key content was visible; the step ends at the later of the two. A shown exception
(`[data-testid='stException']`) fails the benchmark.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import common
from ops import appserver
from ops.appserver import free_port

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
EXCEPTION = "[data-testid='stException']"
VIEWPORT = {"width": 1440, "height": 1000}
TIMEOUT_MS = 180_000

# the steps of issue 11's table, in order, with their targets (seconds)
STEPS = [
    ("cold_overview", "first overview after a fresh server start", 2.0),
    ("warm_overview", "a new browser session's overview, server already warm", 1.0),
    ("tab_overview", "the same in a new tab of a browser that has opened the app before", 1.0),
    ("ranking", "first visit to 排名 in the session", 1.0),
    ("region", "first visit to 区域分析 in the session", 1.0),
    ("assessment", "first visit to 季度考评 in the session", 1.0),
    ("switch_unit", "switching the unit on 区域分析", 0.5),
]

# the yardstick (not a target): Streamlit's own floor, bench/floor_page.py, timed as the overview is
FLOOR_PAGE = Path(__file__).with_name("floor_page.py")
YARDSTICK = [
    ("floor_session", "a bare Streamlit page (title, one metric) in a new browser session"),
    ("floor_tab", "the same in a new tab of a browser that has opened it before"),
]

# JavaScript predicates: the step's key content is visible
_VISIBLE = "(s => [...document.querySelectorAll(s)].some(e => e.getClientRects().length > 0 && !e.closest('[data-stale=\"true\"]')))"
_H1 = "((document.querySelector('h1') || {}).innerText || '')"
CONTENT = {
    "overview": f"{_H1}.includes('执法效能总览') && {_VISIBLE}(\"[data-testid='stMetric']\")",
    "ranking": f"{_H1}.endsWith('排名') && {_VISIBLE}(\"[data-testid='stDataFrame']\")",
    "region": f"{_H1}.startsWith('区域分析 · ') && {_VISIBLE}(\"[data-testid='stMetric']\") "
              f"&& {_VISIBLE}(\"[data-testid='stDataFrame']\")",
    "assessment": f"{_H1}.startsWith('执法量化考评') && {_VISIBLE}(\"[data-testid='stMetric']\") "
                  f"&& {_VISIBLE}(\"[data-testid='stDataFrame']\")",
}

# installed in every document before its own scripts: records the last transition of stApp to
# notRunning (a MutationObserver, exact) and the first frame in which window.__bb.pred holds
WATCH = """
(() => {
  const b = window.__bb = {idle: 0, started: 0, runs: 0, state: null, pred: %s, since: Date.now(), seen: 0};
  const check = () => {
    const app = document.querySelector("[data-testid='stApp']");
    const s = app ? app.getAttribute('data-test-script-state') : null;
    if (s !== b.state) {
      if (s === 'notRunning' && b.state !== null) b.idle = Date.now();
      if (s === 'running') { b.runs += 1; b.started = Date.now(); }
      b.state = s;
    }
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true, attributes: true,
                                                 attributeFilter: ['data-test-script-state']});
  const frame = () => {
    check();
    if (b.pred && !b.seen) { try { if (eval(b.pred)) b.seen = Date.now(); } catch (e) {} }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
})();
"""


class PageError(RuntimeError):
    """The app showed an exception, or a step never finished."""


class Server(str):
    """A served app's URL that also knows the server's process id (for its CPU time)."""
    pid: int
    started: float  # seconds from launch until /_stcore/health answered


def browser_cpu_seconds() -> float:
    """CPU time used so far by the Chromium processes this process started (browser, renderers,
    GPU/utility processes): what drawing the page costs on the client's side."""
    parent, total = {}, 0.0
    procs = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                stat = (p / "stat").read_text().rsplit(")", 1)[1].split()
                cmd = (p / "cmdline").read_bytes()
            except OSError:
                continue
            parent[int(p.name)] = int(stat[1])
            if b"chromium" in cmd.split(b"\0", 1)[0]:
                procs.append((int(p.name), (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")))
    me = os.getpid()
    for pid, cpu in procs:
        q = pid
        while q > 1 and q != me:
            q = parent.get(q, 1)
        if q == me:
            total += cpu
    return total


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far: unlike wall time, what a step costs the
    server does not grow when other work shares the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ensure_warehouse(db: Path | None, log=print) -> Path:
    """The Zhejiang demo warehouse (scale 1) at `db`, built by `python -m etl demo` if missing."""
    db = Path(db) if db else Path(tempfile.gettempdir()) / "bench-browser" / "warehouse.duckdb"
    if not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        log(f"building the demo warehouse {db} (python -m etl demo, scale 1) ...")
        subprocess.run([sys.executable, "-m", "etl", "--db", str(db), "demo", "--quiet"], cwd=common.ROOT,
                       check=True, env=dict(os.environ, PYTHONPATH=str(common.ROOT)))
    return db


@contextlib.contextmanager
def serve(db: Path, port: int, log_path: Path, root: Path = common.ROOT, entry: str = "serve.py"):
    """`streamlit run serve.py` (what `make run` and the deployment start: app.py behind serve.py's
    middleware, warmed up before it answers) on 127.0.0.1:port over `db`, open mode (no users file);
    yields its URL once /_stcore/health answers (the start's seconds in ``url.started``), and ends the
    process after. ``entry="app.py"`` serves the bare app (no warm-up), as before 2026-12-02."""
    env = {k: v for k, v in os.environ.items() if k != "ENFORCEMENT_USERS"}
    env["ENFORCEMENT_DB"] = str(db)
    if (root / "data" / "users.toml").exists():
        raise PageError(f"{root / 'data' / 'users.toml'} exists: the benchmark measures the open app; move it away")
    with open(log_path, "w+") as fh:
        try:
            with appserver.running(root / entry, port, fh, env, cwd=root, timeout=90, poll=0.1) as proc:
                url = Server(f"http://127.0.0.1:{port}")
                url.pid = proc.pid
                url.started = proc.ready_after
                yield url
        except appserver.DidNotStart as e:
            raise PageError(f"streamlit did not start on port {port}:\n{e.log[-3000:]}") from None


# bytes the app sent to the browsers over Streamlit's websocket (the page's elements, chart and map
# payloads, tables), counted across every page; a step's share is the difference
WS_RECEIVED = {"bytes": 0}


def _count_frames(ws) -> None:
    def add(payload):
        WS_RECEIVED["bytes"] += len(payload)

    ws.on("framereceived", add)


def _new_session(browser, pred: str):
    ctx = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    ctx.add_init_script(WATCH % json.dumps(pred))
    ctx.set_default_timeout(TIMEOUT_MS)
    page = ctx.new_page()
    page.on("websocket", _count_frames)
    return ctx, page


def _finish(page, t0_ms: float, pred: str, what: str) -> float:
    """Wait until the step is done (the protocol in the module docstring); its seconds from t0.

    The action's script run has to have started first (under load the rerun request can take
    longer than the 100 ms pause to reach the server), and a run that starts right after the
    last one (a widget settling) is waited for too. A run so short that the page drew its start
    and its end in one frame never shows as running (React batches the two): then the step's
    content, which only that run can have drawn, marks it, and its end is when that was seen."""
    page.wait_for_function(f"window.__bb.started >= {t0_ms} || window.__bb.seen >= {t0_ms}", timeout=TIMEOUT_MS)
    for _ in range(20):
        page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
        page.wait_for_timeout(100)
        page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
        _no_exception(page, what)
        page.wait_for_function(pred, timeout=TIMEOUT_MS)
        b = page.evaluate("() => window.__bb")
        if b["state"] == "notRunning" and b["idle"] >= b["started"]:
            break
    else:
        raise PageError(f"{what}: the app kept rerunning ({b})")
    if b["since"] > t0_ms + 1000 and what != "overview":
        raise PageError(f"{what}: the document was reloaded during the step")
    unseen_run = b["started"] < t0_ms   # the run's start and end were drawn in one frame
    if not b["seen"] or b["seen"] < t0_ms or (b["idle"] < t0_ms and not unseen_run):
        raise PageError(f"{what}: no script run finished after the action ({b})")
    _no_exception(page, what)
    return (max(b["idle"] if b["idle"] >= t0_ms else 0, b["seen"]) - t0_ms) / 1000


def _no_exception(page, what: str) -> None:
    if page.locator(EXCEPTION).count():
        raise PageError(f"{what}: the page shows an exception:\n{page.locator(EXCEPTION).first.inner_text()[:3000]}")


def _arm(page, pred: str) -> float:
    """Watch for `pred` from now on; returns now (ms since the epoch, the page's clock too)."""
    now = time.time() * 1000
    page.evaluate("([p, t]) => { window.__bb.pred = p; window.__bb.seen = 0; window.__bb.since = t; }", [pred, now])
    return now


def open_overview(browser, url: str):
    ctx, page = _new_session(browser, CONTENT["overview"])
    t0 = time.time() * 1000
    page.goto(url + "/", wait_until="commit")
    return ctx, page, _finish(page, t0, CONTENT["overview"], "overview")


def open_overview_tab(ctx, url: str):
    """A new tab in a browser profile that has opened the app before: a new Streamlit session whose
    scripts and fonts come from the browser's cache (Streamlit serves them immutable for a year),
    as for a leader opening the app again; ``open_overview`` measures a browser that never has."""
    page = ctx.new_page()
    page.on("websocket", _count_frames)
    t0 = time.time() * 1000
    page.goto(url + "/", wait_until="commit")
    return page, _finish(page, t0, CONTENT["overview"], "overview")


def visit(page, title: str, key: str) -> float:
    """Click `title` in the sidebar's navigation; seconds until the page is done."""
    link = page.locator("[data-testid='stSidebarNav'] a", has_text=title).first
    link.wait_for(state="visible")
    t0 = _arm(page, CONTENT[key])
    link.click()
    return _finish(page, t0, CONTENT[key], key)


def switch_unit(page, avoid: set[str]) -> tuple[float, str]:
    """On 区域分析, choose another unit in its selectbox; (seconds until done, the unit chosen)."""
    box = page.locator("[data-testid='stSelectbox']", has_text="选择").first
    box.click()
    options = page.locator("[role='option']")
    options.first.wait_for(state="visible")
    names = [t.strip() for t in options.all_inner_texts()]
    choice = next(n for n in names if n.split("（")[0] not in avoid)
    name = choice.split("（")[0]
    pred = f"{_H1} === {json.dumps('区域分析 · ' + name)} && {_VISIBLE}(\"[data-testid='stMetric']\")"
    opt = options.filter(has_text=choice).first
    t0 = _arm(page, pred)
    opt.click()
    return _finish(page, t0, pred, f"unit {name}"), name


def repetition(browser, db: Path, port: int, work: Path, switches: int = 2, entry: str = "serve.py") -> dict:
    """One repetition: a fresh server, a cold session, then a warm session's visits (seconds)."""
    out: dict = {"load": {}, "cpu": {}, "browser_cpu": {}, "ws_bytes": {}}
    with serve(db, port, work / f"streamlit-{port}.log", entry=entry) as url:
        out["server_start"] = url.started
        def step(key, fn, *args):
            out["load"][key] = common.loadavg()
            c0, b0, w0 = cpu_seconds(url.pid), browser_cpu_seconds(), WS_RECEIVED["bytes"]
            result = fn(*args)
            cpu, bcpu = cpu_seconds(url.pid) - c0, browser_cpu_seconds() - b0
            for d, v in ((out["cpu"], cpu), (out["browser_cpu"], bcpu), (out["ws_bytes"], WS_RECEIVED["bytes"] - w0)):
                d[key] = d[key] + [v] if key == "switch_unit" else v
            return result

        for d in ("cpu", "browser_cpu", "ws_bytes"):
            out[d]["switch_unit"] = []
        ctx, page, out["cold_overview"] = step("cold_overview", open_overview, browser, url)
        ctx.close()
        ctx, page, out["warm_overview"] = step("warm_overview", open_overview, browser, url)
        for title, key in (("排名", "ranking"), ("区域分析", "region"), ("季度考评", "assessment")):
            out[key] = step(key, visit, page, title, key)
        visit(page, "区域分析", "region")  # back (a second visit, not timed)
        seen = {page.locator("h1").first.inner_text().split(" · ", 1)[-1]}
        out["switch_unit"], out["units"] = [], []
        for _ in range(switches):
            s, name = step("switch_unit", switch_unit, page, seen)
            seen.add(name)
            out["switch_unit"].append(s)
            out["units"].append(name)
        page.close()
        time.sleep(1.0)  # the closed tab's renderer exits before the step (its CPU leaves the sum)
        _, out["tab_overview"] = step("tab_overview", open_overview_tab, ctx, url)
        ctx.close()
    f = floor(browser, db, port, work)
    out.update(floor_session=f["floor_session"], floor_tab=f["floor_tab"], floor_cpu=f["cpu"],
               floor_browser_cpu=f["browser_cpu"])
    return out


def floor(browser, db: Path, port: int, work: Path) -> dict:
    """The yardstick's two steps on a server of its own (the app's has ended), warmed as the app's is
    for its warm steps (a first session, not timed): seconds, and the CPU the server and Chromium used,
    as for the app's steps."""
    out: dict = {"cpu": {}, "browser_cpu": {}}
    with serve(db, port, work / f"floor-{port}.log", root=FLOOR_PAGE.parent, entry=FLOOR_PAGE.name) as url:
        ctx, _, _ = open_overview(browser, url)   # the server's first session (its cold start): not the floor
        ctx.close()
        time.sleep(1.0)  # its renderer exits before the step (its CPU leaves the sum)
        for key in ("floor_session", "floor_tab"):
            c0, b0 = cpu_seconds(url.pid), browser_cpu_seconds()
            if key == "floor_session":
                ctx, page, out[key] = open_overview(browser, url)
                page.close()
                time.sleep(1.0)  # as before the app's tab step
            else:
                _, out[key] = open_overview_tab(ctx, url)
                ctx.close()
            out["cpu"][key], out["browser_cpu"][key] = cpu_seconds(url.pid) - c0, browser_cpu_seconds() - b0
    return out


def run(db: Path | None = None, reps: int = 3, port: int | None = None, label: str | None = None,
        switches: int = 2, save: bool = True, log=print, entry: str = "serve.py") -> dict:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise PageError(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    db = ensure_warehouse(db, log)
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        records = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                   for t in ("enterprises", "inspections", "hazards", "penalties")}
    finally:
        con.close()
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-browser-") as work, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            for r in range(reps):
                x = repetition(browser, db, port or free_port(), Path(work), switches, entry)
                runs.append(x)
                log(f"  rep {r + 1}: " + ", ".join(
                    f"{k} {_fmt(x[k])}" for k, _, _ in STEPS)
                    + f"; floor {x['floor_session']:.2f}s/{x['floor_tab']:.2f}s"
                    + f" (server start {x['server_start']:.1f}s, load {x['load']['cold_overview']:.2f})")
        finally:
            browser.close()
    steps = {}
    for key, what, target in STEPS:
        values = sum((x[key] if isinstance(x[key], list) else [x[key]] for x in runs), [])
        med = common.median(values)
        cpu = sum((x["cpu"][key] if isinstance(x["cpu"][key], list) else [x["cpu"][key]] for x in runs), [])
        bcpu = sum((x["browser_cpu"][key] if isinstance(x["browser_cpu"][key], list) else [x["browser_cpu"][key]]
                    for x in runs), [])
        wsb = sum((x["ws_bytes"][key] if isinstance(x["ws_bytes"][key], list) else [x["ws_bytes"][key]]
                   for x in runs), [])
        steps[key] = {"step": what, "seconds": values, "median": med, "min": min(values), "max": max(values),
                      "target": target, "met": med <= target, "server_cpu_seconds": cpu,
                      "server_cpu_median": common.median(cpu), "browser_cpu_seconds": bcpu,
                      "browser_cpu_median": common.median(bcpu), "websocket_bytes": wsb,
                      "websocket_bytes_median": common.median(wsb)}
    yardstick = {}
    for key, what in YARDSTICK:
        values = [x[key] for x in runs]
        yardstick[key] = {"step": what, "seconds": values, "median": common.median(values), "min": min(values),
                          "max": max(values), "server_cpu_median": common.median([x["floor_cpu"][key] for x in runs]),
                          "browser_cpu_median": common.median([x["floor_browser_cpu"][key] for x in runs])}
    result = {"benchmark": "browser", "label": label, "yardstick": yardstick, "entry": entry, "db": str(db), "records": records, "reps": reps,
              "server_start_seconds": [x["server_start"] for x in runs],
              "viewport": VIEWPORT, "chromium": CHROMIUM, "steps": steps,
              "units_switched_to": [x["units"] for x in runs], "loads": [x["load"] for x in runs],
              "uptime": _uptime(), "commit": _commit()}
    if save:
        result["saved"] = str(common.save("browser" + (f"-{label}" if label else ""), result))
    return result


def _fmt(v) -> str:
    return "/".join(f"{s:.2f}s" for s in v) if isinstance(v, list) else f"{v:.2f}s"


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=common.ROOT, capture_output=True,
                              text=True).stdout.strip() or os.environ.get("BENCH_COMMIT", "")
    except OSError:
        return ""


def summary(r: dict) -> str:
    rows = [f"real browser (Chromium 1440×1000), demo warehouse {r['records']['inspections']:,} inspections / "
            f"{r['records']['hazards']:,} hazards, median of {r['reps']} (commit {r['commit']}):",
            f"  {'step':<58} {'median':>8} {'min–max':>13} {'target':>7}          server CPU  browser CPU   sent"]
    for key, s in r["steps"].items():
        rows.append(f"  {s['step']:<58} {s['median']:>7.2f}s {s['min']:>5.2f}–{s['max']:<5.2f}s "
                    f"{'≤ ' + format(s['target'], 'g') + ' s':>7} {'met' if s['met'] else 'NOT MET':<8} "
                    f"{s['server_cpu_median']:>6.2f}s {s['browser_cpu_median']:>10.2f}s "
                    f"{s['websocket_bytes_median'] / 1024:>6.0f} KiB")
    for s in r.get("yardstick", {}).values():
        rows.append(f"  {'yardstick: ' + s['step']:<58} {s['median']:>7.2f}s {s['min']:>5.2f}–{s['max']:<5.2f}s "
                    f"{'':>7} {'':<8} {s['server_cpu_median']:>6.2f}s {s['browser_cpu_median']:>10.2f}s")
    rows.append(f"  {r['uptime']}")
    return "\n".join(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default=None, help="demo warehouse (built with `python -m etl demo` if missing)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--port", type=int, default=None, help="the server's port (default: a free one)")
    ap.add_argument("--label", default=None, help="results file bench/out/results/browser-LABEL.json")
    ap.add_argument("--entry", default="serve.py", choices=["serve.py", "app.py"],
                    help="what the server runs: serve.py (make run, the deployment) or the bare app.py")
    args = ap.parse_args(argv)
    try:
        r = run(Path(args.db) if args.db else None, args.reps, args.port, args.label, entry=args.entry)
    except PageError as e:
        print(f"bench_browser: {e}", file=sys.stderr)
        return 1
    print(summary(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
