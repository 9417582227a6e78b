"""A scheme that defines a new indicator needs no code: it is compiled from the stamped records
(metrics/schemes/README.md), with the counting rule applied by the marts, and traced to them."""
import re
from pathlib import Path

from metrics.explain import records
from metrics.indicators import compute_indicators
from metrics.periods import Period
from metrics.query import parts_sql
from metrics.scheme import load_scheme
from tests.metrics.metrics_data import Data

SCHEME = load_scheme(Path(__file__).parent / "schemes" / "new_indicators.toml")
CHEM = "危险化学品"


def _data() -> Data:
    """上城 330102 and 拱墅 330105 in 杭州 330100. E1 上城 key; E2 上城 危化; E3 拱墅 key 危化."""
    d = Data()
    e1 = d.enterprise("330102", key=True, eid="E1")
    e2 = d.enterprise("330102", industry=CHEM, eid="E2")
    e3 = d.enterprise("330105", key=True, industry=CHEM, eid="E3")
    i1 = d.inspection("330102", e1, "2024-01-10", iid="I1")
    i2 = d.inspection("330100", e3, "2024-02-10", iid="I2")      # the city bureau: counts for the city only
    i3 = d.inspection("330105", e2, "2024-03-01", iid="I3")      # 拱墅 inspects an enterprise of 上城
    i4 = d.inspection("330105", e3, "2024-04-02", iid="I4")      # Q2
    d.inspection("330102", e2, "2023-12-30", iid="I5")           # last year
    d.hazard(i1, "2024-01-10", major=True, hid="H1")
    d.hazard(i1, "2024-01-10", hid="H2")
    d.hazard(i2, "2024-02-10", major=True, hid="H3")
    d.hazard(i3, "2024-03-01", major=True, hid="H4")             # major, but E2 is no key unit
    d.hazard(i4, "2024-04-02", major=True, hid="H5")
    return d


def _values(con, period, level, code):
    df = compute_indicators(con, period, level, "330000", SCHEME, ["key_unit_major", "chem_firms_inspected"])
    return df[df.code == code].set_index("indicator")["value"].to_dict()


def test_new_indicators_follow_the_counting_rule():
    con = _data().memory()
    assert _values(con, "2024Q1", "county", "330102") == {"key_unit_major": 1, "chem_firms_inspected": 0}
    assert _values(con, "2024Q1", "county", "330105") == {"key_unit_major": 0, "chem_firms_inspected": 1}
    assert _values(con, "2024Q1", "city", "330100") == {"key_unit_major": 2, "chem_firms_inspected": 2}
    assert _values(con, "2024Q2", "county", "330105") == {"key_unit_major": 1, "chem_firms_inspected": 2}


def test_new_indicators_are_traced_to_their_records():
    con = _data().memory()
    assert records(con, "2024Q1", "330100", "key_unit_major", scheme=SCHEME)["hazard_id"].tolist() == ["H1", "H3"]
    assert records(con, "2024Q2", "330105", "chem_firms_inspected", scheme=SCHEME)["inspection_id"].tolist() == ["I3", "I4"]


def test_they_compile_to_a_filter_on_the_stamped_records_without_a_join():
    parts = [SCHEME.indicator(c).numerator for c in ("key_unit_major", "chem_firms_inspected")]
    sql, _ = parts_sql(parts, [Period.parse("2024Q1")], "county", "330000")
    assert "mart_hazards" in sql and "mart_inspections" in sql and "county_unit" in sql
    raw = r"\b(FROM|JOIN)\s+(hazards|inspections|enterprises|penalties|plans)\b"
    assert re.search(raw, sql) is None, sql
    assert sql.count("FROM regions") == 1  # the list of peers (a row per unit, records or not), not a placing


def test_a_scheme_not_installed_at_the_last_write_is_computed_from_the_stamped_records():
    """Its parts are not in the panel mart: read from the stamped records (the activity counts of
    the same query from the panel), with the same numbers once a write puts them in the panel."""
    from metrics.query import ACTIVITY_PARTS, build_panel, ensure_marts, installed_parts, panel_serves

    con = _data().memory()
    ensure_marts(con)
    new = [SCHEME.indicator(c).numerator for c in ("key_unit_major", "chem_firms_inspected")]
    q = [Period.parse("2024Q2")]
    assert panel_serves(con, new + ACTIVITY_PARTS, q, "county") == ACTIVITY_PARTS
    before = {c: _values(con, "2024Q2", "county", c) for c in ("330102", "330105")}
    assert before["330105"] == {"key_unit_major": 1, "chem_firms_inspected": 2}
    build_panel(con, installed_parts() + new)  # what a write does once the file is installed
    assert panel_serves(con, new + ACTIVITY_PARTS, q, "county") == new + ACTIVITY_PARTS
    assert {c: _values(con, "2024Q2", "county", c) for c in ("330102", "330105")} == before
