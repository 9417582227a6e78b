"""What-if: unchanged inputs reproduce the published figures; changed weights and targets move the
ranking; the scheme in use is never touched."""
import duckdb
import pandas as pd
import pytest

from metrics.index import index_frames
from metrics.score import compute_score
from metrics.scheme import load_scheme
from metrics.whatif import modified_index_spec, modified_score_spec, whatif_index, whatif_score


@pytest.fixture(scope="module")
def demo(demo_db):
    con = duckdb.connect(str(demo_db), read_only=True)
    scheme = load_scheme()
    frames = {lv: index_frames(con, "2025Q3", lv, "330000", scheme) for lv in ("city", "county")}
    sheets = {lv: compute_score(con, "2025Q3", lv, "330000", scheme) for lv in ("city", "county")}
    con.close()
    spec = scheme.require_index()
    return scheme, spec, {n.code: scheme.indicator(n.code).direction for n in spec.leaves}, frames, sheets


@pytest.mark.parametrize("level", ["city", "county"])
def test_unchanged_inputs_reproduce_the_published_figures(demo, level):
    scheme, spec, dirs, frames, sheets = demo
    index, detail = frames[level]
    w = whatif_index(detail, spec, "2025Q3", dirs).set_index("code").reindex(index["code"])
    assert (w["index_after"].fillna(-1).to_numpy() == index["index"].fillna(-1).to_numpy()).all()
    assert (w["rank_after"].astype("Float64").fillna(-1).to_numpy() == index["rank"].astype("Float64").fillna(-1).to_numpy()).all()
    assert (w["moved"].dropna() == 0).all()
    sheet = sheets[level]
    s = whatif_score(sheet, scheme.require_score(), scheme.warning, "2025Q3").set_index("code").reindex(sheet["code"])
    assert (s["score_after"].fillna(-1).to_numpy() == sheet["score"].fillna(-1).to_numpy()).all()
    assert (s["warned_after"].fillna(False).astype(bool).to_numpy() == sheet["warned"].fillna(False).astype(bool).to_numpy()).all()
    assert (s["change"] == "").all()


def test_changed_weights_and_targets_move_the_ranking(demo):
    scheme, spec, dirs, frames, _ = demo
    _, detail = frames["county"]
    w = whatif_index(detail, spec, "2025Q3", dirs, weights={"coverage": 40.0, "review_score": 0.0},
                     targets={"dual_penalty": 0.9})
    assert (w["moved"].dropna() != 0).any()
    assert w["rank_after"].dropna().min() == 1
    # a target of 0.9 where 0.6 was: a dual-penalty rate of 0.6 now scores 66.7, not 100
    new = modified_index_spec(spec, targets={"dual_penalty": 0.9})
    assert next(n for n in new.leaves if n.code == "dual_penalty").target == 0.9
    # coverage normalised by a target of 0.5 instead of min-max
    t = modified_index_spec(spec, targets={"coverage": 0.5})
    assert next(n for n in t.leaves if n.code == "coverage").normalise == "target"
    with pytest.raises(ValueError):
        modified_index_spec(spec, weights={"coverage": -1})
    with pytest.raises(ValueError):
        modified_index_spec(spec, methods={"coverage": "target"})   # no target given


def test_score_points_are_rescaled_to_the_total(demo):
    scheme, _, _, _, sheets = demo
    spec = scheme.require_score()
    new = modified_score_spec(spec, points={"mobile_share": 40.0})
    assert sum(it.points for it in new.items) == pytest.approx(spec.total)
    assert next(it.points for it in new.items if it.indicator == "mobile_share") == pytest.approx(40 * 100 / 130)
    out = whatif_score(sheets["county"], spec, scheme.warning, "2025Q3", points={"mobile_share": 40.0},
                       targets={"penalty_rate": 0.5})
    assert (out["score_after"] != out["score_before"]).any()
    assert set(out["change"]) <= {"", "新进入预警名单", "移出预警名单"}


def test_the_scheme_in_use_is_untouched(demo):
    scheme, spec, dirs, frames, sheets = demo
    path = scheme.path
    text, before = path.read_text(encoding="utf-8"), path.stat().st_mtime_ns
    whatif_index(frames["city"][1], spec, "2025Q3", dirs, weights={"coverage": 99.0}, targets={"rectification": 0.5})
    whatif_score(sheets["city"], scheme.require_score(), scheme.warning, "2025Q3", points={"plan_completion": 1.0})
    assert path.read_text(encoding="utf-8") == text and path.stat().st_mtime_ns == before
    assert next(n for n in scheme.require_index().leaves if n.code == "coverage").weight == 10
    assert next(it for it in scheme.require_score().items if it.indicator == "plan_completion").points == 20
    assert load_scheme().require_index() == spec
