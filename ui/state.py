"""The selection shared by every page: set by the sidebar in app.py, read by the pages.

The sidebar widgets live in the frame (app.py), which runs before every page, so their values
(st.session_state keys below) survive page switches. Pages call ``selection()``.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from metrics.periods import Period
from ui import data

# session_state keys of the sidebar widgets
PROVINCE, LEVEL, KIND, PERIOD, SCHEME = "province", "level", "period_kind", "period", "scheme"
# a region chosen on one page and shown on 区域分析 (not a widget key: survives page switches)
FOCUS = "focus_region"
APP = Path(__file__).resolve().parents[1] / "app.py"
_run = threading.local()   # per script run: did the frame (app.py) run before the page?


def mark_frame() -> None:
    """Called by app.py on every run, before it runs the page."""
    _run.frame = True


# --- Streamlit's legacy "pages directory" mode ---------------------------------------------------------
# Streamlit 1.67 runs an app whose entrypoint has a `pages/` folder beside it in its old
# pages-directory mode until some run calls st.navigation: a fresh server's first request, and
# every AppTest run. In that mode app.py runs as a *page* (its widgets get ids hashed with another
# script hash than on every later run, so a first change of a sidebar selector would be lost), and
# a deep link such as /ranking runs pages/ranking.py alone (no sidebar, no banner, no layout).
# The two guards below make both cases run exactly what a normal run runs: the frame as the main
# script, which runs the page through st.navigation.
def _main_hash_and_active() -> tuple[str, str] | None:
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState

    ctx = get_script_run_ctx()
    if ctx is None:
        return None
    return ctx.pages_manager.main_script_hash, ThreadState.get().active_script_hash


def _run_frame_as_main() -> None:
    import runpy

    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    with ctx.run_with_active_hash(ctx.pages_manager.main_script_hash):
        runpy.run_path(str(APP), run_name="__main__")


def frame_guard() -> None:
    """First thing in app.py: when legacy mode runs the frame as a page, run it as the main
    script instead (same widget ids as every other run) and end this pass."""
    hashes = _main_hash_and_active()
    if hashes and hashes[0] != hashes[1]:
        _run_frame_as_main()
        st.stop()


def require_frame() -> None:
    """First thing in every page: when legacy mode ran this page alone, run the frame (which
    runs this page inside it through st.navigation) and end this pass."""
    if getattr(_run, "frame", False):
        _run.frame = False
        return
    if _main_hash_and_active() is None:  # bare mode (no Streamlit runtime): nothing to wrap
        return
    _run_frame_as_main()
    st.stop()


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
