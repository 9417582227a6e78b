"""Shared fixtures: a demo warehouse built once per test run."""
import fcntl
import os
import shutil

import pytest


def _build_demo(db) -> None:
    from etl.demo import DemoConfig, build_demo

    build_demo(DemoConfig(province="330000", seed=7, first_year=2023, last_year=2025, scale=0.2), db=db)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory):
    """A small Zhejiang demo warehouse (every city and county, ~1/5 of the records).

    Under pytest-xdist (`make test` runs two workers) the first worker to ask builds it once in the
    run's shared temp folder, under a lock, and each worker reads its own copy: the app writes its
    ops store beside the warehouse, so two workers never share one."""
    db = tmp_path_factory.mktemp("demo-warehouse") / "warehouse.duckdb"
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        _build_demo(db)
        return db
    shared = tmp_path_factory.getbasetemp().parent / "demo-warehouse-shared"   # this run's, for all workers
    shared.mkdir(exist_ok=True)
    built = shared / "warehouse.duckdb"
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (shared / "done").exists():
                _build_demo(built)
                (shared / "done").touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    shutil.copyfile(built, db)
    return db


@pytest.fixture(scope="session")
def demo_copy(demo_db, tmp_path_factory):
    """``demo_copy(name)``: a private copy of the demo warehouse, ``warehouse.duckdb`` in a new temp
    folder named after `name`, for a test that writes or serves it (the app writes its ops store beside
    the warehouse; the test may put its users file and logs in the same folder, ``db.parent``)."""
    def make(name: str):
        db = tmp_path_factory.mktemp(name) / "warehouse.duckdb"
        shutil.copyfile(demo_db, db)
        return db

    return make


@pytest.fixture(autouse=True)
def _no_users_file(monkeypatch, tmp_path_factory):
    """Tests run the app open (no users file) unless they give one: a data/users.toml on the
    machine running the tests must not change what they see. tests/pages/test_access.py signs in."""
    import ui.auth

    monkeypatch.delenv("ENFORCEMENT_USERS", raising=False)
    monkeypatch.setattr(ui.auth, "DEFAULT_USERS", tmp_path_factory.getbasetemp() / "no-users.toml")


def pytest_collection_modifyitems(config, items):
    """Modules holding browser or slow tests first (order kept otherwise): under pytest-xdist the two
    workers start on the longest modules and the many short ones even out the end of the run."""
    def heavy(item) -> bool:
        return any(m.name in ("browser", "slow") for m in item.iter_markers())

    first = {item.module.__name__ for item in items if heavy(item)}
    items.sort(key=lambda item: item.module.__name__ not in first)
