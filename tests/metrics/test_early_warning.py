"""Early warning: the backtest never trains on the quarter it predicts, probabilities are
probabilities, drivers are named."""
import duckdb
import numpy as np
import pandas as pd
import pytest

from metrics.catalog import periods
from metrics.early_warning import backtest, build_features, early_warning, feature_names
from metrics.panel import score_panel
from metrics.periods import Period
from metrics.scheme import load_scheme


@pytest.fixture(scope="module")
def scores(demo_db):
    con = duckdb.connect(str(demo_db), read_only=True)
    scheme = load_scheme()
    qs = periods(con, "quarter")
    out = {lv: score_panel(con, qs, lv, "330000", scheme) for lv in ("city", "county")}
    con.close()
    return scheme, out


@pytest.mark.parametrize("level", ["city", "county"])
def test_backtest_never_trains_on_the_quarter_it_predicts(scores, level):
    scheme, panel = scores
    ew = early_warning(panel[level], scheme)
    folds = ew.backtest.folds
    assert len(folds) >= 5
    for f in folds.itertuples():
        predicted = Period.parse(f.predicted)
        assert all(Period.parse(q) < predicted for q in f.train_quarters), f
        assert Period.parse(f.last_train_quarter) < predicted
        assert Period.parse(f.features_from) == Period.parse(f.predicted).previous()   # features of the quarter before
        assert f.predicted not in f.train_quarters
    preds = ew.backtest.predictions
    assert set(preds["next_period"]) == set(folds["predicted"])
    # the final model: trained on label quarters up to the latest, predicts the one after it
    assert all(Period.parse(q) <= Period.parse(ew.as_of) for q in ew.trained_on)
    assert Period.parse(ew.target).previous() == Period.parse(ew.as_of)


def test_labels_of_the_predicted_quarter_cannot_reach_its_prediction(scores):
    """Flip every label of one predicted quarter (and of all later ones): that quarter's
    backtest probabilities stay the same to the last digit."""
    scheme, panel = scores
    names = feature_names(scheme)
    feats = build_features(panel["county"], scheme)
    bt = backtest(feats, names)
    T = bt.folds["predicted"].iloc[2]
    t_qi = feats.loc[feats["next_period"] == T, "label_qi"].iloc[0]
    flipped = feats.copy()
    later = flipped["has_label"] & (flipped["label_qi"] >= t_qi)
    flipped.loc[later, "next_warned"] = 1 - flipped.loc[later, "next_warned"]
    bt2 = backtest(flipped, names)
    a = bt.predictions[bt.predictions["next_period"] == T]["probability"].to_numpy()
    b = bt2.predictions[bt2.predictions["next_period"] == T]["probability"].to_numpy()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("level", ["city", "county"])
def test_probabilities_and_drivers(scores, level):
    scheme, panel = scores
    ew = early_warning(panel[level], scheme)
    p = ew.risk["probability"]
    assert p.notna().all() and ((p >= 0) & (p <= 1)).all()
    assert ew.risk["probability"].is_monotonic_decreasing
    names = set(feature_names(scheme).values())
    top = ew.risk.iloc[0]
    assert top["driver_list"], "the riskiest unit has named drivers"
    for code, name, value, contribution in top["driver_list"]:
        assert name in names and contribution > 0
        assert any("\u4e00" <= ch <= "\u9fff" for ch in name)   # Chinese
    assert top["drivers"]
    m = ew.backtest.metrics
    for k in ("auc", "precision_top", "recall_top", "precision_50", "recall_50", "brier", "baseline_score_auc"):
        assert k in m
    assert 0.5 < m["auc"] <= 1.0, m      # better than chance on the demo's persistent profiles
    assert m["predictions"] == len(ew.backtest.predictions)
    rel = ew.backtest.reliability
    assert rel["n"].sum() == m["predictions"]


def test_as_of_an_earlier_quarter_shows_the_outcome(scores):
    scheme, panel = scores
    ew = early_warning(panel["city"], scheme, as_of="2025Q2")
    assert ew.target == "2025Q3"
    assert all(Period.parse(q) <= Period.parse("2025Q2") for q in ew.trained_on)
    assert all(Period.parse(f) <= Period.parse("2025Q2") for f in ew.backtest.folds["predicted"])
    actual = panel["city"][panel["city"]["period"] == "2025Q3"].set_index("code")["warned"].fillna(False).astype(int)
    got = ew.risk.set_index("code")["actual"]
    pd.testing.assert_series_equal(got.sort_index().astype(int), actual.sort_index(), check_names=False)
