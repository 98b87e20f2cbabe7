"""The reliability fixtures, defined in rel_fixtures so that mypy checks them under a unique name."""

from __future__ import annotations

import pytest
from rel_fixtures import patient_retries, workspace

__all__ = ["patient_retries", "workspace"]


@pytest.fixture(autouse=True)
def _retries_never_sleep(retry_sleeps: list[float]) -> None:
    """In this folder the client retries as usual but never sleeps (see tests/conftest.py)."""
