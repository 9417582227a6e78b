"""The shipped deployment, run here as IT staff would run it: Debian's nginx with the shipped
deploy/nginx/enforcement.conf (only ports, certificate paths and the cache directory changed) terminating TLS in front of
two app processes on 127.0.0.1, with a users file; the certificate is self-signed by the test.

Through the proxy: the health check answers over verified TLS, plain HTTP is redirected, Streamlit's
metrics endpoint is closed, Streamlit's scripts come compressed and, once fetched, from nginx's
cache, a route cookie keeps a browser on one app process while different
browsers are spread over both, and a person signs in and sees the overview."""
from __future__ import annotations

import contextlib
import http.client
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.pages.test_browser import (  # noqa: F401 (the browser fixtures: Debian chromium)
    CHROMIUM, WATCH, browser_context_args, browser_type_launch_args, settle)
from tests.server import free_port, serve
from tests.security.wsclient import Client, sign_in
from ui import auth

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CONF = ROOT / "deploy" / "nginx" / "enforcement.conf"

pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason="Debian nginx not installed (make browser)")


def render_conf(app_ports: list[int], http_port: int, tls_port: int, cert: Path, key: Path, cache: Path) -> str:
    """The shipped site config with only its ports, certificate paths and cache directory changed."""
    text = CONF.read_text(encoding="utf-8")
    swaps = {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl;": f"listen 127.0.0.1:{tls_port} ssl;",
        "/etc/enforcement/tls/server.crt": str(cert),
        "/etc/enforcement/tls/server.key": str(key),
        "server 127.0.0.1:8501;": f"server 127.0.0.1:{app_ports[0]};",
        "server 127.0.0.1:8502;": f"server 127.0.0.1:{app_ports[1]};",
        "https://$host$request_uri": f"https://$host:{tls_port}$request_uri",
        "/var/lib/nginx/enforcement-static": str(cache),
    }
    for old, new in swaps.items():
        assert text.count(old) == 1, f"the shipped config no longer holds {old!r}: update this test with it"
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def proxied(demo_copy):
    db = demo_copy("deploy")
    base = db.parent
    users = base / "users.toml"
    auth.save_users(users, {"prov": auth.User("prov", "省厅", ("province",), auth.hash_password("prov-pass-1", 4))})
    cert, key = base / "server.crt", base / "server.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    http_port, tls_port = free_port(), free_port()
    traces = [base / f"cache-trace-{i}.txt" for i in range(2)]
    with contextlib.ExitStack() as stack:
        # the two processes as deploy/systemd/enforcement@.service starts them: serve.py on 127.0.0.1
        urls = [stack.enter_context(serve("serve.py", base, {"ENFORCEMENT_DB": str(db), "ENFORCEMENT_USERS": str(users),
                                                              "ENFORCEMENT_CACHE_TRACE": str(traces[i])}))[0]
                for i in range(2)]
        app_ports = [int(u.rsplit(":", 1)[1]) for u in urls]
        prefix = base / "nginx"
        (prefix / "logs").mkdir(parents=True)
        (prefix / "conf.d").mkdir()
        # the static cache outside pytest's private tmp: nginx started as root runs its workers as nobody
        cache = Path(tempfile.mkdtemp(prefix="enforcement-nginx-cache-"))
        cache.chmod(0o777)
        stack.callback(shutil.rmtree, cache, True)
        (prefix / "conf.d" / "enforcement.conf").write_text(render_conf(app_ports, http_port, tls_port, cert, key, cache))
        (prefix / "nginx.conf").write_text(f"""
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    log_format routed '$http_cookie|$upstream_addr|$status|$request_uri|$upstream_cache_status';
    access_log {prefix}/logs/access.log routed;
    client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi; uwsgi_temp_path {prefix}/uwsgi; scgi_temp_path {prefix}/scgi;
    include {prefix}/conf.d/*.conf;
}}
""")
        test = subprocess.run([NGINX, "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf")], capture_output=True,
                              text=True)
        assert test.returncode == 0, test.stderr
        proc = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        stack.callback(lambda: (proc.terminate(), proc.wait(10)))
        ctx = ssl.create_default_context(cafile=str(cert))
        deadline = time.time() + 20
        while True:
            try:
                _get(tls_port, "/_stcore/health", ctx)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise AssertionError(f"nginx did not start: {proc.stderr.read() if proc.poll() is not None else ''}")
                time.sleep(0.2)
        yield dict(tls_port=tls_port, http_port=http_port, ctx=ctx, cert=cert, prefix=prefix, app_ports=app_ports,
                   url=f"https://127.0.0.1:{tls_port}", db=db, users=users, traces=dict(zip(app_ports, traces)))


def _get(port: int, path: str, ctx: ssl.SSLContext | None = None, headers: dict | None = None):
    conn = (http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=20) if ctx
            else http.client.HTTPConnection("127.0.0.1", port, timeout=20))
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


def test_tls_health_redirect_and_closed_metrics(proxied):
    status, _, body = _get(proxied["tls_port"], "/_stcore/health", proxied["ctx"])  # verified against our cert
    assert (status, body) == (200, b"ok")
    status, headers, _ = _get(proxied["http_port"], "/overview")
    assert status == 301 and headers["Location"] == f"https://127.0.0.1:{proxied['tls_port']}/overview"
    status, _, body = _get(proxied["tls_port"], "/_stcore/metrics", proxied["ctx"])
    assert status == 404 and b"cache" not in body
    # the app processes themselves answer on loopback only
    for port in proxied["app_ports"]:
        with pytest.raises(OSError):
            socket.create_connection((_outward_address(), port), timeout=2).close()


def test_streamlit_scripts_come_compressed_and_from_the_proxys_cache(proxied):
    """A script of Streamlit's, as a browser asks for it through the proxy: gzip-compressed, the same
    bytes as the app sends, and from the second request on answered by nginx's cache without
    reaching an app process (the access log's upstream is '-', its cache status HIT)."""
    import gzip

    _, _, page = _get(proxied["tls_port"], "/", proxied["ctx"])
    script = re.search(rb'src="\./(static/js/index\.[^"]+\.js)"', page).group(1).decode()
    _, _, plain = _get(proxied["app_ports"][0], "/" + script)           # the app itself, no proxy
    log = proxied["prefix"] / "logs" / "access.log"
    log.write_text("")
    got = []
    for _ in range(3):
        status, headers, body = _get(proxied["tls_port"], "/" + script, proxied["ctx"], {"Accept-Encoding": "gzip"})
        assert status == 200 and headers.get("Content-Encoding") == "gzip", headers
        assert gzip.decompress(body) == plain
        got.append(len(body))
    assert max(got) < len(plain) / 2, (got, len(plain))   # index.js: about a third
    status, headers, body = _get(proxied["tls_port"], "/" + script, proxied["ctx"])   # no Accept-Encoding
    assert status == 200 and "Content-Encoding" not in headers and body == plain
    assert "Strict-Transport-Security" in headers and headers.get("X-Content-Type-Options") == "nosniff"
    deadline = time.time() + 10
    while len(rows := [line.split("|") for line in log.read_text().splitlines() if script in line]) < 4:
        assert time.time() < deadline, f"nginx logged {len(rows)} of the 4 requests"
        time.sleep(0.05)
    assert [r[4] for r in rows[1:]] == ["HIT"] * 3 and {r[1] for r in rows[1:]} == {"-"}, rows


def _outward_address() -> str:
    """This machine's non-loopback address (the one other hosts would use)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent by a UDP connect
            addr = s.getsockname()[0]
        except OSError:
            addr = "127.0.0.1"
    if addr.startswith("127."):
        pytest.skip("this machine has no non-loopback address")
    return addr


def test_route_cookie_keeps_a_browser_on_one_process_and_spreads_browsers(proxied):
    log = proxied["prefix"] / "logs" / "access.log"
    status, headers, _ = _get(proxied["tls_port"], "/_stcore/health", proxied["ctx"])
    cookie = re.search(r"enforcement_route=([^;]+)", headers["Set-Cookie"]).group(1)
    assert "HttpOnly" in headers["Set-Cookie"] and "Secure" in headers["Set-Cookie"]
    log.write_text("")
    for _ in range(8):
        _get(proxied["tls_port"], "/_stcore/health", proxied["ctx"], {"Cookie": f"enforcement_route={cookie}"})
    for i in range(24):
        _get(proxied["tls_port"], "/_stcore/health", proxied["ctx"], {"Cookie": f"enforcement_route=browser-{i}"})
    deadline = time.time() + 10
    while len(rows := [line.split("|") for line in log.read_text().splitlines() if "/_stcore/health" in line]) < 32:
        assert time.time() < deadline, f"nginx logged {len(rows)} of the 32 requests"
        time.sleep(0.05)  # nginx writes each log line after its response has gone out
    mine = {r[1] for r in rows if r[0] == f"enforcement_route={cookie}"}
    others = {r[1] for r in rows if r[0].startswith("enforcement_route=browser-")}
    assert len(mine) == 1, mine
    assert others == {f"127.0.0.1:{p}" for p in proxied["app_ports"]}, others


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (make browser)")
def test_sign_in_through_the_proxy(proxied, browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN",
                                  ignore_https_errors=True)
    context.add_init_script(WATCH)
    page = context.new_page()
    try:
        page.goto(proxied["url"] + "/", wait_until="domcontentloaded")
        page.wait_for_selector("h1", timeout=90_000)
        settle(page)
        assert page.locator("h1").first.inner_text() == "执法效能 · 登录"
        page.get_by_label("用户名").fill("prov")
        page.get_by_label("密码", exact=True).fill("prov-pass-1")
        page.get_by_role("button", name="登录").click()
        settle(page)
        page.wait_for_selector("[data-testid='stMetric']", timeout=90_000)
        assert "执法效能总览" in page.locator("h1").first.inner_text()
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        context.close()


def _misses(trace: Path) -> list[str]:
    return trace.read_text(encoding="utf-8").split() if trace.exists() else []


def test_a_clear_cache_message_through_the_proxy_leaves_the_figures_warm(proxied):
    """nginx passes websocket frames through untouched: an outsider who has not signed in sends
    Streamlit's clear-cache message through the proxy to the same app process as a signed-in user
    (the same route cookie); the user's next run computes nothing again and shows the same figures."""
    route = "enforcement_route=clear-cache-test"
    status, _, _ = _get(proxied["tls_port"], "/_stcore/health", proxied["ctx"], {"Cookie": route})
    log = proxied["prefix"] / "logs" / "access.log"
    deadline = time.time() + 10
    while not (lines := [line for line in log.read_text().splitlines() if line.startswith(route)]):
        assert time.time() < deadline, "nginx never logged the request"
        time.sleep(0.05)  # nginx writes the log line after the response has gone out
    port = int(lines[-1].split("|")[1].rsplit(":", 1)[1])
    trace = proxied["traces"][port]

    def client() -> Client:
        # Once in CI (load of two workers) a handshake through nginx got no answer for 10 s; the
        # next try waits longer, and a second failure shows nginx's own account of it
        try:
            return Client(proxied["url"], headers={"Cookie": route}, ssl=proxied["ctx"])
        except TimeoutError:
            started = time.time()
            try:
                return Client(proxied["url"], headers={"Cookie": route}, ssl=proxied["ctx"], open_timeout=60)
            except TimeoutError as e:
                errors = (proxied["prefix"] / "logs" / "error.log").read_text()[-3000:]
                raise AssertionError(f"no websocket handshake through nginx within 10 s, then "
                                     f"{time.time() - started:.0f} s; nginx's error log:\n{errors}") from e

    user = client()
    try:
        first = sign_in(user, "prov", "prov-pass-1")
        assert first.status == "FINISHED_SUCCESSFULLY" and first.of("metric"), first.text()[:300]
        computed = _misses(trace)
        assert computed, "the overview computed nothing in the process the route cookie names"
        attacker = client()
        try:
            form = attacker.rerun()
            assert "login_username" in str([p.id for p in form.of("text_input")])  # not signed in
            attacker.clear_cache()
            attacker.rerun()  # handled once the next run ends
        finally:
            attacker.close()
        again = user.rerun()
        assert again.status == "FINISHED_SUCCESSFULLY"
        assert _misses(trace) == computed, f"recomputed after clear_cache: {_misses(trace)[len(computed):]}"
        assert [m.body for m in again.of("metric")] == [m.body for m in first.of("metric")]
    finally:
        user.close()
