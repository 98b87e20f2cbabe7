"""Keep secrets out of every text kfsync produces.

The client registers each secret it holds (app secret, access tokens) with
`register_secret`; `redact` removes registered values and anything that looks
like a token or secret parameter from a text.  Errors, log records and reprs
pass through it before anyone sees them.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "***"

_PARAM = re.compile(
    r"(?P<key>access_token|secret|appsecret)(?P<sep>[\"']?\s*[=:]\s*[\"']?)(?P<value>[^&\s\"',}]+)",
    re.IGNORECASE,
)
_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret so that `redact` removes it wherever it appears."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """The text with every registered secret and token-like parameter masked."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return _PARAM.sub(lambda m: f"{m['key']}{m['sep']}{MASK}", text)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the formatted message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True
