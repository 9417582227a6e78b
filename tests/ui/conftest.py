"""Fixtures of the ui tests."""
from __future__ import annotations

import pytest


@pytest.fixture
def app_data():
    """ui.data with empty caches before and after the test (its figures are memoized per process)."""
    from ui import data

    data.clear()
    yield data
    data.clear()
