"""The emulator's clock: real time plus an offset that tests move forward through the admin API.

A frozen clock stands still except when advanced, so that tests can check
expiries to the second without racing real time.
"""

from __future__ import annotations

import time


class Clock:
    """Unix seconds as the emulator sees them; every expiry is measured on it."""

    def __init__(self, offset: int = 0) -> None:
        self.offset = offset
        self.frozen_at: int | None = None

    def now(self) -> int:
        base = self.frozen_at if self.frozen_at is not None else int(time.time())
        return base + self.offset

    def advance(self, seconds: int) -> int:
        self.offset += seconds
        return self.now()

    def freeze(self, frozen: bool) -> int:
        """Stop (or restart) the clock; `now` carries on from where it stands."""
        real = int(time.time())
        if frozen and self.frozen_at is None:
            self.frozen_at = real
        elif not frozen and self.frozen_at is not None:
            self.offset += self.frozen_at - real
            self.frozen_at = None
        return self.now()
