"""Fixtures for the ETL tests: a fresh warehouse per test, a loader with a fixed today, and a
warehouse already holding a small valid register, inspections and hazards."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from etl import warehouse
from etl.load import load_files
from tests.etl import helpers as h


@pytest.fixture(scope="session")
def _empty_warehouse(tmp_path_factory) -> Path:
    """Schema + reference regions, built once and copied per test (building takes ~0.3 s)."""
    p = tmp_path_factory.mktemp("wh") / "empty.duckdb"
    warehouse.ensure(p)
    return p


@pytest.fixture
def db(tmp_path, _empty_warehouse) -> Path:
    p = tmp_path / "wh" / "warehouse.duckdb"
    p.parent.mkdir()
    shutil.copyfile(_empty_warehouse, p)
    return p


@pytest.fixture
def load(db, tmp_path):
    """load(*paths, **kw) → RunResult, into `db`, with today = TODAY and reports under tmp_path."""
    def run(*paths, **kw):
        kw.setdefault("today", h.TODAY)
        kw.setdefault("report_dir", tmp_path / "reports")
        result = load_files(list(paths), db=db, **kw)
        h.assert_accounted(result)
        return result
    return run


@pytest.fixture
def files(tmp_path):
    """A directory for the test's input files."""
    d = tmp_path / "in"
    d.mkdir()
    return d


def base_files(d: Path) -> list[Path]:
    return [
        h.write(d / "base_enterprises.csv", "enterprises", [h.enterprise(1), h.enterprise(2), h.enterprise(3)]),
        h.write(d / "base_inspections.csv", "inspections",
                [h.inspection(1), h.inspection(2, ent=2, inspection_date="2024-06-01")]),
        h.write(d / "base_hazards.csv", "hazards", [h.hazard(1)]),
    ]


@pytest.fixture(scope="session")
def _base_warehouse(tmp_path_factory, _empty_warehouse) -> Path:
    d = tmp_path_factory.mktemp("base")
    p = d / "base.duckdb"
    shutil.copyfile(_empty_warehouse, p)
    result = load_files(base_files(d), db=p, today=h.TODAY, report_dir=d / "reports")
    assert [f.loaded for f in result.files] == [3, 2, 1], [f.summary() for f in result.files]
    return p


@pytest.fixture
def base(db, _base_warehouse):
    """A warehouse holding enterprises 1–3 (上城区), inspections JC0001 (2024-03-05, enterprise 1)
    and JC0002 (2024-06-01, enterprise 2), and hazard YH0001 of JC0001 (found 2024-03-05)."""
    shutil.copyfile(_base_warehouse, db)
    return db
