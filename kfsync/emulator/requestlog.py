"""The log of WeChat-side requests the admin API shows, with the access token and secret masked."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from kfsync.emulator.exceptions import EmulatorError
from kfsync.emulator.wire import Call, multipart_parts

MASK = "***"
_SECRET_KEYS = ("access_token", "secret", "corpsecret")  # corpsecret: WeCom
LIMIT = 10000  #: entries kept; the oldest go first


@dataclass(frozen=True)
class LoggedRequest:
    seq: int
    time: int
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int | None  #: None when the connection was dropped
    errcode: int | None  #: None when the answer carried no errcode
    fault: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _masked(values: dict[str, Any]) -> dict[str, Any]:
    return {k: MASK if k in _SECRET_KEYS else v for k, v in values.items()}


def loggable_body(call: Call) -> Any:
    """The body as the log shows it: parsed JSON, a multipart summary, or None."""
    if not call.body.strip():
        return None
    if call.is_multipart:
        try:
            parts = multipart_parts(call.content_type, call.body)
        except EmulatorError:
            return None
        return {"multipart": {name: part.summary() for name, part in parts.items()}}
    try:
        body = json.loads(call.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return _masked(body) if isinstance(body, dict) else body


class RequestLog:
    """Entries in arrival order; the caller holds the state lock."""

    def __init__(self) -> None:
        self._entries: list[LoggedRequest] = []
        self._seq = 0

    def add(self, call: Call, now: int, status: int | None, errcode: int | None,
            fault: str | None) -> None:
        self._seq += 1
        self._entries.append(LoggedRequest(self._seq, now, call.method, call.path,
                                           _masked(call.query), loggable_body(call), status,
                                           errcode, fault))
        del self._entries[:-LIMIT]

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()
        self._seq = 0

    def entries(self) -> list[dict[str, Any]]:
        return [entry.to_dict() for entry in self._entries]
