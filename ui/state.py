"""The selection shared by every page: set by the sidebar in app.py, read by the pages.

The sidebar widgets live in the frame (app.py), which runs before every page, so their values
(st.session_state keys below) survive page switches. Pages call ``selection()``.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import streamlit as st

from metrics.periods import Period
from ui import data

# session_state keys of the sidebar widgets
PROVINCE, LEVEL, KIND, PERIOD, SCHEME = "province", "level", "period_kind", "period", "scheme"
# a region chosen on one page and shown on 区域分析 (not a widget key: survives page switches)
FOCUS = "focus_region"
_run = threading.local()   # per script run: did the frame (app.py) run before the page?


def mark_frame() -> None:
    """Called by app.py on every run, before it runs the page."""
    _run.frame = True


def require_frame() -> None:
    """Make sure the page runs inside the frame (app.py), even on a deep link.

    Streamlit 1.67 quirk: while no run has called st.navigation yet (a fresh server's first
    request; every AppTest run), an app with a `pages/` folder beside its entrypoint runs in the
    old "pages directory" mode, so a request for /ranking runs pages/ranking.py alone — no
    sidebar, no banner, no layout. A page that finds the frame did not run in this run switches
    that mode off (what st.navigation itself does) and reruns; the frame then runs the page
    asked for. (A second miss in a row renders the page anyway, so this can never loop.)
    """
    if getattr(_run, "frame", False):
        _run.frame = False
        st.session_state.pop("_frame_retry", None)
        return
    if st.session_state.get("_frame_retry"):
        st.session_state.pop("_frame_retry", None)
        return
    from streamlit.runtime.pages_manager import PagesManager

    st.session_state["_frame_retry"] = True
    PagesManager.uses_pages_directory = False
    st.rerun()


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
    status = data.status(k)
    provinces = dict(status.get("provinces", []))
    province = ss.get(PROVINCE) or next(iter(provinces), "")
    kind = ss.get(KIND, "quarter")
    default = status.get("latest_quarter") if kind == "quarter" else (status.get("years") or [""])[-1]
    return Selection(
        key=k,
        province=province,
        province_name=provinces.get(province, province),
        level=ss.get(LEVEL, "city"),
        kind=kind,
        period=ss.get(PERIOD) or default or "",
        skey=data.scheme_key(ss.get(SCHEME)),
        status=status,
    )
