"""Real browser, one server with a users file (bcrypt hashes): a province user and the city user of
330700 金华市 each walk every page they may open, once, and every visit makes all these checks:

- the page opens without an exception, signed in, at its own address;
- no `None`, `nan`, `NaT` or `<NA>` in the page's text or in any table read in full through the grid's
  own "Download as CSV" (issue 12; a missing value reads "— 无数据", "— 不适用" or "— 未公开");
- none of Streamlit's built-in English ("Page not found", the uploader's texts, also while a file is
  dragged over it, "Choose an option") nor untranslated codes ("password");
- for the city user: 数据导入 is not offered, and no other city's name appears in any table of records
  (区域分析 with each kind of record list, 分析工具's 数据质量), no letter can be issued, and signing out
  leaves nothing on screen. A deep link opened before signing in leads to that page once signed in.
- for the province user: the overview's map labels every city and its 同比 tiles match metrics.kpis;
- for both: no request of the browser leaves the app's own address, the sign-in screen included (no
  usage statistics to data.streamlit.io, no icon from fonts.gstatic.com: an intranet blocks both, and
  each tells a third party who uses the app).

(One walk per user rather than one per check: each walk signs in and renders every page, the slow part.)
Screenshots in test-artifacts/."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.pages.test_browser import (  # noqa: F401 (the browser fixtures: Debian chromium, viewport, WATCH)
    CHROMIUM, browser_context_args, browser_type_launch_args, context, no_exception, serve, settle, shoot)
from ui import auth, pages_registry

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (make browser)"),
]
PASSWORDS = {"prov": "prov-pass-1", "jinhua": "city-pass-1"}
OTHER_CITIES = ["杭州市", "宁波市", "温州市", "嘉兴市", "湖州市", "绍兴市", "衢州市", "舟山市", "台州市", "丽水市"]
BAD = re.compile(r"\bNone\b|\bnan\b|\bNaN\b|\bNaT\b|<NA>")
ENGLISH = ("Page not found", "Drag and drop", "200MB per file", "MB per file", "Browse files", "Choose an option",
           "Choose options", "password")
LOGIN = "执法效能 · 登录"


@pytest.fixture(scope="module")
def signed_server(demo_copy):
    db = demo_copy("browser-walk")
    base = db.parent
    users = base / "users.toml"
    auth.save_users(users, {
        "jinhua": auth.User("jinhua", "金华市应急管理局", ("city",), auth.hash_password(PASSWORDS["jinhua"], 4), "330700"),
        "prov": auth.User("prov", "省厅", ("province",), auth.hash_password(PASSWORDS["prov"], 4)),
    })
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ENFORCEMENT_USERS", str(users))
        with serve(db, base) as url:
            yield dict(url=url, db=db, users=users)


def requests_elsewhere(page, url: str) -> list[str]:
    """A list that fills, from now on, with every request `page` makes to anywhere but `url`'s origin."""
    from urllib.parse import urlsplit

    own = urlsplit(url)[:2]
    out: list[str] = []
    page.on("request", lambda r: out.append(r.url) if urlsplit(r.url)[:2] != own and not r.url.startswith(
        ("data:", "blob:")) else None)
    return out


def h1(page) -> str:
    return page.locator("h1").first.inner_text()


def sign_in(page, url: str, username: str, path: str) -> None:
    """Open `path` signed out (the sign-in form, nothing else), then sign in."""
    # the grid's Download as CSV saves through a file picker where the browser has one: use a download
    page.add_init_script("delete window.showSaveFilePicker;")
    page.goto(url + "/" + path, wait_until="domcontentloaded")
    page.wait_for_selector("h1", timeout=90_000)
    settle(page)
    assert h1(page) == LOGIN
    assert page.locator("[data-testid='stDataFrame']").count() == 0
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORDS[username])
    page.get_by_role("button", name="登录").click()
    settle(page)


def tables_text(page) -> list[str]:
    """Each dataframe on the page as its CSV (the toolbar's Download as CSV: every row, not only the
    rows the grid has drawn)."""
    out = []
    frames = page.locator("[data-testid='stDataFrame']")
    for i in range(frames.count()):
        frame = frames.nth(i)
        if not frame.is_visible():
            continue
        frame.scroll_into_view_if_needed()
        frame.hover()
        button = frame.locator("button[aria-label='Download as CSV']")
        button.wait_for(state="visible", timeout=10_000)
        with page.expect_download() as dl:
            button.evaluate("b => b.click()")  # the toolbar can sit over a short grid's scroller
        out.append(Path(dl.value.path()).read_text(encoding="utf-8-sig"))
    return out


def bad_words(text: str) -> list[str]:
    return [text[max(0, m.start() - 40):m.end() + 40].replace("\n", " ") for m in BAD.finditer(text)]


def english(page) -> list[str]:
    body = page.inner_text("body")
    return [s for s in ENGLISH if s in body]


def other_cities(texts: list[str], where: str) -> list[str]:
    out = []
    for text in texts:
        found = [c for c in OTHER_CITIES if c in text]
        if found:
            out.append(f"{where}: {found} in a records table:\n{text[:400]}")
    return out


def drag_over_uploader(page) -> list[str]:
    """Drag a file over the uploader (the events a browser sends): the English found while its
    drop overlay shows, and a complaint if the overlay does not read Chinese."""
    zone = page.locator("[data-testid='stFileUploaderDropzone']").first
    dt = page.evaluate_handle("() => { const d = new DataTransfer();"
                              " d.items.add(new File(['a,b'], '检查.csv', {type: 'text/csv'})); return d; }")
    zone.dispatch_event("dragenter", {"dataTransfer": dt})
    zone.dispatch_event("dragover", {"dataTransfer": dt})
    overlay = zone.locator(":scope > div > span")
    overlay.wait_for(state="attached", timeout=5_000)   # the drop overlay is up
    found = english(page)
    shown = overlay.evaluate("s => getComputedStyle(s, '::after').content")
    zone.dispatch_event("dragleave", {"dataTransfer": dt})
    return found + ([] if "将文件拖放到此处" in shown else [f"the drop overlay reads {shown!r}, not 将文件拖放到此处"])


class Walk:
    """What one user's walk found: each problem with the page and check that found it."""

    def __init__(self, page):
        self.page = page
        self.problems: list[str] = []
        self.tables = 0
        self.seen: list[str] = []
        self.csv: dict[str, list[str]] = {}

    def check_view(self, where: str) -> list[str]:
        """The checks every view gets: no exception, no English, no None/nan/NaT/<NA> in the text and in
        every table (read in full). Returns the tables' CSV text."""
        page = self.page
        no_exception(page)
        self.problems += [f"{where} English: {s}" for s in english(page)]
        body = page.locator("[data-testid='stMain']").inner_text()
        self.problems += [f"{where} text: …{w}…" for w in bad_words(body)]
        texts = tables_text(page)
        for k, csv in enumerate(texts):
            self.tables += 1
            self.problems += [f"{where} table {k}: …{w}…" for w in bad_words(csv)]
        return texts

    def visit(self, d) -> list[str]:
        """Open page `d` through the navigation (a reload would be a new, signed-out session) unless
        it is already showing, and check it."""
        page = self.page
        if not page.url.split("?")[0].endswith("/" + d.url_path):
            page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=d.title).click()
            settle(page)
        no_exception(page)
        assert h1(page) != LOGIN, f"{d.url_path}: the sign-in form instead of the page"
        assert page.url.split("?")[0].endswith("/" + d.url_path), f"{d.url_path}: at {page.url}"
        self.seen.append(d.url_path)
        return self.check_view(d.title)

    def pages(self, user: auth.User):
        return [d for d in pages_registry.visible(True) if user.can(d.permission)]


def test_city_user_walks_every_page(page, signed_server):
    """金华's city user: every check on every page it may open, and nothing of another city."""
    elsewhere = requests_elsewhere(page, signed_server["url"])
    sign_in(page, signed_server["url"], "jinhua", "region")        # a deep link survives the sign-in
    no_exception(page)
    assert h1(page) == "区域分析 · 金华市"
    assert page.url.split("?")[0].endswith("/region") and not english(page), english(page)
    nav = page.locator("[data-testid='stSidebarNav']")
    assert nav.get_by_role("link", name="数据导入").count() == 0
    assert page.locator("[data-testid='stSidebar']").get_by_text("jinhua").first.is_visible()
    user = auth.load_users(signed_server["users"])["jinhua"]
    walk = Walk(page)
    for d in [pages_registry.BY_NAME["region"]] + [d for d in walk.pages(user) if d.name != "region"]:
        texts = walk.visit(d)
        if d.name == "region":
            # indicators, and in the other tabs: capacity, the records behind a number, counties,
            # enterprises, each kind of record
            for tab in ("能力建设与案例报送", "追溯记录", "逐级下钻"):
                page.get_by_role("tab", name=tab).click()
                settle(page)
                texts += walk.check_view(f"区域分析 · {tab}")
            assert len(texts) >= 4 and any("婺城区" in t for t in texts), f"区域分析 tables: {len(texts)}"
            for kind in ("执法检查", "隐患", "处罚案件"):  # the record lists, sent when asked for
                page.locator(".st-key-drill_kind").get_by_text(kind, exact=True).click()
                settle(page)
                texts += walk.check_view(f"区域分析 · {kind}")
            walk.problems += other_cities(texts, "区域分析")
            shoot(page, "10-access-city-region")
        elif d.name == "analysis":
            page.locator("[data-testid='stMain'] [data-testid='stRadio']").first.get_by_text(
                "数据质量", exact=True).click()
            settle(page)
            walk.problems += other_cities(walk.check_view("分析工具 · 数据质量")[:1], "数据质量")  # own units only
        elif d.name == "assessment":
            page.get_by_role("tab", name="函件登记与回复").click()
            page.get_by_role("tab", name="函件登记与回复", selected=True).wait_for(timeout=10_000)
            assert page.get_by_role("button", name="编号并生成提醒敦促函（3 份）").count() == 0, \
                "季度考评: a city user is offered to issue letters"
            shoot(page, "11-access-city-assessment")
    assert not walk.problems, "\n".join(walk.problems)
    assert walk.tables >= 6, walk.tables  # the walk read real tables
    assert "overview" in walk.seen and "data_import" not in walk.seen, walk.seen
    assert {"ranking", "analysis", "assessment", "method"} <= set(walk.seen), walk.seen

    # sign out: back to the form, nothing left on screen
    page.locator("[data-testid='stSidebar']").get_by_role("button", name="退出登录").click()
    settle(page)
    assert h1(page) == LOGIN
    assert page.locator("[data-testid='stDataFrame']").count() == 0
    assert not elsewhere, f"requests that left the app: {sorted(set(elsewhere))}"


def test_province_user_walks_every_page(page, signed_server):
    """The province user: the overview's map and 同比 tiles, then every check on every page, the
    uploader (also while a file is dragged over it) and the import's audit tab included."""
    from etl import warehouse
    from metrics import kpis

    elsewhere = requests_elsewhere(page, signed_server["url"])
    sign_in(page, signed_server["url"], "prov", "overview")
    assert page.url.endswith("/overview") and not english(page), english(page)

    # the overview as it first opens: every city labelled on the map, the 同比 tile from metrics.kpis
    con = warehouse.connect_read(signed_server["db"])
    try:
        latest = con.execute("SELECT max(inspection_date) FROM inspections").fetchone()[0]
        quarter = f"{latest.year}Q{(latest.month - 1) // 3 + 1}"
        yoy = kpis.kpi_tiles(con, quarter, "330000", "year_ago").set_index("kpi")
        cities = [r[0] for r in con.execute("SELECT name FROM regions WHERE level = 'city' AND code LIKE '33%'").fetchall()]
    finally:
        con.close()
    chart = page.locator(".st-key-overview_map")
    chart.scroll_into_view_if_needed()
    try:   # the map draws its labels once in view
        page.wait_for_function("""(cities) => {
            const labels = [...document.querySelectorAll(".st-key-overview_map svg text")].map(t => t.textContent);
            return cities.every(c => labels.includes(c)); }""", arg=cities, timeout=15_000, polling=100)
    except PlaywrightTimeout:
        pass   # the assertion below says which are missing
    labels = page.locator(".st-key-overview_map svg text").all_inner_texts()
    assert set(cities) <= set(labels), (cities, labels)
    body = page.inner_text("body")
    n = yoy.loc["inspections", "change"]
    assert f"同比 {n * 100:+.1f}%" in body
    assert "环比" in body and "上年同期无数据" not in body
    shoot(page, "overview-map-yoy")

    user = auth.load_users(signed_server["users"])["prov"]
    walk = Walk(page)
    for d in walk.pages(user):
        walk.visit(d)
        if d.name == "import":
            walk.problems += [f"{d.url_path} uploader: {s}" for s in drag_over_uploader(page)]
            # the audit tab (its grid's 方式 密码 is checked in tests/etl/test_audit_journal.py)
            page.locator("[role='tab']", has_text="审计").first.click()
            settle(page)
            walk.check_view("数据导入 · 审计")
    assert not walk.problems, "\n".join(walk.problems)
    assert walk.tables >= 6, walk.tables  # the walk read real tables
    assert {"overview", "ranking", "region", "analysis", "assessment", "bulletin", "data_import", "method"} \
        <= set(walk.seen), walk.seen
    assert not elsewhere, f"requests that left the app: {sorted(set(elsewhere))}"
