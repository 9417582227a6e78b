"""The marts against the raw records: on random small warehouses, the indicators, index, scores and
warnings read from the panel mart, and read from the stamped facts, both equal a straightforward
pandas computation from the raw tables (bench/pandas_reference.py, written from the spec, not from
metrics' code) — before and after a correction that moves an inspection to another agency and date."""
import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import pandas_reference as ref
from metrics.index import compute_index
from metrics.indicators import compute_indicators
from metrics.periods import Period
from metrics.query import additive, ensure_marts, facts_only, panel_serves
from metrics.score import compute_score, warnings
from tests.metrics.metrics_data import Data
from tests.metrics.test_properties import AGENCIES, DAY0, SCHEME, warehouses

_C = Data().memory()  # reused: each example replaces the records
CHECK = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _same(a: pd.Series, b: pd.Series) -> bool:
    return bool(np.isclose(a.astype(float), b.astype(float), rtol=1e-9, atol=1e-9, equal_nan=True).all())


def _reference_warned(score: pd.DataFrame) -> set[str]:
    """The warning rule as the spec words it: score below the threshold and among the last
    ``last`` (ties included) of at least ``min_peers`` assessed peers (one group: the province)."""
    rule = SCHEME.warning
    s = score.dropna(subset=["score"])
    if len(s) < rule.min_peers:
        return set()
    from_bottom = s["score"].rank(method="min", ascending=True)
    return set(s.loc[(s["score"] < rule.threshold) & (from_bottom <= rule.last), "code"])


def _check(con, quarter: str, level: str) -> None:
    """The reference's numbers, read from the panel mart and from the stamped facts."""
    parts = [p for i in SCHEME.indicators.values() for p in (i.numerator, i.denominator) if p is not None]
    ensure_marts(con)  # as every read does first: the marts and the panel follow the records
    served = panel_serves(con, parts, [Period.parse(quarter)], level)
    assert {p for p in parts if additive(p)} <= set(served)  # the panel answers (all of it when
    if con.execute("SELECT count(*) FROM mart_panel_periods").fetchone()[0]:  # a year holds activity)
        assert served == parts
    _check_against_reference(con, quarter, level)
    with facts_only():
        _check_against_reference(con, quarter, level)


def _check_against_reference(con, quarter: str, level: str) -> None:
    d = ref.Data(con)
    long = ref.indicators(d, quarter, level, "330000")
    want = long.set_index(["code", "indicator"]).sort_index()
    got = compute_indicators(con, quarter, level, "330000", SCHEME).set_index(["code", "indicator"])
    got = got.loc[want.index]
    for col in ("numerator", "denominator", "value"):
        assert _same(got[col], want[col]), (col, pd.concat([got[col], want[col]], axis=1)[
            ~np.isclose(got[col].astype(float), want[col].astype(float), equal_nan=True)])
    assert (got["assessed"] == want["assessed"]).all()

    want_ix = ref.index(d, quarter, level, "330000", long).set_index("code").sort_index()
    got_ix = compute_index(con, quarter, level, "330000", SCHEME).set_index("code").loc[want_ix.index]
    for col in ("index", "A", "B", "C", "D", "E", "F", "rank"):
        assert _same(got_ix[col], want_ix[col]), col

    want_sc = ref.score(d, quarter, level, "330000").set_index("code").sort_index()
    got_sc = compute_score(con, quarter, level, "330000", SCHEME).set_index("code").loc[want_sc.index]
    for col in ("score", "rank"):
        assert _same(got_sc[col], want_sc[col]), col
    warned = set(warnings(con, quarter, level, "330000", SCHEME)["code"])
    assert warned == _reference_warned(want_sc.reset_index())


@CHECK
@given(warehouses(), st.sampled_from(["2024Q1", "2024Q2", "2024Q3", "2024Q4"]),
       st.sampled_from(["city", "county"]), st.data())
def test_marts_give_the_raw_records_numbers_before_and_after_a_correction(d, quarter, level, data):
    con = d.replace_into(_C)
    _check(con, quarter, level)
    if not d.rows["inspections"]:
        return
    # a corrected inspection: same id, another agency and another date (its hazards must follow it);
    # half the time an agency of another city (or the province's bureau), so the record leaves its
    # unit at both levels
    moved = data.draw(st.sampled_from([r["inspection_id"] for r in d.rows["inspections"]]))
    was = next(r for r in d.rows["inspections"] if r["inspection_id"] == moved)
    old_agency, old_day = was["agency_code"], was["inspection_date"]
    others = [a for a in AGENCIES if a != old_agency]
    other_city = [a for a in others if a[:4] != old_agency[:4]]
    if data.draw(st.booleans()):
        others = other_city
    agency = data.draw(st.sampled_from(others))
    day = DAY0 + dt.timedelta(days=data.draw(st.integers(0, 363)))
    day += dt.timedelta(days=1) if day >= old_day else dt.timedelta(0)  # never the old date
    assert agency != old_agency and day != old_day
    con.execute("UPDATE inspections SET agency_code = ?, inspection_date = ? WHERE inspection_id = ?",
                [agency, day, moved])
    _check(con, quarter, level)
    placed = con.execute("SELECT DISTINCT county_unit, city_unit, inspection_date FROM mart_hazards "
                         "WHERE inspection_id = ?", [moved]).fetchall()
    assert placed in ([], [(_county(agency), _city(agency), day)])
    if agency[:4] != old_agency[:4]:  # another city (or the province's bureau): both units change
        assert _city(agency) != _city(old_agency)
        assert _county(agency) != _county(old_agency) or _county(agency) is None


def _county(agency: str) -> str | None:
    return agency if agency[4:] != "00" else None


def _city(agency: str) -> str | None:
    return agency[:4] + "00" if agency[2:] != "0000" else None
