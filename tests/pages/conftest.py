"""Fixtures for the page tests: AppTest from the entrypoint, pointed at a demo warehouse."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def app(demo_db, monkeypatch):
    """A factory of AppTests reading the session's demo warehouse (read-only use)."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("ENFORCEMENT_DB", str(demo_db))

    def make() -> AppTest:
        return AppTest.from_file(APP, default_timeout=90)

    return make


@pytest.fixture
def writable_db(demo_db, tmp_path, monkeypatch):
    """A private copy of the demo warehouse for tests that load files; ENFORCEMENT_DB points at it."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_db, db)
    monkeypatch.setenv("ENFORCEMENT_DB", str(db))
    return db


def ok(at):
    """Run (or rerun) and fail with the app's own traceback text if any element is an exception."""
    at.run()
    assert not at.exception, "\n\n".join(e.value + "\n" + "\n".join(e.stack_trace) for e in at.exception)
    return at


def open_section(at, label: str):
    """On 区域分析, open one of its lower tabs (指标明细, 能力建设与案例报送, 追溯记录, 逐级下钻): only the
    open tab's content runs, as when a user clicks it."""
    assert label in [t.label for t in at.tabs], f"no tab {label}"
    at.session_state["region_section"] = label
    return ok(at)


def texts(at) -> str:
    """Everything the page wrote as text (titles, markdown, captions, alerts), for `in` checks."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "success", "info", "warning", "error"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def table(at, *columns: str, without: tuple[str, ...] = (), nth: int = 0):
    """The value of the `nth` dataframe (or st.table) showing all of `columns` and none of `without`
    (AppTest cannot find a display-only st.dataframe by its key)."""
    found = [d.value for d in [*at.dataframe, *at.table]
             if set(columns) <= set(d.value.columns) and not set(without) & set(d.value.columns)]
    assert len(found) > nth, f"no table with columns {columns} (tables: {[list(d.value.columns) for d in at.dataframe]})"
    return found[nth]


def table_or_none(at, *columns: str):
    """The first dataframe showing all of ``columns``, or None."""
    found = [d.value for d in [*at.dataframe, *at.table] if set(columns) <= set(d.value.columns)]
    return found[0] if found else None


def charts(at) -> list[dict]:
    """Every Vega-Lite chart's spec, with the named datasets Streamlit sent beside it put back in
    ``spec["datasets"]`` as lists of records (ui.charts: inline data travel inside the spec)."""
    import json

    import pyarrow as pa

    out = []
    for el in at.get("vega_lite_chart"):
        spec = json.loads(el.proto.spec)
        named = {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pylist() for d in el.proto.datasets}
        if named:
            spec["datasets"] = {**spec.get("datasets", {}), **named}
        out.append(spec)
    return out


def chart(at, title: str) -> dict:
    """The Vega-Lite spec of the chart whose title contains ``title``."""
    found = [c for c in charts(at) if title in c.get("title", {}).get("text", "")]
    assert found, f"no chart titled {title!r} (charts: {[c.get('title', {}).get('text') for c in charts(at)]})"
    return found[0]
