"""Real-browser tests: the app served by `streamlit run`, driven in headless Debian Chromium.

Each test waits for the script to finish (stApp's data-test-script-state = notRunning), checks
that no exception is shown and that the page's key elements are there, and keeps a screenshot of
the whole page in test-artifacts/ (gitignored). Skipped when /usr/bin/chromium is missing.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import duckdb
import pytest

from tests.server import serve as server_process

from tests.pages.conftest import ARTIFACTS

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (make browser)"),
]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ARGS, "headless": True}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1440, "height": 1000}, "locale": "zh-CN",
            "accept_downloads": True}


@contextlib.contextmanager
def serve(db: Path, log_dir: Path):
    """`streamlit run app.py` on a free port with ENFORCEMENT_DB=db; the process is ended after."""
    with server_process("app.py", log_dir, {"ENFORCEMENT_DB": str(db)}) as (url, _):
        yield url


@pytest.fixture(scope="module")
def server(demo_copy, tmp_path_factory):
    """The app over a private copy of the demo warehouse."""
    db = demo_copy("browser-warehouse")
    with serve(db, tmp_path_factory.mktemp("browser-log")) as url:
        yield dict(url=url, db=db)


# Streamlit marks a run on stApp (data-test-script-state) and the previous run's elements as stale
# (data-stale) until the run ends, and an element whose code is still loading as a skeleton; but nothing in the page says "a run is coming" between a click and the
# server's answer. So every page of a test counts the runs it sees and notes the last user action
# (WATCH, added to each context): settle() waits for a run that started after the last action (or, when
# none came within GRACE_MS, for none), no run going, nothing stale, and no change for QUIET_MS (st.rerun
# ends one run and starts the next a few milliseconds later).
WATCH = """(() => {
  if (window.__stRuns) return;
  const st = window.__stRuns = {runs: 0, lastRun: 0, lastAct: performance.now(), lastChange: 0, state: null};
  const act = () => { st.lastAct = performance.now(); };
  for (const ev of ["pointerdown", "mousedown", "keydown", "input", "change"]) document.addEventListener(ev, act, true);
  const watch = () => {
    const app = document.querySelector("[data-testid='stApp']");
    const s = app ? app.getAttribute("data-test-script-state") : null;
    if (s !== st.state) {
      st.state = s;
      st.lastChange = performance.now();
      if (s === "running") { st.runs += 1; st.lastRun = st.lastChange; }
    }
  };
  new MutationObserver(watch).observe(document, {subtree: true, childList: true, attributes: true,
                                                 attributeFilter: ["data-test-script-state"]});
  watch();
})()"""
QUIET_MS, GRACE_MS = 300, 1000
# every chart drawn and two frames painted since the viewport changed (the grids draw on the next frame)
DRAWN = """() => {
  const w = window.__stDrawn = (window.__stDrawn || 0) + 1;
  const charts = document.querySelectorAll("[data-testid='stVegaLiteChart'], [data-testid='stPlotlyChart']");
  const drawn = [...charts].every(c => c.querySelector("svg, canvas"));
  if (!drawn) { window.__stDrawn = 0; return false; }
  return w >= 3;
}"""
SETTLED = """([quiet, grace]) => {
  const st = window.__stRuns, now = performance.now();
  if (!st || st.state !== "notRunning" || now - st.lastChange < quiet) return false;
  if (document.querySelector("[data-testid='stElementContainer'][data-stale='true'], [data-testid='stSkeleton']"))
    return false;   // last run's elements, or an element whose code is still loading
  return st.lastRun > st.lastAct || now - st.lastAct > grace;
}"""


@pytest.fixture
def context(context):
    """pytest-playwright's context, every page of it watching Streamlit's runs (WATCH)."""
    context.add_init_script(WATCH)
    return context


def settle(page, timeout: float = 90_000) -> None:
    """Wait until the script run triggered by the last action has finished."""
    if not page.evaluate("() => !!window.__stRuns"):   # a context made without WATCH
        page.evaluate(WATCH)
    page.wait_for_function(SETTLED, arg=[QUIET_MS, GRACE_MS], timeout=timeout, polling=50)


def open_page(page, server, path: str = "") -> None:
    page.goto(server["url"] + "/" + path, wait_until="domcontentloaded")
    page.wait_for_selector("h1", timeout=90_000)
    settle(page)


def no_exception(page) -> None:
    errors = page.locator("[data-testid='stException']")
    assert errors.count() == 0, errors.first.inner_text()


def shoot(page, name: str) -> Path:
    """A screenshot of the whole page (Streamlit scrolls inside stMain, so grow the viewport)."""
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / f"{name}.png"
    height = page.evaluate("() => document.querySelector(\"[data-testid='stMain']\").scrollHeight")
    page.set_viewport_size({"width": 1440, "height": max(1000, min(int(height) + 40, 7000))})
    page.evaluate("() => { window.__stDrawn = 0; }")
    page.wait_for_function(DRAWN, polling="raf", timeout=30_000)  # the charts and grids redraw at the new size
    page.screenshot(path=str(out))
    page.set_viewport_size({"width": 1440, "height": 1000})
    return out


def h1(page) -> str:
    return page.locator("h1").first.inner_text()


# --- one test per page ---------------------------------------------------------------------------------------
def test_overview(page, server):
    open_page(page, server)
    no_exception(page)
    assert "执法效能总览" in h1(page)
    assert page.get_by_text("演示数据").first.is_visible()
    assert page.locator("[data-testid='stMetric']").count() == 5
    assert page.locator("[data-testid='stVegaLiteChart']").count() == 2
    assert page.locator("[data-testid='stPlotlyChart']").count() == 0
    page.wait_for_selector(".st-key-overview_map svg text", timeout=30_000)  # the map's unit names
    assert page.get_by_text("示意图").first.is_visible()
    assert page.get_by_text("预警名单").first.is_visible()
    assert page.locator("[data-testid='stSidebar']").get_by_text("评价对象").is_visible()
    shoot(page, "01-overview")


def test_ranking_and_excel_export(page, server):
    open_page(page, server, "ranking")
    no_exception(page)
    assert h1(page) == "执法效能指数排名"
    assert page.locator("[data-testid='stDataFrame']").count() >= 1
    for _ in range(3):  # the file is made on click; a rerun on click used to drop it (tests/pages/test_downloads.py)
        with page.expect_download() as dl:
            page.get_by_role("button", name="导出 Excel").click()
        path = dl.value.path()
        assert dl.value.suggested_filename.endswith(".xlsx") and Path(path).stat().st_size > 4000
    shoot(page, "02-ranking")


def test_region(page, server):
    open_page(page, server, "region")
    no_exception(page)
    assert h1(page).startswith("区域分析 · ")
    assert page.get_by_text("主要失分").first.is_visible()
    # the lower sections are tabs: the first is open, the others run when clicked
    for text in ("指标明细", "能力建设与案例报送", "追溯记录", "逐级下钻"):
        assert page.get_by_role("tab", name=text).is_visible()
    assert page.get_by_text("分母").first.is_visible() and page.locator(".st-key-drill_kind").count() == 0
    assert page.locator("[data-testid='stVegaLiteChart']").count() == 3 and page.locator("[data-testid='stPlotlyChart']").count() == 0
    shoot(page, "03-region")


def test_assessment(page, server, demo_db):
    open_page(page, server, "assessment")
    no_exception(page)
    assert h1(page).startswith("执法量化考评 · ")
    alerts = page.locator("[data-testid='stAlertContentError']")
    assert alerts.count() >= 1 and "低于80分" in alerts.first.inner_text()
    assert page.get_by_text("提醒敦促函").first.is_visible()
    assert page.get_by_text("年度通报表扬").first.is_visible()
    shoot(page, "04-assessment")


def test_method(page, server):
    open_page(page, server, "method")
    no_exception(page)
    assert h1(page) == "方法说明"
    page.get_by_role("tab", name="季度考评").click()
    page.get_by_text("基本分 100 分").first.wait_for(state="visible", timeout=10_000)
    assert page.get_by_text("基本分 100 分").first.is_visible()
    page.get_by_role("tab", name="执法效能指数").click()
    shoot(page, "06-method")


# --- the new user's way through, from the README --------------------------------------------------------------
def _bad_inspections_csv(db: Path) -> bytes:
    con = duckdb.connect(str(db), read_only=True)
    try:
        ent, agency, last = con.execute(
            "SELECT enterprise_id, agency_code, (SELECT max(inspection_date) FROM inspections) "
            "FROM inspections ORDER BY inspection_id LIMIT 1").fetchone()
    finally:
        con.close()
    return ("检查编号,统一社会信用代码,执法机构区划代码,检查日期,检查方式,移动执法,专家参与\n"
            f"BROWSER-1,{ent},{agency},{last},双随机,是,否\n"
            f"BROWSER-2,{ent},{agency},明天,双随机,是,否\n").encode("utf-8")


def test_new_user_finds_the_last_three_follows_one_down_to_records_and_imports_a_file(page, server):
    # 1. the last three cities of the latest quarter: on the overview, the 靠后 line and the warning list
    open_page(page, server)
    lagging = page.get_by_text("靠后").first.locator("xpath=..").inner_text()
    assert lagging.count("市") >= 3
    # 2. why one of them scored low: 分析 › opens 区域分析 on that city
    page.get_by_role("button", name="分析 ›").first.click()
    settle(page)
    no_exception(page)
    city = h1(page).removeprefix("区域分析 · ")
    assert city.endswith("市")
    assert page.get_by_text("已列入").first.is_visible()
    assert page.get_by_text("主要失分").first.is_visible()
    # the records behind a number: the denominator of the first indicator
    page.get_by_role("tab", name="追溯记录").click()
    settle(page)
    page.locator("[data-testid='stRadio']").filter(has_text="部分").get_by_text("分母", exact=True).click()
    settle(page)
    assert "的分母" in page.get_by_text("的分母").first.inner_text()
    # down to the hazards of the city's enterprises, status as of the quarter's end
    page.get_by_role("tab", name="逐级下钻").click()
    settle(page)
    page.locator(".st-key-drill_kind").get_by_text("隐患", exact=True).click()
    settle(page)
    assert page.get_by_text("整改状态").first.count() >= 0
    shoot(page, "07-story-region")
    # 3. import a file with a bad row
    page.get_by_role("link", name="数据导入").click()
    settle(page)
    assert h1(page) == "数据导入"
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
        files=[{"name": "检查补录.csv", "mimeType": "text/csv", "buffer": _bad_inspections_csv(server["db"])}])
    page.locator("[data-testid='stFileChipName']", has_text="检查补录.csv").wait_for(timeout=30_000)
    settle(page)   # the run the upload starts
    page.get_by_role("button", name="开始导入").click()
    settle(page)
    no_exception(page)
    assert page.get_by_text("校验报告").first.is_visible()
    assert page.get_by_text("1 行未通过校验").first.is_visible()
    with page.expect_download() as dl:
        page.get_by_role("button", name="下载未导入的行及原因（CSV）").click()
    text = Path(dl.value.path()).read_text(encoding="utf-8-sig")
    assert "明天" in text and "检查补录.csv" in text
    shoot(page, "05-import")


def test_empty_warehouse_start_page(page, tmp_path):
    """No warehouse yet: the app opens on 开始使用, offering the demo and the import."""
    with serve(tmp_path / "none" / "warehouse.duckdb", tmp_path) as url:
        open_page(page, dict(url=url))
        no_exception(page)
        assert h1(page) == "执法效能 · 安全生产执法效能评估"
        assert page.get_by_role("button", name="生成演示数据").is_visible()
        assert page.get_by_role("button", name="前往数据导入").is_visible()
        assert page.get_by_text("演示数据 ·").count() == 0  # no demo banner without demo data
        shoot(page, "00-start-empty")
