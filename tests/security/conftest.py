"""The security fixtures, defined in sec_fixtures so that mypy checks them under a unique name."""

from __future__ import annotations

from sec_fixtures import (
    _loopback_only,
    _no_retry_sleep,
    opens,
    shop,
    stand_in,
    stand_in_server,
)

__all__ = ["_loopback_only", "_no_retry_sleep", "opens", "shop", "stand_in",
           "stand_in_server"]
