"""The audit trail: who loaded which file, who issued, answered, closed, reopened or voided which
notice, who changed the notice settings, who signed in — one table over two records of it.

- ``load_history`` in the warehouse: every file of every load (CLI or upload), refused or not,
  with ``loaded_by`` ($ENFORCEMENT_USER, else the OS user, for the CLI; the signed-in user for
  the app). It is written in the same transaction as the load itself.
- ``audit_log`` in the operational store (ops.store, beside the warehouse): everything else —
  the notice log's changes (official.log), settings changes (official.config), sign-ins, failed
  sign-ins, sign-outs, refused access. ``record()`` is one small SQLite insert: a failed sign-in
  never touches the warehouse nor any cached figure.

``audit_trail(con)`` returns them as one frame, newest first: when, who, action, detail, ref.
"""
from __future__ import annotations

import datetime as dt
import json
import os

import duckdb
import pandas as pd

from ops import store

COLUMNS = ["when", "who", "action", "detail", "ref"]
ACTIONS = {
    "load": "导入文件",
    "load.refused": "导入文件（拒收）",
    "notice.issue": "印发提醒敦促函",
    "notice.reissue": "重新生成提醒敦促函",
    "notice.reply": "登记书面回复",
    "notice.close": "办结",
    "notice.reopen": "撤销办结",
    "notice.void": "作废文号",
    "notice.settings": "修改发文设置",
    "login": "登录",
    "login.failed": "登录失败",
    "login.locked": "登录暂停（多次失败）",
    "login.blocked": "登录暂停（同一地址多次失败）",
    "login.refused": "暂停期间被拒的登录（合计）",
    "login.denied": "统一认证账号未授权",
    "logout": "退出登录",
    "access.denied": "越权访问被拒绝",
}


def _has(con, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]).fetchone()[0])


def _refused(r) -> str | None:
    return r.refused if isinstance(r.refused, str) and r.refused else None  # NULL comes back as None or NaN


def _load_detail(r) -> str:
    if _refused(r):
        return f"{r.file_name}：拒收 — {r.refused}"
    return (f"{r.file_name} → {r.table_name}：读取 {r.rows_read}，新增 {r.loaded}，替换 {r.replaced}"
            f"（未变 {r.unchanged}），单列 {r.set_aside}；sha256 {r.file_hash[:12]}…")


def _notice_detail(action: str, raw: str | None) -> str:
    try:
        d = json.loads(raw) if raw else {}
    except ValueError:
        return raw or ""
    if not isinstance(d, dict):
        return str(d)
    number = d.get("number", "")
    if action == "notice.issue":
        return f"{number}：{d.get('name') or d.get('unit', '')}（{d.get('unit', '')}），{d.get('quarter', '')}"
    if action == "notice.reissue":
        return f"{number}：{d.get('unit', '')}，{d.get('quarter', '')}" + (f"，变化 {d['changed']}" if d.get("changed") else "")
    if action == "notice.reply":
        return f"{number}：回复于 {d.get('received_on', '')}" + (f"；{d['note']}" if d.get("note") else "")
    if action == "notice.close":
        return f"{number}：办结于 {d.get('closed_on', '')}" + (f"；{d['note']}" if d.get("note") else "")
    if action == "notice.void":
        return f"{number}：作废，原因：{d.get('reason', '')}"
    if action == "notice.settings":
        return "；".join(f"{k}：“{v[0]}” → “{v[1]}”" for k, v in d.items() if isinstance(v, list) and len(v) == 2)
    if action == "notice.reopen":
        return f"{number}：原办结于 {d.get('was_closed_on', '')}" + (f"；{d['note']}" if d.get("note") else "")
    if action.startswith(("login", "logout", "access")):
        return "；".join(f"{EVENT_KEYS.get(k, k)} {EVENT_VALUES.get(k, {}).get(v, v)}" for k, v in d.items()
                        if k != "event" and v not in (None, ""))
    return raw or ""


EVENT_KEYS = {"username": "用户名", "via": "方式", "email": "邮箱", "minutes": "暂停分钟", "page": "页面",
              "code": "单位", "what": "内容", "reason": "原因", "ip": "IP", "refused": "暂停期间被拒次数",
              "first": "首次", "last": "末次"}
# values people read in Chinese (the store keeps the codes)
EVENT_VALUES = {"via": {"password": "密码", "oidc": "统一身份认证"}}


def audit_trail(con: duckdb.DuckDBPyConnection | None = None, *, since: dt.datetime | dt.date | None = None,
                who: str | None = None, action: str | None = None, limit: int | None = None,
                db: str | os.PathLike | None = None) -> pd.DataFrame:
    """Everything done, newest first: when, who, action (load, load.refused, notice.issue,
    notice.reply, login, …), detail (a sentence for people), ref (the load id or the notice
    number). Filters: on or after `since`, by `who`, actions starting with `action`.
    ``con``: a warehouse connection, for the load history (None: no loads); ``db``: the
    warehouse's path, whose operational store holds the rest (None: the default warehouse)."""
    rows = []
    params: list = []
    where = []
    since_dt = None if since is None else (since if isinstance(since, dt.datetime)
                                           else dt.datetime.combine(since, dt.time()))
    if since_dt is not None:
        where.append("loaded_at >= ?")
        params.append(since_dt)
    if who is not None:
        where.append("loaded_by = ?")
        params.append(str(who))
    hist = con.execute(
        "SELECT load_id, loaded_at, loaded_by, file_name, file_hash, table_name, rows_read, loaded, replaced, "
        "unchanged, set_aside, refused FROM load_history" + (" WHERE " + " AND ".join(where) if where else ""),
        params).df() if con is not None and _has(con, "load_history") else pd.DataFrame()
    for r in hist.itertuples(index=False):
        rows.append((pd.Timestamp(r.loaded_at), r.loaded_by, "load.refused" if _refused(r) else "load",
                     _load_detail(r), str(r.load_id)))
    where, params = [], []
    if since_dt is not None:
        where.append("happened_at >= ?")
        params.append(since_dt.isoformat())
    if who is not None:
        where.append("actor = ?")
        params.append(str(who))
    if action is not None:
        where.append("substr(action, 1, ?) = ?")
        params += [len(action), action]
    sql = ("SELECT happened_at, actor, action, detail FROM audit_log" + (" WHERE " + " AND ".join(where) if where else "")
           + " ORDER BY happened_at DESC, id DESC" + (f" LIMIT {int(limit)}" if limit else ""))
    with store.connect(db) as ops:
        log = ops.execute(sql, params).fetchall()
    for when, actor, act, detail in log:
        try:
            ref = json.loads(detail).get("number", "") if detail else ""
        except (ValueError, AttributeError):
            ref = ""
        rows.append((pd.Timestamp(when), actor, act, _notice_detail(act, detail), ref))
    out = pd.DataFrame(rows, columns=COLUMNS)
    if action is not None:
        out = out[out["action"].str.startswith(action)]
    out = out.sort_values(["when", "ref"], ascending=[False, False], kind="stable").reset_index(drop=True)
    return out.head(limit) if limit else out


def action_label(action: str) -> str:
    """The action in Chinese, for the page."""
    return ACTIONS.get(action, action)


# --- recording ----------------------------------------------------------------------------------------
def _clean(value, limit: int = 200):
    """Text from a browser (a typed user name) kept short and free of control characters."""
    if isinstance(value, str):
        return "".join(ch if ch.isprintable() else "\ufffd" for ch in value)[:limit]
    return value


def write(ops, actor: str, action: str, detail: dict | None = None, *, when: dt.datetime | None = None) -> None:
    """Add an event inside an open ops.store transaction (the notice log's changes use this, so
    the change and its audit row commit together)."""
    ops.execute("INSERT INTO audit_log (happened_at, actor, action, detail) VALUES (?, ?, ?, ?)",
                [(when or dt.datetime.now()).isoformat(), _clean(str(actor), 100), str(action),
                 json.dumps({str(k): _clean(v) for k, v in (detail or {}).items()}, ensure_ascii=False, default=str)])


def record(db: str | os.PathLike | None, actor: str, action: str, detail: dict | None = None, *,
           when: dt.datetime | None = None) -> None:
    """Add an event (login, login.failed, logout, access.denied, …) to the audit trail: one row in
    the operational store; the warehouse is not touched."""
    with store.transaction(db) as ops:
        write(ops, actor, action, detail, when=when)
