"""kfsync's one error hierarchy and its exit codes.

Every error kfsync raises on purpose derives from `KfsyncError`, builds its own
one-line human message, and names the exit code the CLI should end with.  The
CLI catches the base class once (see `kfsync.cli`) and never shows a traceback
for it.  Messages must never contain the access token or the app secret: the
client redacts them before an error is built (see `kfsync.redact`).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass


class ExitCode(enum.IntEnum):
    """Process exit statuses, listed in the README."""

    OK = 0  #: in sync, or applied
    ERROR = 1  #: an error: bad input, credentials, WeChat refused, ...
    CHANGES = 2  #: changes pending (`plan --detailed-exitcode`)
    REFUSED = 3  #: refused by a safety rule, or a saved plan that is stale, edited or badly sealed
    INCOMPLETE = 4  #: apply incomplete: failed, skipped, not converged, or an output not reported
    INTERNAL = 70  #: a bug in kfsync: rerun with --debug and report it
    INTERRUPTED = 130  #: interrupted (Ctrl-C)


class KfsyncError(Exception):
    """Base class: a failure kfsync understands and can explain in one line."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class UsageError(KfsyncError):
    """The command line or the environment asks for something impossible."""


class CredentialsError(KfsyncError):
    """A credential is missing or unusable; the message names the variable."""


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class Problem:
    """One problem in a config file, at a position."""

    file: str
    line: int
    column: int
    message: str
    field: str = ""  #: a dotted path such as `accounts.alice.nickname`, "" for the document

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "field": self.field,
            "message": self.message,
        }


class ConfigError(KfsyncError):
    """A config file is invalid: carries every problem found, not only the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        first = str(self.problems[0]) if self.problems else "invalid configuration"
        more = len(self.problems) - 1
        super().__init__(first + (f" (and {more} more)" if more > 0 else ""))


class AvatarError(KfsyncError):
    """An avatar picture cannot be read, decoded or made small enough for WeChat."""


# --------------------------------------------------------------------------- API


class ApiError(KfsyncError):
    """A call to the WeChat API failed."""

    def __init__(self, message: str, *, endpoint: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.endpoint = endpoint


class WeChatError(ApiError):
    """WeChat answered with a non-zero errcode."""

    def __init__(
        self,
        errcode: int,
        errmsg: str,
        *,
        endpoint: str,
        hint: str | None = None,
        account: str | None = None,
        service: str = "WeChat",
    ) -> None:
        self.errcode = errcode
        self.errmsg = errmsg
        self.account = account
        subject = f"{account}: " if account else ""
        super().__init__(
            f"{subject}{service} errcode {errcode} from {endpoint}: {errmsg}",
            endpoint=endpoint,
            hint=hint,
        )


class QuotaError(WeChatError):
    """45009 (daily quota) or 45011 (per-minute quota) that outlasted the retries."""


class TransportError(ApiError):
    """No usable answer: the host could not be reached, HTTP error, or a malformed body."""


class OutcomeUnknownError(ApiError):
    """A write was sent but its answer was lost (timeout or dropped connection).

    The change may or may not have been made.  The client never resends such a
    write blindly; the reconciler re-reads the live state to decide.
    """
