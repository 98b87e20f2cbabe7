"""The emulator's clock: real time plus an offset that tests move forward through the admin API."""

from __future__ import annotations

import time


class Clock:
    """Unix seconds as the emulator sees them; every expiry is measured on it."""

    def __init__(self, offset: int = 0) -> None:
        self.offset = offset

    def now(self) -> int:
        return int(time.time()) + self.offset

    def advance(self, seconds: int) -> int:
        self.offset += seconds
        return self.now()
