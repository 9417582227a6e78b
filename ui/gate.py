"""The sign-in gate: the frame (app.py) calls ``gate()`` before anything reads the warehouse.

Modes (ui.auth has the users file and the roles):

- **open** — no users file at the default path (data/users.toml) and no ``[auth]`` in
  .streamlit/secrets.toml: local use, everything visible, a note in the sidebar says so. Only for
  this machine: a request from another address (or through a proxy naming one) is refused.
- **password** — a users file: a sign-in form (st.form); bcrypt hashes; after 5 failed attempts
  for one user name in 10 minutes that name is refused for 15 minutes from the address they came
  from (1 minute from any other), and 20 failures from one address in 10 minutes block that
  address for 15 minutes (ops.lockout, in the operational store: every app process shares it);
  attempts while refused are counted, not journaled one by one; the message never says whether
  the name or the password was wrong.
- **oidc** — a users file and an ``[auth]`` section in .streamlit/secrets.toml: Streamlit's own
  ``st.login()``; ``st.user.email`` is looked up in the users file (``email = …``) for the roles.
- **closed** — a users file that cannot be used, $ENFORCEMENT_USERS naming a missing file, or
  OIDC without a users file: nobody gets in. Visitors see a generic notice; why (the file's path,
  the user named in it) goes to the server log only.

Sign-ins, failed sign-ins, sign-outs and refused access go to the audit trail (ops.audit.record).
Pages call ``require(permission)`` first; the data layer (ui.data) asks ``current()`` for the
user's scope on every read.
"""
from __future__ import annotations

import logging
import math
import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from ops.lockout import Lockout
from ui import auth, pages_registry

AUTH = "_auth_session"      # session_state: {"username", "fp", "via"} of the signed-in user
NOTICE = "_auth_notice"     # session_state: a message for the sign-in form (signed out because …)
OIDC_LOGOUT = "_auth_oidc_logout"
LIMITER = Lockout()          # failed sign-ins and lockouts: in the operational store, shared by processes
_users_cache: dict[tuple, dict[str, auth.User]] = {}
_LOG = logging.getLogger("enforcement.gate")
_logged_problems: set[str] = set()


@dataclass(frozen=True)
class Access:
    mode: str                       # open | password | oidc | closed
    user: auth.User | None = None
    problem: str | None = None      # closed: why; oidc: an identity with no users-file entry

    @property
    def open(self) -> bool:
        return self.mode == "open"

    @property
    def signed_in(self) -> bool:
        return self.open or self.user is not None

    def can(self, permission: str | None) -> bool:
        return self.open or (self.user is not None and self.user.can(permission))

    def can_page(self, page: str) -> bool:
        return self.open or (self.user is not None and self.user.can_page(page))

    def actor(self, default: str) -> str:
        """Who to name in the warehouse for a change: the signed-in user; in open mode
        $ENFORCEMENT_USER, else `default`."""
        if self.user is not None:
            return self.user.username
        return os.environ.get("ENFORCEMENT_USER") or default


# --- configuration ------------------------------------------------------------------------------------
_OIDC: list = [None, None, False]  # (secrets files' signature, the st.secrets object, the answer)


def _oidc_configured() -> bool:
    """An [auth] section in the secrets. Asked on every run; without a secrets file Streamlit
    searches for one on every access, so the answer is kept until a secrets file changes (or
    st.secrets is another object: a test's own secrets)."""
    sig = tuple((p, os.stat(p).st_mtime_ns if os.path.exists(p) else None)
                for p in st.get_option("secrets.files"))
    secrets = st.secrets
    if _OIDC[0] != sig or _OIDC[1] is not secrets:
        try:
            found = "auth" in secrets
        except Exception:  # no secrets file, or one that does not parse
            found = False
        _OIDC[:] = [sig, secrets, found]
    return _OIDC[2]


def _load_users(path: Path) -> dict[str, auth.User]:
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino)
    if key not in _users_cache:
        _users_cache.clear()
        _users_cache[key] = auth.load_users(path)
    return _users_cache[key]


def config() -> tuple[str, dict[str, auth.User], str | None]:
    """(mode, users, problem) as the users file and the secrets say now."""
    path, explicit = auth.users_path()
    oidc = _oidc_configured()
    if not path.exists():
        if explicit:
            return "closed", {}, f"用户文件 {path} 不存在（由环境变量 {auth.USERS_ENV} 指定）。"
        if oidc:
            return "closed", {}, ("已配置统一身份认证（.streamlit/secrets.toml 的 [auth]），但没有用户文件，"
                                  f"无法分配角色：请用 python -m ui.users add 建立 {path}。")
        return "open", {}, None
    try:
        users = _load_users(path)
    except (OSError, auth.UsersFileError) as e:
        return "closed", {}, f"用户文件无法使用：{e}"
    return ("oidc" if oidc else "password"), users, None


def _has_session() -> bool:
    """Whether a session's script run is running this code, not a plain Python import (bare mode)
    nor the server's own work (ui.cache.in_run)."""
    from ui import cache

    return cache.in_run()


def current() -> Access:
    """Who is using the app in this session (no UI)."""
    mode, users, problem = config()
    if mode in ("open", "closed"):
        return Access(mode, None, problem)
    if not _has_session():  # bare mode: no session, nobody signed in
        return Access(mode)
    ss = st.session_state
    if mode == "oidc":
        if not getattr(st.user, "is_logged_in", False):
            return Access(mode)
        email = st.user.get("email")
        if not auth.email_verified(st.user.get("email_verified")):
            return Access(mode, None, f"统一身份认证账号 {email or '（无邮箱）'} 的邮箱未经身份提供方验证"
                                      "（email_verified），无法据此分配角色。")
        user = auth.user_for_email(users, email)
        if user is None:
            return Access(mode, None, f"统一身份认证账号 {email or '（无邮箱）'} 未在用户文件中登记，无权使用本系统。")
        return Access(mode, user)
    sess = ss.get(AUTH)
    if not isinstance(sess, dict):
        return Access(mode)
    user = users.get(sess.get("username", ""))
    if user is None or user.fingerprint != sess.get("fp") or not user.password_hash:
        return Access(mode)  # removed, password or roles changed: sign in again (gate() says so)
    return Access(mode, user)


def audit(actor: str, action: str, detail: dict | None = None) -> None:
    """An event in the audit trail (ops.audit: the operational store beside the warehouse)."""
    from etl import warehouse
    from ops import audit as ops_audit

    detail = dict(detail or {})
    try:
        ip = st.context.ip_address if _has_session() else None
    except Exception:
        ip = None
    if isinstance(ip, str) and ip:
        detail.setdefault("ip", ip)
    elif (real := client_address()) is not None:   # behind the proxy: the address it reports
        detail.setdefault("ip", real)
    try:
        ops_audit.record(warehouse.db_path(), actor, action, detail)
    except (OSError, sqlite3.Error) as e:  # a read-only data directory must not lock everybody out
        st.toast(f"审计记录写入失败：{e}", icon=":material/error:")


def denied(acc: Access, what: str, code: str | None = None) -> None:
    """Record a refused attempt to see what the user's scope or roles do not cover."""
    if acc.user is not None:
        audit(acc.user.username, "access.denied", {"what": what, "code": code})


# --- the sign-in screen -------------------------------------------------------------------------------
# the app's pages' url paths (ui.pages_registry): a deep link to one of them shows the sign-in screen
# under that path (no "page not found"), and after signing in the same URL opens the page itself
URL_PATHS = pages_registry.URL_PATHS


def _screen(render, title: str = "登录") -> None:
    """Show only `render`, whatever page the URL names, and end the run."""
    pages = [st.Page(render, title=title, icon=":material/lock:", url_path="login", default=True)]
    pages += [st.Page(render, title=title, url_path=p) for p in URL_PATHS]
    st.navigation(pages, position="hidden").run()
    st.stop()


def client_address() -> str | None:
    """The browser's address, for throttling and the audit trail: Streamlit's peer address; when the
    peer is this machine (a reverse proxy in front of the app, deploy/nginx), the X-Real-IP the
    proxy sets (overwriting what a client sent). None: this machine itself, or no session."""
    if not _has_session():
        return None
    try:
        ip = st.context.ip_address
        headers = {str(k).lower(): v for k, v in dict(st.context.headers).items()}
    except Exception:
        return None
    ip = ip if isinstance(ip, str) and ip else None
    if ip is None or auth.is_local(ip):
        real = str(headers.get("x-real-ip") or "").strip()
        return real[:64] or None
    return ip


def _wait(seconds: float) -> str:
    return f"{math.ceil(seconds / 60)} 分钟" if seconds >= 60 else f"{math.ceil(seconds)} 秒"


def attempt(users: dict[str, auth.User], username: str, password: str,
            address: str | None = None) -> tuple[auth.User | None, str]:
    """Check a sign-in; (user, "") or (None, the message to show). Audits the outcome.

    Throttled through the operational store (ops.lockout, shared by every app process): an
    attempt while the name is locked for this address, or while the address is blocked, is
    refused before any password check and counted — not journaled one by one (a single
    login.refused line with the count once the lock is over). ``address``: the client's
    (default: client_address())."""
    name = (username or "").strip()
    if not name or not password:
        return None, "请输入用户名和密码。"
    address = address if address is not None else client_address()
    known = name in users
    who = name if known else "（未知用户名）"   # never log what was typed for an unknown name (a password?)
    where = {"ip": address} if address else {}
    check = LIMITER.check(name, address)
    for s in check.summaries:   # a lock that is over: how many attempts it turned away, in one line
        audit(who, "login.refused", {"via": "password", **where, "what": "地址" if s["what"] == "client" else "用户名",
                                     "refused": s["refused"], "first": s["first"], "last": s["last"]})
    if check.left:
        if check.why == "client":
            return None, f"本机登录失败次数过多，请 {_wait(check.left)}后再试。"
        return None, f"登录失败次数过多，请 {_wait(check.left)}后再试。"
    user = auth.authenticate(users, name, password)
    if user is None:
        failed = LIMITER.failure(name, address, check)
        audit(who, "login.failed", {"via": "password", **where})
        if failed.client_blocked:
            audit(who, "login.blocked", {"via": "password", **where, "minutes": math.ceil(failed.client_blocked / 60)})
            return None, f"用户名或密码错误。本机登录失败次数过多，请 {_wait(failed.client_blocked)}后再试。"
        if failed.name_locked:
            audit(who, "login.locked", {"via": "password", **where, "minutes": math.ceil(failed.name_locked / 60)})
            return None, f"用户名或密码错误。登录失败次数过多，请 {_wait(failed.name_locked)}后再试。"
        return None, "用户名或密码错误。"
    LIMITER.success(name, address, check)
    audit(user.username, "login", {"via": "password", **where})
    return user, ""


def _start_session(user: auth.User, via: str) -> None:
    ss = st.session_state
    for k in list(ss.keys()):   # nothing of a previous user's session (or of before sign-in) stays
        del ss[k]
    ss[AUTH] = {"username": user.username, "fp": user.fingerprint, "via": via}


def _password_form(users: dict[str, auth.User]) -> None:
    st.title("执法效能 · 登录")
    st.caption("安全生产执法效能评估系统。请使用管理员分配的账号登录。")
    if msg := st.session_state.pop(NOTICE, None):
        st.info(msg)
    if not users:
        st.warning("用户文件中还没有用户：请管理员用 `python -m ui.users add 用户名 --role province` 添加。")
    with st.form("login_form", clear_on_submit=True, border=True):
        username = st.text_input("用户名", key="login_username", max_chars=64, autocomplete="username")
        password = st.text_input("密码", type="password", key="login_password", max_chars=128,
                                 autocomplete="current-password")
        go = st.form_submit_button("登录", type="primary", key="login_go")
    if go:
        user, message = attempt(users, username, password)
        if user is None:
            st.error(message, icon=":material/lock:")
        else:
            _start_session(user, "password")
            st.rerun()


def _oidc_screen(acc: Access) -> None:
    st.title("执法效能 · 登录")
    if acc.problem:  # signed in at the identity provider, but not a user of this app
        st.error(acc.problem, icon=":material/block:")
        if st.button("退出统一身份认证", key="oidc_logout"):
            st.logout()
        return
    st.caption("安全生产执法效能评估系统。请使用统一身份认证登录。")
    if st.button("使用统一身份认证登录", type="primary", key="oidc_login"):
        st.login()


def _closed_screen(problem: str) -> None:
    """A visitor learns only that the system is closed; the reason (a path, a user's name) goes to
    the server log, once per distinct reason."""
    if problem not in _logged_problems:
        _logged_problems.add(problem)
        _LOG.error("执法效能暂不可用（不向访问者显示）：%s", problem)
    st.title("执法效能")
    st.error("系统暂不可用，请联系系统管理员。", icon=":material/block:")
    st.caption("管理员：原因已写入服务器日志。")


def _open_refused() -> None:
    st.title("执法效能")
    st.error(auth.OPEN_REMOTE, icon=":material/block:")


def _local_request() -> bool:
    """Whether this session's browser is on this machine (st.context: address and proxy headers)."""
    if not _has_session():
        return True
    try:
        ip = st.context.ip_address
        headers = dict(st.context.headers)
    except Exception:  # no client (bare mode)
        return True
    # a real session gives a str or None; AppTest (no network) a stand-in object
    return auth.is_local(ip if isinstance(ip, str) else None, headers)


def gate() -> Access:
    """The frame's first step after the page config: the signed-in user, or the sign-in screen
    (which ends the run). In open mode, returns at once."""
    ss = st.session_state
    if ss.pop(OIDC_LOGOUT, False):
        st.logout()  # signs out at the identity provider too (redirects)
    acc = current()
    if acc.mode == "open":
        if not _local_request():  # full rights without a sign-in: never for another machine
            _LOG.warning("开放模式拒绝了非本机访问：%s", st.context.ip_address)
            _screen(_open_refused, "不可用")
        return acc
    if acc.mode == "closed":
        _screen(lambda: _closed_screen(acc.problem or ""), "不可用")
    if acc.user is None:
        sess = ss.get(AUTH)
        if isinstance(sess, dict):  # was signed in: the user was removed or changed
            ss.pop(AUTH, None)
            ss[NOTICE] = "账号信息已变更，请重新登录。"
        if acc.mode == "oidc":
            if acc.problem and not ss.get("_oidc_denied_logged"):
                ss["_oidc_denied_logged"] = True
                audit("（未登记账号）", "login.denied", {"via": "oidc", "email": st.user.get("email")})
            _screen(lambda: _oidc_screen(acc))
        _screen(lambda: _password_form(config()[1]))
    if acc.mode == "oidc" and (ss.get(AUTH) or {}).get("fp") != acc.user.fingerprint:
        _start_session(acc.user, "oidc")
        audit(acc.user.username, "login", {"via": "oidc", "email": acc.user.email})
    return acc


def sidebar(acc: Access, region_name: str | None = None) -> None:
    """Who is signed in and the sign-out button; in open mode, the note that anyone may use it."""
    with st.sidebar:
        if acc.open:
            st.info("未配置用户，本机开放使用", icon=":material/lock_open:")
            return
        if acc.user is None:
            return
        # names come from the users file and the warehouse: shown as text, never as HTML or Markdown
        st.markdown(f":material/account_circle: **{plain(acc.user.name)}**")
        st.caption(plain(f"{acc.user.username} · {acc.user.describe(region_name)}"))
        # on_click: a press within a session signs out before the rerun draws anything, even where the
        # frame's widget ids changed since the last run (the legacy pages-folder mode, every AppTest
        # run: ui.gate.page). Streamlit runs a callback only with what an earlier run of the session
        # registered, so a press that is a new session's first message (a tab reconnected to a
        # restarted server, which single sign-on signs in at once) is seen only as the button's value.
        if st.button("退出登录", key="logout", icon=":material/logout:", on_click=logout,
                     args=(acc.mode, acc.user.username)):
            logout(acc.mode, acc.user.username)
            st.rerun()


def plain(text: str) -> str:
    """`text` for st.markdown as literal characters: HTML escaped, Markdown punctuation escaped."""
    import html

    out = html.escape(str(text), quote=False)
    return "".join("\\" + ch if ch in "\\`*_{}[]()#+-.!|~>:$" else ch for ch in out)


def logout(mode: str, username: str) -> None:
    """Sign out (the sidebar button's callback, or the frame when the callback did not run): audit,
    forget the whole session; the next run shows the sign-in screen."""
    audit(username, "logout", {"via": mode})
    ss = st.session_state
    for k in list(ss.keys()):
        del ss[k]
    ss[NOTICE] = "已退出登录。"
    if mode == "oidc":
        ss[OIDC_LOGOUT] = True   # st.logout() from the script body, first thing on the rerun


def require(permission: str | None, what: str = "此页面") -> Access:
    """Refuse (and end the run) a user whose roles
    do not allow `permission` — even if the page was reached around the navigation."""
    acc = current()
    if acc.can(permission):
        return acc
    denied(acc, what)
    st.error(f"无权访问{what}：您的账号角色（{acc.user.describe() if acc.user else '未登录'}）不包括此功能。",
             icon=":material/block:")
    st.stop()
    return acc  # not reached


# --- the navigation, from ui.pages_registry -----------------------------------------------------------
_framed = threading.local()   # per script thread: the frame (app.py) is about to run a page


def _st_page(d: pages_registry.PageDecl):
    return st.Page(d.file, title=d.title, icon=d.icon, url_path=d.url_path)


def navigation(acc: Access, has_data: bool):
    """st.navigation of the pages `acc` may open (grouped as declared). The root URL opens the
    first of them under its own address (/overview): a default page's address is the root only,
    so /overview would otherwise be "not found"."""
    allowed = [d for d in pages_registry.visible(has_data) if acc.can_page(d.name)]
    pages = {g: [_st_page(d) for d in ds] for g, ds in pages_registry.sections(allowed).items()}
    first_group = next(iter(pages))
    first = pages[first_group][0]

    def home() -> None:
        st.switch_page(first, query_params=st.query_params.to_dict())

    pages[first_group].insert(0, st.Page(home, title=first.title, url_path="home", default=True,
                                         visibility="hidden"))
    return st.navigation(pages)


def run(nav) -> None:
    """The frame's last step: run the chosen page (which may check `framed()`)."""
    _framed.on = True
    try:
        nav.run()
    finally:
        _framed.on = False


def page(file: str) -> Access:
    """First thing in every page (``gate.page(__file__)``): the page's declaration decides the
    permission it needs.

    A page file runs outside the frame only when Streamlit's legacy pages-folder mode ran it alone:
    an entrypoint with a pages/ folder beside it starts in that mode until some run calls
    st.navigation (a fresh server's first run; every AppTest run), and the mode runs the page
    file the URL names by itself (serve.py leaves the mode before its first session). Such a page
    runs the frame (app.main) here: its st.navigation ends the mode for the process and runs this
    page inside it (a button pressed on the page still counts: no rerun), then this pass ends. The
    frame's sidebar widgets then have other widget ids than in a run of app.py; within a session
    ui.state.apply_requests keeps their values through session_state, Streamlit's documented way. Only public API (tests/ui/test_streamlit_public.py)."""
    d = pages_registry.by_file(file)
    if _has_session() and not getattr(_framed, "on", False):
        import app

        app.main()
        st.stop()
    return require(d.permission, d.title)
