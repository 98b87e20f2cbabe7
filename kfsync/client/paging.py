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
from kfsync.client.results import MsgPage, MsgRecord
from kfsync.errors import TransportError, UsageError

DAY = 86400
#: getrecord wants start and end on the same day, in China Standard Time (UTC+8).
CHINA_OFFSET = 8 * 3600
MAX_NUMBER = 10000
#: Windows of getmsglist fetched at once by default: each is one call in flight, so an export
#: makes at most this many calls at a time, like `apply --parallelism` by default.
WINDOWS_AT_ONCE = 4

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


def iter_msglist(fetch: PageFetcher, start: int, end: int, number: int, *,
                 windows_at_once: int = 1) -> Generator[MsgRecord, None, None]:
    """Every record in `[start, end)` exactly once, paging getmsglist by msgid."""
    for page in iter_msglist_pages(fetch, start, end, number, windows_at_once=windows_at_once):
        yield from page


def iter_msglist_pages(fetch: PageFetcher, start: int, end: int, number: int, *,
                       windows_at_once: int = 1) -> Iterator[tuple[MsgRecord, ...]]:
    """The records of `iter_msglist`, a page at a time (empty pages left out).

    Windows are independent, so up to `windows_at_once` of them are fetched at
    once, each a page ahead of the caller (see `prefetch.in_order`); the pages
    still come in time order, and what is kept of them is decided here, in that
    order, exactly as when the windows are fetched one after the other.
    """
    if not 2 <= number <= MAX_NUMBER:
        raise UsageError(f"number must be 2 to {MAX_NUMBER}, got {number}")

    def window(low: int, high: int) -> Callable[[], Iterator[_WindowPage]]:
        return lambda: _window_pages(fetch, low, high, number)

    sources = (window(low, high) for low, high in windows(start, end))
    proven_next = False
    for low, high, records, repeats in prefetch.in_order(sources, windows_at_once):
        if repeats is not None and not proven_next:
            if repeats:
                records = records[1:]
            else:
                proven_next = True
        kept = tuple(record for record in records if low <= record.time < high)
        if kept:
            yield kept


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
                ) -> Iterator[MsgRecord]:
    """Every record in `[start, end)`, one CST day at a time, paging getrecord by index."""
    if page_size < 1:
        raise UsageError(f"page_size must be at least 1, got {page_size}")
    for low, high in windows(start, end, calendar_days=True):
        last_second = min(high, day_end(low) - 1)  # getrecord: both ends on the same day
        index = 1
        while True:
            records = fetch(low, last_second, index)
            yield from (record for record in records if low <= record.time < high)
            if len(records) < page_size:
                break
            index += 1
