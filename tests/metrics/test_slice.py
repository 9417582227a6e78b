"""A province slice (metrics.slice) gives every number the warehouse gives: indicators, index,
score, warnings, commendations, year-on-year, the panels and the records behind a number, on a
warehouse holding two provinces' records (one province's bureau inspecting the other's firm)."""
from __future__ import annotations

import pandas as pd
import pytest

from metrics import slice as mslice
from metrics.explain import records
from metrics.index import compute_index
from metrics.indicators import compute_indicators
from metrics.panel import indicator_panel, score_panel
from metrics.score import commendations, compute_score, warnings
from metrics.yoy import year_on_year
from tests.metrics.test_province_filter import _with_sichuan


@pytest.fixture(scope="module")
def both():
    con = _with_sichuan().memory()
    yield con
    con.close()


@pytest.fixture(scope="module")
def zj(both):
    s = mslice.province_slice(both, "330000")
    yield s
    s.close()


def _same(a, b, what):
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), obj=what)
    else:
        assert a == b, what


@pytest.mark.parametrize("level", ["city", "county"])
def test_a_slice_gives_the_warehouse_numbers(both, zj, level):
    calls = {
        "indicators Q1": lambda c: compute_indicators(c, "2024Q1", level, "330000"),
        "indicators year": lambda c: compute_indicators(c, "2024", level, "330000"),
        "index": lambda c: compute_index(c, "2024Q1", level, "330000"),
        "score": lambda c: compute_score(c, "2024Q1", level, "330000"),
        "warnings": lambda c: warnings(c, "2024Q1", level, "330000"),
        "commendations": lambda c: commendations(c, 2024, level, "330000"),
        "yoy": lambda c: year_on_year(c, "2024Q1", level, "330000"),
        "indicator panel": lambda c: indicator_panel(c, ["2023Q4", "2024Q1", "2024Q2"], level, "330000"),
        "score panel": lambda c: score_panel(c, ["2024Q1", "2024Q2"], level, "330000"),
    }
    for what, call in calls.items():
        _same(call(zj), call(both), f"{what} {level}")


def test_records_behind_a_number_and_defaults(both, zj):
    for part in ("numerator", "denominator"):
        _same(records(zj, "2024Q1", "330100", "rectification", part),
              records(both, "2024Q1", "330100", "rectification", part), part)
    assert len(records(zj, "2024Q1", "330100", "rectification", "denominator")) > 0
    # the slice knows its province: no province given means the slice's
    _same(compute_score(zj, "2024Q1", "city"), compute_score(both, "2024Q1", "city", "330000"), "default province")


def test_a_slice_holds_one_province_and_says_so(both, zj):
    assert mslice.is_slice(zj) and not mslice.is_slice(both)
    assert mslice.slice_province(zj) == "330000"
    with pytest.raises(ValueError, match="holds 330000"):
        compute_score(zj, "2024Q1", "city", "510000")
    n = mslice.rows(zj)
    assert n["inspections"] == 8 and n["hazards"] == 8  # 杭州/宁波's, none of 四川's
    sc = mslice.province_slice(both, "510000")
    try:
        assert mslice.rows(sc)["inspections"] == 2 and mslice.rows(sc)["hazards"] == 2
        _same(compute_indicators(sc, "2024Q1", "city", "510000"),
              compute_indicators(both, "2024Q1", "city", "510000"), "四川")
    finally:
        sc.close()
