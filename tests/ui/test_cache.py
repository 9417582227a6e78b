"""ui.cache.memo, the app's own cache (issue 15 item 2): bounded, one computation per key across
threads, a private copy per caller, exceptions not kept, `_`-parameters not part of the key — and
Streamlit's own clear (what the clear-cache message runs) leaves it alone."""
from __future__ import annotations

import threading
import time

import pandas as pd
import pytest

from ui.cache import memo


def test_bounded_least_recently_used():
    calls = []

    @memo(max_entries=2)
    def f(x):
        calls.append(x)
        return x * 10

    assert [f(1), f(2), f(1), f(3)] == [10, 20, 10, 30]  # 3 evicts 2 (1 was used last)
    assert len(f) == 2 and f(1) == 10 and calls == [1, 2, 3]
    f(2)
    assert calls == [1, 2, 3, 2]


def test_one_computation_per_key_across_threads():
    calls = []

    @memo()
    def slow(x):
        calls.append(x)
        time.sleep(0.2)
        return x

    threads = [threading.Thread(target=slow, args=(7,)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [7] and slow.hits == 5


def test_each_caller_gets_its_own_copy_unless_shared():
    @memo()
    def frame(k):
        return pd.DataFrame({"a": [1, 2]})

    first = frame(1)
    first["b"] = 0
    assert list(frame(1).columns) == ["a"]

    @memo(copy=False)
    def resource(k):
        return object()

    assert resource(1) is resource(1)


def test_prepare_runs_once_per_computation_and_every_caller_gets_the_prepared_value():
    from etl.safe import safe_result

    prepared = []

    def guard(value):
        prepared.append(1)
        return safe_result(value)

    @memo(prepare=guard)
    def names(k):
        return pd.DataFrame({"name": ["=HYPERLINK(1)", "杭州市"], "n": [1, 2]})

    for _ in range(3):
        assert names(1)["name"].tolist() == ["'=HYPERLINK(1)", "杭州市"]
    assert len(prepared) == 1 and names.hits == 2


def test_every_public_read_of_ui_data_is_formula_safe_when_computed_or_on_its_way_out():
    """ui.data guards its figures in the memos (once) and the unmemoised reads on the way out: a
    read that is neither would hand a page raw text from an uploaded file."""
    from ui import analysis_data, data
    from ui.cache import Memo

    guarded = {"audit_trail", "import_uploads", "whatif_index", "whatif_score"}
    # a scheme object, counts, files' bytes, the bulletin's unit names and figures: no uploaded text
    no_frames = {"scheme", "status", "bulletin", "bulletin_files", "brief_pdf"}
    for mod in (data, analysis_data):
        for name, m in vars(mod).items():
            if isinstance(m, Memo) and name.startswith("_") and name[1:] in vars(mod) and name[1:] not in guarded | no_frames:
                assert m.prepare is not None, f"{mod.__name__}.{name} is read by {name[1:]} but not guarded"
    assert all(getattr(getattr(data, n, None) or getattr(analysis_data, n), "__wrapped__", None) for n in guarded)


def test_exceptions_are_not_kept_and_underscore_arguments_are_not_keys():
    n = {"calls": 0}

    @memo()
    def flaky(k, _unhashed=None):
        n["calls"] += 1
        if n["calls"] == 1:
            raise RuntimeError("first")
        return k

    with pytest.raises(RuntimeError):
        flaky(1, _unhashed=[1])
    assert flaky(1, _unhashed={"x": []}) == 1 and flaky(1, _unhashed=object()) == 1 and n["calls"] == 2


def test_streamlits_clear_does_not_reach_it():
    import streamlit as st

    calls = []

    @memo()
    def f(k):
        calls.append(k)
        return k

    f(1)
    st.cache_data.clear()
    st.cache_resource.clear()
    f(1)
    assert calls == [1]


def test_freeze_long_lived_moves_what_is_alive_out_of_full_collections_once(monkeypatch):
    import gc

    from ui import cache

    before = gc.get_freeze_count()
    gc.unfreeze()
    monkeypatch.setattr(cache, "_frozen", False)   # as in a new process
    try:
        cache.freeze_long_lived()
        frozen = gc.get_freeze_count()
        assert frozen > 1000  # the modules' objects (pandas, Streamlit, this test run)
        later = [[i] for i in range(100)]  # tracked objects made after the first call
        calls = []
        monkeypatch.setattr(gc, "freeze", lambda: calls.append(1))
        monkeypatch.setattr(gc, "get_freeze_count", lambda: calls.append(1))  # walks every frozen object
        cache.freeze_long_lived()  # a later run of app.py: nothing more is frozen, nothing is counted
        assert calls == [] and later
    finally:
        monkeypatch.undo()
        gc.unfreeze()
        if before:
            gc.freeze()
