"""Real servers for the security tests: ``streamlit run`` in a subprocess on 127.0.0.1, driven over
HTTP and the websocket (tests/security/wsclient.py) as an outsider's script would."""
from __future__ import annotations

import pytest

from tests.server import ROOT, free_port, serve  # noqa: F401 (the security tests import them from here)


@pytest.fixture(scope="module")
def security_db(demo_copy):
    """A private copy of the demo warehouse for the module (its servers write their ops store beside it)."""
    return demo_copy("security-db")
