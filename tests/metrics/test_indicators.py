"""Base indicators pinned on a hand-checked warehouse (metrics_data.hangzhou_q1, 2024Q1).

Every expected number below was worked out by hand from the records listed in hangzhou_q1's
docstring, following the counting rule: a city = its bureau + its counties' bureaus; a county =
its own bureau; the province = the province bureau only; hazards follow their inspection.
"""
import math

import pytest

from metrics.explain import records
from metrics.indicators import compute_indicators, published
from metrics.scheme import load_scheme
from tests.metrics.metrics_data import ZJ_CITIES, Data, hangzhou_q1

NA = None

# indicator: (value, numerator, denominator) — denominator None for a count or sum
CITY_330100 = {
    "coverage": (0.75, 3, 4),              # E1, E3, E4 inspected / E1–E4 in the register
    "key_coverage": (1.0, 2, 2),           # E1, E3 / key units E1, E3
    "rectification": (0.6, 3, 5),          # H1, H2, H8 of H1, H2, H3, H5, H8 (H4 needs none)
    "major_on_time": (1 / 3, 1, 3),        # H8 on its deadline; H2 late, H6 open (deadlines in Q1)
    "penalty_rate": (0.75, 3, 4),          # P1–P3 / I1–I4 all found hazards
    "avg_fine": (2.25, 4.5, 2),            # P1 3.5万 + P3 1.0万 (P2 undecided) / 2
    "major_filing": (1 / 3, 1, 3),         # P1 / H2, H5, H8
    "dual_penalty": (0.5, 1, 2),           # P1 / P1, P2
    "review_score": (85.0, 170, 2),        # (90 + 80) / 2
    "plan_completion": (4 / 18, 4, 18),    # 4 / (40 + 20 + 12) × 3/12
    "mobile_share": (0.75, 3, 4),          # I1, I3, I4
    "transfers": (1, 1, None),
    "reported_cases": (1, 1, None),
    "overdue_major": (1, 1, None),         # H6: deadline 01-31, still open on 03-31
    "key_matter_findings": (1, 1, None),   # H4
    "fines_total": (6.5, 6.5, None),       # 3.5 + 2.0 + 1.0 万元
    "rectification_due": (0.75, 3, 4),     # due: H1, H2, H6, H8; rectified by 03-31: H1, H2, H8
    "dual_penalty_cases": (1, 1, None),
    # §7: the city bureau's own Q1 window; P3 (reported) is 拱墅's, not the city bureau's
    "report_cadence": (0.0, 0, 1),
    # no staff roster: counts 0, ratios NA; I1–I4 annualised (× 12 / 3) over no officers
    **{"officers": (0, 0, None), "qualified_share": (NA, 0, 0), "tech_inspector_ratio": (NA, 0, 0),
       "inspections_per_officer": (NA, 16, 0), "training_met": (NA, 0, 0), "establishment_filled": (NA, 0, 0)},
}
NO_STAFF = {"officers": (0, 0, None), "qualified_share": (NA, 0, 0), "tech_inspector_ratio": (NA, 0, 0),
            "training_met": (NA, 0, 0), "establishment_filled": (NA, 0, 0)}
COUNTY_330102 = {
    "coverage": (0.5, 1, 2), "key_coverage": (1.0, 1, 1), "rectification": (1.0, 3, 3),
    "major_on_time": (1 / 3, 1, 3), "penalty_rate": (0.5, 1, 2), "avg_fine": (3.5, 3.5, 1),
    "major_filing": (0.5, 1, 2), "dual_penalty": (1.0, 1, 1), "review_score": (90.0, 90, 1),
    "plan_completion": (0.2, 2, 10), "mobile_share": (0.5, 1, 2), "transfers": (1, 1, None),
    "reported_cases": (0, 0, None), "overdue_major": (1, 1, None), "key_matter_findings": (0, 0, None),
    "fines_total": (3.5, 3.5, None), "rectification_due": (0.75, 3, 4), "dual_penalty_cases": (1, 1, None),
    "report_cadence": (0.0, 0, 1), "inspections_per_officer": (NA, 8, 0), **NO_STAFF,  # Jan–Feb window: none
}
COUNTY_330105 = {  # the city bureau's I3/H3/H4/P2 in 拱墅 count for the city, not the county
    "coverage": (0.5, 1, 2), "key_coverage": (0.0, 0, 1), "rectification": (0.0, 0, 1),
    "major_on_time": (NA, 0, 0), "penalty_rate": (1.0, 1, 1), "avg_fine": (1.0, 1.0, 1),
    "major_filing": (0.0, 0, 1), "dual_penalty": (NA, 0, 0), "review_score": (80.0, 80, 1),
    "plan_completion": (0.2, 1, 5), "mobile_share": (1.0, 1, 1), "transfers": (0, 0, None),
    "reported_cases": (1, 1, None), "overdue_major": (0, 0, None), "key_matter_findings": (0, 0, None),
    "fines_total": (1.0, 1.0, None), "rectification_due": (NA, 0, 0), "dual_penalty_cases": (0, 0, None),
    "report_cadence": (1.0, 1, 1), "inspections_per_officer": (NA, 4, 0), **NO_STAFF,  # P3 02-15 in Jan–Feb
}


@pytest.fixture(scope="module")
def con():
    c = hangzhou_q1().memory()
    yield c
    c.close()


def _rows(df, code):
    return {r.indicator: (r.value, r.numerator, r.denominator) for r in df[df.code == code].itertuples()}


def _check(got, expected):
    assert set(got) == set(expected)
    for ind, (value, num, den) in expected.items():
        v, n, d = got[ind]
        if value is None:
            assert math.isnan(v), f"{ind} should be NA, is {v}"
        else:
            assert v == pytest.approx(value), ind
        assert n == pytest.approx(num), ind
        if den is None:
            assert math.isnan(d), ind
        else:
            assert d == pytest.approx(den), ind


def test_city_figures_include_its_bureau_and_counties(con):
    df = compute_indicators(con, "2024Q1", "city", "330000")
    _check(_rows(df, "330100"), CITY_330100)


@pytest.mark.parametrize("code, expected", [("330102", COUNTY_330102), ("330105", COUNTY_330105)])
def test_county_figures_are_its_own_bureau_only(con, code, expected):
    df = compute_indicators(con, "2024Q1", "county", "330000")
    _check(_rows(df, code), expected)


def test_province_figures_are_the_province_bureau_only(con):
    got = _rows(compute_indicators(con, "2024Q1", "province", "330000"), "330000")
    assert got["coverage"] == pytest.approx((0.2, 1, 5))        # E2 / the whole register
    assert got["major_filing"][1:] == (0, 1)                      # H7, no case for it
    assert got["fines_total"][0] == pytest.approx(0.5)            # P5 only


def test_every_region_of_the_level_is_a_row_and_zero_denominators_are_na(con):
    cities = compute_indicators(con, "2024Q1", "city", "330000")
    assert sorted(cities.code.unique()) == ZJ_CITIES
    counties = compute_indicators(con, "2024Q1", "county", "330000")
    assert counties.code.nunique() == 90
    quiet = _rows(counties, "330106")  # 西湖区: no enterprise, no record
    for ind, (v, n, d) in quiet.items():
        if ind == "report_cadence":  # every bureau has its reporting windows, records or not
            assert (v, n, d) == (0, 0, 1)
        elif load_scheme().indicators[ind].is_ratio:
            assert math.isnan(v) and d == 0, ind       # NA, never 0 or 100
        else:
            assert v == 0 and n == 0, ind
    assert not counties.set_index("code").loc["330106", "assessed"].any()
    assert counties.set_index("code").loc["330102", "assessed"].all()


def test_periods_other_than_the_quarter(con):
    ytd = _rows(compute_indicators(con, "2024", "county", "330000"), "330105")
    assert ytd["key_coverage"] == pytest.approx((1.0, 1, 1))      # I8 in April inspects key unit E3
    assert ytd["plan_completion"] == pytest.approx((2 / 20, 2, 20))
    month = _rows(compute_indicators(con, "2024-03", "city", "330000"), "330100")
    assert month["plan_completion"] == pytest.approx((2 / 6, 2, 6))  # I3, I4 / 72 × 1/12
    assert month["rectification"] == pytest.approx((0, 0, 2))   # H3 open; H5 rectified only in April


def test_published_check_rectification_and_average_fine():
    """The published figures: 2,255 of 2,287 → 98.6%; 601.98万元 over 79 cases → 7.62万元."""
    d = Data()
    e = d.enterprise("330102")
    i = d.inspection("330102", e, "2024-02-01")
    for k in range(2287):
        d.hazard(i, "2024-02-01", rectified="2024-02-20" if k < 2255 else None)
    for k in range(10):
        d.hazard(i, "2024-02-01", needs=False)  # not needing rectification: outside both counts
    for k in range(79):  # 78 × 76,000 元 + 91,800 元 = 6,019,800 元
        d.penalty("330102", e, "2024-03-01", fine_company=60000, fine_person=16000 if k else 31800)
    con = d.memory()
    scheme = load_scheme()
    df = published(compute_indicators(con, "2024Q1", "city", "330000", scheme), scheme)
    got = _rows(df, "330100")
    assert got["rectification"][1:] == (2255, 2287)
    assert round(got["rectification"][0] * 100, 1) == 98.6
    assert got["avg_fine"] == (7.62, 601.98, 79)
    assert got["fines_total"] == (601.98, 601.98, None) or math.isnan(got["fines_total"][2])


def test_every_number_can_be_explained_by_its_records(con):
    scheme = load_scheme()
    df = compute_indicators(con, "2024Q1", "city", "330000", scheme)
    for r in df[df.code == "330100"].itertuples():
        ind = scheme.indicators[r.indicator]
        for part, number in (("numerator", r.numerator), ("denominator", r.denominator)):
            p = ind.numerator if part == "numerator" else ind.denominator
            if p is None:
                continue
            rows = records(con, "2024Q1", "330100", r.indicator, part, scheme)
            if p.agg == "count":
                assert len(rows) == number, (r.indicator, part)
            elif p.agg == "distinct":
                assert rows[p.column].nunique() == number, (r.indicator, part)
            else:
                assert rows["amount"].sum() == pytest.approx(number), (r.indicator, part)
    rect = records(con, "2024Q1", "330100", "rectification", "numerator", scheme)
    assert list(rect.hazard_id) == ["H1", "H2", "H8"]
    overdue = records(con, "2024Q1", "330102", "overdue_major", "numerator", scheme)
    assert list(overdue.hazard_id) == ["H6"]
    with pytest.raises(ValueError, match="no denominator"):
        records(con, "2024Q1", "330100", "transfers", "denominator", scheme)
