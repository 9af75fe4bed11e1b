"""Fixtures shared by every test module."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TEST_DATA = Path(__file__).resolve().parent / "data"

# pg_server, pg_url and the two-backend `backend` fixture (a private PostgreSQL for the session).
pytest_plugins = ("tests.pgserver",)


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or skip: a fresh clone has no ../shared."""
    path = SHARED / "data"
    if not path.is_dir():
        pytest.skip("../shared/data is not present")
    return path


@pytest.fixture
def test_data() -> Path:
    return TEST_DATA


# Property tests draw the same examples on every run, so the README's test command gives the
# same verdict on every machine (set YUQING_HYPOTHESIS_EXPLORE=1 to draw new ones when hunting bugs).
from hypothesis import settings as _hypothesis_settings

_hypothesis_settings.register_profile("desk", derandomize=True)
if not os.environ.get("YUQING_HYPOTHESIS_EXPLORE"):
    _hypothesis_settings.load_profile("desk")
