"""The audit trail: who loaded which file, who issued, answered, closed or reopened which notice,
and when — one table over the warehouse's two records of it.

- ``load_history``: every file of every load (CLI or upload), refused or not, with ``loaded_by``
  ($ENFORCEMENT_USER, else the OS user, for the CLI; the signed-in user for the app).
- ``audit_log``: every change to the notice log (etl.notice_log), with its actor.

``audit_trail(con)`` returns them as one frame, newest first: when, who, action, detail, ref.
"""
from __future__ import annotations

import datetime as dt
import json

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
    return raw or ""


def audit_trail(con: duckdb.DuckDBPyConnection, *, since: dt.datetime | dt.date | None = None,
                who: str | None = None, action: str | None = None, limit: int | None = None) -> pd.DataFrame:
    """Everything done to the warehouse, newest first: when, who, action (load, load.refused,
    notice.issue, notice.reply, …), detail (a sentence for people), ref (the load id or the
    notice number). Filters: on or after `since`, by `who`, actions starting with `action`."""
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
