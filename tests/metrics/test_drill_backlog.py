"""One enterprise's hazard list (metrics.drill.records, enterprise_id given) holds every hazard behind
its 逾期未整改重大隐患 in the drill-down's enterprise table: the hazards found in the period, plus the
backlog the scheme's overdue_major counts at the period's end but found before it (column source).
The region's list (no enterprise) stays the hazards found in the period: what the 隐患 tile counts."""
from __future__ import annotations

import pandas as pd
import pytest

from metrics import drill, kpis
from metrics.drill import BACKLOG_SOURCE, FOUND_SOURCE
from metrics.explain import records
from metrics.periods import Period
from metrics.query import part_records_sql, run
from tests.metrics.metrics_data import hangzhou_q1


@pytest.fixture(scope="module")
def con():
    c = hangzhou_q1().memory()
    yield c
    c.close()


def test_e2_lists_the_backlog_hazard_its_overdue_major_counts(con):
    ents = drill.enterprises(con, "2024Q1", "330100").set_index("enterprise_id")
    assert (ents.loc["E2", "hazards"], ents.loc["E2", "overdue_major"]) == (0, 1)
    haz = drill.records(con, "2024Q1", "330100", "hazards", enterprise_id="E2")
    assert haz["hazard_id"].tolist() == ["H6"]
    h6 = haz.iloc[0]
    assert (h6["source"], h6["status"], str(h6["found_date"])[:10]) == (BACKLOG_SOURCE, "逾期未整改", "2023-12-31")
    assert (haz["status"] == "逾期未整改").sum() == ents.loc["E2", "overdue_major"]


@pytest.mark.parametrize("code", ["330100", "330102", "330105", "330200", "330000"])
def test_every_enterprise_list_holds_what_its_row_counts(con, code):
    """For every enterprise of the table: the hazards found in the period are its 隐患数, its major
    hazards marked 逾期未整改 are exactly the overdue_major numerator's records for it (its count)."""
    level, province, col = kpis.placing(con, code)   # the drill-down's placing (a province: all its records)
    part = kpis.definitions()["overdue_major"]
    counted = run(con, part_records_sql(part, Period.parse("2024Q1"), level, province, code, unit_col=col))
    if code != "330000":   # a city's or county's: the list 追溯记录 shows for the indicator
        assert set(counted["hazard_id"]) == set(records(con, "2024Q1", code, "overdue_major", "numerator")["hazard_id"])
    for e in drill.enterprises(con, "2024Q1", code).itertuples():
        haz = drill.records(con, "2024Q1", code, "hazards", enterprise_id=e.enterprise_id)
        assert (haz["enterprise_id"] == e.enterprise_id).all()
        assert haz["source"].isin([FOUND_SOURCE, BACKLOG_SOURCE]).all()
        assert (haz["source"] == FOUND_SOURCE).sum() == e.hazards, (code, e.enterprise_id)
        late = set(haz.loc[haz["is_major"] & (haz["status"] == "逾期未整改"), "hazard_id"])
        mine = set(counted.loc[counted["enterprise_id"] == e.enterprise_id, "hazard_id"])
        assert late == mine and len(late) == e.overdue_major, (code, e.enterprise_id)
        backlog = haz[haz["source"] == BACKLOG_SOURCE]
        assert (backlog["found_date"] < pd.Timestamp("2024-01-01")).all()
        ordered = haz.sort_values(["found_date", "hazard_id"], kind="stable")
        assert haz["hazard_id"].tolist() == ordered["hazard_id"].tolist()


def test_a_list_without_backlog_is_unchanged(con):
    """E1 has nothing overdue: its list is the region's list's rows of E1, only with source 本期发现."""
    region = drill.records(con, "2024Q1", "330100", "hazards")
    e1 = drill.records(con, "2024Q1", "330100", "hazards", enterprise_id="E1")
    assert len(e1) > 0 and (e1["source"] == FOUND_SOURCE).all()
    want = region[region["enterprise_id"] == "E1"].reset_index(drop=True)
    pd.testing.assert_frame_equal(e1.drop(columns="source"), want)


def test_the_region_list_is_what_the_tile_counts(con):
    for code in ("330100", "330102", "330000"):
        haz = drill.records(con, "2024Q1", code, "hazards")
        assert "source" not in haz.columns and "H6" not in set(haz["hazard_id"])
        assert len(haz) == kpis.region_totals(con, "2024Q1", code)["hazards"]


def test_the_backlog_stays_inside_the_region(con):
    """H6 is 上城's (330102) record: E2's list under another region (a city user's scope) does not
    reach it."""
    assert "H6" in set(drill.records(con, "2024Q1", "330102", "hazards", enterprise_id="E2")["hazard_id"])
    for code in ("330105", "330200"):
        assert drill.records(con, "2024Q1", code, "hazards", enterprise_id="E2").empty, code
