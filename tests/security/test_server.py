"""Issue 15 items 1, 2, 9 and 11, found by probing a running server: each test starts
``streamlit run`` on 127.0.0.1 and talks to it over HTTP and the websocket as an outsider's script
would (tests/security/wsclient.py speaks the frontend's protobuf protocol).

Measured on this machine (demo warehouse, 1/5 scale, overview page): a signed-in rerun took 0.87 s
warm; after an unsigned websocket sent ``clear_cache`` the next rerun took 2.7 s with
``st.cache_data`` (everything recomputed, the connection reopened) and 0.76 s with ui.cache
(nothing recomputed).
"""
from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request

import pytest
from websockets.exceptions import InvalidStatus

from tests.security.conftest import ROOT, serve
from tests.security.wsclient import Client, sign_in
from ui import auth


def _misses(trace) -> list[str]:
    return trace.read_text(encoding="utf-8").split() if trace.exists() else []


@pytest.fixture(scope="module")
def signed_server(security_db, tmp_path_factory):
    """serve.py in password mode: a province user, and a city user whose display name is HTML."""
    base = tmp_path_factory.mktemp("signed-server")
    users = base / "users.toml"
    auth.save_users(users, {
        "prov": auth.User("prov", "省厅", ("province",), auth.hash_password("prov-pass-1", 4)),
        "eve": auth.User("eve", "<img src=x onerror=alert(1)>**粗体**", ("city",),
                         auth.hash_password("city-pass-1", 4), "330700"),
    })
    trace = base / "cache-trace.txt"
    env = {"ENFORCEMENT_DB": str(security_db), "ENFORCEMENT_USERS": str(users),
           "ENFORCEMENT_CACHE_TRACE": str(trace), "ENFORCEMENT_METRICS": "1",
           "ENFORCEMENT_WARMUP": "0"}  # the trace counts what sessions compute; no background warm-up in it
    with serve("serve.py", base, env) as (url, log):
        yield dict(url=url, trace=trace, log=log)


def test_clear_cache_sent_before_signing_in_leaves_every_figure_cached(signed_server):
    url, trace = signed_server["url"], signed_server["trace"]
    user = Client(url)
    try:
        first = sign_in(user, "prov", "prov-pass-1")
        assert first.status == "FINISHED_SUCCESSFULLY" and first.of("metric"), first.text()[:500]
        computed = _misses(trace)
        assert {"_connection", "_index", "_score"} <= set(computed), computed   # the overview computed them
        shown = [m.body for m in first.of("metric")]

        attacker = Client(url)
        try:
            login_form = attacker.rerun()
            assert "login_username" in str([p.id for p in login_form.of("text_input")])  # not signed in
            attacker.clear_cache()
            attacker.rerun()  # the message has been handled once the next run ends
        finally:
            attacker.close()

        again = user.rerun()
        assert again.status == "FINISHED_SUCCESSFULLY"
        assert _misses(trace) == computed, f"recomputed after clear_cache: {_misses(trace)[len(computed):]}"
        assert [m.body for m in again.of("metric")] == shown
    finally:
        user.close()


def test_metrics_names_no_cache_of_the_app(signed_server):
    """Even where /_stcore/metrics is opened to this machine (ENFORCEMENT_METRICS=1), it lists no
    cached function of the app (they are not Streamlit caches) after figures were computed."""
    with urllib.request.urlopen(signed_server["url"] + "/_stcore/metrics", timeout=10) as r:
        text = r.read().decode()
    assert "session_events" in text
    for name in ("_index", "_score", "_connection", "ui.data", "ui.analysis_data"):
        assert name not in text


def test_a_display_name_is_shown_as_text_not_html(signed_server):
    client = Client(signed_server["url"])
    try:
        run = sign_in(client, "eve", "city-pass-1")
        bodies = [m.body for m in run.of("markdown")]
        mine = [b for b in bodies if "img" in b]
        assert mine, bodies
        assert all("<img" not in b and "**粗体**" not in b for b in mine), mine
        assert all(not m.allow_html for m in run.of("markdown") if "img" in m.body)
    finally:
        client.close()


@pytest.fixture(scope="module")
def closed_server(security_db, tmp_path_factory):
    """A users file with a plaintext password for 'eve': the app is closed."""
    base = tmp_path_factory.mktemp("closed-server")
    users = base / "secret-users.toml"
    users.write_text('[users.eve]\nroles = ["province"]\npassword = "hunter2hunter2"\n', encoding="utf-8")
    env = {"ENFORCEMENT_DB": str(security_db), "ENFORCEMENT_USERS": str(users), "ENFORCEMENT_METRICS": None}
    with serve("serve.py", base, env) as (url, log):
        yield dict(url=url, log=log, users=users)


def test_the_closed_screen_tells_a_visitor_nothing_and_the_log_everything(closed_server):
    client = Client(closed_server["url"])
    try:
        run = client.rerun()
    finally:
        client.close()
    text = run.text()
    assert "系统暂不可用" in text
    for leak in ("eve", "明文密码", "secret-users", str(closed_server["users"].parent), "ui.users"):
        assert leak not in text, leak
    time.sleep(0.3)
    log = closed_server["log"].read_text(encoding="utf-8")
    assert "明文密码" in log and "'eve'" in log and str(closed_server["users"]) in log


def test_the_metrics_endpoint_is_closed(closed_server):
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(closed_server["url"] + "/_stcore/metrics", timeout=10)
    assert e.value.code == 404
    with urllib.request.urlopen(closed_server["url"] + "/_stcore/health", timeout=10) as r:
        assert r.status == 200


# --- open mode: this machine only ---------------------------------------------------------------------
def _lan_address() -> str | None:
    """This machine's address on its network (no packet is sent), or None."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))
            ip = s.getsockname()[0]
    except OSError:
        return None
    return None if ip.startswith("127.") else ip


OPEN_ENV = {"ENFORCEMENT_USERS": None, "ENFORCEMENT_METRICS": None}


@pytest.fixture(scope="module")
def open_server(security_db, tmp_path_factory):
    """`make run`'s command without a users file and without --server.address."""
    if (ROOT / "data" / "users.toml").exists():
        pytest.skip("data/users.toml exists here: not open mode")
    base = tmp_path_factory.mktemp("open-server")
    with serve("serve.py", base, {**OPEN_ENV, "ENFORCEMENT_DB": str(security_db)}, address=None) as (url, log):
        yield dict(url=url, log=log, port=int(url.rsplit(":", 1)[1]))


def test_open_mode_listens_on_this_machine_only(open_server):
    lan = _lan_address()
    if lan is None:
        pytest.skip("no network address on this machine")
    with pytest.raises(OSError):
        socket.create_connection((lan, open_server["port"]), timeout=2).close()
    with urllib.request.urlopen(open_server["url"] + "/_stcore/health", timeout=10) as r:
        assert r.status == 200
    assert "Network URL" not in open_server["log"].read_text(encoding="utf-8")


def test_open_mode_refuses_a_request_relayed_from_another_machine(open_server):
    req = urllib.request.Request(open_server["url"] + "/", headers={"X-Forwarded-For": "198.51.100.7"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 403 and "用户文件" in e.value.read().decode()
    with pytest.raises(InvalidStatus):
        Client(open_server["url"], headers={"X-Forwarded-For": "198.51.100.7"})
    local = Client(open_server["url"])  # from this machine: the app itself
    try:
        run = local.rerun()
        assert run.of("metric") and "开放模式" not in run.text()
    finally:
        local.close()


def test_the_app_itself_refuses_open_mode_to_another_machine(security_db, tmp_path):
    """`streamlit run app.py` (no serve.py in front): the app checks the session's address and
    proxy headers itself."""
    if (ROOT / "data" / "users.toml").exists():
        pytest.skip("data/users.toml exists here: not open mode")
    with serve("app.py", tmp_path, {**OPEN_ENV, "ENFORCEMENT_DB": str(security_db)}) as (url, _):
        remote = Client(url, headers={"X-Forwarded-For": "198.51.100.7"})
        try:
            run = remote.rerun()
        finally:
            remote.close()
    assert auth.OPEN_REMOTE in run.text()
    assert not run.of("metric") and not run.of("arrow_data_frame") and not run.of("vega_lite_chart")
