"""The server: ``streamlit run serve.py`` (what ``make run`` does) serves app.py through Streamlit's
ASGI ``st.App``, with two rules in front of Streamlit's own routes:

* **Open mode is for this machine only.** Without a users file the app signs nobody in and
  grants every right; a request from another address, or through a proxy naming another
  address, is refused (403) before Streamlit sees it. .streamlit/config.toml already makes the
  server listen on 127.0.0.1; this holds when someone passes ``--server.address 0.0.0.0``. The
  app checks again in each session (ui.gate), for ``streamlit run app.py``.
* **/_stcore/metrics is closed** (404): Streamlit serves it to anyone, with no option to turn it
  off, and it tells an outsider how many sessions there are, what they upload and which pages
  they use. ``ENFORCEMENT_METRICS=1`` opens it to requests from this machine only (a local
  monitoring agent). The deployment's reverse proxy should block the path as well.

A reverse proxy cannot filter what travels inside the websocket (Streamlit's clear-cache
message): the app's figures live in ui.cache, which that message does not reach.

**Warm before serving** (``lifespan``): the app's modules are imported and the figures of the first
visit to each page, and each unit's 区域分析, are computed (ui.warmup) for the province the sidebar
opens on before the server accepts a connection; the other provinces follow in a background
thread, so the first visitor
after a start waits no longer than the next one; what it holds then is frozen out of the garbage
collector's full collections (gc.freeze). ``ENFORCEMENT_WARMUP=0`` turns both off.
"""
from __future__ import annotations

import contextlib
import gc
import logging
import os
import threading
import time

import streamlit as st
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse

METRICS_ENV = "ENFORCEMENT_METRICS"
WARMUP_ENV = "ENFORCEMENT_WARMUP"
log = logging.getLogger("enforcement.serve")


def _client_is_local(scope) -> bool:
    from ui import auth

    host = (scope.get("client") or ("",))[0] or ""   # no client address: not known to be local
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers") or []}
    return auth.is_local(host, headers)


def _open_mode() -> bool:
    from ui import gate

    try:
        return gate.config()[0] == "open"
    except Exception:  # undecidable: treat as open (the stricter rule)
        return True


class Guard:
    """ASGI middleware: the two rules of this module's docstring."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            path = scope.get("path", "").rstrip("/")
            if scope["type"] == "http" and path.endswith("/_stcore/metrics") and not (
                    os.environ.get(METRICS_ENV) == "1" and _client_is_local(scope)):
                await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
                return
            # the address first (a few µs): the open-mode check stats the users file and the secrets
            # (~0.4 ms), and a new browser session makes ~130 requests, most for Streamlit's scripts
            if not path.endswith("/_stcore/health") and not _client_is_local(scope) and _open_mode():
                from ui import auth

                if scope["type"] == "websocket":
                    await receive()  # websocket.connect; closing before accepting answers 403
                    await send({"type": "websocket.close", "code": 1008})
                    return
                await PlainTextResponse(auth.OPEN_REMOTE, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def warm_up() -> dict:
    """The first province's first visits now (before the server answers), the others in the
    background; {province: seconds} of the first."""
    from ui import cache, data, warmup

    t = time.perf_counter()
    with cache.outside_session():   # the server's own work: no session state, no spinner (ui.cache.in_run)
        k = data.pin_key()
        status = data._status(k)
    provinces = [c for c, _ in status.get("provinces", [])]
    # the first province's first visits and each of its units' 区域分析 before the server answers
    # (a background thread doing the units slowed the first visitor's overview by about a second)
    done = warmup.warm(k, provinces[:1], units=True)
    # what the server holds from now on (modules, the warm figures) is long-lived: moved out of the
    # collector's way, a full collection no longer scans it (py-spy: 0.3–0.5 s pauses inside page
    # runs, 30 % of a warm overview's run, before this)
    gc.collect()
    gc.freeze()
    log.info("warm-up: %s in %.1f s", done, time.perf_counter() - t)
    if len(provinces) > 1:  # a warehouse of several provinces: the others in the background
        threading.Thread(target=warmup.warm, args=(k, provinces[1:]), name="warm-up", daemon=True).start()
    return done


def leave_pages_folder_mode() -> None:
    """End Streamlit's legacy pages-folder mode before the first session. With a folder named pages/
    beside app.py (the design's name for it), Streamlit 1.67 runs a process's first script run in
    that mode: the page file alone, the frame's sidebar widgets under other widget ids than every
    later run. A tab left open across a restart then sends its first press under ids that run does
    not draw, and the press is lost (the sidebar's 评价对象, 退出登录 …). Once st.navigation has run,
    the app ignores pages/ in every session (st.navigation's documentation); called outside a session
    it does only that (Streamlit 1.67's code: it returns the default page and sends nothing). Called
    here, before the server accepts a connection. ``streamlit run app.py`` still starts in the mode
    (ui.gate.page)."""
    # outside a session Streamlit warns "missing ScriptRunContext" for each call: expected here, and
    # not for the terminal of the person who ran `make run`
    quiet = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        st.navigation([st.Page(lambda: None, title="执法效能", url_path="start")], position="hidden")
    finally:
        quiet.setLevel(level)


@contextlib.asynccontextmanager
async def lifespan(_app):
    leave_pages_folder_mode()
    if os.environ.get(WARMUP_ENV, "1") != "0":
        import anyio

        try:
            await anyio.to_thread.run_sync(warm_up)
        except Exception:  # noqa: BLE001 — a warm-up that fails leaves the figures to the first visit
            log.warning("warm-up failed", exc_info=True)
    yield


app = st.App("app.py", middleware=[Middleware(Guard)], lifespan=lifespan)
