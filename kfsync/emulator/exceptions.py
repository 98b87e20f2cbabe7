"""The emulator's errors: WeChat refusals, admin-API refusals and unusable state files.

Models raise `EmulatorError(errcode)`; `responses.dispatch` is the one place that
turns it into the wire answer `{"errcode", "errmsg"}` (HTTP 200).  `AdminError`
becomes an HTTP 4xx JSON answer on the admin API.
"""

from __future__ import annotations

from kfsync.errors import KfsyncError


class EmulatorError(Exception):
    """WeChat refuses the call with this errcode (each provider's `responses` words it)."""

    def __init__(self, errcode: int) -> None:
        super().__init__(f"errcode {errcode}")
        self.errcode = errcode


class AdminError(Exception):
    """The admin API refuses: bad input (400), unknown account (404), wrong state (409)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class StateFileError(KfsyncError):
    """The --state file cannot be read or written."""


class EmulatorAdminError(KfsyncError):
    """The admin API could not be reached or refused a request (EmulatorAdmin)."""
