"""How long work reports its progress: a callback the caller passes in, never printing here.

Loops that can take seconds to minutes (avatar normalisation, picture
downloads, chat-record windows) call `advance(done, total)` as each item
completes, from whichever thread did it.  The CLI turns the calls into a
progress bar on a terminal, or log lines with -v; the library only counts.
"""

from __future__ import annotations

from collections.abc import Callable

#: `advance(done, total)`: `done` items of `total` are finished.
Advance = Callable[[int, int], None]


def ignore(done: int, total: int) -> None:
    """The `Advance` of a caller that does not watch."""
