"""The audit trail: who loaded which file, who issued, answered, closed or reopened which notice,
and when — one table over the warehouse's two records of it.

- ``load_history``: every file of every load (CLI or upload), refused or not, with ``loaded_by``
  ($ENFORCEMENT_USER, else the OS user, for the CLI; the signed-in user for the app).
- ``audit_log``: every change to the notice log (etl.notice_log), with its actor.

- the audit journal beside the warehouse (``warehouse.duckdb.audit.jsonl``): events the app
  records without rewriting the warehouse — sign-ins, failed sign-ins, sign-outs, refused access.
  ``record()`` appends one fsynced JSON line under a lock (cheap: a failed login must not copy the
  whole warehouse, nor make every session recompute its figures); the next write of the warehouse
  (any ``etl.warehouse.write``: a load, a notice) moves the journal into ``audit_log`` in its own
  transaction (``fold`` / ``forget``; an event already there is skipped, so a crash between the
  swap and the journal's truncation duplicates nothing).

``audit_trail(con)`` returns them as one frame, newest first: when, who, action, detail, ref;
``audit_trail(con, db=path)`` adds the journal's events not yet moved.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import uuid
from pathlib import Path

import duckdb
import pandas as pd

COLUMNS = ["when", "who", "action", "detail", "ref"]
ACTIONS = {
    "load": "导入文件",
    "load.refused": "导入文件（拒收）",
    "notice.issue": "印发提醒敦促函",
    "notice.reissue": "重新生成提醒敦促函",
    "notice.reply": "登记书面回复",
    "notice.close": "办结",
    "notice.reopen": "撤销办结",
    "login": "登录",
    "login.failed": "登录失败",
    "login.locked": "登录暂停（多次失败）",
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
    if action == "notice.reopen":
        return f"{number}：原办结于 {d.get('was_closed_on', '')}" + (f"；{d['note']}" if d.get("note") else "")
    if action.startswith(("login", "logout", "access")):
        return "；".join(f"{EVENT_KEYS.get(k, k)} {EVENT_VALUES.get(k, {}).get(v, v)}" for k, v in d.items()
                        if k != "event" and v not in (None, ""))
    return raw or ""


EVENT_KEYS = {"username": "用户名", "via": "方式", "email": "邮箱", "minutes": "暂停分钟", "page": "页面",
              "code": "单位", "what": "内容", "reason": "原因", "ip": "IP"}
# values people read in Chinese (the journal keeps the codes)
EVENT_VALUES = {"via": {"password": "密码", "oidc": "统一身份认证"}}


def audit_trail(con: duckdb.DuckDBPyConnection, *, since: dt.datetime | dt.date | None = None,
                who: str | None = None, action: str | None = None, limit: int | None = None,
                db: str | os.PathLike | None = None) -> pd.DataFrame:
    """Everything done to the warehouse, newest first: when, who, action (load, load.refused,
    notice.issue, notice.reply, login, …), detail (a sentence for people), ref (the load id or the
    notice number). Filters: on or after `since`, by `who`, actions starting with `action`.
    With `db` (the warehouse's path), the journal's events not yet in audit_log are included."""
    rows = []
    params: list = []
    where = []
    if since is not None:
        where.append("loaded_at >= ?")
        params.append(since if isinstance(since, dt.datetime) else dt.datetime.combine(since, dt.time()))
    if who is not None:
        where.append("loaded_by = ?")
        params.append(str(who))
    hist = con.execute(
        "SELECT load_id, loaded_at, loaded_by, file_name, file_hash, table_name, rows_read, loaded, replaced, "
        "unchanged, set_aside, refused FROM load_history" + (" WHERE " + " AND ".join(where) if where else ""),
        params).df() if _has(con, "load_history") else pd.DataFrame()
    for r in hist.itertuples(index=False):
        rows.append((r.loaded_at, r.loaded_by, "load.refused" if _refused(r) else "load", _load_detail(r),
                     str(r.load_id)))
    if _has(con, "audit_log"):
        where = [w.replace("loaded_at", "happened_at").replace("loaded_by", "actor") for w in where]
        log = con.execute("SELECT happened_at, actor, action, detail FROM audit_log"
                          + (" WHERE " + " AND ".join(where) if where else ""), params).df()
        if db is not None:
            log = pd.concat([log, _pending_frame(db, since, who, set(log["detail"].dropna()))], ignore_index=True)
        for r in log.itertuples(index=False):
            try:
                ref = json.loads(r.detail).get("number", "") if r.detail else ""
            except (ValueError, AttributeError):
                ref = ""
            rows.append((r.happened_at, r.actor, r.action, _notice_detail(r.action, r.detail), ref))
    out = pd.DataFrame(rows, columns=COLUMNS)
    if action is not None:
        out = out[out["action"].str.startswith(action)]
    out = out.sort_values(["when", "ref"], ascending=[False, False], kind="stable").reset_index(drop=True)
    return out.head(limit) if limit else out


def action_label(action: str) -> str:
    """The action in Chinese, for the page."""
    return ACTIONS.get(action, action)


# --- the journal: events recorded without rewriting the warehouse ------------------------------------
def journal_path(db: str | os.PathLike | None = None) -> Path:
    from etl import warehouse

    p = warehouse.db_path(db)
    return p.with_name(p.name + ".audit.jsonl")


@contextlib.contextmanager
def _journal(db, mode: str = "a+b"):
    path = journal_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, mode) as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield fh
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _clean(value, limit: int = 200):
    """Text from a browser (a typed user name) kept short and free of control characters."""
    if isinstance(value, str):
        return "".join(ch if ch.isprintable() else "\ufffd" for ch in value)[:limit]
    return value


def record(db: str | os.PathLike | None, actor: str, action: str, detail: dict | None = None, *,
           when: dt.datetime | None = None) -> None:
    """Add an event (login, login.failed, logout, access.denied, …) to the audit trail: one JSON
    line appended to the journal beside the warehouse, fsynced; the next warehouse write moves
    it into audit_log."""
    event = {"id": uuid.uuid4().hex, "when": (when or dt.datetime.now()).isoformat(timespec="seconds"),
             "actor": _clean(str(actor), 100), "action": str(action),
             "detail": {str(k): _clean(v) for k, v in (detail or {}).items()}}
    line = (json.dumps(event, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    with _journal(db) as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def _stored_detail(event: dict) -> str:
    """The audit_log.detail of a journal event: its detail with the event id first (unique)."""
    return json.dumps({"event": event["id"], **(event.get("detail") or {})}, ensure_ascii=False, default=str)


def _events(data: bytes) -> list[dict]:
    out = []
    for raw in data.splitlines():
        try:
            e = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue  # a line cut short by a crash
        if isinstance(e, dict) and {"id", "when", "actor", "action"} <= set(e):
            out.append(e)
    return out


def pending(db: str | os.PathLike | None = None) -> list[dict]:
    """The journal's events (not yet moved into audit_log), oldest first."""
    if not journal_path(db).exists():
        return []
    with _journal(db) as fh:
        fh.seek(0)
        return _events(fh.read())


def _pending_frame(db, since, who, stored: set) -> pd.DataFrame:
    rows = []
    for e in pending(db):
        detail = _stored_detail(e)
        when = dt.datetime.fromisoformat(e["when"])
        if detail in stored or (since is not None and when < (since if isinstance(since, dt.datetime)
                                                              else dt.datetime.combine(since, dt.time()))):
            continue
        if who is not None and e["actor"] != who:
            continue
        rows.append((when, e["actor"], e["action"], detail))
    return pd.DataFrame(rows, columns=["happened_at", "actor", "action", "detail"])


def fold(con: duckdb.DuckDBPyConnection, db: str | os.PathLike | None) -> int:
    """Inside a warehouse write: copy the journal's events into audit_log (skipping any already
    there). Returns how many bytes of the journal were read, for ``forget`` after the swap."""
    path = journal_path(db)
    if not path.exists() or path.stat().st_size == 0:
        return 0
    with _journal(db) as fh:
        fh.seek(0)
        data = fh.read()
    complete = data[: data.rfind(b"\n") + 1]  # a line still being written stays for the next write
    for e in _events(complete):
        detail = _stored_detail(e)
        if con.execute("SELECT count(*) FROM audit_log WHERE detail = ?", [detail]).fetchone()[0]:
            continue
        con.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?)",
                    [dt.datetime.fromisoformat(e["when"]), e["actor"], e["action"], detail])
    return len(complete)


def forget(db: str | os.PathLike | None, upto: int) -> None:
    """After the swap: drop the first `upto` bytes of the journal (the events now in audit_log);
    events appended meanwhile stay."""
    if upto <= 0:
        return
    with _journal(db) as fh:
        fh.seek(0)
        rest = fh.read()[upto:]
        fh.truncate(0)
        fh.write(rest)
        fh.flush()
        os.fsync(fh.fileno())
