"""ui.warmup: after the server's warm-up, the first visit to 总览, 排名, 区域分析 and 季度考评
computes no figure (every one is already in the caches the pages read)."""
from __future__ import annotations

from ui import cache

from tests.pages.conftest import APP
PAGES = ["pages/ranking.py", "pages/region.py", "pages/assessment.py"]
# not a figure: the frame's own
NOT_FIGURES = ("template_bytes", "_log_version", "_connection", "_scheme", "_upgrade")


def _misses() -> dict[str, int]:
    return {name: s["misses"] for name, s in cache.stats().items()}


def test_first_visits_compute_nothing_after_the_warm_up(demo_db, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from ui import data, warmup

    monkeypatch.setenv("ENFORCEMENT_DB", str(demo_db))
    cache.clear_all()
    done = warmup.warm()
    assert list(done) == ["330000"]
    before = _misses()
    assert sum(before.values()) > 20  # the warm-up did compute the figures

    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, at.exception[0].value
    computed = {name: n - before.get(name, 0) for name, n in _misses().items()
                if n > before.get(name, 0) and not any(x in name for x in NOT_FIGURES)}
    assert computed == {}, f"figures a first visit still computed after the warm-up: {computed}"
    assert data.key()[1] is not None


def test_warm_up_of_an_empty_warehouse_does_nothing(tmp_path, monkeypatch):
    from ui import warmup

    monkeypatch.setenv("ENFORCEMENT_DB", str(tmp_path / "none.duckdb"))
    assert warmup.warm() == {}


def test_the_background_warm_up_makes_switching_the_unit_draw_only(demo_db, monkeypatch):
    """With ``units``, every city's 区域分析 figures are cached: switching to any city computes none."""
    from streamlit.testing.v1 import AppTest

    from ui import warmup

    monkeypatch.setenv("ENFORCEMENT_DB", str(demo_db))
    cache.clear_all()
    warmup.warm(units=True)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/region.py").run()
    before = _misses()
    for code in [c for c in at.selectbox(key="region_code").options][:4]:
        at.selectbox(key="region_code").set_value(code.rsplit("（", 1)[1].rstrip("）")).run()
        assert not at.exception, at.exception[0].value
    computed = {name: n - before.get(name, 0) for name, n in _misses().items()
                if n > before.get(name, 0) and not any(x in name for x in NOT_FIGURES)}
    assert computed == {}, computed
