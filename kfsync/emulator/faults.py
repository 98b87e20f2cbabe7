"""Injected faults: what the admin API queues and which request each one hits.

A fault applies to the next `count` requests to its path (`*` = any WeChat route),
in the order the faults were queued.  Kinds:
- `errcode`: answer that errcode without processing;
- `http_status`: answer that HTTP status with a gateway-like HTML page, without processing;
- `drop`: `before` closes the connection without processing, `after` processes the
  request and closes the connection without answering;
- `latency_ms`: wait that much longer, then process normally.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kfsync.emulator.exceptions import AdminError

KINDS = ("errcode", "http_status", "drop", "latency_ms")
DROPS = ("before", "after")
ANY_ROUTE = "*"


@dataclass(frozen=True)
class Fault:
    path: str
    kind: str
    value: int | str

    @property
    def label(self) -> str:
        """How the request log names the fault, e.g. `drop:after`."""
        return f"{self.kind}:{self.value}"

    @classmethod
    def from_dict(cls, payload: object) -> tuple[Fault, int]:
        """A fault and its count from the admin payload; AdminError (400) when malformed."""
        if not isinstance(payload, dict):
            raise AdminError("a fault must be a JSON object")
        path, count = payload.get("path"), payload.get("count", 1)
        if not isinstance(path, str) or not (path == ANY_ROUTE or path.startswith("/")):
            raise AdminError('path must be "*" or a path starting with "/"')
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise AdminError("count must be an integer >= 1")
        kinds = [kind for kind in KINDS if payload.get(kind) is not None]
        unknown = sorted(set(payload) - {"path", "count", *KINDS})
        if unknown or len(kinds) != 1:
            raise AdminError(f"give exactly one of {', '.join(KINDS)}"
                             + (f"; unknown field(s) {', '.join(unknown)}" if unknown else ""))
        kind = kinds[0]
        value = payload[kind]
        if kind == "drop":
            if value not in DROPS:
                raise AdminError('drop must be "before" or "after"')
        elif isinstance(value, bool) or not isinstance(value, int):
            raise AdminError(f"{kind} must be an integer")
        elif kind == "http_status" and not 400 <= value <= 599:
            raise AdminError("http_status must be 400 to 599")
        elif kind == "latency_ms" and value < 0:
            raise AdminError("latency_ms must be >= 0")
        return cls(path, kind, value), count

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, self.kind: self.value}


class FaultQueue:
    """The queued faults with their remaining counts; the caller holds the state lock."""

    def __init__(self) -> None:
        self._queue: list[tuple[Fault, int]] = []

    def add(self, fault: Fault, count: int) -> None:
        self._queue.append((fault, count))

    def take(self, path: str, is_route: bool) -> Fault | None:
        """The fault that hits this request, if any, counting it as used."""
        for index, (fault, left) in enumerate(self._queue):
            if fault.path == path or (fault.path == ANY_ROUTE and is_route):
                if left > 1:
                    self._queue[index] = (fault, left - 1)
                else:
                    del self._queue[index]
                return fault
        return None

    def clear(self) -> None:
        self._queue.clear()

    def pending(self) -> list[dict[str, Any]]:
        return [{**fault.to_dict(), "count": left} for fault, left in self._queue]
