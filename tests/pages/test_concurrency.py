"""Concurrent use: readers keep answering, with consistent numbers and no lock error, while
`python -m etl load` swaps new warehouse versions in from the command line.

1. Without a server: reader processes poll the warehouse through etl.warehouse.connect_read while
   loads run; every answer is a whole state (before, or after the 1st, 2nd … load), never half.
2. With a server: `streamlit run app.py` on 127.0.0.1, four browser sessions at once (headless
   Chromium, one browser) rerunning the overview and 数据导入 while loads run; every render
   finishes without an exception or lock message, and the sidebar's inspection count and the
   overview's 执法检查 tile are whole states. Bounded: 4 sessions, at most 8 rounds, 90 s.
3. The server refuses an upload over its size limit, and the page says so.
"""
from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

from etl import warehouse
from tests.server import serve

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
CHROMIUM = "/usr/bin/chromium"
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
pytestmark = pytest.mark.slow   # real processes and loads: started first under pytest-xdist (tests/conftest.py)
BAD_TEXT = ("locked", "Conflicting lock", "Traceback", "IO Error", "IOException", "Could not set lock")


# --- shared: inspection files that each add K rows ---------------------------------------------------
def write_batches(db: Path, out: Path, n_files: int, k: int, quarter: str | None = None) -> list[Path]:
    """n_files CSVs of k new inspections each (ids unique per file), dated inside `quarter` (default:
    the warehouse's last quarter with data), by agencies and enterprises of the warehouse."""
    from metrics.periods import Period

    con = duckdb.connect(str(db), read_only=True)
    try:
        ents = con.execute("SELECT enterprise_id, county_code FROM enterprises ORDER BY enterprise_id LIMIT 40").fetchall()
        if quarter is None:
            quarter = con.execute("SELECT max(inspection_date) FROM inspections").fetchone()[0]
    finally:
        con.close()
    p = Period.parse(str(quarter)) if isinstance(quarter, str) else None
    start = p.start if p else quarter.replace(day=1)
    paths = []
    for f in range(n_files):
        path = out / f"batch-{f}.csv"
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write("检查编号,统一社会信用代码,执法机构区划代码,检查日期,检查方式,移动执法,专家参与\r\n")
            for i in range(k):
                e, county = ents[i % len(ents)]
                fh.write(f"CC{f}-{i:06d},{e},{county},{start.isoformat()},双随机,是,否\r\n")
        paths.append(path)
    return paths


def _env(db: Path | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENFORCEMENT_TEST_")}
    env.update(PYTHONPATH=str(ROOT), ENFORCEMENT_USER="concurrency-test")
    if db is not None:
        env["ENFORCEMENT_DB"] = str(db)
    return env


def run_loads(db: Path, batches: list[Path], done: threading.Event, errors: list, gap: float = 0.3,
              between: threading.Event | None = None) -> None:
    """Load each batch with its own `python -m etl load` (a writer process), one after the other;
    with `between`, each load after the first waits until the event is set (a round of renders)."""
    try:
        for n, path in enumerate(batches):
            if between is not None and n:
                between.wait(timeout=90)
                between.clear()
            r = subprocess.run([sys.executable, "-m", "etl", "--db", str(db), "load", str(path)], cwd=ROOT,
                               env=_env(), capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                errors.append(f"load {path.name}: exit {r.returncode}\n{r.stderr}")
                return
            time.sleep(gap)
    except Exception as e:  # noqa: BLE001 - reported by the test
        errors.append(repr(e))
    finally:
        done.set()


# --- 1. readers without a server -----------------------------------------------------------------------
def _reader(db: str, stop, queue) -> None:
    """Poll the warehouse until `stop` is set: every answer (count of CC rows, loads recorded for
    them), or the error. At most 240 s: on a loaded machine the loads have taken over 60 s, and a
    reader that had given up never saw the last one."""
    from etl.warehouse import connect_read

    seen, give_up = [], time.time() + 240
    while not stop.is_set() and time.time() < give_up:
        try:
            con = connect_read(db)
            try:
                seen.append(con.execute(
                    "SELECT (SELECT count(*) FROM inspections WHERE inspection_id LIKE 'CC%'), "
                    "(SELECT count(*) FROM load_history WHERE file_name LIKE 'batch-%')").fetchone())
            finally:
                con.close()
        except Exception as e:  # noqa: BLE001 - what the test looks for
            queue.put(("error", f"{type(e).__name__}: {e}"))
        time.sleep(0.01)
    queue.put(("seen", seen))


def test_readers_see_whole_states_while_loads_swap_files(demo_db, tmp_path):
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_db, db)
    k, n = 2000, 3
    batches = write_batches(db, tmp_path, n, k)
    ctx = multiprocessing.get_context("spawn")
    queue, stop = ctx.Queue(), ctx.Event()
    readers = [ctx.Process(target=_reader, args=(str(db), stop, queue)) for _ in range(3)]
    for r in readers:
        r.start()
    time.sleep(1.5)  # readers running before the first swap
    done, errors = threading.Event(), []
    run_loads(db, batches, done, errors, gap=0.2)
    time.sleep(0.5)  # and after the last
    stop.set()
    results, problems = [], []
    deadline = time.time() + 60
    while len(results) < len(readers) and time.time() < deadline:
        kind, value = queue.get(timeout=max(1, deadline - time.time()))
        (results if kind == "seen" else problems).append(value)
    for r in readers:
        r.join(timeout=10)
    assert not errors, errors
    assert not problems, problems[:5]
    assert len(results) == len(readers)
    valid = {(i * k, i) for i in range(n + 1)}
    for seen in results:
        assert seen, "a reader never got an answer"
        assert set(seen) <= valid, sorted(set(seen) - valid)[:5]
        assert seen == sorted(seen), "a reader went back to an older state"
        assert seen[-1] == (n * k, n)
    assert len({x for s in results for x in s}) >= 3, "the readers saw too few of the swaps"


def test_a_rerun_on_an_older_version_never_gets_a_newer_file(_demo_copy):
    """The app's connection cache is keyed by warehouse version; a session whose rerun began on
    version 1 and asks again after two more loads must get version 1's numbers (or be told to
    rerun), never version 3's under version 1's key."""
    from ui import data

    db, batches = _demo_copy
    os.environ["ENFORCEMENT_DB"] = str(db)
    try:
        data.clear()

        def count(k):
            with data._cursor(k) as cur:
                return cur.execute("SELECT count(*) FROM inspections WHERE inspection_id LIKE 'CC%'").fetchone()[0]

        k1 = data.key()
        assert count(k1) == 0
        for path in batches:
            load_files_cli(db, path)
            count(data.key())
        try:
            assert count(k1) == 0           # still cached: version 1's numbers
        except warehouse.WarehouseChanged:  # evicted: told to rerun, never version 3 under version 1's key
            pass
    finally:
        data.clear()
        os.environ.pop("ENFORCEMENT_DB", None)


@pytest.fixture
def _demo_copy(demo_db, tmp_path):
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_db, db)
    return db, write_batches(db, tmp_path, 2, 10)


def load_files_cli(db: Path, path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "etl", "--db", str(db), "load", str(path)], cwd=ROOT, env=_env(),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


# --- 2. the app under several sessions while loads run ----------------------------------------------------
def streamlit_server(db: Path, log_dir: Path, *extra: str):
    """tests.server.serve with this module's environment (_env): yields (url, log path)."""
    env = {**{k: None for k in os.environ if k.startswith("ENFORCEMENT_TEST_")},
           "PYTHONPATH": str(ROOT), "ENFORCEMENT_USER": "concurrency-test", "ENFORCEMENT_DB": str(db)}
    return serve(APP, log_dir, env, extra=extra)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=5) as r:
            return r.status == 200 and r.read().strip() == b"ok"
    except OSError:
        return False


browser_only = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (make browser)")


@pytest.fixture(scope="module")
def served(demo_db, tmp_path_factory):
    """The app over a private copy of the demo warehouse, with a 2 MB upload limit (test 3)."""
    d = tmp_path_factory.mktemp("concurrency-server")
    db = d / "warehouse.duckdb"
    shutil.copyfile(demo_db, db)
    with streamlit_server(db, d, "--server.maxUploadSize", "2") as (url, log):
        yield dict(url=url, db=db, dir=d, log=log)


# pytest-playwright's session browser (one asyncio loop for the whole run: a second sync_playwright()
# would clash with tests/pages/test_browser.py), launched as that module launches it
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync"]}


def _numbers(page) -> tuple[int, int | None]:
    """(the sidebar's total inspection count, the overview's 执法检查 tile — None on other pages)."""
    caption = page.locator("[data-testid='stSidebar'] [data-testid='stCaptionContainer']").filter(has_text="检查").first
    total = int(re.search(r"检查 ([\d,]+)", caption.inner_text()).group(1).replace(",", ""))
    tile = page.locator("[data-testid='stMetric']").filter(has_text="执法检查")
    if not tile.count():
        return total, None
    return total, int(tile.first.locator("[data-testid='stMetricValue']").inner_text().replace(",", ""))


def _check_render(page) -> None:
    errors = page.locator("[data-testid='stException']")
    assert errors.count() == 0, errors.first.inner_text()
    text = page.locator("[data-testid='stApp']").inner_text()
    bad = [w for w in BAD_TEXT if w in text]
    assert not bad, (bad, text[:2000])


@pytest.mark.browser
@browser_only
def test_several_sessions_keep_answering_while_loads_run(served, browser):
    """One session on the overview (the heaviest page: every new version is computed afresh), three
    on 数据导入, rerun together again and again while three loads run."""
    db = served["db"]
    k, n = 2000, 3
    batches = write_batches(db, served["dir"], n, k)
    urls = [served["url"]] + [served["url"] + "/data_import"] * 3
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN") for _ in urls]
    pages = [c.new_page() for c in contexts]

    def render_all() -> list[tuple[int, int | None]]:
        for p, url in zip(pages, urls):  # four sessions rerun at once
            p.goto(url, wait_until="commit")
        out = []
        for p in pages:
            p.wait_for_selector("[data-testid='stSidebar'] [data-testid='stCaptionContainer']", timeout=60_000)
            p.wait_for_selector(IDLE, timeout=60_000)
            if p is pages[0]:  # st.metric with a sparkline is drawn by a lazily loaded chart component:
                # it can reach the DOM after the script run has ended
                p.locator("[data-testid='stMetric']").filter(has_text="执法检查").first.wait_for(timeout=30_000)
            _check_render(p)
            out.append(_numbers(p))
        return out

    try:
        first = render_all()
        total0, tile0 = first[0]
        assert {t for t, _ in first} == {total0} and tile0 is not None
        whole = {i: (total0 + i * k, tile0 + i * k) for i in range(n + 1)}

        done, errors, rendered = threading.Event(), [], threading.Event()
        # each load after the first waits for a round of renders to finish: renders overlap every load
        loader = threading.Thread(target=run_loads, args=(db, batches, done, errors, 0.2, rendered), daemon=True)
        loader.start()
        started, rounds, seen, mixed = time.monotonic(), 0, set(), []
        while not done.is_set() and rounds < 8 and time.monotonic() - started < 90:
            for total, tile in render_all():
                state = next((i for i, (t, _) in whole.items() if t == total), None)
                assert state is not None, f"round {rounds}: {total} inspections is not a whole state"
                assert tile is None or tile in {t for _, t in whole.values()}, f"round {rounds}: tile {tile}"
                if tile not in (None, whole[state][1]):
                    mixed.append((rounds, total, tile))
                seen.add(state)
            assert _healthy(served["url"])
            rounds += 1
            rendered.set()
        loader.join(timeout=120)
        assert not errors, errors
        assert done.is_set(), "the loads did not finish in time"
        assert rounds >= 2 and len(seen) >= 2, (rounds, seen)
        # one render never mixes two whole states: app.py pins the warehouse version for the run
        assert not mixed, f"a render mixed two warehouse versions (round, total, tile): {mixed}"
        # after the last load every session shows the last state
        assert set(render_all()) <= {(whole[n][0], whole[n][1]), (whole[n][0], None)}
        log = Path(served["log"]).read_text(encoding="utf-8", errors="replace")
        assert not [w for w in BAD_TEXT if w in log], log[-3000:]
    finally:
        for c in contexts:
            c.close()


# --- 3. the upload limit ---------------------------------------------------------------------------------
@pytest.mark.browser
@browser_only
def test_an_upload_over_the_limit_is_refused_with_a_message(served, browser, tmp_path):
    """The uploader takes its limit from server.maxUploadSize (here 2 MB; .streamlit/config.toml
    sets 500): the browser refuses a bigger file with a message, nothing reaches the loader, and
    the server would refuse the bytes anyway (HTTP 413)."""
    before = duckdb.connect(str(served["db"]), read_only=True)
    n_loads = before.execute("SELECT count(*) FROM load_history").fetchone()[0]
    before.close()
    big = tmp_path / "export-2024.csv"
    big.write_bytes("检查编号,x\n".encode() + b"a,b\n" * (3 * 1024 * 1024 // 4))  # 3 MB
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    try:
        page.goto(served["url"] + "/data_import", wait_until="domcontentloaded")
        page.wait_for_selector("[data-testid='stFileUploader']", timeout=90_000)
        page.wait_for_selector(IDLE, timeout=90_000)
        page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(big))
        uploader = page.locator("[data-testid='stFileUploader']")
        message = uploader.get_by_text(re.compile(r"must be 2(\.0)?\s?MB or smaller|status code 413", re.I))
        message.first.wait_for(timeout=30_000)
        page.get_by_role("button", name="开始导入").click()
        page.wait_for_timeout(500)
        page.wait_for_selector(IDLE, timeout=60_000)
        _check_render(page)
        assert page.get_by_text("请先选择要导入的文件").first.is_visible()  # the refused file is not taken
    finally:
        ctx.close()
    after = duckdb.connect(str(served["db"]), read_only=True)
    assert after.execute("SELECT count(*) FROM load_history").fetchone()[0] == n_loads
    after.close()
