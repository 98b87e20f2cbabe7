"""`kfsync records`: export chat records over any time range, as JSON lines or CSV.

Records stream from the client's iterators (windows of at most 24 h, paged by
msgid, or the legacy page-based getrecord) straight to the output, a page at a
time: memory stays bounded whatever the range.  getmsglist windows are fetched
`WINDOWS_AT_ONCE` at a time, each a page ahead, and written in time order.  `-o FILE` is written to a
temporary file beside it (mode 0600: chat records are personal data) and
renamed into place only once the export is complete.  CSV cells that a
spreadsheet would run as a formula (customer text such as `=HYPERLINK(…)`)
get a leading `'`, unless `--raw`.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import itertools
import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from json.encoder import encode_basestring
from pathlib import Path
from typing import TextIO

import click

from kfsync.commands._globals import note
from kfsync.commands._progress import shown as progress_shown
from kfsync.errors import ExitCode, UsageError
from kfsync.files import check_regular_or_new
from kfsync.providers.wechat_mp.client.paging import EARLIEST, WINDOWS_AT_ONCE
from kfsync.providers.wechat_mp.client.results import MsgRecord
from kfsync.textsafe import json_escapes
from kfsync.timefmt import display_zone, human, machine, zone_name

CSV_COLUMNS = ("time", "unix_time", "openid", "opercode", "worker", "text")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: What a cell starts with when a spreadsheet would run it (see `inert_cell`).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")

#: Writes a page of records.
Writer = Callable[[Sequence[MsgRecord]], None]
#: Records of the legacy endpoint are gathered this many at a time.
LEGACY_BATCH = 500
#: Lines are written this many at a time: a page of 10,000 at once would be a text of megabytes.
WRITE_BATCH = 1000


# --------------------------------------------------------------------------- the range


def _parse_moment(value: str, zone: dt.tzinfo, option: str, *, end: bool) -> int:
    """Unix seconds for a `--since`/`--until` value.

    A date is the start of that day in `zone`, or for `--until` (`end`) the start of
    the next day, so that `--until 2026-11-03` includes all of the 3rd.  A datetime
    without an offset is in `zone`.  Ranges are half-open, so times round up to the
    next whole second.
    """
    text = value.strip()
    if _DATE.fullmatch(text):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError as exc:
            raise UsageError(f"{option}: {text!r} is not a date: {exc}") from None
        if end:
            day += dt.timedelta(days=1)
        moment = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    else:
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise UsageError(
                f"{option}: expected a date (2026-11-01) or an ISO 8601 datetime "
                f"(2026-11-01T08:30, optionally with an offset such as +08:00), got {value!r}"
            ) from None
        if moment.utcoffset() is None:
            moment = moment.replace(tzinfo=zone)
    return math.ceil(moment.timestamp())


def parse_moment(value: str, zone: dt.tzinfo, option: str, *, end: bool) -> int:
    """`_parse_moment`, with dates at the ends of the calendar refused in one line."""
    try:
        return _parse_moment(value, zone, option, end=end)
    except (OverflowError, ValueError):
        raise UsageError(f"{option} {value!r} is outside the dates WeChat can answer: its chat "
                         "records start after 1970-01-01 and end now") from None


def shown(timestamp: int, zone: dt.tzinfo) -> str:
    """`2026-11-01 00:00+08:00` in `zone` (the time rule's human form)."""
    return human(timestamp, zone)


# --------------------------------------------------------------------------- writers


def jsonl_writer(stream: TextIO, zone: dt.tzinfo) -> Writer:
    """One JSON object a line: the record's wire fields and `time_iso`.

    Each line is `json.dumps({**record.to_dict(), "time_iso": ...}, ensure_ascii=False)`,
    built from its parts: the strings by the same encoder json.dumps uses, the
    numbers as json writes them (the `jsonl_line` test holds the two together);
    lone surrogates are then written as escapes (`json_escapes`).
    """

    def write(records: Sequence[MsgRecord]) -> None:
        for start in range(0, len(records), WRITE_BATCH):
            batch = records[start:start + WRITE_BATCH]
            lines = "".join([jsonl_line(record, _iso(record.time, zone)) for record in batch])
            stream.write(json_escapes(lines))

    return write


def jsonl_line(record: MsgRecord, time_iso: str) -> str:
    return (f'{{"openid": {encode_basestring(record.openid)}, "opercode": {record.opercode:d}, '
            f'"text": {encode_basestring(record.text)}, "time": {record.time:d}, '
            f'"worker": {encode_basestring(record.worker)}, '
            f'"time_iso": {encode_basestring(time_iso)}}}\n')


def inert_cell(text: str) -> str:
    """A cell no spreadsheet runs as a formula: a leading `'` when it starts like one.

    OWASP's rule for CSV injection: `=`, `+`, `-`, `@`, a tab or a carriage
    return first (after any blanks), or their full-width forms, which some
    spreadsheets read as the same.
    """
    return "'" + text if text.lstrip(" ").startswith(_FORMULA_STARTS) else text


def csv_writer(stream: TextIO, zone: dt.tzinfo, *, raw: bool = False) -> Writer:
    """A header line, then one row a record (`CSV_COLUMNS`).

    Customer text, openids and workers are made inert for spreadsheets
    (`inert_cell`) unless `raw`, which keeps every cell as sent.
    """
    rows = csv.writer(stream, lineterminator="\n")
    # With "\n" lines the csv module leaves a lone "\r" unquoted, which readers take for the
    # end of the row: a row holding one has every text cell quoted.
    quoted = csv.writer(stream, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    rows.writerow(CSV_COLUMNS)
    cell = (lambda text: text) if raw else inert_cell

    def write(records: Sequence[MsgRecord]) -> None:
        for record in records:
            texts = (cell(record.openid), cell(record.worker), cell(record.text))
            writer = quoted if any("\r" in text for text in texts) else rows
            writer.writerow((_iso(record.time, zone), record.time, texts[0], record.opercode,
                             texts[1], texts[2]))

    return write


WRITERS: dict[str, Callable[[TextIO, dt.tzinfo], Writer]] = {
    "jsonl": jsonl_writer,
    "csv": csv_writer,
}


def _iso(timestamp: int, zone: dt.tzinfo) -> str:
    """`machine(timestamp, zone)` (its isoformat), a minute's worth made at once.

    Exports format one time a record, and records come in time order: the text of
    a minute is made once, and each second of it filled in, unless the zone's
    offset changes within that minute or is not a whole number of minutes.
    """
    minute, second = divmod(timestamp, 60)
    found = _MINUTES.get((minute, zone))
    if found is None:
        first = dt.datetime.fromtimestamp(minute * 60, zone)
        offset = first.utcoffset()
        if (offset is None or offset.total_seconds() % 60  # local mean time: seconds too
                or offset != dt.datetime.fromtimestamp(minute * 60 + 59, zone).utcoffset()):
            return machine(timestamp, zone)
        text = first.isoformat()
        if len(_MINUTES) >= 1024:
            _MINUTES.clear()
        found = _MINUTES[(minute, zone)] = (text[:17], text[19:])  # "YYYY-MM-DDTHH:MM:", offset
    return f"{found[0]}{second:02d}{found[1]}"


#: (unix minute, zone) -> the text of that minute before and after its seconds.
_MINUTES: dict[tuple[int, dt.tzinfo], tuple[str, str]] = {}


def _batches(records: Iterable[MsgRecord], size: int) -> Iterator[tuple[MsgRecord, ...]]:
    iterator = iter(records)
    while batch := tuple(itertools.islice(iterator, size)):
        yield batch


def _compact_heap() -> None:
    """With glibc, give large blocks back to the system at once, and keep one heap for all threads.

    By default glibc raises its threshold for giving blocks back each time a large one
    is freed, and gives each thread a heap of its own: with pages of records decoded
    by four threads, an export held about 90 MiB where 60 suffice (bench/RESULTS.md).
    Elsewhere (another C library, no ctypes) nothing changes.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (ImportError, OSError, AttributeError):
        return
    m_mmap_threshold, m_arena_max = -3, -8  # from glibc's malloc.h
    mallopt(m_mmap_threshold, 128 * 1024)
    mallopt(m_arena_max, 1)


@contextlib.contextmanager
def opened(path: Path | None) -> Iterator[TextIO]:
    """stdout, or a temporary file beside `path` renamed to it when the block succeeds.

    `path` must be a regular file or a new path, checked before and again just
    before the rename: a FIFO, a device or a link stays as it was (see
    `kfsync.files.check_regular_or_new`).
    """
    if path is None:
        try:
            yield sys.stdout
            sys.stdout.flush()
        except BrokenPipeError:
            _silence_stdout()
            raise UsageError("the output was closed (broken pipe) before the export ended") from None
        return
    try:
        check_regular_or_new(path)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            yield stream
        check_regular_or_new(path)
        os.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that Python's exit-time flush does not fail again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


# --------------------------------------------------------------------------- command


@click.command("records")
@click.option("--since", required=True, metavar="DATE|DATETIME",
              help="Start: a date (its first second) or an ISO 8601 datetime.")
@click.option("--until", metavar="DATE|DATETIME",
              help="End, excluded: a date means up to the end of that day.  [default: now]")
@click.option("--openid", help="Only this customer's records.")
@click.option("--format", "fmt", type=click.Choice(sorted(WRITERS)), default="jsonl",
              show_default=True, help="JSON lines (wire fields and time_iso) or CSV.")
@click.option("-o", "--out", "--output", "output",
              type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write to FILE, complete or not at all (default: stdout).")
@click.option("--legacy", is_flag=True, help="Use the legacy page-based getrecord endpoint.")
@click.option("--raw", is_flag=True,
              help="CSV: keep cells that start like a formula (=, +, -, @) as sent, "
                   "instead of prefixing them with '.")
def command(since: str, until: str | None, openid: str | None, fmt: str, output: Path | None,
            legacy: bool, raw: bool) -> ExitCode:
    """Export the chat records between --since and --until, in time order, streamed as they come.

    Dates, and datetimes without an offset, are in the zone of --tz; so are the
    times written (with their offset).
    """
    from kfsync.providers.wechat_mp.client import KfClient

    zone, tz_name = display_zone(), zone_name()
    now = math.ceil(time.time())
    start = parse_moment(since, zone, "--since", end=False)
    end = now if until is None else parse_moment(until, zone, "--until", end=True)
    check_answerable(since, until, start, end, now)
    if output is not None:  # refused before any call: never a FIFO, a device or a link
        try:
            check_regular_or_new(output)
        except OSError as exc:
            raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    end = min(end, now)  # WeChat has no records from the future: no calls for them
    if start >= end:
        raise UsageError(f"--since ({shown(start, zone)}) must be before --until "
                         f"({shown(end, zone)}) in {tz_name}")
    _compact_heap()
    count = 0
    with (KfClient() as client, opened(output) as stream,
          progress_shown("Exporting chat records", "days", every=1,
                         draw=output is not None or not sys.stdout.isatty()) as advance):
        pages: Iterable[Sequence[MsgRecord]]
        if legacy:
            pages = _batches(client.iter_legacy_records(start, end, openid=openid,
                                                        progress=advance), LEGACY_BATCH)
        else:
            client.preconnect(WINDOWS_AT_ONCE, wait=True)  # one for each window in flight
            pages = client.iter_record_pages(start, end, progress=advance,
                                             windows_at_once=WINDOWS_AT_ONCE)
            if openid is not None:  # getmsglist has no openid parameter: filter here.
                pages = ([r for r in page if r.openid == openid] for page in pages)
        write = csv_writer(stream, zone, raw=raw) if fmt == "csv" else WRITERS[fmt](stream, zone)
        for page in pages:
            if page:
                write(page)
                count += len(page)
    noun = "record" if count == 1 else "records"
    note(f"Exported {count} {noun} from {shown(start, zone)} to {shown(end, zone)} ({tz_name})")
    return ExitCode.OK


def check_answerable(since: str, until: str | None, start: int, end: int, now: int) -> None:
    """Refuse, before any call, a range WeChat cannot answer, saying why.

    WeChat counts time in unix seconds, from 1970-01-01 00:00 UTC, and has no
    records of the future.  (An --until in the future is cut to now instead.)
    """
    for option, value, moment in (("--since", since, start), ("--until", until, end)):
        if moment < EARLIEST:
            raise UsageError(f"{option} {value!r} is before 1970-01-01 00:00 UTC: WeChat counts "
                             "time in unix seconds from then, so it has no records before it")
    if start >= now:
        raise UsageError(f"--since {since!r} is in the future: WeChat has no records after now")
