"""Real browser: every page, as a province user and as the city user of 金华, shows no `None`,
`nan`, `NaT` or `<NA>` — in the page's text and in each table read in full through the grid's own
"Download as CSV" (issue 12). A missing value reads "— 无数据", "— 不适用" or "— 未公开"."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.pages.test_browser import (  # noqa: F401 (the browser fixtures: Debian chromium, viewport)
    CHROMIUM, browser_context_args, browser_type_launch_args, no_exception, serve, settle)
from tests.pages.test_browser_access import tables_text
from ui import auth

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (make browser)"),
]
BAD = re.compile(r"\bNone\b|\bnan\b|\bNaN\b|\bNaT\b|<NA>")
PAGES = ["总览", "排名", "区域分析", "分析工具", "季度考评", "方法说明"]
USERS = {"prov": ("prov-pass-1", "省厅"), "jinhua": ("city-pass-1", "金华市应急管理局")}


@pytest.fixture(scope="module")
def two_user_server(demo_db, tmp_path_factory):
    import shutil

    base = tmp_path_factory.mktemp("browser-no-none")
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
            yield url


def sign_in(page, url: str, user: str) -> None:
    page.add_init_script("delete window.showSaveFilePicker;")
    page.goto(url + "/", wait_until="domcontentloaded")
    page.wait_for_selector("h1", timeout=90_000)
    settle(page)
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码", exact=True).fill(USERS[user][0])
    page.get_by_role("button", name="登录").click()
    settle(page)


def bad_words(text: str) -> list[str]:
    return [text[max(0, m.start() - 40):m.end() + 40].replace("\n", " ") for m in BAD.finditer(text)]


@pytest.mark.parametrize("user", list(USERS))
def test_no_none_nan_nat_on_any_page(page, two_user_server, user):
    sign_in(page, two_user_server, user)
    found, tables = [], 0
    for title in PAGES + (["通报"] if user == "prov" else []):
        page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=title).click()
        settle(page)
        no_exception(page)
        body = page.locator("[data-testid='stMain']").inner_text()
        found += [f"{title} text: …{w}…" for w in bad_words(body)]
        for k, csv in enumerate(tables_text(page)):
            tables += 1
            found += [f"{title} table {k}: …{w}…" for w in bad_words(csv)]
    assert not found, "\n".join(found)
    assert tables >= 6, tables  # the walk read real tables
