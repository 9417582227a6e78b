"""Real browser, single sign-on: the first press after the server restarts under an open tab takes.

The tab keeps its page and reconnects to the new server process by itself; the press is the first
message of a new session there, which the sign-in cookie signs in at once (with passwords the new
session shows the sign-in form instead). A new session has no widget registered yet, so Streamlit
can only match the press to a widget of the first run by its exact id. Two things lost it once:

- Streamlit's legacy pages-folder mode (a folder named ``pages/`` beside app.py): a process's first
  run ran the page file alone, which draws the frame's widgets under other ids than every later
  run, the ones the tab held. serve.py now leaves the mode before the first session.
- 退出登录 acted through ``on_click``: Streamlit runs a callback only with what an earlier run of
  the same session registered. The frame now reads the button's value.

The identity provider's part (st.login) is not exercised: the browser is handed the cookie Streamlit
sets after it, signed with the [auth] cookie_secret of the test's secrets file."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.pages.test_access import journal
from tests.pages.test_browser import (  # noqa: F401 (the browser fixtures: Debian chromium, viewport, WATCH)
    CHROMIUM, browser_context_args, browser_type_launch_args, context, no_exception, settle)
from tests.server import free_port, serve
from ui import auth

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (make browser)"),
]
SECRET = "sso-browser-test-cookie-secret-0123456789"
EMAIL = "prov@example.gov.cn"
APP = "[data-testid='stApp']"


@pytest.fixture
def sso(security_db, tmp_path):
    """A users file whose province user signs in by e-mail, a secrets file with [auth], a port."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    users = tmp_path / "users.toml"
    auth.save_users(users, {"prov": auth.User("prov", "省厅", ("province",), None, email=EMAIL)})
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[auth]\nredirect_uri = "{url}/oauth2callback"\ncookie_secret = "{SECRET}"\n'
                       'client_id = "id"\nclient_secret = "s"\n'
                       'server_metadata_url = "https://idp.example/.well-known/openid-configuration"\n',
                       encoding="utf-8")
    env = {"ENFORCEMENT_DB": str(security_db), "ENFORCEMENT_USERS": str(users)}
    return dict(port=port, url=url, env=env, extra=("--secrets.files", str(secrets)), db=security_db, base=tmp_path)


def signed_in_cookie(url: str) -> dict:
    """The cookie Streamlit sets once the identity provider vouched for EMAIL (st.login's callback)."""
    from streamlit.web.server.starlette.starlette_app_utils import create_signed_value

    value = json.dumps({"origin": url, "is_logged_in": True, "email": EMAIL, "email_verified": True})
    return {"name": "_streamlit_user", "value": create_signed_value(SECRET, "_streamlit_user", value).decode(),
            "url": url}


def server(sso, n: int):
    """The n-th server process on the test's port: serve.py, as `make run` and the deployment start it
    (without the warm-up, which the test does not need)."""
    log_dir = sso["base"] / f"server-{n}"
    log_dir.mkdir()
    return serve("serve.py", log_dir, {**sso["env"], "ENFORCEMENT_WARMUP": "0"}, extra=sso["extra"], port=sso["port"])


def h1(page) -> str:
    return page.locator("h1").first.inner_text()


def checked(page, key: str) -> str:
    return page.locator(f"[data-testid='stSidebar'] .st-key-{key} input[type=radio]:checked").evaluate(
        "e => e.closest('label').innerText")


def test_the_first_press_after_a_restart_takes(page, sso):
    page.context.add_cookies([signed_in_cookie(sso["url"])])
    sidebar = page.locator("[data-testid='stSidebar']")
    with server(sso, 1):
        page.goto(sso["url"] + "/method", wait_until="domcontentloaded")
        page.wait_for_selector("h1", timeout=90_000)
        settle(page)
        assert h1(page) == "方法说明" and sidebar.get_by_text("省厅").first.is_visible()   # signed in by the cookie
        sidebar.get_by_text("年度", exact=True).click()       # the tab now holds the ids of a later run
        settle(page)
        assert checked(page, "period_kind") == "年度"
    page.wait_for_selector(f"{APP}:not([data-test-connection-state='CONNECTED'])", timeout=30_000)

    with server(sso, 2):                                      # a fresh process; the tab reconnects by itself
        page.wait_for_selector(f"{APP}[data-test-connection-state='CONNECTED']", timeout=30_000)
        sidebar.get_by_role("button", name="退出登录").click()
        settle(page)
        no_exception(page)
        assert h1(page) == "执法效能 · 登录", "the first press on 退出登录 after the restart was ignored"
        assert [e["action"] for e in journal(sso["db"]) if e["actor"] == "prov"][-1] == "logout"
