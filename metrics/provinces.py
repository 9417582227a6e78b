"""Which province's units are peers: the one asked for, else the one whose agencies have records."""
from __future__ import annotations

import re

import duckdb

from metrics.catalog import PROVINCE_TABLES, catalog_source, tables_in
from metrics.query import run, run_one


class ProvinceError(ValueError):
    """No usable province: none has records, several do, or the code asked for is not a province."""


def provinces_with_records(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(code, name) of every province whose agencies have inspections, cases or plans (read from
    the catalog mart the ETL keeps, metrics.catalog)."""
    df = run(con, f"""
        SELECT p.code, p.name
        FROM (SELECT DISTINCT province_code FROM {catalog_source(con)} WHERE {tables_in(PROVINCE_TABLES)}) a
        JOIN regions p ON p.code = a.province_code
        ORDER BY p.code""")
    return list(df.itertuples(index=False, name=None))


def default_province(con: duckdb.DuckDBPyConnection) -> str:
    """The province whose agencies have records; an error when none or several do."""
    found = provinces_with_records(con)
    if not found:
        raise ProvinceError("the warehouse has no inspections, cases or plans yet: load records first")
    if len(found) > 1:
        listed = ", ".join(f"{c} {n}" for c, n in found)
        raise ProvinceError(f"records of several provinces ({listed}): choose one with --province")
    return found[0][0]


def resolve_province(con: duckdb.DuckDBPyConnection, province: str | None) -> str:
    """A checked province code: the one given (must be a province in regions) or the default."""
    if province is None:
        return default_province(con)
    code = str(province).strip()
    if not re.fullmatch(r"\d{6}", code):
        raise ProvinceError(f"not a region code: {province!r} (6 digits, e.g. 330000)")
    row = run_one(con, "SELECT level FROM regions WHERE code = ?", [code])  # every metrics call asks
    if row is None:
        raise ProvinceError(f"no region {code} in the warehouse's regions")
    if row[0] != "省":
        raise ProvinceError(f"{code} is not a province (a province code ends in 0000)")
    return code


def province_name(con: duckdb.DuckDBPyConnection, province: str) -> str:
    df = run(con, "SELECT name FROM regions WHERE code = ?", [province])
    return df.iloc[0, 0] if len(df) else province
