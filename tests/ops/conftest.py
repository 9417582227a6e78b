"""The ETL tests' warehouse fixtures (a fresh warehouse per test, source files) for the store's tests."""
from tests.etl.conftest import _empty_warehouse, db, files  # noqa: F401
