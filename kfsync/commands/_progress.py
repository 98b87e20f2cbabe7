"""Progress of long work, shown the one way: click's progress bar on a terminal's stderr.

`shown(label, unit)` gives an `Advance` callback to hand to the library.  On a
terminal (and without -q) it draws click's bar: done out of total, the share
and the time left.  Elsewhere (a CI log, a pipe) nothing is drawn; with -v one
log line is written per `every` items instead (one per window of chat
records, one per tenth of a batch of pictures).  Calls may come from several
threads.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Iterator
from typing import Any

import click

from kfsync.commands._globals import show_progress
from kfsync.progress import Advance

log = logging.getLogger("kfsync.progress")


class _Reporter:
    def __init__(self, label: str, unit: str, every: int | None, draw: bool) -> None:
        self.label = label
        self.unit = unit
        self.every = every
        self.draw = draw and show_progress()
        self.closed = False
        self.bar: Any = None  # click's ProgressBar, made once the total is known
        self.logged = 0
        self.lock = threading.Lock()

    def advance(self, done: int, total: int) -> None:
        with self.lock:
            if total <= 0 or self.closed:  # a thread may outlive the block that watched it
                return
            if self.draw:
                self._draw(done, total)
            else:
                self._log(done, total)

    def _draw(self, done: int, total: int) -> None:
        if self.bar is None:
            if done >= total:  # nothing left to wait for (all in the cache): no bar
                return
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr,
                                         show_pos=True, show_percent=True, show_eta=True)
            self.bar.__enter__()
        self.bar.length = total
        if done > self.bar.pos:
            self.bar.update(done - self.bar.pos)
        if done >= total:  # done: the next output starts on a line of its own
            self._close()

    def _log(self, done: int, total: int) -> None:
        every = self.every or max(1, total // 10)
        if done <= self.logged or (done < total and done - self.logged < every):
            return
        self.logged = done
        log.info("%s: %d of %d %s", self.label, done, total, self.unit)

    def finish(self) -> None:
        with self.lock:
            self._close()

    def _close(self) -> None:
        self.closed = True
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@contextlib.contextmanager
def shown(label: str, unit: str, *, every: int | None = None, draw: bool = True
          ) -> Iterator[Advance]:
    """An `Advance` that shows `label`'s progress, for the length of the block.

    `draw=False` keeps the bar off the terminal (when results go to it too).
    """
    reporter = _Reporter(label, unit, every, draw)
    try:
        yield reporter.advance
    finally:
        reporter.finish()
