"""Chat-record queries: the current msgid-paged getmsglist and the legacy page-based getrecord.

Pure functions over the record store; the request's values arrive already typed.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from kfsync.emulator.exceptions import EmulatorError
from kfsync.providers.wechat_mp.emulator.models import Record, TimeOrderedRecords

MAX_WINDOW = 86400
MAX_NUMBER = 10000
#: A "seconds" value above this (the year 2286) is taken for milliseconds: 65416.
MAX_SECONDS = 10**10
LEGACY_MAX_PAGESIZE = 50
#: WeChat's days are China Standard Time days.
CST_OFFSET = 8 * 3600


def msg_page(records: Sequence[Record], starttime: int, endtime: int, msgid: int,
             number: int, mode: str) -> tuple[list[Record], int]:
    """The records of one getmsglist page and the `msgid` to answer with.

    Records with time in [starttime, endtime] and id >= msgid, by id, at most `number`.
    In mode "next" the answered msgid is the id to request next, in "last" the id of
    the last record returned; 0 when the page is empty.
    """
    if not (0 <= starttime <= endtime < MAX_SECONDS) or not 1 <= number <= MAX_NUMBER:
        raise EmulatorError(65416)
    if endtime - starttime > MAX_WINDOW:
        raise EmulatorError(65417)
    if _in_time_order(records):  # then msgids rise with time too: a slice, found by bisection
        low = bisect.bisect_left(records, starttime, key=lambda r: r.time)
        high = bisect.bisect_right(records, endtime, lo=low, key=lambda r: r.time)
        first = bisect.bisect_left(records, msgid, lo=low, hi=high, key=lambda r: r.msgid)
        found = list(records[first:min(high, first + number)])
    else:
        found = sorted((r for r in records if starttime <= r.time <= endtime and r.msgid >= msgid),
                       key=lambda r: r.msgid)[:number]
    if not found:
        return [], 0
    last = found[-1].msgid
    return found, last + 1 if mode == "next" else last


def _in_time_order(records: Sequence[Record]) -> bool:
    return isinstance(records, TimeOrderedRecords) and records.in_time_order


def legacy_page(records: Sequence[Record], starttime: int, endtime: int, pageindex: int,
                pagesize: int, openid: str | None) -> list[Record]:
    """One page of the legacy getrecord: start and end on the same (Beijing) day.

    61500 when the times are not on one day or out of order; 61451 when pageindex < 1
    or pagesize is not 1 to 50.
    """
    same_day = (starttime + CST_OFFSET) // 86400 == (endtime + CST_OFFSET) // 86400
    if not (0 <= starttime <= endtime < MAX_SECONDS) or not same_day:
        raise EmulatorError(61500)
    if pageindex < 1 or not 1 <= pagesize <= LEGACY_MAX_PAGESIZE:
        raise EmulatorError(61451)
    found = sorted((r for r in records if starttime <= r.time <= endtime
                    and (openid is None or r.openid == openid)),
                   key=lambda r: (r.time, r.msgid))
    first = (pageindex - 1) * pagesize
    return found[first:first + pagesize]
