"""A read-only warehouse opened by etl.warehouse.connect_read is checked once per open file:
ensure_marts and the panel's list of parts are not asked again on every metrics call (they
were two catalog queries per call of a page's first run), and the figures stay the same."""
from __future__ import annotations

import duckdb
import pandas as pd

from etl import warehouse
from metrics import query
from metrics.index import compute_index
from metrics.periods import Period
from tests.metrics.test_province_filter import _with_sichuan


def test_a_reader_link_is_checked_once_and_gives_the_same_figures(tmp_path):
    db = _with_sichuan().build(tmp_path / "w.duckdb")
    plain = duckdb.connect(str(db), read_only=True)
    first, second = warehouse.connect_read(db), warehouse.connect_read(db)
    try:
        assert query.ensure_marts(plain) is None  # a path that may later hold another file: never remembered
        key = query.ensure_marts(first)
        assert key and warehouse.is_reader_link(key) and query.ensure_marts(first) == key
        assert query.ensure_marts(second) not in (None, key)  # each open file its own
        parts = query.ACTIVITY_PARTS
        assert query._READ_ONLY[key] == {}
        served = query.panel_serves(first, parts, [Period.parse("2024Q1")], "city", checked=key)
        assert served == parts and query._READ_ONLY[key]["panel"]  # the panel's list, kept
        for p in ("2024Q1", "2024"):
            expect = compute_index(plain, p, "city", "330000")
            pd.testing.assert_frame_equal(compute_index(first, p, "city", "330000"), expect)
            pd.testing.assert_frame_equal(compute_index(first, p, "city", "330000"), expect)  # from what is kept
    finally:
        for c in (plain, first, second):
            c.close()


def test_reader_links_are_told_from_other_paths(tmp_path):
    assert warehouse.is_reader_link(tmp_path / ".w.duckdb.reader-123-0a1b2c3d")
    for name in ("w.duckdb", ".w.duckdb", "w.duckdb.reader-123-0a1b2c3d", ".w.duckdb.reader-x-0a1b2c3d"):
        assert not warehouse.is_reader_link(tmp_path / name)
