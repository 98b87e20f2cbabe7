"""Windows and paging over chat records, without HTTP: a tiny in-memory getmsglist/getrecord."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import pytest

from kfsync.errors import TransportError, UsageError
from kfsync.providers.wechat_mp.client.paging import (
    CHINA_OFFSET,
    DAY,
    iter_legacy,
    iter_msglist,
    unix_time,
    windows,
)
from kfsync.providers.wechat_mp.client.results import MsgPage, MsgRecord

T0 = 1_700_000_000 - (1_700_000_000 + CHINA_OFFSET) % DAY  # a CST midnight


class Pages:
    """getmsglist over a list of records whose msgid is their position + 1."""

    def __init__(self, records: Sequence[MsgRecord], mode: str) -> None:
        self.records = list(records)
        self.mode = mode
        self.calls: list[tuple[int, int, int, int]] = []

    def __call__(self, start: int, end: int, msgid: int, number: int) -> MsgPage:
        assert end - start <= DAY
        self.calls.append((start, end, msgid, number))
        found = [(i + 1, r) for i, r in enumerate(self.records)
                 if start <= r.time <= end and i + 1 >= msgid][:number]
        if not found:
            return MsgPage((), 0, 0)
        last = found[-1][0]
        return MsgPage(tuple(r for _, r in found), len(found),
                       last + 1 if self.mode == "next" else last)

    def legacy(self, start: int, end: int, index: int, size: int = 3) -> tuple[MsgRecord, ...]:
        assert (start + CHINA_OFFSET) // DAY == (end + CHINA_OFFSET) // DAY
        found = [r for r in self.records if start <= r.time <= end]
        return tuple(found[(index - 1) * size:index * size])


def record(time: int, text: str = "") -> MsgRecord:
    return MsgRecord("o1", 2002, text or f"m{time}", time, "anna@shop_cs")


def test_windows_are_at_most_a_day_and_cover_the_range() -> None:
    assert list(windows(10, 10 + 2 * DAY + 5)) == [
        (10, 10 + DAY), (10 + DAY, 10 + 2 * DAY), (10 + 2 * DAY, 10 + 2 * DAY + 5)]
    assert list(windows(5, 5)) == []


def test_calendar_windows_cut_at_china_midnight() -> None:
    start = T0 + 3600
    assert list(windows(start, T0 + DAY + 60, calendar_days=True)) == [
        (start, T0 + DAY), (T0 + DAY, T0 + DAY + 60)]


# Records on every window edge, and several per second.
EDGE_TIMES = [T0, T0 + 1, T0 + 1, T0 + DAY - 1, T0 + DAY, T0 + DAY, T0 + DAY + 1,
              T0 + 2 * DAY - 1, T0 + 2 * DAY, T0 + 3 * DAY - 1]


@pytest.mark.parametrize("at_once", [1, 2, 4])
@pytest.mark.parametrize("mode", ["next", "last"])
@pytest.mark.parametrize("number", [2, 3, 4, 10000])
def test_every_record_exactly_once(mode: str, number: int, at_once: int) -> None:
    records = [record(t, f"m{i}") for i, t in enumerate(EDGE_TIMES)]
    pages = Pages(records, mode)
    assert list(iter_msglist(pages, T0, T0 + 3 * DAY, number, windows_at_once=at_once)) == records


@pytest.mark.parametrize("at_once", [1, 3])
@pytest.mark.parametrize("mode", ["next", "last"])
def test_range_is_half_open(mode: str, at_once: int) -> None:
    records = [record(t, f"m{i}") for i, t in enumerate(EDGE_TIMES)]
    got = list(iter_msglist(Pages(records, mode), T0 + 1, T0 + 2 * DAY, 2, windows_at_once=at_once))
    assert got == [r for r in records if T0 + 1 <= r.time < T0 + 2 * DAY]


class SlowPages(Pages):
    """Pages that take a random while, so that windows fetched at once finish out of order."""

    def __init__(self, records: Sequence[MsgRecord], mode: str, seed: int) -> None:
        super().__init__(records, mode)
        self.random = random.Random(seed)
        self.lock = threading.Lock()

    def __call__(self, start: int, end: int, msgid: int, number: int) -> MsgPage:
        with self.lock:
            pause = self.random.random() / 500
        time.sleep(pause)
        return super().__call__(start, end, msgid, number)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("mode", ["next", "last"])
def test_windows_fetched_at_once_give_what_one_at_a_time_gives(mode: str, seed: int) -> None:
    """In time order, and with the same repeats dropped, whatever order the windows end in."""
    rng = random.Random(seed)
    times = sorted(T0 + rng.randrange(7 * DAY) for _ in range(300))
    same = record(T0 + 3 * DAY + 7, "[image]")  # identical neighbours, on page boundaries or not
    records = [record(t, rng.choice(["hi", "ok", "[image]"])) for t in times] + [same] * 5
    records.sort(key=lambda r: r.time)
    for number in (2, 7, 50):
        alone = list(iter_msglist(Pages(records, mode), T0, T0 + 7 * DAY, number))
        together = list(iter_msglist(SlowPages(records, mode, seed), T0, T0 + 7 * DAY, number,
                                     windows_at_once=4))
        assert together == alone


def test_windows_fetched_at_once_read_a_bounded_way_ahead() -> None:
    pages = Pages([record(T0 + d * DAY + i) for d in range(10) for i in range(40)], "next")
    iterator = iter_msglist(pages, T0, T0 + 10 * DAY, 10, windows_at_once=2)
    next(iterator)
    time.sleep(0.2)
    # Two windows at once, each at most a page ahead of what was taken and one being made.
    assert {start for start, *_ in pages.calls} <= {T0, T0 + DAY}
    assert len(pages.calls) <= 5
    iterator.close()


def test_last_mode_keeps_identical_neighbours() -> None:
    same = record(T0 + 5, "[image]")
    records = [record(T0 + 1), same, same, same, record(T0 + 9)]
    assert list(iter_msglist(Pages(records, "last"), T0, T0 + DAY, 2)) == records


def test_next_mode_residual_ambiguity_is_as_documented() -> None:
    # Identical neighbours across the first page boundary, before "next" is proven:
    # the second is taken for the repeat that "last" mode would send.
    same = record(T0 + 5, "[image]")
    records = [record(T0 + 1), same, same, record(T0 + 9)]
    assert list(iter_msglist(Pages(records, "next"), T0, T0 + DAY, 2)) == [
        records[0], same, records[3]]
    # Once a boundary has proven "next" mode, identical neighbours all come out.
    records = [record(T0 + 1), record(T0 + 2), record(T0 + 3), same, same, record(T0 + 9)]
    assert list(iter_msglist(Pages(records, "next"), T0, T0 + DAY, 2)) == records


def test_iteration_is_lazy_one_page_at_a_time() -> None:
    pages = Pages([record(T0 + i) for i in range(100)], "next")
    iterator = iter_msglist(pages, T0, T0 + DAY, 10)
    assert pages.calls == []
    next(iterator)
    assert len(pages.calls) == 1


def test_a_full_page_that_does_not_advance_stops() -> None:
    def stuck(start: int, end: int, msgid: int, number: int) -> MsgPage:
        return MsgPage(tuple(record(start + i) for i in range(number)), number, msgid)

    with pytest.raises(TransportError, match="msgid did not advance"):
        list(iter_msglist(stuck, T0, T0 + DAY, 2))


@pytest.mark.parametrize("number", [0, 1, 10001])
def test_number_out_of_range(number: int) -> None:
    with pytest.raises(UsageError, match="number must be 2 to 10000"):
        list(iter_msglist(Pages([], "next"), T0, T0 + DAY, number))


def test_legacy_pages_within_china_days() -> None:
    records = [record(t, f"m{i}") for i, t in enumerate(EDGE_TIMES)]
    pages = Pages(records, "next")
    assert list(iter_legacy(pages.legacy, T0, T0 + 3 * DAY, 3)) == records
    assert list(iter_legacy(pages.legacy, T0 + 1, T0 + DAY + 1, 3)) == [
        r for r in records if T0 + 1 <= r.time < T0 + DAY + 1]
    with pytest.raises(UsageError, match="page_size"):
        list(iter_legacy(pages.legacy, T0, T0 + 1, 0))


def test_unix_time() -> None:
    aware = datetime(2024, 1, 2, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    assert unix_time(aware, "start") == 1704153600
    assert unix_time(1704153600, "start") == 1704153600
    with pytest.raises(UsageError, match="start must be a timezone-aware datetime"):
        unix_time(datetime(2024, 1, 2), "start")
    with pytest.raises(UsageError, match="end must be a datetime or unix seconds"):
        unix_time(True, "end")
