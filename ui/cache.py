"""The app's own memo for figures and connections: a cache Streamlit's clear-cache message cannot reach.

Why not ``st.cache_data`` / ``st.cache_resource``: any websocket connection, signed in or not, may
send Streamlit's ``clear_cache`` back-message, and the server then empties every ``st.cache_*``
of every session without asking who sent it (``runtime/app_session.py``,
``_handle_clear_cache_request``). A reverse proxy passes websocket frames through untouched, so
the answer lies here: the pages' figures live in module-level memos that message never touches.

``@memo(max_entries=64)`` is a drop-in for the decorators as ui.data uses them:

* the key is the call's arguments (after binding defaults); parameters whose name starts with
  ``_`` are left out, as with Streamlit; the warehouse key ``(path, version)`` comes first in
  every call, so a load never serves an older file's figures;
* thread-safe, and one computation per key at a time (sessions asking for the same figure wait
  for the first instead of computing it again);
* bounded: least recently used entries beyond ``max_entries`` are dropped;
* ``copy=True`` (the default, like ``st.cache_data``) hands each caller its own copy, so a page
  that adds a column cannot change what the next caller gets; ``copy=False`` (like
  ``st.cache_resource``) shares the object (connections);
* exceptions are not cached; ``fn.clear()`` and ``clear_all()`` forget results (a demo build);
* ``prepare`` (optional) is applied once to a computed value before it is stored: ui.data makes
  its figures formula-safe there, once per computation instead of on every read (a third of a
  warm overview's run went to guarding the same cached frames again).

``ENFORCEMENT_CACHE_TRACE=/path`` appends one line per computation (``miss <name>``): the test
that sends the clear-cache message reads it to see what a rerun computed again.
"""
from __future__ import annotations

import contextlib
import copy as _copy
import functools
import gc
import inspect
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

TRACE_ENV = "ENFORCEMENT_CACHE_TRACE"
_registry: list["Memo"] = []
_trace_lock = threading.Lock()


def _freeze(value: Any) -> Any:
    """A hashable stand-in for an argument (lists, dicts and sets as tuples)."""
    if isinstance(value, dict):
        return ("__dict__", tuple(sorted((_freeze(k), _freeze(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return ("__set__", tuple(sorted(_freeze(v) for v in value)))
    hash(value)  # TypeError for anything else that cannot be a key
    return value


def _trace(name: str) -> None:
    path = os.environ.get(TRACE_ENV)
    if not path:
        return
    with _trace_lock, open(path, "a", encoding="utf-8") as fh:
        fh.write(f"miss {name}\n")


class Memo:
    """One memoised function (see the module docstring)."""

    def __init__(self, fn: Callable, max_entries: int, show_spinner: bool | str, copy: bool,
                 prepare: Callable | None = None):
        self.fn, self.max_entries, self.show_spinner, self.copy = fn, max(1, int(max_entries)), show_spinner, copy
        self.prepare = prepare
        self.name = f"{fn.__module__}.{fn.__qualname__}"
        self._sig = inspect.signature(fn)
        self._data: OrderedDict = OrderedDict()
        self._computing: dict = {}
        self._lock = threading.Lock()
        self.hits = self.misses = 0
        functools.update_wrapper(self, fn)

    def _key(self, args, kwargs) -> tuple:
        bound = self._sig.bind(*args, **kwargs)
        bound.apply_defaults()
        return tuple((n, _freeze(v)) for n, v in bound.arguments.items() if not n.startswith("_"))

    def _out(self, value):
        return _copy.deepcopy(value) if self.copy else value

    def __call__(self, *args, **kwargs):
        key = self._key(args, kwargs)
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._out(self._data[key])
            gate = self._computing.setdefault(key, threading.RLock())
        with gate:  # one computation per key; others wait for it
            with self._lock:
                if key in self._data:
                    self._data.move_to_end(key)
                    self.hits += 1
                    return self._out(self._data[key])
            try:
                value = self._compute(args, kwargs)
                with self._lock:
                    self.misses += 1
                    self._data[key] = value
                    self._data.move_to_end(key)
                    while len(self._data) > self.max_entries:
                        self._data.popitem(last=False)
            finally:
                with self._lock:
                    self._computing.pop(key, None)
        _trace(self.fn.__qualname__)
        return self._out(value)

    def _compute(self, args, kwargs):
        if self.show_spinner and in_run():
            import streamlit as st

            text = self.show_spinner if isinstance(self.show_spinner, str) else "正在计算…"
            with st.spinner(text):
                value = self.fn(*args, **kwargs)
        else:
            value = self.fn(*args, **kwargs)
        return self.prepare(value) if self.prepare else value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


def memo(max_entries: int = 64, show_spinner: bool | str = False, copy: bool = True,
         prepare: Callable | None = None) -> Callable[[Callable], Memo]:
    """Decorator: memoise `fn` in the app's own cache (see the module docstring)."""
    def wrap(fn: Callable) -> Memo:
        m = Memo(fn, max_entries, show_spinner, copy, prepare)
        _registry.append(m)
        return m
    return wrap


def clear_all() -> None:
    """Forget every memoised result (after a demo build in this process, for instance)."""
    for m in _registry:
        m.clear()


def stats() -> dict[str, dict[str, int]]:
    """Per memoised function: entries held, hits and computations so far in this process."""
    return {m.name: {"entries": len(m), "hits": m.hits, "misses": m.misses} for m in _registry}


_outside = threading.local()   # per thread: server work outside any session (outside_session())


def in_run() -> bool:
    """Whether this code runs in a session's script run (app.py, a page, a fragment, AppTest):
    Streamlit runs in this process (``streamlit.runtime.exists()``, its documented raw-mode check)
    and this thread is not the server's own work outside a session (serve.py's warm-up declares
    itself with outside_session()). Public API only: tests/ui/test_streamlit_public.py."""
    if getattr(_outside, "depth", 0):
        return False
    try:
        import streamlit as st

        return st.runtime.exists()
    except Exception:
        return False


@contextlib.contextmanager
def outside_session():
    """Mark this thread's work as the server's, outside any session (the warm-up): in_run() is
    False, so no session state is read or written and no spinner is drawn for it."""
    _outside.depth = getattr(_outside, "depth", 0) + 1
    try:
        yield
    finally:
        _outside.depth -= 1


def freeze_long_lived() -> None:
    """Once per process, after the app's imports: move every object alive now (modules, classes,
    functions of pandas, pyarrow, DuckDB, Streamlit and the app: alive until the process ends) out
    of the garbage collector's full collections (gc.freeze, as serve.py does after its warm-up).
    Without it the first page's run paid one or two full collections scanning them all (0.06–0.19 s
    of a national cold overview, measured with gc.callbacks). Objects are still freed by reference
    counting; nothing is collected that would not be. A later call (every rerun runs app.py) does
    nothing, at no cost: gc.get_freeze_count() would walk every frozen object (13 ms a rerun)."""
    global _frozen
    with _frozen_lock:
        if not _frozen:
            _frozen = True
            gc.freeze()


_frozen = False
_frozen_lock = threading.Lock()
