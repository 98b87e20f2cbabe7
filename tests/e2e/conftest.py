"""The end-to-end fixtures, defined in e2e_fixtures so that mypy checks them under a unique name."""

from __future__ import annotations

from e2e_fixtures import console, retry_sleeps, shop

__all__ = ["console", "retry_sleeps", "shop"]
