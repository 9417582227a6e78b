"""ui.data computes a province's metrics on a province slice (metrics.slice) when the warehouse
holds several provinces' records, once per warehouse version, with the warehouse's numbers; a
one-province warehouse is read as it is."""
from __future__ import annotations

import pandas as pd
import pytest

from metrics.index import compute_index
from metrics.score import compute_score
from tests.metrics.metrics_data import hangzhou_q1
from tests.metrics.test_province_filter import _with_sichuan


@pytest.fixture
def app_data(monkeypatch):
    from ui import data

    made = []
    import metrics.slice as mslice

    real = mslice.province_slice
    monkeypatch.setattr(mslice, "province_slice", lambda con, p: made.append(p) or real(con, p))
    data.clear()
    yield data, made
    data.clear()


def _open(db):
    import duckdb

    return duckdb.connect(str(db), read_only=True)


def test_two_provinces_are_read_through_one_slice_per_version(app_data, tmp_path, monkeypatch):
    data, made = app_data
    db = _with_sichuan().build(tmp_path / "two.duckdb")
    monkeypatch.setenv("ENFORCEMENT_DB", str(db))
    k, skey = data.key(), data.scheme_key()
    index = data._index(k, "2024Q1", "city", "330000", skey)
    score = data._score(k, "2024Q1", "county", "330000", skey)
    data._score(k, "2024Q2", "county", "330000", skey)
    assert made == ["330000"]  # one slice for the province, reused
    con = _open(db)
    try:
        pd.testing.assert_frame_equal(index.reset_index(drop=True), compute_index(con, "2024Q1", "city", "330000"))
        pd.testing.assert_frame_equal(score.reset_index(drop=True), compute_score(con, "2024Q1", "county", "330000"))
    finally:
        con.close()
    data._score(k, "2024Q1", "city", "510000", skey)
    assert made == ["330000", "510000"]


def test_one_province_is_read_as_it_is(app_data, tmp_path, monkeypatch):
    data, made = app_data
    db = hangzhou_q1().build(tmp_path / "one.duckdb")
    monkeypatch.setenv("ENFORCEMENT_DB", str(db))
    data._index(data.key(), "2024Q1", "city", "330000", data.scheme_key())
    assert made == []
