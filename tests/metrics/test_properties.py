"""Property tests on random small warehouses: ranges, monotonicity, ranks, row order."""
import datetime as dt
import random

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics.index import compute_index
from metrics.scheme import load_scheme
from metrics.score import compute_score
from tests.metrics.metrics_data import Data

SCHEME = load_scheme()
AGENCIES = ["330100", "330102", "330105", "330106", "330200", "330203", "330205", "330206", "330000"]
COUNTIES = ["330102", "330105", "330106", "330203", "330205", "330206"]
DAY0 = dt.date(2024, 1, 1)
FINES = [0.0, 0.0, 1000.0, 20000.0, 55000.0]
SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_A, _B = Data().memory(), Data().memory()  # reused: each example replaces the records


def warehouse(d: Data, order=None, con=None):
    return d.replace_into(con or _A, order)


@st.composite
def warehouses(draw) -> Data:
    d = Data()
    ents = [d.enterprise(draw(st.sampled_from(COUNTIES)), key=draw(st.booleans()))
            for _ in range(draw(st.integers(1, 8)))]
    day = st.integers(0, 364)
    for _ in range(draw(st.integers(0, 25))):
        found = DAY0 + dt.timedelta(days=draw(day))
        i = d.inspection(draw(st.sampled_from(AGENCIES)), draw(st.sampled_from(ents)), found,
                         mobile=draw(st.booleans()))
        for _ in range(draw(st.integers(0, 2))):
            needs = draw(st.booleans()) or draw(st.booleans())
            deadline = found + dt.timedelta(days=draw(st.integers(0, 60))) if needs else None
            rectified = (found + dt.timedelta(days=draw(st.integers(0, 120)))) if draw(st.booleans()) else None
            d.hazard(i, found, major=draw(st.booleans()), needs=needs, deadline=deadline, rectified=rectified,
                     key_matter=draw(st.booleans()))
    for _ in range(draw(st.integers(0, 10))):
        filed = DAY0 + dt.timedelta(days=draw(day))
        d.penalty(draw(st.sampled_from(AGENCIES)), draw(st.sampled_from(ents)), filed,
                  decided=filed if draw(st.booleans()) else None, fine_company=draw(st.sampled_from(FINES)),
                  fine_person=draw(st.sampled_from(FINES)), major=draw(st.booleans()),
                  transferred=draw(st.booleans()), reported=draw(st.booleans()),
                  review=draw(st.one_of(st.none(), st.floats(50, 100))))
    for agency in draw(st.lists(st.sampled_from(AGENCIES), unique=True, max_size=5)):
        d.plan(agency, 2024, draw(st.integers(0, 60)))
    return d


quarters = st.sampled_from(["2024Q1", "2024Q2", "2024Q3", "2024Q4"])
levels = st.sampled_from(["city", "county"])


@SETTINGS
@given(warehouses(), quarters, levels)
def test_index_and_score_stay_in_range(d, quarter, level):
    con = warehouse(d)
    idx = compute_index(con, quarter, level, "330000", SCHEME)
    for col in ["index", "A", "B", "C", "D", "E", "F"]:
        assert idx[col].dropna().between(0, 100).all(), col
    sc = compute_score(con, quarter, level, "330000", SCHEME)
    assert sc.score.dropna().between(0, SCHEME.score.max).all()
    assert (sc.assessed == sc.score.notna()).all()
    assert (idx.assessed == sc.assessed).all()


@SETTINGS
@given(warehouses(), quarters, levels, st.randoms(use_true_random=False))
def test_one_more_rectified_hazard_never_lowers_a_score(d, quarter, level, rnd):
    open_ = [h for h in d.rows["hazards"] if h["needs_rectification"] and h["rectified_date"] is None]
    if not open_:
        return
    con = warehouse(d)
    before = compute_score(con, quarter, level, "330000", SCHEME).set_index("code")
    before_idx = compute_index(con, quarter, level, "330000", SCHEME).set_index("code")
    h = rnd.choice(open_)
    h["rectified_date"] = h["found_date"] + dt.timedelta(days=rnd.randint(0, 100))
    con = warehouse(d)
    after = compute_score(con, quarter, level, "330000", SCHEME).set_index("code")
    after_idx = compute_index(con, quarter, level, "330000", SCHEME).set_index("code")
    assessed = before.assessed
    assert (after.score[assessed] >= before.score[assessed]).all()
    # the index normalises rectification and on-time rectification against targets: no peer effect
    assert (after_idx["index"].fillna(-1) >= before_idx["index"].fillna(-1)).all()


def _competition_ranks(values: pd.Series) -> pd.Series:
    return values.map(lambda v: 1 + int((values > v).sum()))


@SETTINGS
@given(warehouses(), quarters, levels)
def test_ranks_are_a_permutation(d, quarter, level):
    """Ranks run 1…n over the scored units (ties share the best place: 1, 2, 2, 4)."""
    con = warehouse(d)
    for df, col in ((compute_score(con, quarter, level, "330000", SCHEME), "score"),
                    (compute_index(con, quarter, level, "330000", SCHEME), "index")):
        scored = df[df[col].notna()]
        assert df["rank"].isna().sum() == len(df) - len(scored)
        ranks = scored["rank"].astype(int)
        assert (ranks == _competition_ranks(scored[col])).all()
        if scored[col].is_unique:
            assert sorted(ranks) == list(range(1, len(scored) + 1))


@SETTINGS
@given(warehouses(), quarters, levels, st.randoms(use_true_random=False))
def test_row_order_changes_nothing(d, quarter, level, rnd):
    def shuffled(n):
        order = list(range(n))
        rnd.shuffle(order)
        return order

    a, b = warehouse(d), warehouse(d, shuffled, _B)
    pd.testing.assert_frame_equal(compute_index(a, quarter, level, "330000", SCHEME),
                                  compute_index(b, quarter, level, "330000", SCHEME))
    pd.testing.assert_frame_equal(compute_score(a, quarter, level, "330000", SCHEME),
                                  compute_score(b, quarter, level, "330000", SCHEME))
