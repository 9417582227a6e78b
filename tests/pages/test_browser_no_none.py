"""Real browser: every page, as a province user and as the city user of 金华, shows no `None`,
`nan`, `NaT` or `<NA>` — in the page's text and in each table read in full through the grid's own
"Download as CSV" (issue 12). A missing value reads "— 无数据", "— 不适用" or "— 未公开"."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.pages.test_browser import (  # noqa: F401 (the browser fixtures: Debian chromium, viewport)
    CHROMIUM, browser_context_args, browser_type_launch_args, no_exception, settle)
from tests.pages.test_browser_access import city_server, tables_text  # noqa: F401 (the server: both users)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (make browser)"),
]
BAD = re.compile(r"\bNone\b|\bnan\b|\bNaN\b|\bNaT\b|<NA>")
PAGES = ["总览", "排名", "区域分析", "分析工具", "季度考评", "方法说明"]
USERS = {"prov": ("prov-pass-1", "省厅"), "jinhua": ("city-pass-1", "金华市应急管理局")}


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
def test_no_none_nan_nat_on_any_page(page, city_server, user):
    sign_in(page, city_server["url"], user)
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
