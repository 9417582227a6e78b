"""metrics.warning.WarningRule: one object evaluates the rule (frames and draws) and describes it."""
import numpy as np
import pandas as pd

from metrics.scheme import load_scheme
from metrics.warning import WarningRule

RULE = WarningRule(80, 3, 4)


def frame(scores, group="p"):
    return pd.DataFrame({"score": scores, "assessed": [s == s for s in scores], "group": group})


def warned(got) -> list:
    return got["warned"].fillna(False).astype(bool).tolist()


def test_units_tied_with_the_third_last_are_all_in_the_last_three():
    """60, 70, 70, 70, 95, 96: third-last is a 70 and all three 70s tie with it → four warned."""
    got = RULE.apply(frame([60.0, 70.0, 70.0, 70.0, 95.0, 96.0]))
    assert warned(got) == [True, True, True, True, False, False]
    assert got["rank"].tolist() == [6, 3, 3, 3, 2, 1]
    assert got["reason"].iloc[1] == "得分70.0，低于80分且位列后3名（倒数第2名，共6个参评单位）"
    # a tie *above* the third-last does not pull anyone in: 60, 65, 70, 75, 75 → 75s are 4th-last
    got = RULE.apply(frame([60.0, 65.0, 70.0, 75.0, 75.0]))
    assert warned(got) == [True, True, True, False, False]


def test_below_80_but_not_in_the_last_three_is_not_warned():
    got = RULE.apply(frame([50.0, 55.0, 60.0, 79.9, 79.0, 90.0]))
    assert warned(got) == [True, True, True, False, False, False]
    assert got["reason"].iloc[3] == ""


def test_last_three_at_80_or_above_are_not_warned():
    got = RULE.apply(frame([80.0, 80.0, 79.9, 90.0, 95.0]))
    assert warned(got) == [False, False, True, False, False]
    got = RULE.apply(frame([80.0, 81.0, 82.0, 90.0]))
    assert not any(warned(got))


def test_fewer_than_four_assessed_peers_no_list_and_unassessed_units_are_na():
    got = RULE.apply(frame([10.0, 20.0, 30.0, float("nan")]))
    assert not any(warned(got)) and pd.isna(got["warned"].iloc[3])
    assert got["peers"].iloc[0] == 3
    assert got["reason"].iloc[0] == "参评单位3个，少于4个，不设预警名单" == RULE.no_list_reason(3)
    assert got["reason"].iloc[3].startswith("无数据")


def test_the_draws_evaluation_agrees_with_the_frame_evaluation():
    """Every column of a units × draws matrix is judged as apply judges that column alone."""
    rng = np.random.default_rng(3)
    scores = np.round(rng.uniform(60, 95, (9, 40)), 0)  # integers: many ties
    scores[7] = np.nan                                    # not assessed
    group = np.array(["a"] * 5 + ["b"] * 4)
    w, rank = RULE.evaluate_draws(scores, group)
    for d in range(scores.shape[1]):
        got = RULE.apply(pd.DataFrame({"score": scores[:, d], "assessed": ~np.isnan(scores[:, d]), "group": group}))
        assert w[:, d].tolist() == warned(got)
        assert np.array_equal(np.nan_to_num(rank[:, d]), got["rank"].astype("Float64").fillna(0).to_numpy(float))
    assert not w[5:].any()  # group b has 3 assessed units: no list


def test_the_rule_describes_itself_from_its_own_figures():
    r = WarningRule(85, 2, 5)
    assert r.condition() == "低于85分且位列后2名"
    assert "低于85分且位列后2名" in r.describe() and "少于5个" in r.describe_full()
    assert "倒数第2名并列" in r.describe_full()
    assert r.none_warned("设区市") == "本季度没有设区市同时满足“得分低于85分”与“位列后2名”"
    assert load_scheme().warning.condition() == "低于80分且位列后3名"


def test_ranks_are_scipys_min_ranks_without_importing_scipy():
    """metrics.warning.ranks gives scipy.stats.rankdata's places (method "min", per column, NaN
    kept out) on random arrays with ties and gaps; and importing metrics.warning does not import
    scipy.stats (0.6 s of a server's first page)."""
    import subprocess
    import sys

    import numpy as np
    from scipy.stats import rankdata

    from metrics.warning import ranks

    rng = np.random.default_rng(11)
    for shape in [(1,), (7,), (5, 3), (30, 4)]:
        for _ in range(100):
            v = rng.integers(0, 5, size=shape).astype(float)
            v[rng.random(shape) < 0.2] = np.nan
            for higher_first in (True, False):
                ok = ~np.isnan(v)
                filled = np.where(ok, -v if higher_first else v, np.inf)
                expected = np.where(ok, rankdata(filled, axis=0, method="min").astype(float), np.nan)
                assert np.array_equal(ranks(v, higher_first), expected, equal_nan=True), v
    assert ranks(np.array([3.0, np.nan, 3.0, 1.0])).tolist()[::2] == [1.0, 1.0]
    code = "import sys, metrics.warning, metrics.scheme; print('scipy.stats' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
