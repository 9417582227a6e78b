"""The quarterly score, warning list and commendations, hand-checked."""
import math
import textwrap

import pandas as pd
import pytest

from metrics.periods import Period
from metrics.rounding import round_half_away
from metrics.scheme import WarningRule, load_scheme
from metrics.score import apply_warning_rule, commendations, compute_score, score_items, warnings
from tests.metrics.metrics_data import ZJ_CITIES, Data, hangzhou_q1, scored_unit


def test_score_by_hand_on_the_hangzhou_quarter():
    """杭州 2024Q1 (values in test_indicators.CITY_330100):
    plan 20 × 4/18 = 4.444; key_coverage 1.0 ≥ 1/4 → 15; rectification_due 20 × 0.75 = 15;
    penalty_rate 0.75 ≥ 0.30 → 15; major_filing 10 × 1/3 = 3.333; dual_penalty 10 × 0.5/0.6 = 8.333;
    mobile 10 × 0.75 = 7.5; published items 4.4 + 15 + 15 + 15 + 3.3 + 8.3 + 7.5 = 68.5 (the
    unrounded sum 68.611 would have read 68.6 — the pre-§3-revision figure); bonus transfers 1 +
    reported 1 = 2; deduction 1 × 2 = 2 → 68.5.  宁波 (one inspection, key unit E5 covered, nothing else): plan NA 0 (无计划) + 15 + 20 +
    15 + 10 + 10 + mobile 0 → 70.0."""
    con = hangzhou_q1().memory()
    df = compute_score(con, "2024Q1", "city", "330000").set_index("code")
    hz, nb = df.loc["330100"], df.loc["330200"]
    assert hz.raw_score == pytest.approx(4 / 18 * 20 + 15 + 15 + 15 + 10 / 3 + 10 * 0.5 / 0.6 + 7.5)
    assert (hz.score, hz.bonus, hz.deduction, hz["items"]) == (68.5, 2.0, 2.0, 68.5)
    assert hz.plan_completion_points == 4.4 and hz.plan_completion_points_exact == pytest.approx(20 * 4 / 18)
    assert (hz.major_filing_points, hz.dual_penalty_points, hz.mobile_share_points) == (3.3, 8.3, 7.5)
    assert hz.key_coverage_points == 15 and hz.penalty_rate_points == 15
    assert nb.score == 70.0 and nb.plan_completion_na and nb.plan_completion_points == 0
    assert "无计划" in nb["flags"] and nb.rectification_due_na and nb.rectification_due_points == 20
    assert (hz["rank"], nb["rank"]) == (2, 1)
    # two assessed cities: no warning list, and the reason says why
    assert not df.loc[["330100", "330200"], "warned"].any()
    assert "少于4个" in hz.reason
    other = df.loc["330300"]
    assert not other.assessed and pd.isna(other.score) and pd.isna(other["rank"]) and pd.isna(other.warned)
    assert other.reason.startswith("无数据")


def test_items_na_policy_bonus_and_deduction_caps():
    spec = load_scheme().score
    values = pd.DataFrame({
        "plan_completion": [math.nan, 2.0], "key_coverage": [math.nan, 0.1], "rectification_due": [math.nan, 0.5],
        "penalty_rate": [math.nan, 0.15], "major_filing": [math.nan, 1.5], "dual_penalty": [math.nan, 0.3],
        "mobile_share": [math.nan, 0.4], "transfers": [0, 7], "reported_cases": [0, 1], "overdue_major": [0, 9],
    }, index=["na", "some"])
    got = score_items(values, spec, Period.parse("2024Q2"))
    na, some = got.loc["na"], got.loc["some"]
    # NA: full points except plan (无计划) and mobile (无检查): 15 + 20 + 15 + 10 + 10
    assert na["items"] == 70 and na.plan_completion_points == 0 and na.mobile_share_points == 0
    assert "无计划" in na["flags"] and "无检查" in na["flags"] and "无应考核事项" in na["flags"]
    # plan capped at 20; key 15 × 0.1/(2/4); 20 × 0.5; 15 × 0.15/0.3; major capped 10; 10 × 0.3/0.6; 10 × 0.4
    assert some.key_coverage_points == pytest.approx(3.0)
    assert some["items"] == pytest.approx(20 + 3 + 10 + 7.5 + 10 + 5 + 4)
    assert (some.bonus, some.deduction) == (3 + 1, 10)   # transfers capped at 3; 9 × 2 capped at 10
    assert some.score == 53.5  # 59.5 + 4 − 10


def test_score_is_clipped_and_rounded_half_away():
    spec = load_scheme().score
    values = pd.DataFrame({c: [1.0] for c in ("plan_completion", "key_coverage", "rectification_due",
                                              "penalty_rate", "major_filing", "dual_penalty", "mobile_share")})
    values["transfers"], values["reported_cases"], values["overdue_major"] = [9], [9], [0]
    top = score_items(values, spec, Period.parse("2024Q4"))
    assert top.score.iloc[0] == 105.0  # 100 + 5 bonus, at the clip
    assert round_half_away(79.95, 1) == 80.0 and round_half_away(79.94999999999999, 1) == 80.0


def test_items_published_half_away_and_the_score_is_their_sum():
    """mobile 10 × 0.125 = 1.25 → 1.3 (half away, not to even); 10 × 0.145 = 1.4499999999999999556
    in binary → 1.5 (within 1e-9 of the boundary); penalty 15 × 0.2649/0.3 = 13.245 → 13.2 …
    the score is the sum of the published items (+ bonus − deduction), not the rounded raw sum."""
    spec = load_scheme().score
    full = {c: [1.0, 1.0, 1.0] for c in ("plan_completion", "key_coverage", "rectification_due",
                                         "major_filing", "dual_penalty")}
    values = pd.DataFrame({**full, "penalty_rate": [0.3, 0.3, 0.2649], "mobile_share": [0.125, 0.145, 0.75],
                           "transfers": [0, 0, 1], "reported_cases": [0, 0, 0], "overdue_major": [0, 0, 1]})
    got = score_items(values, spec, Period.parse("2024Q4"))
    assert got.mobile_share_points.tolist() == [1.3, 1.5, 7.5]
    assert got.penalty_rate_points.tolist() == [15.0, 15.0, 13.2]
    assert got.penalty_rate_points_exact.iloc[2] == pytest.approx(13.245)
    assert got.score.tolist() == [91.3, 91.5, 20 + 15 + 20 + 13.2 + 10 + 10 + 7.5 + 1 - 2]
    # three items at .x5 each: the published sum differs from rounding the unrounded sum
    three = pd.DataFrame({**{c: [1.0] for c in ("plan_completion", "key_coverage", "rectification_due")},
                          "penalty_rate": [0.0033], "major_filing": [0.015], "dual_penalty": [0.009],
                          "mobile_share": [0.015], "transfers": [0], "reported_cases": [0], "overdue_major": [0]})
    g = score_items(three, spec, Period.parse("2024Q4")).iloc[0]
    # penalty 15 × 0.011 = 0.165 → 0.2; major 0.15 → 0.2; dual 10 × 0.015 = 0.15 → 0.2; mobile 0.15 → 0.2
    assert (g.penalty_rate_points, g.major_filing_points, g.dual_penalty_points, g.mobile_share_points) == (
        0.2, 0.2, 0.2, 0.2)
    assert g.score == 55.8 and round_half_away(g.raw_score, 1) == 55.6


def _eleven_cities(scores: dict[str, str]) -> Data:
    """Cities with given score recipes: 'm<k>' = no plan, k of 10 mobile (70 + k); 'full' = 100."""
    d = Data()
    for city, recipe in scores.items():
        if recipe == "full":
            d.plan(city, 2024, 40)
            scored_unit(d, city, mobile=10)
        elif recipe.startswith("m"):
            scored_unit(d, city, mobile=int(recipe[1:]))
        elif recipe == "79.95":  # 70 + 10 × 199/200 = 79.95 → published 80.0
            scored_unit(d, city, mobile=199, n=200)
    return d


def test_tie_group_straddling_the_third_last_place_is_all_warned():
    """Scores 70, 75, 75, 75, 79, 100 × 6: the three 75s tie for third-last, so 70 and all three
    75s are warned (four units); 79 is below 80 but fifth-last: not warned."""
    recipes = dict.fromkeys(ZJ_CITIES, "full")
    recipes.update({"330100": "m0", "330200": "m5", "330300": "m5", "330400": "m5", "330500": "m9"})
    df = compute_score(_eleven_cities(recipes).memory(), "2024Q1", "city", "330000").set_index("code")
    assert df.score[["330100", "330200", "330300", "330400", "330500"]].tolist() == [70.0, 75.0, 75.0, 75.0, 79.0]
    assert set(df.index[df.warned.fillna(False).astype(bool)]) == {"330100", "330200", "330300", "330400"}
    assert df.loc["330500", "score"] < 80 and not df.loc["330500", "warned"]
    assert df.loc["330200", "rank"] == 8 and df.loc["330100", "rank"] == 11
    assert "倒数第2名" in df.loc["330300", "reason"] and "共11个" in df.loc["330300", "reason"]
    warned = warnings(_eleven_cities(recipes).memory(), "2024Q1", "city", "330000")
    assert warned.code.tolist() == ["330100", "330200", "330300", "330400"]


def test_a_last_three_unit_at_exactly_80_is_not_warned():
    """Scores 78, 79, 79.95 (published 80.0), 100 × 8: the last three are 78, 79 and 80.0; only
    the two below 80 are warned."""
    recipes = dict.fromkeys(ZJ_CITIES, "full")
    recipes.update({"330100": "m8", "330200": "m9", "330300": "79.95"})
    df = compute_score(_eleven_cities(recipes).memory(), "2024Q1", "city", "330000").set_index("code")
    assert df.loc["330300", "score"] == 80.0 and df.loc["330300", "rank"] == 9
    assert set(df.index[df.warned.fillna(False).astype(bool)]) == {"330100", "330200"}


def test_fewer_than_four_peers_no_list():
    recipes = {"330100": "m0", "330200": "m5", "330300": "m9"}  # the other eight have no records
    df = compute_score(_eleven_cities(recipes).memory(), "2024Q1", "city", "330000").set_index("code")
    assert df.assessed.sum() == 3 and df.peers.iloc[0] == 3
    assert not df.warned.fillna(False).any()
    assert "参评单位3个" in df.loc["330100", "reason"]
    assert df.loc["330400", "reason"].startswith("无数据")


def test_warning_rule_as_a_pure_function():
    df = pd.DataFrame({"score": [50.0, 60.0, 70.0, 70.0, 90.0, 79.0], "assessed": [True] * 5 + [False],
                       "group": "p"})
    got = apply_warning_rule(df, WarningRule(80, 3, 4))
    assert got["rank"].tolist()[:5] == [5, 4, 2, 2, 1]
    assert got.warned.tolist()[:5] == [True, True, True, True, False] and pd.isna(got.warned.iloc[5])
    assert got.peers.iloc[0] == 5


def test_counties_within_each_city_when_the_scheme_says_so(tmp_path):
    """peers = "city": 杭州's four counties and 宁波's four are ranked and warned separately."""
    scheme_file = tmp_path / "city_peers.toml"
    scheme_file.write_text(textwrap.dedent('''
        extends = "default"
        [score]
        peers = "city"
    '''), encoding="utf-8")
    scheme = load_scheme(scheme_file)
    d = Data()
    for county, recipe in {"330102": 0, "330105": 5, "330106": 9, "330108": 10,
                           "330203": 1, "330205": 2, "330206": 3, "330211": 10}.items():
        scored_unit(d, county, mobile=recipe)
    df = compute_score(d.memory(), "2024Q1", "county", "330000", scheme).set_index("code")
    assert df.loc["330102", "group"] == "330100" and df.loc["330203", "group"] == "330200"
    assert df.loc["330108", "rank"] == 1 and df.loc["330211", "rank"] == 1
    assert set(df.index[df.warned.fillna(False).astype(bool)]) == {"330102", "330105", "330106",
                                                                    "330203", "330205", "330206"}
    assert df.loc["330108", "peers"] == 4
    default = compute_score(d.memory(), "2024Q1", "county", "330000").set_index("code")
    assert default.loc["330108", "rank"] == 1 and default.loc["330211", "rank"] == 1
    assert set(default.index[default.warned.fillna(False).astype(bool)]) == {"330102", "330203", "330205"}


def test_commendations_by_the_mean_of_assessed_quarters():
    """Means: A (100, 90) 95; C (95, 95) 95; D (90, 80) 85; E (85, 85) 85; B (80, —) 80;
    F (70, 70) 70. Ranks 1, 1, 3, 3, 5, 6: A, C, D and E are commended (ties with the third)."""
    d = Data()
    A, B, C, D_, E, F = ZJ_CITIES[:6]
    for city, plan, q1, q2 in [(A, 40, (10, 10), (0, 10)), (B, None, (10, 10), None), (C, 40, (5, 10), (5, 10)),
                               (D_, 40, (0, 10), (0, 5)), (E, 80, (5, 10), (5, 10)), (F, None, (0, 10), (0, 10))]:
        if plan:
            d.plan(city, 2024, plan)
        scored_unit(d, city, mobile=q1[0], n=q1[1], quarter=1)
        if q2:
            scored_unit(d, city, mobile=q2[0], n=q2[1], quarter=2)
    df = commendations(d.memory(), 2024, "city", "330000").set_index("code")
    assert df.loc[[A, C, D_, E, B, F], "mean_score"].tolist() == [95.0, 95.0, 85.0, 85.0, 80.0, 70.0]
    assert df.loc[[A, C, D_, E, B, F], "rank"].tolist() == [1, 1, 3, 3, 5, 6]
    assert set(df.index[df.commended]) == {A, C, D_, E}
    assert df.loc[B, "quarters"] == 1 and df.loc[A, "Q2"] == 90.0
    assert pd.isna(df.loc[ZJ_CITIES[7], "rank"])


def test_score_wants_a_quarter():
    with pytest.raises(ValueError, match="quarter"):
        compute_score(Data().memory(), "2024", "city", "330000")
