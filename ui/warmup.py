"""Figures computed before the first visitor asks: the server's warm-up.

After a start (a deployment, the nightly load's restart) the first person to open the app used to
wait for every figure of the overview to be computed — index, score, tiles, capacity — and the
first visit to each other page paid the same again. ``warm()`` computes, into the same caches the
pages read (ui.data's and ui.analysis_data's memos, keyed alike), what the first visit to 总览,
排名, 区域分析 and 季度考评 asks for at the sidebar's defaults (ui.state.choose), province by
province. serve.py runs it for the first province before the server accepts connections and for
the others in the background. A figure is computed once per key whoever asks first (ui.cache), so
a visitor arriving during the warm-up waits for the same computation, never for a second one.

The calls mirror the pages' own; tests/ui/test_warmup.py opens each page after ``warm()`` and
fails if a page still computes a figure of its first visit.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

from ui import analysis_data, cache, data, geo, notice_panel, state

log = logging.getLogger(__name__)


def first_visits(sel: state.Selection) -> Iterator[tuple[str, Callable[[], object]]]:
    """(page, computation) for each figure a first visit at ``sel`` computes, cheapest pages first."""
    k, prov, lvl, skey, period, q = sel.key, sel.province, sel.level, sel.skey, sel.period, sel.quarter
    prev = sel.previous()
    yield "总览", lambda: data._regions(k, prov)
    yield "总览", lambda: data._kpi_tiles(k, period, prov, "previous", skey)
    yield "总览", lambda: data._kpi_tiles(k, period, prov, "year_ago", skey)
    yield "总览", lambda: data._kpi_series(k, tuple(sel.recent(8)), prov, skey)
    yield "总览", lambda: data._index(k, period, lvl, prov, skey)
    if prev:
        yield "总览", lambda: data._index(k, prev, lvl, prov, skey)
        yield "总览", lambda: data._rank_moves(k, period, prev, lvl, prov, skey)
    yield "总览", lambda: geo.outlines(lvl, prov)
    yield "总览", lambda: data._score(k, q, lvl, prov, skey)
    yield "总览", lambda: data._capacity(k, period, lvl, prov, skey)
    yield "总览", lambda: data._capacity_targets(k, period, lvl, prov, skey)
    yield "总览", lambda: data._capacity(k, period, "province", prov, skey)
    yield "总览", lambda: data._missed_windows(k, period, lvl, prov, skey)
    yield "总览", lambda: data._missed_windows(k, period, "province", prov, skey)
    for p in sel.recent(8):
        yield "排名", lambda p=p: data._index(k, p, lvl, prov, skey)
    yield "区域分析", lambda: data._regions(k, prov, lvl)
    for p in sel.recent(12):
        yield "区域分析", lambda p=p: data._index(k, p, lvl, prov, skey)
    for p in [x for x in sel.status.get("quarters", []) if x <= q][-12:]:
        yield "区域分析", lambda p=p: data._score(k, p, lvl, prov, skey)
    yield "区域分析", lambda: data._index_detail(k, period, lvl, prov, skey)
    yield "区域分析", lambda: data._indicators(k, period, lvl, prov, skey)
    yield "区域分析", lambda: data._year_on_year(k, period, lvl, prov, skey)
    yield "区域分析", lambda: data._index(k, period, "county", prov, skey)
    yield "区域分析", lambda: _region_unit(sel)
    yield "季度考评", lambda: analysis_data._robustness(k, q, lvl, prov, skey, 1000, 0.5, 0)
    yield "季度考评", lambda: data._commendations(k, int(q[:4]), lvl, prov, skey)
    yield "季度考评", lambda: notice_panel.warm(k, q, lvl, prov, skey)


def _ranked(sel: state.Selection) -> list[str]:
    ix = data._index(sel.key, sel.period, sel.level, sel.province, sel.skey)
    return ix.dropna(subset=["index"]).sort_values(["rank", "code"])["code"].tolist()


def _region_unit(sel: state.Selection) -> None:
    """区域分析 opens on the last-ranked unit (pages/region.py): its tiles and drill-down."""
    ranked = _ranked(sel)
    if ranked:
        _unit(sel, ranked[-1])


def _unit(sel: state.Selection, code: str) -> None:
    """What 区域分析 computes for one unit: its tiles, strengths and losses, counties, enterprises, the
    first indicator's records."""
    data._kpi_tiles(sel.key, sel.period, code, "previous", sel.skey)
    data._unit_priorities(sel.key, sel.period, sel.level, sel.province, sel.skey, code)
    data._index_breakdown(sel.key, sel.period, sel.level, sel.province, sel.skey, code)
    data._children(sel.key, sel.period, code, sel.skey)
    data._enterprises(sel.key, sel.period, code, sel.skey)
    first = _first_indicator(sel)
    if first:
        data._explain(sel.key, sel.period, code, first, "numerator", sel.skey)


def unit_visits(sel: state.Selection) -> Iterator[tuple[str, Callable[[], object]]]:
    """区域分析 for every other unit of the level, from the last-ranked up (switching the unit then
    only draws the page): the background part of the warm-up."""
    for code in reversed(_ranked(sel)[:-1]):
        yield "区域分析", lambda code=code: _unit(sel, code)


def _first_indicator(sel: state.Selection) -> str | None:
    """The indicator 追溯记录 opens on: the first row of 区域分析's 指标明细 (the scheme's
    indicators in their order, those computed for the level: pages/region.py builds that table)."""
    computed = set(data._indicators(sel.key, sel.period, sel.level, sel.province, sel.skey)["indicator"])
    return next((c for c in data.scheme(sel.skey).indicators if c in computed), None)


def warm(k: data.Key | None = None, provinces: list[str] | None = None, budget: float | None = None,
         units: bool = False) -> dict:
    """Compute the first visits' figures for ``provinces`` (default: every province with records,
    the one the sidebar opens on first), and with ``units`` each unit's 区域分析 figures too
    (unit_visits); stop starting new ones after ``budget`` seconds.
    Returns {province: seconds}. A figure that fails is left for its page to report. Runs
    outside any session (ui.cache.outside_session): no session state, no spinner."""
    with cache.outside_session():
        return _warm(k, provinces, budget, units)


def _warm(k: data.Key | None, provinces: list[str] | None, budget: float | None, units: bool) -> dict:
    k = k or data.pin_key()
    status = data._status(k)
    if not status.get("has_data"):
        return {}
    todo = provinces or [c for c, _ in status.get("provinces", [])]
    t0 = time.perf_counter()
    done = {}
    for province in todo:
        if budget is not None and time.perf_counter() - t0 > budget:
            break
        t = time.perf_counter()
        sel = state.choose(k, status, province)
        for page, compute in [*first_visits(sel), *(unit_visits(sel) if units else [])]:
            try:
                compute()
            except Exception:  # noqa: BLE001 — the page shows the error when someone opens it
                log.warning("warm-up: a figure of %s (%s) failed", page, province, exc_info=True)
        done[province] = round(time.perf_counter() - t, 2)
    return done
