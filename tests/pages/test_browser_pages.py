"""Real browser: the overview's map labels and 同比 tiles; every page, for a province user and a
city user, free of Streamlit's built-in English ("Page not found", the uploader's texts, also while
a file is dragged over it, "Choose an option") and of untranslated codes ("password").
Screenshots in test-artifacts/."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.pages.test_browser import (  # noqa: F401 (the browser fixtures: Debian chromium, viewport)
    CHROMIUM, browser_context_args, browser_type_launch_args, no_exception, serve, settle, shoot)
from ui import auth, pages_registry

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (make browser)"),
]
ENGLISH = ("Page not found", "Drag and drop", "200MB per file", "MB per file", "Browse files", "Choose an option",
           "Choose options", "password")
PASSWORDS = {"prov": "prov-pass-1", "jinhua": "city-pass-1"}


@pytest.fixture(scope="module")
def signed_server(demo_db, tmp_path_factory):
    base = tmp_path_factory.mktemp("browser-pages")
    db = base / "warehouse.duckdb"
    shutil.copyfile(demo_db, db)
    users = base / "users.toml"
    auth.save_users(users, {
        "jinhua": auth.User("jinhua", "金华市应急管理局", ("city",), auth.hash_password(PASSWORDS["jinhua"], 4), "330700"),
        "prov": auth.User("prov", "省厅", ("province",), auth.hash_password(PASSWORDS["prov"], 4)),
    })
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ENFORCEMENT_USERS", str(users))
        with serve(db, base) as url:
            yield dict(url=url, db=db)


def sign_in(page, url: str, username: str, path: str = "overview") -> None:
    page.goto(url + "/" + path, wait_until="domcontentloaded")
    page.wait_for_selector("h1", timeout=90_000)
    settle(page)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORDS[username])
    page.get_by_role("button", name="登录").click()
    settle(page)


def english(page) -> list[str]:
    body = page.inner_text("body")
    return [s for s in ENGLISH if s in body]


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


@pytest.mark.parametrize("username", ["prov", "jinhua"])
def test_no_builtin_english_on_any_page(page, signed_server, username):
    url = signed_server["url"]
    sign_in(page, url, username)
    assert page.url.endswith("/overview") and not english(page), english(page)
    user = auth.load_users(Path(signed_server["db"]).parent / "users.toml")[username]
    seen = []
    for d in pages_registry.visible(True):
        if not user.can(d.permission):
            continue
        # through the navigation (a reload would be a new, signed-out session)
        page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=d.title).click()
        settle(page)
        no_exception(page)
        assert page.locator("h1").first.inner_text() != "执法效能 · 登录"
        found = english(page)
        if d.name == "import":
            found += drag_over_uploader(page)
        if d.name == "import":   # the audit tab (its grid's 方式 密码 is checked in tests/etl/test_audit_journal.py)
            page.locator("[role='tab']", has_text="审计").first.click()
            settle(page)
            found += english(page)
        assert not found, f"{d.url_path}: {found}"
        assert page.url.split("?")[0].endswith("/" + d.url_path)
        seen.append(d.url_path)  # (screenshots of every page: tests/pages/test_browser.py)
    assert "overview" in seen and ("data_import" in seen) == (username == "prov")


def test_overview_map_labels_and_tiles_year_on_year(page, signed_server):
    from etl import warehouse
    from metrics import kpis

    url = signed_server["url"]
    sign_in(page, url, "prov")
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
    page.wait_for_timeout(1500)
    labels = page.locator(".st-key-overview_map svg text").all_inner_texts()
    assert set(cities) <= set(labels), (cities, labels)
    body = page.inner_text("body")
    n = yoy.loc["inspections", "change"]
    assert f"同比 {n * 100:+.1f}%" in body
    assert "环比" in body and "上年同期无数据" not in body
    shoot(page, "overview-map-yoy")
