"""区域分析's drill-down (ui.data.children / enterprises / records) and the KPI tiles (ui.data.kpi_tiles /
kpi_series, 总览's too) read the scheme the page shows, not always the default: under a scheme that
redefines 逾期未整改重大隐患, the enterprises' column and the hazards' status are that scheme's, and
under one that redefines 隐患整改率 the tile is, as the indicators beside them are."""
from __future__ import annotations

from tests.metrics.metrics_data import hangzhou_q1
from tests.metrics.test_drill_matches import _OVERDUE


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


def test_the_kpi_tiles_follow_the_chosen_scheme(app_data, tmp_path, monkeypatch):
    """总览's and 区域分析's tiles (ui.data.kpi_tiles / kpi_series) are the scheme the page shows: under
    a scheme whose 隐患整改率 counts every hazard found, the tile is that indicator's value for the
    province and for a city, as metrics.kpis computes it with that scheme — not the default's."""
    from pathlib import Path

    import duckdb

    from metrics.kpis import kpi_tiles
    from metrics.scheme import load_scheme

    db = hangzhou_q1().build(tmp_path / "w.duckdb")
    monkeypatch.setenv("ENFORCEMENT_DB", str(db))
    other = Path(__file__).resolve().parents[1] / "metrics" / "schemes" / "other_province.toml"
    k = app_data.key()
    con = duckdb.connect(str(db), read_only=True)
    try:
        for code in ("330000", "330100"):
            rate = {}
            for skey in (app_data.scheme_key(), app_data.scheme_key(other)):
                tiles = app_data.kpi_tiles(k, "2024Q1", code, "year_ago", skey).set_index("kpi")
                want = kpi_tiles(con, "2024Q1", code, "year_ago", load_scheme(skey[0])).set_index("kpi")
                assert tiles["value"].to_dict() == want["value"].to_dict(), (code, skey)
                series = app_data.kpi_series(k, ("2023Q4", "2024Q1"), code, skey).set_index("period")
                assert series.loc["2024Q1", "rectification"] == tiles.loc["rectification", "value"]
                rate[skey[0]] = tiles.loc["rectification", "value"]
            assert rate[str(other)] != rate[app_data.scheme_key()[0]], (code, rate)   # the two definitions differ here
    finally:
        con.close()
