"""Data-quality panel and flags: the demo's implausible county is caught for the right reason, a
unit made to bunch its fines under 5万 is caught, late entries are counted, and no flag changes
a score."""
import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from etl import marts
from metrics.index import compute_index
from metrics.indicators import compute_indicators
from metrics.periods import Period
from metrics.quality import QualitySettings, fine_bunching, panel_flags, quality_report, same_day_history
from metrics.score import compute_score
from metrics.scheme import load_scheme
from metrics.sources import unit_column
from tests.metrics.metrics_data import COUNTY_OF, Data


@pytest.fixture(scope="module")
def scheme():
    return load_scheme()


@pytest.fixture(scope="module")
def con(demo_db):
    c = duckdb.connect(str(demo_db), read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def implausible(con):
    profiles = json.loads(con.execute("SELECT value FROM meta WHERE key = 'demo_profiles'").fetchone()[0])
    odd = [p for p in profiles if p["profile"] == "suspicious"]
    assert len(odd) == 1
    return odd[0]


def copy_of(demo_db, tmp_path):
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_db, db)
    return db


@pytest.mark.parametrize("period", ["2025", "2025Q3", "2024Q4"])
def test_implausible_county_flagged_for_same_day_rectification(con, scheme, implausible, period):
    rep = quality_report(con, period, "county", "330000", scheme)
    row = rep.panel.set_index("code").loc[implausible["code"]]
    assert row["same_day"] == row["needing"] == row["rectified"]   # every hazard closed the day it was found
    same_day = rep.flags[rep.flags["rule"] == "same_day_rectification"]
    if row["needing"] >= QualitySettings().same_day_min_hazards:
        assert same_day["code"].tolist() == [implausible["code"]]  # that county, and only it
        reason = same_day["reason"].iloc[0]
        assert f"本期需整改隐患 {int(row['needing'])} 项" in reason
        assert "整改率 100.0%" in reason and "（100.0%）在发现当天即整改完毕" in reason
        assert same_day["rule_name"].iloc[0] == "整改率100%且均为当日整改"
        assert same_day["name"].iloc[0] == implausible["name"]
    else:
        assert same_day.empty


def test_the_demo_has_no_bunching_and_no_late_entries(con, scheme):
    rep = quality_report(con, "2025Q3", "county", "330000", scheme)
    assert not (rep.flags["rule"] == "fine_bunching").any()
    assert rep.panel["late_records"].sum() == 0          # one initial load: the backfill is never late
    assert rep.panel["rectified_before_found"].sum() == 0 and rep.orphan_hazards == 0
    assert rep.panel["flags"].sum() == len(rep.flags)
    for col in ("code", "name", "rule", "rule_name", "reason"):
        assert rep.flags[col].notna().all()


def test_fines_bunched_just_under_5_wan_are_flagged(demo_db, tmp_path, scheme, implausible):
    db = copy_of(demo_db, tmp_path)
    w = duckdb.connect(str(db))
    unit = w.execute("""
        SELECT agency_code FROM penalties WHERE filed_date BETWEEN DATE '2024-10-01' AND DATE '2025-09-30'
          AND length(agency_code) = 6 AND agency_code NOT LIKE '%00' AND agency_code <> ?
        GROUP BY 1 HAVING count(*) >= 15 ORDER BY count(*) DESC, 1 LIMIT 1""", [implausible["code"]]).fetchone()[0]
    # 12 of its cases of the last 12 months get company fines of 4.80万–4.98万 (just under 5万)
    w.execute("""
        UPDATE penalties SET fine_company = 48000 + (CAST(right(case_id, 2) AS INTEGER) % 10) * 200
        WHERE case_id IN (SELECT case_id FROM penalties WHERE agency_code = ?
                            AND filed_date BETWEEN DATE '2024-10-01' AND DATE '2025-09-30'
                          ORDER BY case_id LIMIT 12)""", [unit])
    below, above = w.execute("""
        SELECT count(*) FILTER (WHERE fine_company >= 45000 AND fine_company < 50000),
               count(*) FILTER (WHERE fine_company >= 50000 AND fine_company < 55000)
        FROM penalties WHERE agency_code = ? AND filed_date > DATE '2024-09-30' AND filed_date <= DATE '2025-09-30'""",
                             [unit]).fetchone()
    marts.build(w)  # a hand edit bypasses the ETL: rebuild the stamped records as a load does
    w.close()
    con = duckdb.connect(str(db), read_only=True)
    try:
        rep = quality_report(con, "2025Q3", "county", "330000", scheme)
    finally:
        con.close()
    hit = rep.flags[rep.flags["rule"] == "fine_bunching"]
    assert hit["code"].tolist() == [unit]
    reason = hit["reason"].iloc[0]
    assert f"4.5万–5万元之间 {below} 件" in reason and f"5万–5.5万元之间 {above} 件" in reason
    assert "集中在5万元以下" in reason and "二项检验" in reason


def test_bunching_rule_on_a_hand_made_frame():
    """Unit X: 12 just below, none just above; the others (Y, Z) 40 below, 44 above, so the share
    below elsewhere is 40/84 = 47.6%: P(12 of 12 | p = 0.476) = (40/84)^12 ≈ 0.00014 < 0.001 → flagged.
    Unit Y: 4 below — too few to test. Z: 36 vs 44 — not bunched."""
    fines = pd.DataFrame({"code": ["X", "Y", "Z"], "below_0": [12, 4, 36], "above_0": [0, 0, 44]})
    flags = fine_bunching(fines, {"X": "某县"}, QualitySettings())
    assert flags["code"].tolist() == ["X"]
    assert "4.5万–5万元之间 12 件、5万–5.5万元之间 0 件" in flags["reason"].iloc[0]
    assert "p=0.00014" in flags["reason"].iloc[0]
    assert "其他单位同区间低于5万的占 47.6%" in flags["reason"].iloc[0]


def test_late_entries_are_counted_and_flagged(demo_db, tmp_path, scheme):
    """A later load (after the quarter's end + 30 days) rewrote one county's 2025Q3 inspections."""
    db = copy_of(demo_db, tmp_path)
    w = duckdb.connect(str(db))
    unit = w.execute("""SELECT agency_code FROM inspections WHERE inspection_date BETWEEN DATE '2025-07-01' AND
                        DATE '2025-09-30' AND agency_code NOT LIKE '%00' GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"""
                     ).fetchone()[0]
    w.execute("""INSERT INTO load_history SELECT max(load_id) + 1, 'later-run', 'correction.csv', 'x', 'inspections',
                 1, 0, 1, 0, 0, NULL, NULL, TIMESTAMP '2025-12-15 10:00:00', 'test' FROM load_history""")
    w.execute("""UPDATE inspections SET load_id = (SELECT max(load_id) FROM load_history)
                 WHERE agency_code = ? AND inspection_date BETWEEN DATE '2025-07-01' AND DATE '2025-09-30'""", [unit])
    n_late = w.execute("""SELECT count(*) FROM inspections WHERE agency_code = ?
                          AND inspection_date BETWEEN DATE '2025-07-01' AND DATE '2025-09-30'""", [unit]).fetchone()[0]
    marts.build(w)  # a hand edit bypasses the ETL: rebuild the stamped records as a load does
    w.close()
    con = duckdb.connect(str(db), read_only=True)
    try:
        rep = quality_report(con, "2025Q3", "county", "330000", scheme)
    finally:
        con.close()
    row = rep.panel.set_index("code").loc[unit]
    assert row["late_records"] == n_late
    assert rep.panel.set_index("code").drop(unit)["late_records"].sum() == 0
    hit = rep.flags[(rep.flags["rule"] == "late_entry")]
    assert hit["code"].tolist() == [unit]
    assert f"{n_late} 条" in hit["reason"].iloc[0] and "季度结束30天后" in hit["reason"].iloc[0]


def test_panel_rules_on_a_hand_made_frame():
    panel = pd.DataFrame([
        dict(code="A", name="甲", coverage=1.25, key_coverage=0.5, hazards=20, needing=20, rectified=20, same_day=2,
             rectified_before_found=1, found_after_inspection=3, decidable=20, undecided_90=5, records=50,
             late_records=1, same_day_share=0.1),
        dict(code="B", name="乙", coverage=0.4, key_coverage=1.1, hazards=5, needing=5, rectified=5, same_day=5,
             rectified_before_found=0, found_after_inspection=0, decidable=20, undecided_90=1, records=4,
             late_records=4, same_day_share=1.0),
    ])
    flags = panel_flags(panel, QualitySettings())
    got = set(zip(flags["code"], flags["rule"]))
    assert got == {("A", "coverage_over_100"), ("A", "rectified_before_found"), ("A", "found_after_inspection"),
                   ("A", "undecided_90"), ("B", "key_coverage_over_100")}   # B: too few hazards / records
    reason = dict(zip(flags["rule"], flags["reason"]))
    assert "执法检查覆盖率 125.0%" in reason["coverage_over_100"]
    assert "20 件案件中，5 件（25.0%）" in reason["undecided_90"]


def test_flags_never_change_a_score(con, scheme, implausible):
    before = (compute_score(con, "2025Q3", "county", "330000", scheme), compute_index(con, "2025Q3", "county", "330000", scheme))
    rep = quality_report(con, "2025Q3", "county", "330000", scheme)
    assert implausible["code"] in set(rep.flags["code"])
    after = (compute_score(con, "2025Q3", "county", "330000", scheme), compute_index(con, "2025Q3", "county", "330000", scheme))
    pd.testing.assert_frame_equal(before[0], after[0])
    pd.testing.assert_frame_equal(before[1], after[1])
    assert not {"score", "index", "rank", "warned"} & (set(rep.flags.columns) | set(rep.panel.columns))


# --- the same-day share divides by the scheme's 隐患整改率 denominator ----------------------------------
OTHER = Path(__file__).with_name("schemes") / "other_province.toml"   # 隐患整改率 over every hazard found


def _by_hand_same_day(con, period: str, level: str, needs_only: bool) -> pd.Series:
    """Hazards found in the period and rectified that day, per unit, straight from the stamped mart."""
    p = Period.parse(period)
    extra = "AND needs_rectification " if needs_only else ""
    return con.execute(f"""SELECT {unit_column(level)} AS code, count(*) AS n FROM mart_hazards
                           WHERE province_code = '330000' AND found_date BETWEEN ? AND ?
                           AND rectified_date = found_date {extra}GROUP BY 1""",
                       [p.start, p.end]).df().set_index("code")["n"]


def test_demo_same_day_counts_follow_the_schemes_rectification_denominator(con, scheme):
    other = load_scheme(OTHER)
    assert other.indicator("rectification").denominator != scheme.indicator("rectification").denominator
    for sc, needs_only in ((scheme, True), (other, False)):
        rep = quality_report(con, "2025Q3", "county", "330000", sc)
        panel = rep.panel.set_index("code")
        ind = compute_indicators(con, "2025Q3", "county", "330000", sc, ["rectification"]).set_index("code")
        # needing is the indicator's own denominator, same_day those of its hazards rectified that day
        assert panel["needing"].tolist() == ind.loc[panel.index, "denominator"].astype(int).tolist()
        by_hand = _by_hand_same_day(con, "2025Q3", "county", needs_only).reindex(panel.index, fill_value=0)
        assert panel["same_day"].tolist() == by_hand.tolist()
        share = panel["same_day"] / panel["needing"].where(panel["needing"] > 0)
        pd.testing.assert_series_equal(panel["same_day_share"], share.astype(float), check_names=False)
        hist = same_day_history(con, [Period.parse("2025Q3")], "county", "330000", sc).set_index("code")
        assert hist["needing"].to_dict() == panel.loc[hist.index, "needing"].to_dict()
        assert hist["same_day"].to_dict() == panel.loc[hist.index, "same_day"].to_dict()


def test_a_scheme_counting_every_hazard_moves_the_same_day_flag_with_it():
    """A county whose hazards need no rectification but were all closed the day they were found:
    under the default scheme nothing needed rectification (no rate, no flag); under a scheme whose
    隐患整改率 counts every hazard found its rate is 100% and so is its same-day share: flagged. Under
    that scheme the hard-coded 'needs rectification' filter counted 0 same-day hazards out of 12."""
    d = Data()
    county = COUNTY_OF["330100"]
    e = d.enterprise(county)
    i = d.inspection(county, e, "2025-07-01")
    for k in range(12):
        d.hazard(i, "2025-07-01", needs=False, rectified="2025-07-01")
    for c in ("330100", "330200", "330300", "330400"):   # other units, with nothing odd
        j = d.inspection(c, d.enterprise(COUNTY_OF[c]), "2025-08-01")
        d.hazard(j, "2025-08-01", rectified="2025-08-20")
    mem = d.memory()
    default = quality_report(mem, "2025Q3", "county", "330000", load_scheme(), quarters=["2025Q3"])
    row = default.panel.set_index("code").loc[county]
    assert (row["hazards"], row["needing"], row["same_day"]) == (12, 0, 0) and pd.isna(row["same_day_share"])
    assert "same_day_rectification" not in set(default.flags["rule"])
    other = quality_report(mem, "2025Q3", "county", "330000", load_scheme(OTHER), quarters=["2025Q3"])
    row = other.panel.set_index("code").loc[county]
    assert (row["hazards"], row["needing"], row["rectified"], row["same_day"]) == (12, 12, 12, 12)
    assert row["same_day_share"] == 1.0
    hit = other.flags[other.flags["rule"] == "same_day_rectification"]
    assert hit["code"].tolist() == [county]
    assert "本期需整改隐患 12 项，整改率 100.0%，其中 12 项（100.0%）在发现当天即整改完毕" in hit["reason"].iloc[0]


def test_orphan_hazards_are_read_from_the_mart_with_the_numbers_of_the_anti_join(demo_db, tmp_path, scheme):
    """Hazards citing an inspection the warehouse does not hold (refused by the contract: the
    corpus's 23_orphan_hazards.csv) are counted for the whole warehouse from the ETL's
    mart_orphan_hazards, for a month, a quarter and a year: the numbers the anti-join of the raw
    hazards and inspections gave when it ran on every call."""
    from metrics.quality import _orphans_sql
    from metrics.query import run

    db = copy_of(demo_db, tmp_path)
    w = duckdb.connect(str(db))
    # 5 hazards citing inspections not held: 2 in 2025-07, 1 in 2025-08, 1 in 2025-12, 1 in 2024-02
    w.execute("""INSERT INTO hazards (hazard_id, inspection_id, found_date, is_major, key_matter,
                                      needs_rectification, deadline, rectified_date)
                 SELECT 'YX' || CAST(n AS VARCHAR), 'JC-NONE-' || CAST(n % 2 AS VARCHAR), d, false, false, true,
                        d + 30, NULL
                 FROM (VALUES (1, DATE '2025-07-01'), (2, DATE '2025-07-31'), (3, DATE '2025-08-15'),
                              (4, DATE '2025-12-31'), (5, DATE '2024-02-29')) v(n, d)""")
    marts.build(w)  # a hand edit bypasses the ETL: rebuild the marts as a load does
    w.close()
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert "hazards h" not in _orphans_sql(Period(2025)) and "inspections" not in _orphans_sql(Period(2025))
        for period, want in (("2025-07", 2), ("2025-08", 1), ("2025-09", 0), ("2025Q3", 3), ("2025Q4", 1),
                             ("2025", 4), ("2024", 1), ("2024Q1", 1), ("2024Q2", 0)):
            p = Period.parse(period)
            scan = con.execute(
                "SELECT count(*) FROM hazards h LEFT JOIN inspections i USING (inspection_id) "
                "WHERE i.inspection_id IS NULL AND h.found_date BETWEEN ? AND ?", [p.start, p.end]).fetchone()[0]
            assert int(run(con, _orphans_sql(p)).iloc[0, 0]) == scan == want, period
        assert quality_report(con, "2025Q3", "county", "330000", scheme).orphan_hazards == 3
    finally:
        con.close()
