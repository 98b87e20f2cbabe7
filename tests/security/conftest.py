"""The security fixtures, defined in sec_fixtures so that mypy checks them under a unique name."""

from __future__ import annotations

import pytest
from sec_fixtures import (
    _loopback_only,
    deleting,
    opens,
    reviewed,
    second_stand_in,
    shop,
    stand_in,
    stand_in_server,
)

__all__ = ["_loopback_only", "deleting", "opens", "reviewed", "second_stand_in", "shop", "stand_in",
           "stand_in_server"]


@pytest.fixture(autouse=True)
def _retries_never_sleep(retry_sleeps: list[float]) -> None:
    """In this folder the client retries as usual but never sleeps (see tests/conftest.py)."""
