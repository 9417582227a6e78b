"""The deploy tests reuse the ETL tests' fresh-warehouse fixtures."""
from tests.etl.conftest import _empty_warehouse, db, files  # noqa: F401
