"""Walking chat records over any time range: windows of at most a day, then pages.

Pure generators over a page-fetching function, so they are tested without
HTTP and hold one page at a time (constant memory, whatever the range).

Ranges are half-open, `[start, end)` in unix seconds.  Each window is asked
for up to and including its end second (`[a, b]`) and the records are then
filtered to `[a, b)`, so that a record on a boundary comes out exactly once
whether WeChat treats `endtime` as inclusive or exclusive.

getmsglist paging is uncertain (reference §2.15): the returned `msgid` is either
the next id to ask for ("next"), or the id of the last record returned, the
request's `msgid` being inclusive ("last").  We always ask again with the
returned `msgid`.  In "last" mode the next page then starts with the previous
page's last record again; in "next" mode it does not.  So at each page
boundary a first record equal to the previous page's last record is dropped,
until one boundary shows a different record: that proves "next" mode, and from
then on nothing is dropped.  Residual ambiguity: records carry no id, so in
"next" mode, a record identical in every field (openid, opercode, text, time,
worker) to the one before it, that lands on a page boundary before "next" has
been proven, is taken for the repeat and lost.  "last" mode is always exact.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from datetime import datetime

from kfsync.client import prefetch
from kfsync.errors import TransportError, UsageError
from kfsync.progress import Advance, ignore
from kfsync.providers.wechat_mp.client.results import MsgPage, MsgRecord

DAY = 86400
#: getrecord wants start and end on the same day, in China Standard Time (UTC+8).
CHINA_OFFSET = 8 * 3600
MAX_NUMBER = 10000
#: Windows of getmsglist fetched at once by default: each is one call in flight, so an export
#: makes at most this many calls at a time, fewer than `apply --parallelism` by default.
WINDOWS_AT_ONCE = 4
#: WeChat takes unix seconds: none before 1970, and a "seconds" value from here on
#: (the year 2286) is a time in milliseconds, which it refuses (65416).
EARLIEST = 0
LATEST = 10**10

#: (starttime, endtime, msgid, number) -> one getmsglist page
PageFetcher = Callable[[int, int, int, int], MsgPage]
#: (starttime, endtime, pageindex) -> one getrecord page
LegacyFetcher = Callable[[int, int, int], tuple[MsgRecord, ...]]


def unix_time(value: datetime | int, name: str) -> int:
    """Unix seconds from an int or a timezone-aware datetime."""
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise UsageError(f"{name} must be a timezone-aware datetime (or unix seconds)")
        return int(value.timestamp() // 1)
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{name} must be a datetime or unix seconds, got {value!r}")
    return value


def check_range(start: int, end: int) -> None:
    """Refuse, before any call, a range WeChat cannot answer, saying why."""
    if start < EARLIEST:
        raise UsageError(f"start {start} is before 1970-01-01 00:00 UTC: WeChat takes times as "
                         "unix seconds, which cannot be negative")
    if end >= LATEST:
        raise UsageError(f"end {end} is not a time in unix seconds (it is after the year 2286; "
                         "a time in milliseconds?): WeChat takes seconds")
    if start > end:
        raise UsageError(f"start {start} is after end {end}")


def day_count(start: int, end: int, *, calendar_days: bool = False) -> int:
    """How many windows `windows(start, end)` yields, without making them."""
    if start >= end:
        return 0
    if calendar_days:
        return (end - 1 + CHINA_OFFSET) // DAY - (start + CHINA_OFFSET) // DAY + 1
    return -(-(end - start) // DAY)


def day_end(moment: int) -> int:
    """The first second of the next China Standard Time day after `moment`."""
    return ((moment + CHINA_OFFSET) // DAY + 1) * DAY - CHINA_OFFSET


def windows(start: int, end: int, *, calendar_days: bool = False) -> Iterator[tuple[int, int]]:
    """Half-open windows covering `[start, end)`: 24 h long, or cut at CST midnight."""
    low = start
    while low < end:
        high = min(day_end(low) if calendar_days else low + DAY, end)
        yield low, high
        low = high


def iter_msglist(fetch: PageFetcher, start: int, end: int, number: int,
                 progress: Advance = ignore, *,
                 windows_at_once: int = 1) -> Generator[MsgRecord, None, None]:
    """Every record in `[start, end)` exactly once, paging getmsglist by msgid.

    `progress` hears of each window (day) done.
    """
    for page in iter_msglist_pages(fetch, start, end, number, progress,
                                   windows_at_once=windows_at_once):
        yield from page


def iter_msglist_pages(fetch: PageFetcher, start: int, end: int, number: int,
                       progress: Advance = ignore, *,
                       windows_at_once: int = 1) -> Iterator[tuple[MsgRecord, ...]]:
    """The records of `iter_msglist`, a page at a time (empty pages left out).

    Windows are independent, so up to `windows_at_once` of them are fetched at
    once, each a page ahead of the caller (see `prefetch.in_order`); the pages
    still come in time order, and what is kept of them is decided here, in that
    order, exactly as when the windows are fetched one after the other.  A
    window is done, for `progress`, when the next one's first page comes.
    """
    if not 2 <= number <= MAX_NUMBER:
        raise UsageError(f"number must be 2 to {MAX_NUMBER}, got {number}")
    check_range(start, end)
    total = day_count(start, end)
    progress(0, total)

    def window(low: int, high: int) -> Callable[[], Iterator[_WindowPage]]:
        return lambda: _window_pages(fetch, low, high, number)

    sources = (window(low, high) for low, high in windows(start, end))
    proven_next = False
    done = 0
    current: tuple[int, int] | None = None
    for low, high, records, repeats in prefetch.in_order(sources, windows_at_once):
        if current != (low, high):
            if current is not None:
                done += 1
                progress(done, total)
            current = (low, high)
        if repeats is not None and not proven_next:
            if repeats:
                records = records[1:]
            else:
                proven_next = True
        kept = tuple(record for record in records if low <= record.time < high)
        if kept:
            yield kept
    if current is not None:
        progress(done + 1, total)


#: One page of one window: the window, its records, and (from the window's second page on,
#: when it has records) whether its first record is the previous page's last one again.
_WindowPage = tuple[int, int, tuple[MsgRecord, ...], "bool | None"]


def _window_pages(fetch: PageFetcher, low: int, high: int, number: int) -> Iterator[_WindowPage]:
    """The pages of one window `[low, high)`, as they come."""
    msgid = 1
    previous: MsgRecord | None = None
    while True:
        page = fetch(low, high, msgid, number)
        records = page.records
        yield low, high, records, (records[0] == previous if previous is not None and records else None)
        if page.number < number or not page.records:
            return
        if page.msgid <= msgid:
            raise TransportError(
                f"getmsglist returned a full page but msgid did not advance ({msgid} -> "
                f"{page.msgid}); stopping instead of looping",
                endpoint="/customservice/msgrecord/getmsglist")
        previous = page.records[-1]
        msgid = page.msgid


def iter_legacy(fetch: LegacyFetcher, start: int, end: int, page_size: int,
                progress: Advance = ignore) -> Iterator[MsgRecord]:
    """Every record in `[start, end)`, one CST day at a time, paging getrecord by index.

    `progress` hears of each day done.
    """
    if page_size < 1:
        raise UsageError(f"page_size must be at least 1, got {page_size}")
    check_range(start, end)
    total = day_count(start, end, calendar_days=True)
    progress(0, total)
    for done, (low, high) in enumerate(windows(start, end, calendar_days=True), 1):
        last_second = min(high, day_end(low) - 1)  # getrecord: both ends on the same day
        index = 1
        while True:
            records = fetch(low, last_second, index)
            yield from (record for record in records if low <= record.time < high)
            if len(records) < page_size:
                break
            index += 1
        progress(done, total)
