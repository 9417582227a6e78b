"""The notice settings notice staff set in the app: issuing authority, document-number prefix,
first number of the year and contact (附注). Kept in the operational store beside the warehouse
(ops.store, table ``settings``), over the shipped file official/notice_settings.toml, so nobody
edits a file on the server; every change leaves a ``notice.settings`` row in the audit trail.

``effective(db)`` is what the app and ``python -m metrics notices`` (without --settings) number
with: the file, then the stored values. The shipped file holds placeholders (联系人：×××…): until
they are filled in here or in the file, numbering is refused (official.notice.placeholders).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

from official.notice import NoticeError, NoticeSettings, load_settings
from ops import audit, store

# attribute → (label in the app and the audit trail, type)
EDITABLE = {
    "issuer": ("发文机关名称", str),
    "prefix": ("发文字号前缀", str),
    "start_seq": ("本年起始序号", int),
    "note": ("联系人及电话（附注）", str),
}


def stored(db=None) -> dict:
    """The values set in the app (attribute → value)."""
    with store.connect(db) as ops:
        rows = ops.execute("SELECT key, value FROM settings").fetchall()
    return {k: json.loads(v) for k, v in rows if k in EDITABLE}


def check(values: dict) -> dict:
    """The values cleaned and checked; NoticeError (Chinese, naming the field) when one is wrong."""
    out = {}
    for k, v in values.items():
        if k not in EDITABLE:
            raise NoticeError(f"不能在此修改的设置：{k}")
        label, kind = EDITABLE[k]
        if kind is int:
            try:
                v = int(v)
            except (TypeError, ValueError):
                raise NoticeError(f"“{label}”应为正整数，而不是 {v!r}") from None
            if v < 1:
                raise NoticeError(f"“{label}”应为 1 或更大的整数")
        else:
            v = str(v or "").strip()
            if any(ord(c) < 32 for c in v):
                raise NoticeError(f"“{label}”不能含换行或控制字符")
            if k in ("issuer", "prefix") and not v:
                raise NoticeError(f"“{label}”不能为空")
            if len(v) > 200:
                raise NoticeError(f"“{label}”过长（最多 200 字）")
        out[k] = v
    return out


def effective(db=None, path: str | Path | None = None) -> NoticeSettings:
    """The settings file (``path``, default the shipped one) with the values set in the app."""
    base = load_settings(path)
    values = stored(db)
    return replace(base, **values) if values else base


def save(db, values: dict, *, actor: str) -> dict:
    """Store the values set in the app; returns what changed {attribute: [old, new]}, audited as
    one ``notice.settings`` event. Unchanged values are not written."""
    values = check(values)
    current = effective(db)
    changed = {k: [getattr(current, k), v] for k, v in values.items() if getattr(current, k) != v}
    if not changed:
        return {}
    now = dt.datetime.now().isoformat()
    with store.transaction(db) as ops:
        for k, (_, new) in changed.items():
            ops.execute("INSERT OR REPLACE INTO settings (key, value, changed_at, changed_by) VALUES (?,?,?,?)",
                        [k, json.dumps(new, ensure_ascii=False), now, actor])
        audit.write(ops, actor, "notice.settings", {EDITABLE[k][0]: v for k, v in changed.items()})
    return changed
