"""A province with no unit at a level — a municipality has no prefecture-level cities (北京's
districts are county-level with no city above them) — gets empty frames, never an error: at
national scale the app opens on the first province, 北京, with 设区市 selected."""
from __future__ import annotations

import pytest

from etl.regions import reference_regions
from metrics.index import compute_index, index_detail
from metrics.indicators import compute_indicators
from metrics.panel import score_panel
from metrics.score import commendations, compute_score, warnings
from metrics.yoy import year_on_year
from tests.metrics.metrics_data import Data


@pytest.fixture(scope="module")
def beijing():
    d = Data()
    firms = [d.enterprise("110101") for _ in range(5)]
    for i, county in enumerate(["110101", "110102", "110105", "110106", "110108"]):
        ins = d.inspection(county, firms[i], "2024-02-01", mobile=True)
        d.hazard(ins, "2024-02-01", rectified="2024-02-10")
    con = d.memory()
    bj = reference_regions().query("province_code == '110000'")
    con.register("_bj", bj)
    con.execute("INSERT INTO regions SELECT * FROM _bj")
    yield con
    con.close()


def test_no_city_in_a_municipality_gives_empty_frames(beijing):
    assert compute_indicators(beijing, "2024Q1", "city", "110000").empty
    for frame in (compute_index(beijing, "2024Q1", "city", "110000"), index_detail(beijing, "2024Q1", "city", "110000"),
                  compute_score(beijing, "2024Q1", "city", "110000"), warnings(beijing, "2024Q1", "city", "110000"),
                  commendations(beijing, 2024, "city", "110000"), year_on_year(beijing, "2024Q1", "city", "110000"),
                  score_panel(beijing, ["2024Q1", "2024Q2"], "city", "110000")):
        assert frame.empty
    score = compute_score(beijing, "2024Q1", "city", "110000")
    assert {"code", "score", "rank", "warned", "reason"} <= set(score.columns)


def test_its_districts_are_scored(beijing):
    score = compute_score(beijing, "2024Q1", "county", "110000")
    assessed = score[score["assessed"]]
    assert len(assessed) == 5 and assessed["score"].notna().all()
    assert assessed["score"].nunique() == 1 and (assessed["rank"] == 1).all()  # the same records each: one tie
