"""Injected faults: what the admin API queues and which request each one hits.

A fault applies to the next `count` requests to its path (`*` = any WeChat route),
in the order the faults were queued.  Kinds:
- `errcode`: answer that errcode without processing;
- `http_status`: answer that HTTP status with a gateway-like HTML page, without processing;
- `drop`: `before` closes the connection without processing, `after` processes the
  request and closes the connection without answering;
- `latency_ms`: wait that much longer, then process normally.

Besides the queue, a path can have random faults (`RandomFaults`): each request to
it is faulted with probability `rate`, with a kind picked from `kinds`, both drawn
from a `random.Random(seed)` in arrival order, so that a seed replays the same
faults for the same sequence of requests.  Queued faults are taken first.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from kfsync.emulator.exceptions import AdminError

KINDS = ("errcode", "http_status", "drop", "latency_ms")
DROPS = ("before", "after")
ANY_ROUTE = "*"
#: The kinds `RandomFaults` picks from when the payload names none.
RANDOM_KINDS = ("errcode:-1", "errcode:45011", "http_status:502", "drop:before", "drop:after")


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

    @classmethod
    def from_label(cls, path: str, label: object) -> Fault:
        """`errcode:-1`, `http_status:502`, `drop:after`, `latency_ms:200` -> a fault on `path`."""
        kind, sep, text = label.partition(":") if isinstance(label, str) else ("", "", "")
        if not sep or kind not in KINDS:
            raise AdminError(f"a fault kind must be KIND:VALUE with KIND one of {', '.join(KINDS)}, "
                             f"got {label!r}")
        value: int | str = text
        if kind != "drop":
            try:
                value = int(text)
            except ValueError:
                raise AdminError(f"{kind} must be an integer, got {label!r}") from None
        return cls.from_dict({"path": path, kind: value})[0]


@dataclass
class RandomFaults:
    """Faults on a share `rate` of the requests to `path`, reproducible from `seed`."""

    path: str
    rate: float
    seed: int
    kinds: tuple[Fault, ...]
    injected: int = 0
    rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> RandomFaults:
        """From `{"path", "rate", "seed", "kinds"?}`; AdminError (400) when malformed."""
        unknown = sorted(set(payload) - {"path", "rate", "seed", "kinds"})
        if unknown:
            raise AdminError(f"unknown field(s) {', '.join(unknown)} next to rate")
        path, rate, seed = payload.get("path"), payload.get("rate"), payload.get("seed", 0)
        if not isinstance(path, str) or not (path == ANY_ROUTE or path.startswith("/")):
            raise AdminError('path must be "*" or a path starting with "/"')
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise AdminError("rate must be a number from 0 to 1")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise AdminError("seed must be an integer")
        labels = payload.get("kinds", list(RANDOM_KINDS))
        if not isinstance(labels, list) or not labels:
            raise AdminError('kinds must be a non-empty list such as ["errcode:-1", "drop:after"]')
        return cls(path, float(rate), seed, tuple(Fault.from_label(path, k) for k in labels))

    def draw(self) -> Fault | None:
        """The fault for one more request to the path, or None; the caller holds the state lock."""
        if self.rng.random() >= self.rate:
            return None
        self.injected += 1
        return self.rng.choice(self.kinds)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "rate": self.rate, "seed": self.seed,
                "kinds": [k.label for k in self.kinds], "injected": self.injected}


class FaultQueue:
    """The queued faults with their remaining counts; the caller holds the state lock."""

    def __init__(self) -> None:
        self._queue: list[tuple[Fault, int]] = []
        self._random: dict[str, RandomFaults] = {}  #: by path

    def add(self, fault: Fault, count: int) -> None:
        self._queue.append((fault, count))

    def add_random(self, faults: RandomFaults) -> None:
        """Fault a share of the requests to a path from now on; rate 0 stops it."""
        if faults.rate == 0:
            self._random.pop(faults.path, None)
        else:
            self._random[faults.path] = faults

    def take(self, path: str, is_route: bool) -> Fault | None:
        """The fault that hits this request, if any, counting it as used."""
        for index, (fault, left) in enumerate(self._queue):
            if fault.path == path or (fault.path == ANY_ROUTE and is_route):
                if left > 1:
                    self._queue[index] = (fault, left - 1)
                else:
                    del self._queue[index]
                return fault
        source = self._random.get(path) or (self._random.get(ANY_ROUTE) if is_route else None)
        return source.draw() if source is not None else None

    def clear(self) -> None:
        self._queue.clear()
        self._random.clear()

    def pending(self) -> list[dict[str, Any]]:
        return [{**fault.to_dict(), "count": left} for fault, left in self._queue]

    def random(self) -> list[dict[str, Any]]:
        return [faults.to_dict() for faults in self._random.values()]
