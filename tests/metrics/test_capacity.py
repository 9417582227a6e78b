"""Case reporting (report_cadence) and the capacity indicators (methodology §7), pinned on
hand-checked records. Real Zhejiang codes: 杭州 330100 with 上城 330102 and 拱墅 330105.

Reporting (cases with 典型案例报送 = 是 unless said otherwise):
  杭州市局 330100: R1 2025-01-01 (first day of Q1), R2 2025-06-30 (last day of Q2), R3 2024-12-31
    (2024Q4, not 2025Q1), R4 2025-10-08 NOT reported; Q3 nothing of its own.
  上城 330102: R5 2025-02-28 (last day of Jan–Feb), R6 2025-03-01 (first day of Mar–Apr),
    R7 2025-08-15 (Jul–Aug; a county's case: not the city bureau's Q3).
  省厅 330000: R8 2025-07-01 (first day of the second half-year).
Staff of 上城 330102 (in post on a day d: started on or before d, no end date on or before d):
  O1 行政执法 degree, 2020-01-01 –;  O2 行政执法, 2021-05-01 – 2025-06-30 (left mid-year);
  O3 行政执法, 2025-03-01 –;  O4 技术检查员 qualification, 2019-01-01 – (not 行政执法);
  O5 执法辅助 degree, 2018-01-01 – (counted nowhere);  O6 行政执法 degree, 2026-01-05 – (after 2025);
  O7 行政执法 experience, 2018-01-01 – 2025-12-31 (its end date is the year's last day: out of post).
  Training: O1 2024 20 days, O1 2025 10 days (exactly two weeks less the weekends: ≥ 10 met),
  O3 2024 12 days (another year), O3 2025 9.5 days, O4 2025 20 days (a 技术检查员). Posts: 2024 5, 2025 4.
  Inspections by 上城: 2025-02-10, 2025-05-10, 2025-11-10.
Staff of 杭州市局 330100: C1 行政执法 experience 2022-01-01 –, C2 技术检查员 2022-01-01 –; posts 2025: 3.
"""
import math

import pytest

from metrics.capacity import capacity_frame, capacity_table, missed_windows
from metrics.explain import records
from metrics.indicators import compute_indicators
from metrics.scheme import load_scheme
from tests.metrics.metrics_data import Data

NA = None


@pytest.fixture(scope="module")
def con():
    d = Data()
    e = d.enterprise("330102")
    d.penalty("330100", e, "2025-01-01", reported=True, cid="R1")
    d.penalty("330100", e, "2025-06-30", reported=True, cid="R2")
    d.penalty("330100", e, "2024-12-31", reported=True, cid="R3")
    d.penalty("330100", e, "2025-10-08", reported=False, cid="R4")
    d.penalty("330102", e, "2025-02-28", reported=True, cid="R5")
    d.penalty("330102", e, "2025-03-01", reported=True, cid="R6")
    d.penalty("330102", e, "2025-08-15", reported=True, cid="R7")
    d.penalty("330000", e, "2025-07-01", reported=True, cid="R8")
    d.officer("330102", "行政执法", "2020-01-01", degree=True, oid="O1")
    d.officer("330102", "行政执法", "2021-05-01", "2025-06-30", oid="O2")
    d.officer("330102", "行政执法", "2025-03-01", oid="O3")
    d.officer("330102", "技术检查员", "2019-01-01", qualification=True, oid="O4")
    d.officer("330102", "执法辅助", "2018-01-01", degree=True, oid="O5")
    d.officer("330102", "行政执法", "2026-01-05", degree=True, oid="O6")
    d.officer("330102", "行政执法", "2018-01-01", "2025-12-31", experience=True, oid="O7")
    d.officer("330100", "行政执法", "2022-01-01", experience=True, oid="C1")
    d.officer("330100", "技术检查员", "2022-01-01", oid="C2")
    for oid, year, days in (("O1", 2024, 20), ("O1", 2025, 10), ("O3", 2024, 12), ("O3", 2025, 9.5),
                            ("O4", 2025, 20)):
        d.training(oid, year, days)
    d.posts("330102", 2024, 5)
    d.posts("330102", 2025, 4)
    d.posts("330100", 2025, 3)
    for day in ("2025-02-10", "2025-05-10", "2025-11-10"):
        d.inspection("330102", e, day)
    c = d.memory()
    yield c
    c.close()


def _one(con, period, level, code, indicator):
    df = compute_indicators(con, period, level, "330000", load_scheme(), [indicator])
    r = df[df.code == code].iloc[0]
    return r.value, r.numerator, r.denominator


def _eq(got, expected):
    value, num, den = expected
    v, n, d = got
    if value is None:
        assert math.isnan(v), got
    else:
        assert v == pytest.approx(value), got
    assert (n, d) == (num, den) if den is not None else n == num and math.isnan(d)


# --- case reporting ---------------------------------------------------------------------------------
@pytest.mark.parametrize("period, expected", [
    ("2025", (0.5, 2, 4)),       # Q1 (R1 on 01-01) and Q2 (R2 on 06-30) met; Q3 (R7 is 上城's), Q4 (R4 not reported)
    ("2025Q1", (1.0, 1, 1)),     # R1 on the first day; R3 on 2024-12-31 belongs to 2024Q4
    ("2025Q2", (1.0, 1, 1)),     # R2 on the last day
    ("2025Q3", (0.0, 0, 1)),     # 上城's R7 does not count for the city bureau's own window
    ("2024Q4", (1.0, 1, 1)),     # R3
    ("2025-01", (NA, 0, 0)),     # no quarter ended within January: NA
])
def test_city_bureau_windows(con, period, expected):
    _eq(_one(con, period, "city", "330100", "report_cadence"), expected)


@pytest.mark.parametrize("period, expected", [
    ("2025", (0.5, 3, 6)),       # Jan–Feb (R5 on 02-28), Mar–Apr (R6 on 03-01), Jul–Aug (R7) of six
    ("2025Q1", (1.0, 1, 1)),     # only Jan–Feb ended in Q1; R6 is in Mar–Apr, which ends in Q2
    ("2025Q2", (0.5, 1, 2)),     # Mar–Apr met, May–Jun missed
    ("2025-02", (1.0, 1, 1)),
    ("2025-03", (NA, 0, 0)),     # Mar–Apr has not ended in March
])
def test_county_bureau_windows(con, period, expected):
    _eq(_one(con, period, "county", "330102", "report_cadence"), expected)


@pytest.mark.parametrize("period, expected", [
    ("2025", (0.5, 1, 2)),       # first half-year missed, second met by R8 on 07-01
    ("2025Q1", (NA, 0, 0)),      # no half-year ended in Q1
    ("2025Q2", (0.0, 0, 1)),     # the first half-year ended on 06-30, nothing reported by the province bureau
    ("2025Q3", (NA, 0, 0)),
    ("2025Q4", (1.0, 1, 1)),
])
def test_province_bureau_half_years(con, period, expected):
    """The province bureau's own cases only: the city bureau's R1/R2 do not count for it."""
    _eq(_one(con, period, "province", "330000", "report_cadence"), expected)


def test_missed_windows_by_name(con):
    city = missed_windows(con, "2025", "city", "330000", code="330100")
    assert list(city.window_name) == ["2025年第3季度", "2025年第4季度"]
    county = missed_windows(con, "2025", "county", "330000", code="330102")
    assert list(county.window_name) == ["2025年5—6月", "2025年9—10月", "2025年11—12月"]
    assert list(missed_windows(con, "2025", "province", "330000").window_name) == ["2025年上半年"]
    table = capacity_table(con, "2025", "county", "330000").set_index("code")
    assert table.loc["330102", "missed_windows"] == "2025年5—6月、2025年9—10月、2025年11—12月"


def test_reported_cases_behind_the_windows(con):
    met = records(con, "2025", "330100", "report_cadence", "numerator")
    assert list(met.window_name) == ["2025年第1季度", "2025年第2季度"] and list(met.case_ids) == ["R1", "R2"]
    windows = records(con, "2025", "330102", "report_cadence", "denominator")
    assert list(windows.window_end.astype(str)) == ["2025-02-28", "2025-04-30", "2025-06-30", "2025-08-31",
                                                    "2025-10-31", "2025-12-31"]
    assert list(windows.met) == [True, True, False, True, False, False]


# --- capacity ---------------------------------------------------------------------------------------
COUNTY_2025 = {  # on 2025-12-31: 行政执法 O1, O3 (O2 left 06-30, O7 on 12-31, O6 not yet); 技术检查员 O4
    "officers": (3, 3, None),                  # O1, O3, O4 (O5 执法辅助 not counted)
    "qualified_share": (0.5, 1, 2),            # O1 / O1, O3 (O4 is a 技术检查员, O5 执法辅助)
    "tech_inspector_ratio": (0.5, 1, 2),       # O4 / O1, O3
    "inspections_per_officer": (1.5, 3, 2),    # 3 inspections × 12/12 / 2
    "training_met": (0.5, 1, 2),               # O1 (10 days in 2025); O3 9.5 in 2025 (12 in 2024 does not count)
    "establishment_filled": (0.75, 3, 4),      # 3 / 4 posts of 2025
}
COUNTY_2024 = {  # on 2024-12-31: 行政执法 O1, O2, O7; 技术检查员 O4
    "officers": (4, 4, None),
    "qualified_share": (2 / 3, 2, 3),          # O1 degree, O7 experience
    "tech_inspector_ratio": (1 / 3, 1, 3),
    "inspections_per_officer": (0.0, 0, 3),
    "training_met": (1 / 3, 1, 3),             # O1's 20 days; O3 was not yet in post
    "establishment_filled": (0.8, 4, 5),
}
COUNTY_2025Q2 = {  # on 2025-06-30: O2 leaves that day (out of post); O1, O3, O7 行政执法
    "officers": (4, 4, None),
    "qualified_share": (2 / 3, 2, 3),
    "inspections_per_officer": (4 / 3, 4, 3),  # 1 inspection (05-10) × 12/3 / 3
    "training_met": (1 / 3, 1, 3),             # 2025's training: O1 only
}


@pytest.mark.parametrize("period, expected", [("2025", COUNTY_2025), ("2024", COUNTY_2024),
                                              ("2025Q2", COUNTY_2025Q2)])
def test_county_capacity(con, period, expected):
    for ind, exp in expected.items():
        _eq(_one(con, period, "county", "330102", ind), exp), ind


def test_city_capacity_includes_its_counties(con):
    got = {ind: _one(con, "2025", "city", "330100", ind) for ind in COUNTY_2025}
    _eq(got["officers"], (5, 5, None))                  # O1, O3, O4 + C1, C2
    _eq(got["qualified_share"], (2 / 3, 2, 3))          # O1, C1 / O1, O3, C1
    _eq(got["tech_inspector_ratio"], (2 / 3, 2, 3))
    _eq(got["establishment_filled"], (5 / 7, 5, 7))     # 4 + 3 posts


def test_officers_behind_the_number(con):
    rows = records(con, "2025", "330102", "officers")
    assert sorted(rows.officer_id) == ["O1", "O3", "O4"]
    rows = records(con, "2025", "330102", "training_met")
    assert list(rows.officer_id) == ["O1"]


def test_bands_against_the_published_targets(con):
    df = capacity_frame(con, "2025", "county", "330000").set_index(["code", "indicator"])
    row = df.loc[("330102", "qualified_share")]
    assert (row.target, row.attainment, row.band) == (0.75, pytest.approx(200 / 3), "需改进")  # 0.5 / 0.75
    row = df.loc[("330102", "tech_inspector_ratio")]
    assert (row.target, row.attainment, row.band) == (0.5, 100.0, "达标")                       # 1:2 met
    row = df.loc[("330102", "establishment_filled")]
    assert (row.attainment, row.band) == (75.0, "关注")
    row = df.loc[("330102", "inspections_per_officer")]
    assert (row.target, row.attainment, row.band) == (40, pytest.approx(3.75), "需改进")
    assert math.isnan(df.loc[("330102", "officers")].target)                                  # a count: no target
    assert df.loc[("330105", "qualified_share")].band is None                                  # no staff: NA
