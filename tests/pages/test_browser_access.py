"""Real browser, signed in as the city user of 330700 金华市 (users file with bcrypt hashes): every page
opens without an exception, 数据导入 is not offered, and no other city's name appears in any table
of records — read in full through each table's own "Download as CSV". A deep link opened before
signing in leads to that page once signed in."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.pages.test_browser import (  # noqa: F401 (the browser fixtures: Debian chromium, viewport)
    CHROMIUM, browser_context_args, browser_type_launch_args, no_exception, serve, settle, shoot)
from ui import auth

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (make browser)"),
]
OTHER_CITIES = ["杭州市", "宁波市", "温州市", "嘉兴市", "湖州市", "绍兴市", "衢州市", "舟山市", "台州市", "丽水市"]


@pytest.fixture(scope="module")
def city_server(demo_db, tmp_path_factory):
    import shutil

    base = tmp_path_factory.mktemp("browser-access")
    db = base / "warehouse.duckdb"
    shutil.copyfile(demo_db, db)
    users = base / "users.toml"
    auth.save_users(users, {
        "jinhua": auth.User("jinhua", "金华市应急管理局", ("city",), auth.hash_password("city-pass-1", 4), "330700"),
        "prov": auth.User("prov", "省厅", ("province",), auth.hash_password("prov-pass-1", 4)),
    })
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ENFORCEMENT_USERS", str(users))
        with serve(db, base) as url:
            yield dict(url=url, db=db)


def sign_in(page, url: str, path: str = "") -> None:
    # the grid's Download as CSV saves through a file picker where the browser has one: use a download
    page.add_init_script("delete window.showSaveFilePicker;")
    page.goto(url + "/" + path, wait_until="domcontentloaded")
    page.wait_for_selector("h1", timeout=90_000)
    settle(page)
    assert page.locator("h1").first.inner_text() == "执法效能 · 登录"
    assert page.locator("[data-testid='stDataFrame']").count() == 0
    page.get_by_label("用户名").fill("jinhua")
    page.get_by_label("密码", exact=True).fill("city-pass-1")
    page.get_by_role("button", name="登录").click()
    settle(page)


def go(page, title: str) -> None:
    page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=title).click()
    settle(page)
    no_exception(page)


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


def assert_no_other_city(texts: list[str], where: str) -> None:
    for text in texts:
        found = [c for c in OTHER_CITIES if c in text]
        assert not found, f"{where}: {found} in a records table:\n{text[:400]}"


def test_city_user_walks_every_page_and_sees_no_other_city_in_records(page, city_server):
    sign_in(page, city_server["url"], "region")        # a deep link survives the sign-in
    no_exception(page)
    assert page.locator("h1").first.inner_text() == "区域分析 · 金华市"
    nav = page.locator("[data-testid='stSidebarNav']")
    assert nav.get_by_role("link", name="数据导入").count() == 0
    assert page.locator("[data-testid='stSidebar']").get_by_text("jinhua").first.is_visible()

    # 区域分析: indicators, the records behind a number, counties, enterprises, each kind of record
    texts = tables_text(page)
    assert len(texts) >= 4 and any("婺城区" in t for t in texts)
    for kind in ("执法检查", "隐患", "处罚案件"):  # the record lists, sent when asked for
        page.locator(".st-key-drill_kind").get_by_text(kind, exact=True).click()
        settle(page)
        texts += tables_text(page)
    assert_no_other_city(texts, "区域分析")
    shoot(page, "10-access-city-region")

    for title in ("总览", "排名", "分析工具", "季度考评", "方法说明"):
        go(page, title)
        assert page.locator("h1").count() >= 1
    go(page, "分析工具")
    page.locator("[data-testid='stMain'] [data-testid='stRadio']").first.get_by_text("数据质量", exact=True).click()
    settle(page)
    no_exception(page)
    assert_no_other_city(tables_text(page)[:1], "数据质量")   # the review flags: own units only
    go(page, "季度考评")
    page.get_by_role("tab", name="函件登记与回复").click()
    page.wait_for_timeout(300)
    assert page.get_by_role("button", name="编号并生成提醒敦促函（3 份）").count() == 0
    shoot(page, "11-access-city-assessment")

    # sign out: back to the form, nothing left on screen
    page.locator("[data-testid='stSidebar']").get_by_role("button", name="退出登录").click()
    settle(page)
    assert page.locator("h1").first.inner_text() == "执法效能 · 登录"
    assert page.locator("[data-testid='stDataFrame']").count() == 0
