"""Shared fixtures: a demo warehouse built once per test session."""
import pytest


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory):
    """A small Zhejiang demo warehouse (every city and county, ~1/5 of the records)."""
    from etl.demo import DemoConfig, build_demo

    db = tmp_path_factory.mktemp("demo-warehouse") / "warehouse.duckdb"
    build_demo(DemoConfig(province="330000", seed=7, first_year=2023, last_year=2025, scale=0.2), db=db)
    return db
