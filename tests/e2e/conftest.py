"""The end-to-end fixtures, defined in e2e_fixtures so that mypy checks them under a unique name."""

from __future__ import annotations

import pytest
from e2e_fixtures import console, shop

__all__ = ["console", "shop"]


@pytest.fixture(autouse=True)
def _retries_never_sleep(retry_sleeps: list[float]) -> None:
    """In this folder the client retries as usual but never sleeps (see tests/conftest.py)."""
