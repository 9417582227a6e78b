"""Many periods in one query: indicator_panel and score_panel equal compute_indicators and
compute_score period by period."""
import duckdb
import pandas as pd
import pytest

from metrics.catalog import periods
from metrics.indicators import compute_indicators
from metrics.panel import indicator_panel, score_panel
from metrics.score import compute_score
from metrics.scheme import load_scheme


@pytest.fixture(scope="module")
def con(demo_db):
    c = duckdb.connect(str(demo_db), read_only=True)
    yield c
    c.close()


@pytest.mark.parametrize("level", ["city", "county"])
def test_indicator_panel_equals_compute_indicators(con, level):
    scheme = load_scheme()
    qs = periods(con, "quarter")
    chosen = qs if level == "city" else [qs[0], qs[5], qs[-1]]
    long = indicator_panel(con, chosen + ["2024"], level, "330000", scheme)
    for p in chosen + ["2024"]:
        want = compute_indicators(con, p, level, "330000", scheme)
        got = long[long["period"] == p].drop(columns="period").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, check_dtype=False)


@pytest.mark.parametrize("level", ["city", "county"])
def test_score_panel_equals_compute_score(con, level):
    scheme = load_scheme()
    qs = periods(con, "quarter")
    chosen = qs if level == "city" else [qs[1], qs[-1]]
    panel = score_panel(con, chosen, level, "330000", scheme)
    for q in chosen:
        want = compute_score(con, q, level, "330000", scheme)
        got = panel[panel["period"] == q].drop(columns="period").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_a_scheme_with_city_peers(con, tmp_path):
    """Counties scored within their city: the peer groups come through score_panel too."""
    f = tmp_path / "city_peers.toml"
    f.write_text('extends = "default"\n[score]\npeers = "city"\n', encoding="utf-8")
    from metrics.scheme import load_scheme as load
    scheme = load(f)
    panel = score_panel(con, ["2025Q2"], "county", "330000", scheme)
    want = compute_score(con, "2025Q2", "county", "330000", scheme)
    pd.testing.assert_frame_equal(panel.drop(columns="period"), want, check_dtype=False)
    assert panel["group"].nunique() == 11
