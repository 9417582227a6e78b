"""A province's numbers are its records' alone: adding another province's records (agencies,
hazards of their inspections, cases, plans, an enterprise of ours they inspect) changes nothing.
metrics.sources applies the province's region codes to the base tables before any join (the
national-scale pushdown); this pins that the early filter keeps exactly the rows the unit map
keeps."""
from __future__ import annotations

import pandas as pd

from metrics.index import compute_index
from metrics.indicators import compute_indicators
from metrics.kpis import unit_totals
from metrics.score import compute_score
from tests.metrics.metrics_data import hangzhou_q1


def _with_sichuan():
    d = hangzhou_q1()
    cd = d.enterprise("510104", key=True, eid="S1")            # 成都锦江
    i = d.inspection("510104", cd, "2024-02-01", mobile=True, iid="SI1")
    d.hazard(i, "2024-02-01", major=True, deadline="2024-02-20", hid="SH1")
    j = d.inspection("510100", "E1", "2024-03-01", iid="SI2")   # a Sichuan bureau inspects E1 (杭州上城)
    d.hazard(j, "2024-03-01", deadline="2024-03-30", rectified="2024-03-05", hid="SH2")
    d.penalty("510104", cd, "2024-02-10", fine_company=50000, fine_person=8000, cid="SP1")
    d.penalty("510100", "E1", "2024-03-02", fine_company=7000, cid="SP2")
    d.plan("510104", 2024, 30)
    return d


def test_other_provinces_records_change_nothing():
    alone, both = hangzhou_q1().memory(), _with_sichuan().memory()
    for level in ("city", "county"):
        for f, period in ((compute_indicators, "2024Q1"), (compute_indicators, "2024"), (compute_index, "2024Q1"),
                          (compute_score, "2024Q1")):
            a, b = f(alone, period, level, "330000"), f(both, period, level, "330000")
            pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), obj=f"{f.__name__} {level}")
        pd.testing.assert_frame_equal(unit_totals(alone, "2024Q1", level, "330000"),
                                      unit_totals(both, "2024Q1", level, "330000"))
    # and Sichuan's records are there for Sichuan: 成都 has its two inspections and one hazard each
    sc = compute_indicators(both, "2024Q1", "city", "510000")
    assert set(sc.loc[sc["assessed"], "code"]) == {"510100"}
    n = sc[(sc.code == "510100") & (sc.indicator == "mobile_share")].iloc[0]
    assert (n["numerator"], n["denominator"]) == (1, 2)  # SI1 by 锦江 (mobile), SI2 by the city bureau
