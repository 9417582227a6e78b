"""区域分析's drill-down (ui.data.children / enterprises / records) reads the scheme the page shows,
not always the default: under a scheme that redefines 逾期未整改重大隐患, the enterprises' column and
the hazards' status are that scheme's, as its indicator beside them is."""
from __future__ import annotations

import pytest

from tests.metrics.metrics_data import hangzhou_q1
from tests.metrics.test_drill_matches import _OVERDUE


@pytest.fixture
def app_data():
    from ui import data

    data.clear()
    yield data
    data.clear()


def test_the_drill_down_follows_the_chosen_schemes_overdue_major(app_data, tmp_path, monkeypatch):
    d = hangzhou_q1()
    d.hazard("I2", "2024-03-01", major=True, deadline="2024-03-25", hid="HX")  # 6 days overdue at 03-31
    monkeypatch.setenv("ENFORCEMENT_DB", str(d.build(tmp_path / "w.duckdb")))
    grace = tmp_path / "grace.toml"   # 15 days' grace: HX is not yet overdue
    grace.write_text(_OVERDUE.format(due="deadline + 15 < period_end"), encoding="utf-8")
    k = app_data.key()
    for skey, want in ((app_data.scheme_key(), ("逾期未整改", 1)), (app_data.scheme_key(grace), ("未整改", 0))):
        status = app_data._records(k, "2024Q1", "330102", "hazards", None, skey).set_index("hazard_id")["status"]
        ents = app_data._enterprises(k, "2024Q1", "330102", skey).set_index("enterprise_id")
        shown = app_data._indicators(k, "2024Q1", "county", "330000", skey).set_index(["code", "indicator"])
        assert (status["HX"], ents.loc["E1", "overdue_major"]) == want, skey
        assert ents["overdue_major"].sum() == shown.loc[("330102", "overdue_major"), "numerator"]
        kids = app_data._children(k, "2024Q1", "330100", skey)
        assert set(kids["code"]) >= {"330102", "330105"}
