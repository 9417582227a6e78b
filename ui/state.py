"""The selection shared by every page: set by the sidebar in app.py, read by the pages.

The sidebar widgets live in the frame (app.py), which runs before every page, so their values
(st.session_state keys below) survive page switches. Pages call ``selection()``.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from metrics.periods import Period
from ui import data

# session_state keys of the sidebar widgets
PROVINCE, LEVEL, KIND, PERIOD, SCHEME = "province", "level", "period_kind", "period", "scheme"
# a region chosen on one page and shown on 区域分析 (not a widget key: survives page switches)
FOCUS = "focus_region"
REGION_URL = "_region_in_url"      # the ?region= this session last wrote (区域分析)
LEVEL_REQUEST = "_level_request"   # a level a page asks the sidebar to switch to (applied by the frame)


def request_level(level: str) -> None:
    """Ask for the sidebar's 评价对象 to be `level` on the next run: the radio has been drawn in
    this run, so its key cannot be set now (apply_requests does it before it is drawn)."""
    st.session_state[LEVEL_REQUEST] = level


SIDEBAR = (PROVINCE, LEVEL, KIND, PERIOD, SCHEME)   # the frame's widgets' keys


def apply_requests() -> None:
    """Called by the frame before it draws the sidebar.

    Each sidebar widget's value is written back under its key first: a widget's id includes the
    page Streamlit is running, and the frame runs under another one when the legacy pages-folder
    mode ran a page alone (ui.gate.page); a value held in session_state under the key survives
    that (Streamlit's documented way to keep widget values across pages)."""
    ss = st.session_state
    for k in SIDEBAR:
        if k in ss:
            ss[k] = ss[k]
    level = ss.pop(LEVEL_REQUEST, None)
    if level in ("city", "county"):
        ss[LEVEL] = level


@dataclass(frozen=True)
class Selection:
    key: data.Key               # warehouse (path, version)
    province: str
    province_name: str
    level: str                  # 'city' | 'county'
    kind: str                   # 'quarter' | 'year'
    period: str                 # '2025Q4' | '2025'
    skey: tuple[str, int]       # scheme (path, mtime)
    status: dict

    @property
    def p(self) -> Period:
        return Period.parse(self.period)

    @property
    def label(self) -> str:
        return self.p.label

    @property
    def quarter(self) -> str:
        """The quarter for quarterly pages: the period itself, or the last quarter of the year
        that holds data."""
        if self.kind == "quarter":
            return self.period
        qs = [q for q in self.status.get("quarters", []) if q.startswith(self.period)]
        return qs[-1] if qs else f"{self.period}Q4"

    @property
    def scheme(self):
        return data.scheme(self.skey)

    def recent(self, n: int) -> list[str]:
        """The last `n` periods of this kind up to the selected one (oldest first), with data."""
        options = self.status.get("quarters" if self.kind == "quarter" else "years", [])
        if self.period not in options:
            return [self.period]
        i = options.index(self.period)
        return options[max(0, i - n + 1): i + 1]

    def previous(self) -> str | None:
        options = self.status.get("quarters" if self.kind == "quarter" else "years", [])
        prev = str(self.p.previous())
        return prev if prev in options else None


def selection() -> Selection:
    ss = st.session_state
    k = data.key()
    return choose(k, data.status(k), ss.get(PROVINCE), ss.get(LEVEL), ss.get(KIND), ss.get(PERIOD), ss.get(SCHEME))


def choose(k: data.Key, status: dict, province: str | None = None, level: str | None = None,
           kind: str | None = None, period: str | None = None, scheme: str | None = None) -> Selection:
    """The selection made of the sidebar's values, each one missing taking its default: the first
    province, city level, the latest complete quarter (or latest year), the province's scheme.
    (ui.warmup computes the defaults' figures before anyone asks.)"""
    provinces = dict(status.get("provinces", []))
    province = province or next(iter(provinces), "")
    kind = kind or "quarter"
    default = status.get("latest_quarter") if kind == "quarter" else (status.get("years") or [""])[-1]
    return Selection(
        key=k,
        province=province,
        province_name=provinces.get(province, province),
        level=level or "city",
        kind=kind,
        period=period or default or "",
        skey=data.scheme_key(scheme, province),
        status=status,
    )
