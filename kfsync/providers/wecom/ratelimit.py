"""Staying under WeCom's per-corp frequency limit: calls per API per rolling minute.

WeCom allows 10,000 calls per minute to each API per corp (and blocks the corp
for a minute past that, 45009).  `MinuteLimit.wait(path)` makes a caller wait
until one more call to `path` stays under the limit.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

PER_MINUTE = 10_000
WINDOW = 60.0


class MinuteLimit:
    def __init__(self, per_minute: int = PER_MINUTE, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sent: dict[str, deque[float]] = {}

    def wait(self, path: str) -> None:
        """Block until a call to `path` is allowed, and count it."""
        while True:
            with self._lock:
                now = self._clock()
                sent = self._sent.setdefault(path, deque())
                while sent and sent[0] <= now - WINDOW:
                    sent.popleft()
                if len(sent) < self.per_minute:
                    sent.append(now)
                    return
                delay = sent[0] + WINDOW - now
            self._sleep(delay)
