"""The overview map's outlines are simplified once and kept on disk (ui.geo.outlines): a new
server process reads them back instead of importing shapely and simplifying every unit again."""
from __future__ import annotations

from ui import geo


def test_outlines_are_kept_on_disk_and_read_back_the_same(tmp_path, monkeypatch):
    geo.outlines.cache_clear()
    made = geo.outlines("city", "330000", tmp_path)
    kept = list(tmp_path.glob("outlines-*-city-330000.json"))
    assert len(kept) == 1 and len(made["units"]) == 11

    def recompute(_gj):
        raise AssertionError("outlines made again although they are on disk")

    monkeypatch.setattr(geo, "_outlines", recompute)
    geo.outlines.cache_clear()          # a new process: only the file is left
    again = geo.outlines("city", "330000", tmp_path)
    assert again == made and isinstance(again["bounds"], tuple)
    assert geo.outlines("city", "330000", tmp_path) is again   # and once per process after that
    geo.outlines.cache_clear()


def test_a_cache_directory_that_cannot_be_written_still_gives_the_outlines(tmp_path, monkeypatch):
    geo.outlines.cache_clear()
    geo.boundaries("city", "330000", tmp_path)   # the boundaries are there; keeping the outlines fails

    def refuse(*_a):
        raise PermissionError("read-only")

    monkeypatch.setattr(geo.os, "replace", refuse)
    try:
        assert len(geo.outlines("city", "330000", tmp_path)["units"]) == 11
        assert not list(tmp_path.glob("outlines-*"))  # nor a half-written file left behind
    finally:
        geo.outlines.cache_clear()
