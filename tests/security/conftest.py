"""Real servers for the security tests: ``streamlit run`` in a subprocess on 127.0.0.1, driven over
HTTP and the websocket (tests/security/wsclient.py) as an outsider's script would."""
from __future__ import annotations

import shutil

import pytest

from tests.server import ROOT, free_port, serve  # noqa: F401 (the security tests import them from here)


@pytest.fixture(scope="module")
def security_db(demo_db, tmp_path_factory):
    db = tmp_path_factory.mktemp("security-db") / "warehouse.duckdb"
    shutil.copyfile(demo_db, db)
    return db
