"""metrics.breakdown: a unit's score and index taken apart add back up to the published numbers."""
import duckdb
import pytest

from metrics import breakdown
from metrics.index import index_frames
from metrics.scheme import load_scheme
from metrics.score import compute_score


@pytest.fixture(scope="module")
def con(demo_db):
    c = duckdb.connect(str(demo_db), read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def scheme():
    return load_scheme()


def test_score_breakdown_adds_up_to_the_published_score(con, scheme):
    """The published item points + bonus − deduction = the published score (§3; this test pinned the
    unrounded raw_score before the methodology said the published items add up)."""
    sheet = compute_score(con, "2025Q2", "city", "330000", scheme)
    for _, row in sheet[sheet["assessed"]].iterrows():
        b = breakdown.score_breakdown(row, scheme)
        items, bonus, ded = (b[b.kind == k] for k in ("item", "bonus", "deduction"))
        assert len(items) == len(scheme.score.items)
        total = items.earned.sum() + bonus.earned.sum() - ded.earned.sum()
        assert round(total, 6) == row["score"]
        assert (items.lost == items.points - items.earned).all()
        assert items.lost.is_monotonic_decreasing  # worst first
        assert (ded.lost == ded.earned).all() and (bonus.lost == 0).all()


def test_index_breakdown_sums_to_the_gap_below_100(con, scheme):
    ix, detail = index_frames(con, "2025Q2", "county", "330000", scheme)
    for code in ix[ix["assessed"]]["code"].head(15):
        b = breakdown.index_breakdown(detail, code, scheme)
        assert len(b) == len(scheme.index.leaves)
        published = ix.set_index("code").loc[code, "index"]
        assert 100 - b["lost"].sum() == pytest.approx(published, abs=0.051)
        lost = b["lost"].dropna()
        assert lost.is_monotonic_decreasing and (lost >= -1e-9).all()


def test_index_breakdown_shares_na_weights(scheme):
    import pandas as pd

    # one unit; major_on_time NA: its weight goes to rectification within B
    rows = []
    for leaf in scheme.index.leaves:
        score = None if leaf.code == "major_on_time" else 50.0
        rows.append(dict(code="X", name="X", indicator=leaf.code, group=leaf.parent, weight=leaf.weight,
                         value=0.5, score=score, band=None, assessed=True))
    b = breakdown.index_breakdown(pd.DataFrame(rows), "X", scheme).set_index("indicator")
    assert pd.isna(b.loc["major_on_time", "lost"])
    assert b.loc["rectification", "lost"] == pytest.approx(50 * 20 / 100)
    assert b["lost"].sum() == pytest.approx(50)
    assert breakdown.index_breakdown(pd.DataFrame(rows), "nobody", scheme).empty
