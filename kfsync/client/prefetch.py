"""Several sources read ahead at once, their items handed out in the sources' order.

`in_order` runs up to `at_once` sources in worker threads, each holding at most
one item that the caller has not taken yet, and yields every item of the
first source, then of the second, and so on: the same sequence as reading them
one after the other, with the waits of the next sources overlapped.  Memory is
bounded by `at_once` items in waiting and `at_once` being made, whatever the
number of sources.  A source's error is raised where its items would have come;
when the caller stops early, the workers stop at their next item.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

_T = TypeVar("_T")
_POLL = 0.1  #: seconds between two looks at the stop flag while a worker waits


class _End:
    """What a source's worker puts after its last item, or with the error that ended it."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class _Lane(Generic[_T]):
    """One source's hand-over: one item at a time, and when the caller has taken the end."""

    def __init__(self) -> None:
        self.items: queue.Queue[_T | _End] = queue.Queue(maxsize=1)
        self.drained = threading.Event()


def in_order(sources: Iterable[Callable[[], Iterator[_T]]],
             at_once: int) -> Generator[_T, None, None]:
    """Every item of every source, in order, with up to `at_once` sources read ahead."""
    if at_once <= 1:
        for source in sources:
            yield from source()
        return
    stop = threading.Event()

    def put(lane: _Lane[_T], item: _T | _End) -> bool:
        while not stop.is_set():
            try:
                lane.items.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def work(source: Callable[[], Iterator[_T]], lane: _Lane[_T]) -> None:
        end = _End()
        try:
            for item in source():
                if not put(lane, item):
                    return
        except BaseException as exc:  # handed to the caller, in order
            end = _End(exc)
        if put(lane, end):
            # Hold this worker until the caller has taken everything: the next source starts
            # only then, so that no more than `at_once` sources have items waiting.
            while not lane.drained.wait(_POLL) and not stop.is_set():
                pass

    pool = ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="kfsync-prefetch")
    try:
        lanes: list[_Lane[_T]] = []
        for source in sources:  # queued in order; the pool starts them first come, first served
            lane: _Lane[_T] = _Lane()
            lanes.append(lane)
            pool.submit(work, source, lane)
        for lane in lanes:
            while True:
                item = lane.items.get()
                if isinstance(item, _End):
                    lane.drained.set()
                    if item.error is not None:
                        raise item.error
                    break
                yield item
    finally:
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
