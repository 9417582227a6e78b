"""The panel mart (metrics.query.build_panel, built by etl.marts with the other marts): a few of
its values pinned on the hand-checked 杭州 2024Q1 warehouse, what it serves, and that a
correction moves its values with the records."""
import pandas as pd
import pytest

from metrics import query
from metrics.indicators import compute_indicators
from metrics.kpis import region_totals
from metrics.periods import Period
from metrics.query import ACTIVITY_PARTS, facts_only, panel_serves, part_key
from metrics.scheme import load_scheme
from tests.metrics.metrics_data import hangzhou_q1

SCHEME = load_scheme()
INSPECTIONS = ACTIVITY_PARTS[0]
HAZARDS = ACTIVITY_PARTS[1]


@pytest.fixture()
def con():
    c = hangzhou_q1().memory()
    query.ensure_marts(c)  # a write connection: the marts (and the panel) are built as a load builds them
    return c


def _months(con, part, placement, unit) -> dict[str, float]:
    rows = con.execute("SELECT strftime(month, '%Y-%m'), value FROM mart_panel WHERE part = ? AND placement = ? "
                       "AND unit = ? ORDER BY month", [part_key(part), placement, unit]).fetchall()
    return dict(rows)


def _exact(con, part, placement, unit, period) -> float:
    row = con.execute("SELECT value FROM mart_panel_exact WHERE part = ? AND placement = ? AND unit = ? "
                      "AND period = ?", [part_key(part), placement, unit, period]).fetchone()
    return row[0] if row else 0.0  # an absent row is a zero


def test_additive_parts_are_held_by_month_for_every_placement(con):
    # I5 上城 2023-12-31; I1 上城 01-10; I2 上城 02-10; I3 杭州市局 03-05; I4 拱墅 03-31; I8 拱墅 04-01;
    # I6 省厅 02-01 (the province alone); I7 宁波市局 01-15
    assert _months(con, INSPECTIONS, "city_unit", "330100") == {
        "2023-12": 1, "2024-01": 1, "2024-02": 1, "2024-03": 2, "2024-04": 1}
    assert _months(con, INSPECTIONS, "county_unit", "330102") == {"2023-12": 1, "2024-01": 1, "2024-02": 1}
    assert _months(con, INSPECTIONS, "province_unit", "330000") == {"2024-02": 1}
    assert _months(con, INSPECTIONS, "province_code", "330000") == {
        "2023-12": 1, "2024-01": 2, "2024-02": 2, "2024-03": 2, "2024-04": 1}
    # the register (window "all"): one undated row; 杭州 has E1–E4, 2 of them key units
    ents = SCHEME.indicator("coverage").denominator
    assert con.execute("SELECT month, value FROM mart_panel WHERE part = ? AND placement = 'city_unit' "
                       "AND unit = '330100'", [part_key(ents)]).fetchall() == [(None, 4.0)]


def test_other_parts_hold_the_compilers_numbers_per_quarter_and_year(con):
    covered = SCHEME.indicator("coverage").numerator        # distinct enterprises inspected
    assert _exact(con, covered, "city_unit", "330100", "2024Q1") == 3        # E1 (I1, I2), E3, E4
    assert _exact(con, covered, "city_unit", "330100", "2024") == 3          # I8 inspects E3 again
    assert _exact(con, covered, "county_unit", "330102", "2024Q1") == 1
    assert _exact(con, covered, "province_code", "330000", "2024Q1") == 5    # E1–E5
    assert _exact(con, covered, "city_unit", "330100", "2023Q4") == 1        # I5 → E2
    overdue = SCHEME.indicator("overdue_major").numerator   # the backlog at the period's end
    # H6 (上城's I5, due 01-31, never rectified); H7 (省厅's I6, due 03-02, never rectified)
    assert _exact(con, overdue, "city_unit", "330100", "2024Q1") == 1
    assert _exact(con, overdue, "county_unit", "330102", "2024Q1") == 1
    assert _exact(con, overdue, "province_unit", "330000", "2024Q1") == 1
    assert _exact(con, overdue, "province_code", "330000", "2024Q1") == 2
    assert _exact(con, overdue, "city_unit", "330100", "2023Q4") == 0        # H6 not yet due
    # every quarter and year of the years holding activity (2023 and 2024), no month
    periods = sorted(r[0] for r in con.execute("SELECT period FROM mart_panel_periods").fetchall())
    assert periods == sorted(["2023", "2024"] + [f"{y}Q{q}" for y in (2023, 2024) for q in range(1, 5)])


def _parts():
    return [p for i in SCHEME.indicators.values() for p in (i.numerator, i.denominator) if p is not None]


def test_what_the_panel_serves(con):
    parts = _parts()
    q1 = [Period.parse("2024Q1")]
    assert panel_serves(con, parts, q1, "city") == parts
    # a month: only the additive parts (the others were materialised per quarter and year)
    month = panel_serves(con, parts, [Period.parse("2024-03")], "city")
    assert month and set(month) == {p for p in parts if query.additive(p)}
    # a year beyond the data, or the drill-down's grouping by enterprise: the additive parts / nothing
    assert set(panel_serves(con, parts, [Period.parse("2025")], "city")) == set(month)
    assert panel_serves(con, parts, q1, "city", by="enterprise_id") == []
    with facts_only():
        assert panel_serves(con, parts, q1, "city") == []


@pytest.mark.parametrize("period", ["2024Q1", "2024-03", "2024", "2025Q1"])
def test_panel_and_facts_give_the_same_frame(con, period):
    for level in ("province", "city", "county"):
        got = compute_indicators(con, period, level, "330000", SCHEME)
        with facts_only():
            want = compute_indicators(con, period, level, "330000", SCHEME)
        pd.testing.assert_frame_equal(got, want)
    got = region_totals(con, period, "330000", SCHEME)
    with facts_only():
        assert got == region_totals(con, period, "330000", SCHEME)


def test_a_corrected_inspection_moves_its_panel_values(con):
    before = compute_indicators(con, "2024Q1", "city", "330000", SCHEME).set_index(["code", "indicator"])
    assert before.loc[("330100", "coverage"), "numerator"] == 3
    # I1 (上城, E1, 01-10, hazards H1 and H2 found 01-10) re-loaded as 宁波市局's, dated 05-02
    con.execute("UPDATE inspections SET agency_code = '330200', inspection_date = DATE '2024-05-02' "
                "WHERE inspection_id = 'I1'")
    query.ensure_marts(con)
    assert _months(con, INSPECTIONS, "city_unit", "330100") == {
        "2023-12": 1, "2024-02": 1, "2024-03": 2, "2024-04": 1}
    assert _months(con, INSPECTIONS, "city_unit", "330200") == {"2024-01": 1, "2024-05": 1}
    # its hazards keep their found date and follow it to 宁波
    assert _months(con, HAZARDS, "city_unit", "330200") == {"2024-01": 2}
    assert "2024-01" not in _months(con, HAZARDS, "city_unit", "330100")
    covered = SCHEME.indicator("coverage").numerator
    assert _exact(con, covered, "city_unit", "330100", "2024Q1") == 3        # E1 still inspected by I2
    assert _exact(con, covered, "county_unit", "330102", "2024Q1") == 1
    assert _exact(con, covered, "city_unit", "330200", "2024Q2") == 1
    after = compute_indicators(con, "2024Q1", "city", "330000", SCHEME).set_index(["code", "indicator"])
    assert after.loc[("330100", "rectification"), "denominator"] == before.loc[("330100", "rectification"),
                                                                                "denominator"] - 2
    with facts_only():
        want = compute_indicators(con, "2024Q1", "city", "330000", SCHEME).set_index(["code", "indicator"])
    pd.testing.assert_frame_equal(after, want)


def test_the_periods_join_is_bounded_by_what_every_filter_implies():
    from metrics import expr
    from metrics.scheme import Part

    def part(where):
        return Part("hazards", "count", where=expr.parse(where), window="as_of", date="found_date")

    overdue, due = SCHEME.indicator("overdue_major").numerator, SCHEME.indicator("rectification_due").denominator
    still_open = "coalesce(s.\"rectified_date\", DATE '9999-12-31') >= q.period_start"
    assert query._join_bounds([overdue, due]) == [still_open, 's."deadline" <= q.period_end']
    assert query._join_bounds([part("period_end > deadline")]) == ['s."deadline" <= q.period_end']
    assert query._join_bounds([part("rectified_date > period_end")]) == [still_open]
    # nothing implied: no bound (an equality negated, a shifted date, a disjunction, one member without)
    for where in ("NOT deadline = period_end", "deadline + 10 <= period_end", "is_major OR deadline <= period_end"):
        assert query._join_bounds([part(where)]) == [], where
    assert query._join_bounds([overdue, part("is_major")]) == []


def test_the_installed_parts_skip_a_file_that_is_no_scheme(tmp_path):
    import shutil

    from metrics.scheme import SCHEME_DIR

    for name in ("default.toml", "indicators.toml"):
        shutil.copy(SCHEME_DIR / name, tmp_path / name)
    (tmp_path / "broken.toml").write_text("name = \n", encoding="utf-8")
    got = {part_key(p) for p in query.installed_parts(tmp_path)}
    assert got == {part_key(p) for p in [*ACTIVITY_PARTS, *_parts()]}
