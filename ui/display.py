"""How a value reads where a user looks — page tables and Excel exports — with missing values
written as — and their reason, never ``None``, ``nan``, ``NaT`` or ``<NA>``.

Three reasons (issue 12): 无数据 (a unit not assessed: no inspection, hazard or case in the
period), 不适用 (an indicator whose denominator is 0: an NA ratio), 未公开 (a figure of a unit
outside a city user's scope, blanked by ui.auth.limit_units). Pages build every st.dataframe
through ``table`` (a Styler: the grid keeps the numbers for sorting and shows the formatted
text) and exports through ``plain``; the legend under a table comes from ``legend``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

DASH = "—"
NO_DATA, NOT_APPLICABLE, HIDDEN = "无数据", "不适用", "未公开"
MEANING = {
    NO_DATA: "本期无检查、隐患或立案记录，不参评",
    NOT_APPLICABLE: "分母为 0，该项不适用",
    HIDDEN: "其他地区的明细数据，本账号不可查看",
}
MAX_STYLED = 200_000  # cells; a bigger frame is shown as text (pandas' Styler limit is 262,144)


def mark(reason: str | None = None) -> str:
    """The text of a missing cell: '— 无数据', '— 不适用', '— 未公开', or '—'."""
    return f"{DASH} {reason}" if reason else DASH


def legend(*reasons: str) -> str:
    """'“— 无数据”：本期无检查…；“— 未公开”：…' for the reasons a table can show."""
    return "；".join(f"“{mark(r)}”：{MEANING[r]}" for r in dict.fromkeys(reasons)) + "。"


def isna(x) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def row_reasons(df: pd.DataFrame, *, assessed: str | pd.Series | None = "assessed", hidden=None,
                default: str | None = NOT_APPLICABLE) -> pd.Series:
    """Each row's reason for its missing cells: 未公开 where ``hidden`` (a boolean Series, or a
    ui.auth.Scope: rows whose ``code`` it does not see), else 无数据 where not ``assessed`` (a
    column name or a boolean Series), else ``default``."""
    out = pd.Series(default, index=df.index, dtype=object)
    if isinstance(assessed, str):
        assessed = df[assessed] if assessed in df.columns else None
    if assessed is not None:
        a = pd.Series(np.asarray(pd.array(assessed, dtype="boolean").fillna(False), dtype=bool), index=df.index)
        out[~a] = NO_DATA
    if hidden is not None and not isinstance(hidden, (pd.Series, np.ndarray, list)):
        scope = hidden
        hidden = None if getattr(scope, "full", True) or "code" not in df.columns else \
            ~df["code"].astype(str).isin(scope.codes)
    if hidden is not None:
        out[np.asarray(hidden, dtype=bool)] = HIDDEN
    return out


def _number(v, decimals: int = 4) -> str:
    """A number as the grid writes it: thousands separators, no trailing zeros (up to 4 places)."""
    if isinstance(v, (bool, np.bool_)):
        return "是" if v else "否"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    text = f"{float(v):,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _formatter(fmt) -> Callable | None:
    if fmt is None or callable(fmt):
        return fmt
    if "{" in fmt:
        return lambda v: fmt.format(v)
    return lambda v: fmt % v  # printf style, as st.column_config's format="%.1f"


def _per_row(df: pd.DataFrame, reasons) -> pd.Series:
    if reasons is None or isinstance(reasons, str):
        return pd.Series(reasons, index=df.index, dtype=object)
    return pd.Series(np.asarray(reasons, dtype=object), index=df.index)


def _default(v) -> str:
    return _number(v) if isinstance(v, (int, float, np.number)) and not isinstance(v, bool) else str(v)


def table(df: pd.DataFrame, formats: dict[str, str | Callable] | None = None, reasons: pd.Series | str | None = None,
          *, style: Callable | None = None):
    """The one way a page shows a frame. The grid draws a missing cell as "None" whatever a Styler
    says (checked in Chromium), so a column with a missing cell becomes text: its numbers
    formatted (``formats``: '{:.1f}', '%.1f%%' or a function; others plainly) and each missing
    cell '— reason' (``reasons``: per row from ``row_reasons``, or one for the whole table; none:
    '—'). Other columns keep their numbers (sorting) and show the same formats through a Styler.
    ``style(frame) -> Styler`` adds colours. Put no number format in column_config: the grid
    shows a Styler's text only where column_config sets none."""
    formats = formats or {}
    per_row = _per_row(df, reasons)
    text = df.copy()
    kept = []
    for c in df.columns:
        col = df[c]
        missing = col.map(isna).to_numpy(dtype=bool)
        if not missing.any():
            kept.append(c)
            continue
        f = _formatter(formats.get(c)) or _default
        text[c] = [mark(r if isinstance(r, str) else None) if m else f(v)
                   for v, m, r in zip(col.to_numpy(dtype=object), missing, per_row)]
    if df.size > MAX_STYLED:
        return text
    st_ = style(text) if style is not None else text.style
    kept_formats = {}
    for c in kept:
        f = _formatter(formats.get(c))
        if f is None and pd.api.types.is_numeric_dtype(df[c].dtype) and not pd.api.types.is_bool_dtype(df[c].dtype):
            f = _default
        if f is not None:
            kept_formats[c] = f
    if kept_formats:   # one call: Styler.format resets every column of its subset it is not given a format for
        st_ = st_.format(kept_formats, subset=list(kept_formats))
    return st_


def plain(df: pd.DataFrame, reasons: pd.Series | str | None = None, text: bool = False) -> pd.DataFrame:
    """A copy where every missing cell is the text '— reason' (Excel exports: the other cells keep
    their numbers; ``text``: the whole column becomes text, as the grid needs); columns without
    missing cells keep their type."""
    out = df.copy()
    per_row = (pd.Series(reasons, index=df.index) if isinstance(reasons, str) or reasons is None
               else pd.Series(np.asarray(reasons, dtype=object), index=df.index))
    marks = per_row.map(lambda r: mark(r if isinstance(r, str) else None))
    for c in out.columns:
        missing = out[c].map(isna).to_numpy(dtype=bool)
        if missing.any():
            cells_ = [m_ if miss else (_default(v) if text and not isinstance(v, str) else v)
                      for v, miss, m_ in zip(out[c].to_numpy(dtype=object), missing, marks.to_numpy())]
            out[c] = pd.Series(cells_, index=out.index, dtype=object)
    return out


def cells(values: Iterable) -> list:
    """Values as cells of a written table (docx/xlsx): missing → '—'."""
    return [DASH if isna(v) else v for v in values]
