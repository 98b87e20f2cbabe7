"""`prefetch.in_order`: sources read ahead in threads, handed out in order, within bounds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from kfsync.client.prefetch import in_order


class Sources:
    """Numbered sources of `size` items each, recording what was started and made."""

    def __init__(self, count: int, size: int, *, fail_at: int | None = None) -> None:
        self.count = count
        self.size = size
        self.fail_at = fail_at
        self.made: list[tuple[int, int]] = []
        self.lock = threading.Lock()

    def source(self, number: int) -> Callable[[], Iterator[tuple[int, int]]]:
        def items() -> Iterator[tuple[int, int]]:
            for index in range(self.size):
                time.sleep(0.001 * ((number * 7 + index) % 3))  # out of step with each other
                if number == self.fail_at and index == 1:
                    raise ValueError(f"source {number} broke")
                with self.lock:
                    self.made.append((number, index))
                yield number, index

        return items

    def all(self) -> list[Callable[[], Iterator[tuple[int, int]]]]:
        return [self.source(n) for n in range(self.count)]


@pytest.mark.parametrize("at_once", [1, 2, 3, 8])
def test_items_come_in_the_order_of_the_sources(at_once: int) -> None:
    sources = Sources(6, 4)
    assert list(in_order(sources.all(), at_once)) == [(n, i) for n in range(6) for i in range(4)]


@pytest.mark.parametrize("at_once", [1, 3])
def test_an_error_comes_where_its_items_would_have(at_once: int) -> None:
    got: list[tuple[int, int]] = []

    def take_all() -> None:
        for item in in_order(Sources(5, 3, fail_at=2).all(), at_once):
            got.append(item)

    with pytest.raises(ValueError, match="source 2 broke"):
        take_all()
    assert got == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (2, 0)]


def test_no_more_than_at_once_sources_are_read_ahead() -> None:
    sources = Sources(10, 5)
    iterator = in_order(sources.all(), 3)
    assert next(iterator) == (0, 0)
    time.sleep(0.2)
    with sources.lock:
        made = list(sources.made)
    assert {number for number, _ in made} <= {0, 1, 2}
    # each started source: at most one item waiting, one being made, beyond what was taken
    assert all(sum(1 for n, _ in made if n == number) <= 3 for number in range(3))
    iterator.close()


def test_stopping_early_stops_the_workers() -> None:
    sources = Sources(4, 1000)
    iterator = in_order(sources.all(), 2)
    next(iterator)
    iterator.close()
    time.sleep(0.3)
    with sources.lock:
        made = len(sources.made)
    time.sleep(0.3)
    with sources.lock:
        assert len(sources.made) == made  # nothing more is made once the caller has gone
    assert made < 20


def test_empty_sources() -> None:
    assert list(in_order([], 4)) == []
    assert list(in_order([lambda: iter(())] * 3, 2)) == []
