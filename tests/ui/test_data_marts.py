"""ui.data reads every province's numbers straight from the warehouse's marts (no per-province
copy), with the metrics' numbers; a warehouse made before the marts says how to rebuild them."""
from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from etl import marts
from metrics.index import compute_index
from metrics.query import MartsMissing
from metrics.score import compute_score
from tests.metrics.test_province_filter import _with_sichuan


def test_two_provinces_are_read_from_the_marts(app_data, tmp_path, monkeypatch):
    db = _with_sichuan().build(tmp_path / "two.duckdb")
    monkeypatch.setenv("ENFORCEMENT_DB", str(db))
    k, skey = app_data.key(), app_data.scheme_key()
    index = app_data._index(k, "2024Q1", "city", "330000", skey)
    score = app_data._score(k, "2024Q1", "county", "330000", skey)
    sc_score = app_data._score(k, "2024Q1", "city", "510000", skey)
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert marts.fresh(con)  # built by the write that made the file
        pd.testing.assert_frame_equal(index.reset_index(drop=True), compute_index(con, "2024Q1", "city", "330000"))
        pd.testing.assert_frame_equal(score.reset_index(drop=True), compute_score(con, "2024Q1", "county", "330000"))
        pd.testing.assert_frame_equal(sc_score.reset_index(drop=True), compute_score(con, "2024Q1", "city", "510000"))
    finally:
        con.close()
    assert sc_score.loc[sc_score.code == "510100", "assessed"].item()


def test_a_warehouse_without_marts_says_how_to_rebuild_them(tmp_path):
    db = _with_sichuan().build(tmp_path / "old.duckdb")
    con = duckdb.connect(str(db))
    marts.drop(con)
    con.close()
    con = duckdb.connect(str(db), read_only=True)
    try:
        with pytest.raises(MartsMissing, match="python -m etl marts"):
            compute_score(con, "2024Q1", "city", "330000")
    finally:
        con.close()
    from etl.__main__ import main

    assert main(["marts", "--db", str(db)]) == 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert marts.fresh(con) and len(compute_score(con, "2024Q1", "city", "330000")) == 11
    finally:
        con.close()


def test_the_app_gives_an_old_warehouse_its_marts_once(app_data, tmp_path, monkeypatch):
    db = _with_sichuan().build(tmp_path / "old.duckdb")
    con = duckdb.connect(str(db))
    marts.drop(con)
    con.close()
    monkeypatch.setenv("ENFORCEMENT_DB", str(db))
    k = app_data.pin_key()
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert marts.fresh(con)
    finally:
        con.close()
    assert app_data.pin_key() == k  # the next run finds them: no second write
    score = app_data._score(k, "2024Q1", "city", "330000", app_data.scheme_key())
    assert score.loc[score.code == "330100", "assessed"].item()


def test_the_tiles_two_comparisons_share_one_reading_of_the_totals(app_data, tmp_path, monkeypatch):
    """The overview's 环比 and 同比 tiles are metrics.kpis.kpi_tiles' own, from one query of the
    region's totals (the period, the one before and a year earlier)."""
    from etl.safe import safe_result
    from metrics.kpis import kpi_tiles

    db = _with_sichuan().build(tmp_path / "two.duckdb")
    monkeypatch.setenv("ENFORCEMENT_DB", str(db))
    k = app_data.key()
    before = app_data._kpi_totals.misses
    got = {(c, p, a): app_data._kpi_tiles(k, p, c, a) for c in ("330000", "330100", "510100")
           for p in ("2024Q1", "2024") for a in ("previous", "year_ago")}
    assert app_data._kpi_totals.misses - before == 6  # one reading per region and period, not per comparison
    con = duckdb.connect(str(db), read_only=True)
    try:
        for (c, p, a), tiles in got.items():
            pd.testing.assert_frame_equal(tiles, safe_result(kpi_tiles(con, p, c, a, app_data.scheme())))
    finally:
        con.close()
    assert got[("330000", "2024Q1", "previous")].set_index("kpi").loc["inspections", "value"] > 0
