"""The real-browser benchmark (bench/bench_browser.py) runs end to end on a tiny demo warehouse, one
repetition, so that it cannot rot: every step of issue 11's table is timed, in order, and the unit
switch lands on another unit. The figures mean nothing here; bench/README.md has the real ones."""
from __future__ import annotations

from pathlib import Path

import pytest

from bench import bench_browser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(bench_browser.CHROMIUM).exists(), reason="Debian chromium not installed (make browser)"),
]


def in_thread(fn, *args, **kw):
    """Run ``fn`` in a thread of its own: Playwright's sync API refuses a thread with a running asyncio
    loop, which pytest-playwright's fixtures leave in the main thread when another module used them
    in this process (tests/deploy, under xdist's one-file-per-worker scheduling)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as ex:
        return ex.submit(fn, *args, **kw).result()


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory):
    from etl.demo import DemoConfig, build_demo

    db = tmp_path_factory.mktemp("browser-bench") / "warehouse.duckdb"
    build_demo(DemoConfig(province="330000", seed=7, first_year=2024, last_year=2025, scale=0.02), db=db)
    return db


def test_every_step_is_timed(tiny_db):
    r = in_thread(bench_browser.run, tiny_db, reps=1, switches=1, save=False, log=lambda *a: None)
    assert list(r["steps"]) == [k for k, _, _ in bench_browser.STEPS]
    for key, s in r["steps"].items():
        assert len(s["seconds"]) == 1 and 0 < s["median"] < 120, (key, s)
        assert s["server_cpu_median"] > 0 and s["websocket_bytes_median"] > 1000, (key, s)
    assert r["records"]["inspections"] > 0
    assert [k for k in r["yardstick"]] == [k for k, _ in bench_browser.YARDSTICK]   # Streamlit's own floor
    for key, s in r["yardstick"].items():
        assert len(s["seconds"]) == 1 and 0 < s["median"] < 60 and s["browser_cpu_median"] > 0, (key, s)
    [[unit]] = r["units_switched_to"]
    assert unit and unit not in ("", None)


def test_an_exception_on_the_page_fails_the_benchmark(tiny_db, tmp_path):
    """A page that raises must not be timed as if it had rendered."""
    root = tmp_path / "app"
    root.mkdir()
    (root / "app.py").write_text("import streamlit as st\nst.title('x')\nraise ValueError('boom')\n", encoding="utf-8")
    from playwright.sync_api import sync_playwright

    def attempt():
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=bench_browser.CHROMIUM, args=bench_browser.ARGS,
                                         headless=True)
            try:
                with bench_browser.serve(tiny_db, bench_browser.free_port(), tmp_path / "log.txt", root=root,
                                         entry="app.py") as url:
                    with pytest.raises(bench_browser.PageError, match="boom"):
                        bench_browser.open_overview(browser, url)
            finally:
                browser.close()

    in_thread(attempt)
