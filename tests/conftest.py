"""Shared fixtures: a demo warehouse built once per test session."""
import pytest


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory):
    """A small Zhejiang demo warehouse (every city and county, ~1/5 of the records)."""
    from etl.demo import DemoConfig, build_demo

    db = tmp_path_factory.mktemp("demo-warehouse") / "warehouse.duckdb"
    build_demo(DemoConfig(province="330000", seed=7, first_year=2023, last_year=2025, scale=0.2), db=db)
    return db


@pytest.fixture(autouse=True)
def _no_users_file(monkeypatch, tmp_path_factory):
    """Tests run the app open (no users file) unless they give one: a data/users.toml on the
    machine running the tests must not change what they see. tests/pages/test_access.py signs in."""
    import ui.auth

    monkeypatch.delenv("ENFORCEMENT_USERS", raising=False)
    monkeypatch.setattr(ui.auth, "DEFAULT_USERS", tmp_path_factory.getbasetemp() / "no-users.toml")
