"""`kfsync records`: every record in the range exactly once, streamed, in JSON lines or CSV."""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import pytest

from kfsync.commands import records as records_command
from kfsync.commands.records import CSV_COLUMNS, WRITERS, Writer, parse_moment
from kfsync.emulator import Emulator
from kfsync.errors import UsageError
from kfsync.providers.wechat_mp.client.results import MsgRecord
from kfsync.textsafe import json_escapes

Run = Callable[..., tuple[int, str, str]]
Fails = Callable[..., str]
Connect = Callable[[Emulator], Emulator]
Key = tuple[str, int, str, int, str]  # openid, opercode, text, time, worker

CST = timezone(timedelta(hours=8))
DAY = 86400
#: 2026-11-01 00:00 China Standard Time
T0 = int(datetime(2026, 11, 1, tzinfo=CST).timestamp())
BIG = 30_000


def record(i: int, when: int) -> dict[str, Any]:
    """A unique record, with text that CSV must quote now and then."""
    texts = ('say "hi", 好的', "two\nlines", "[image]", "客服😀 ok")
    return {"openid": f"oUser_{i % 37}", "opercode": 2002 + i % 2, "text": f"{i} {texts[i % 4]}",
            "time": when, "worker": ("alice@shop_cs", "bob@shop_cs")[i % 2]}


def key(item: dict[str, Any]) -> Key:
    return (item["openid"], int(item["opercode"]), item["text"], int(item["time"]), item["worker"])


def big_set() -> tuple[list[dict[str, Any]], Counter[Key]]:
    """30,000 records over the 4 days from T0 (18,000 of them on day 2, so that a window
    needs two pages), records on every window boundary, and some just outside the range."""
    inside = []
    for i in range(BIG - 4):
        day2 = T0 + DAY + i * DAY // 18_000
        others = T0 + (0, 2, 3)[i % 3] * DAY + i * 7919 % DAY  # days 1, 3 and 4
        inside.append(record(i, day2 if i < 18_000 else others))
    inside += [record(i, T0 + (i - (BIG - 4)) * DAY) for i in range(BIG - 4, BIG)]  # on boundaries
    outside = [record(BIG + 1, T0 - 1), record(BIG + 2, T0 + 4 * DAY)]
    return inside + outside, Counter(key(item) for item in inside)


@pytest.fixture(scope="module", params=["next", "last"])
def big(request: pytest.FixtureRequest) -> Iterator[tuple[Emulator, Counter[Key]]]:
    """An emulator of each msgid mode, seeded in three interleaved batches (so msgid order is
    not time order), and the multiset of records expected from 2026-11-01 to 2026-11-04."""
    everything, expected = big_set()
    with Emulator(msgid_mode=request.param) as emu:
        for batch in range(3):
            emu.admin.seed(records=everything[batch::3])
        yield emu, expected


def test_jsonl_exports_every_record_exactly_once(big: tuple[Emulator, Counter[Key]],
                                                 ops_connect: Connect, ops_run: Run) -> None:
    emu, expected = big
    ops_connect(emu)
    code, out, err = ops_run("records", "--since", "2026-11-01", "--until", "2026-11-04")
    assert code == 0, err
    items = [json.loads(line) for line in out.splitlines()]
    assert Counter(key(item) for item in items) == expected
    assert err == (f"Exported {BIG} records from 2026-11-01 00:00+08:00 to 2026-11-05 00:00+08:00 "
                   "(Asia/Shanghai)\n")
    for item in items[:50]:
        assert item["time_iso"] == datetime.fromtimestamp(item["time"], CST).isoformat()
    assert set(items[0]) == {"openid", "opercode", "text", "time", "worker", "time_iso"}
    asked = [r["body"] for r in emu.admin.requests()
             if r["path"] == "/customservice/msgrecord/getmsglist"]
    assert all(0 < b["endtime"] - b["starttime"] <= DAY for b in asked)
    assert any(b["msgid"] > 1 for b in asked)  # day 2 took two pages


def test_csv_to_a_file_exports_every_record_exactly_once(
        big: tuple[Emulator, Counter[Key]], ops_connect: Connect, ops_run: Run,
        tmp_path: Path) -> None:
    emu, expected = big
    ops_connect(emu)
    out_file = tmp_path / "records.csv"
    code, out, err = ops_run("records", "--since", "2026-11-01T00:00", "--until",
                             "2026-11-04T16:00:00Z", "--format", "csv", "-o", str(out_file))
    assert (code, out) == (0, ""), err
    assert err.startswith(f"Exported {BIG} records from 2026-11-01 00:00+08:00 to 2026-11-05 00:00+08:00")
    assert os.listdir(tmp_path) == ["records.csv"]  # no temporary file left behind
    with out_file.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert Counter((r["openid"], int(r["opercode"]), r["text"], int(r["unix_time"]), r["worker"])
                   for r in rows) == expected
    assert all(r["time"] == datetime.fromtimestamp(int(r["unix_time"]), CST).isoformat()
               for r in rows[:50])


def small_set(emu: Emulator, count: int = 1200, days: int = 3) -> list[dict[str, Any]]:
    items = [record(i, T0 + i * days * DAY // count) for i in range(count)]
    emu.admin.seed(records=items)
    return items


def test_legacy_pages_through_every_record(ops_env: Emulator, ops_run: Run) -> None:
    items = small_set(ops_env)
    code, out, err = ops_run("records", "--since", "2026-11-01", "--until", "2026-11-03",
                             "--legacy")
    assert code == 0, err
    assert Counter(key(json.loads(line)) for line in out.splitlines()) == Counter(
        key(item) for item in items)
    assert err.startswith("Exported 1200 records")


def test_openid_filters_both_ways(ops_env: Emulator, ops_run: Run) -> None:
    items = small_set(ops_env, count=370)
    wanted = Counter(key(item) for item in items if item["openid"] == "oUser_5")
    assert len(wanted) == 10
    for extra in ((), ("--legacy",)):
        code, out, err = ops_run("records", "--since", "2026-11-01", "--until", "2026-11-03",
                                 "--openid", "oUser_5", *extra)
        assert code == 0, err
        assert Counter(key(json.loads(line)) for line in out.splitlines()) == wanted
        assert err.startswith("Exported 10 records")


def test_legacy_passes_the_openid_to_wechat(ops_env: Emulator, ops_run: Run) -> None:
    small_set(ops_env, count=10, days=1)
    ops_run("records", "--since", "2026-11-01", "--until", "2026-11-01", "--openid", "oUser_1",
            "--legacy")
    bodies = [r["body"] for r in ops_env.admin.requests()
              if r["path"] == "/customservice/msgrecord/getrecord"]
    assert bodies
    assert all(b["openid"] == "oUser_1" for b in bodies)


def test_another_time_zone(ops_env: Emulator, ops_run: Run) -> None:
    small_set(ops_env, count=48, days=2)  # one record an hour from 2026-11-01 00:00 CST
    code, out, err = ops_run("records", "--since", "2026-11-01", "--until", "2026-11-01",
                             "--tz", "UTC")
    # 2026-11-01 in UTC is 08:00 to 08:00 the next day in CST: 24 records
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 24
    assert json.loads(lines[0])["time_iso"] == "2026-11-01T00:00:00+00:00"
    assert err == "Exported 24 records from 2026-11-01 00:00+00:00 to 2026-11-02 00:00+00:00 (UTC)\n"


def test_one_record_and_seconds_in_the_summary(ops_env: Emulator, ops_run: Run) -> None:
    small_set(ops_env, count=48, days=2)
    code, _, err = ops_run("records", "--since", "2026-11-01T00:59:30+08:00", "--until",
                           "2026-11-01T01:00:01+08:00")
    assert code == 0
    assert err == ("Exported 1 record from 2026-11-01 00:59:30+08:00 to 2026-11-01 01:00:01+08:00 "
                   "(Asia/Shanghai)\n")


def test_until_defaults_to_now(ops_env: Emulator, ops_run: Run) -> None:
    now = int(time.time())
    ops_env.admin.seed(records=[record(1, now - 3600), record(2, now - 7200)])
    since = datetime.fromtimestamp(now - 5400, CST).isoformat()
    code, out, err = ops_run("records", "--since", since)
    assert code == 0, err
    assert [json.loads(line)["time"] for line in out.splitlines()] == [now - 3600]


def test_nothing_in_the_range(ops_env: Emulator, ops_run: Run) -> None:
    assert ops_run("records", "--since", "2026-11-01", "--format", "csv", "--until",
                   "2026-11-01") == (0, ",".join(CSV_COLUMNS) + "\n",
                                     "Exported 0 records from 2026-11-01 00:00+08:00 to "
                                     "2026-11-02 00:00+08:00 (Asia/Shanghai)\n")


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("value", "end", "expected"),
    [
        ("2026-11-01", False, T0),
        ("2026-11-01", True, T0 + DAY),  # --until a date: the end of that day
        ("2026-11-01T08:30", False, T0 + 8 * 3600 + 1800),  # no offset: in --tz
        ("2026-11-01 08:30:15", True, T0 + 8 * 3600 + 1800 + 15),  # a datetime is not widened
        ("2026-11-01T00:00:00+00:00", False, T0 + 8 * 3600),
        ("2026-11-01T00:00:00Z", False, T0 + 8 * 3600),
        ("2026-11-01T00:00:00.2+08:00", False, T0 + 1),  # half-open: round up
    ],
)
def test_parse_moment(value: str, end: bool, expected: int) -> None:
    zone = timezone(timedelta(hours=8))
    assert parse_moment(value, zone, "--since", end=end) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-02-30", "--since: '2026-02-30' is not a date: day is out of range for month"),
        ("yesterday", "--since: expected a date (2026-11-01) or an ISO 8601 datetime"),
        ("", "--since: expected a date"),
    ],
)
def test_parse_moment_refuses(value: str, message: str) -> None:
    with pytest.raises(UsageError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        parse_moment(value, timezone.utc, "--since", end=False)


# --------------------------------------------------------------------------- errors


def test_since_after_until(ops_env: Emulator, ops_fails: Fails) -> None:
    assert ops_fails("records", "--since", "2026-11-04", "--until", "2026-11-01") == (
        "--since (2026-11-04 00:00+08:00) must be before --until (2026-11-02 00:00+08:00) in "
        "Asia/Shanghai")


def test_a_bad_date_is_one_line(ops_env: Emulator, ops_fails: Fails) -> None:
    assert ops_fails("records", "--since", "1/11/2026").startswith("--since: expected a date")


def test_an_unknown_time_zone(ops_env: Emulator, ops_fails: Fails) -> None:
    assert ops_fails("records", "--since", "2026-11-01", "--tz", "Mars/Olympus").startswith(
        "unknown time zone 'Mars/Olympus': use an IANA name")


def test_without_tzdata_shanghai_is_a_fixed_offset(ops_env: Emulator, ops_run: Run,
                                                   ops_fails: Fails,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import zoneinfo

    def missing(name: str) -> zoneinfo.ZoneInfo:
        raise zoneinfo.ZoneInfoNotFoundError(name)

    monkeypatch.setattr(zoneinfo, "ZoneInfo", missing)
    small_set(ops_env, count=48, days=2)
    code, out, err = ops_run("records", "--since", "2026-11-01", "--until", "2026-11-01")
    assert code == 0, err
    assert len(out.splitlines()) == 24
    assert json.loads(out.splitlines()[0])["time_iso"] == "2026-11-01T00:00:00+08:00"
    assert "install the tzdata package" in ops_fails("records", "--since", "2026-11-01", "--tz",
                                                     "Europe/Paris")


def test_missing_credentials(ops_env: Emulator, ops_fails: Fails, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KFSYNC_APPID")
    assert "KFSYNC_APPID" in ops_fails("records", "--since", "2026-11-01", "-o", "r.jsonl")
    assert os.listdir(tmp_path) == []


def test_a_failed_export_leaves_the_old_file_alone(ops_env: Emulator, ops_fails: Fails,
                                                   tmp_path: Path) -> None:
    small_set(ops_env, count=100, days=3)
    target = tmp_path / "r.jsonl"
    target.write_text("old\n", encoding="utf-8")
    ops_env.admin.fault("/customservice/msgrecord/getmsglist", errcode=65416)
    assert "errcode 65416" in ops_fails("records", "--since", "2026-11-01", "--until",
                                        "2026-11-03", "-o", str(target))
    assert target.read_text(encoding="utf-8") == "old\n"
    assert sorted(os.listdir(tmp_path)) == ["r.jsonl"]


def test_a_write_error_midway_removes_the_temporary_file(
        ops_env: Emulator, ops_run: Run, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    small_set(ops_env, count=100, days=3)

    def full_disk(stream: TextIO, zone: Any) -> Writer:
        written: list[Sequence[MsgRecord]] = []

        def write(records: Sequence[MsgRecord]) -> None:
            if len(written) == 1:  # the second page
                raise OSError(28, "No space left on device")
            stream.write("x\n")
            written.append(records)

        return write

    monkeypatch.setitem(WRITERS, "jsonl", full_disk)
    target = tmp_path / "r.jsonl"
    code, _, err = ops_run("records", "--since", "2026-11-01", "-o", str(target))
    assert code == 1
    assert err == f"kfsync: error: cannot write {target}: No space left on device\n"
    assert os.listdir(tmp_path) == []


def test_an_output_folder_that_does_not_exist(ops_env: Emulator, ops_run: Run,
                                              tmp_path: Path) -> None:
    target = tmp_path / "no" / "r.csv"
    code, _, err = ops_run("records", "--since", "2026-11-01", "-o", str(target))
    assert code == 1
    assert err == f"kfsync: error: cannot write {target}: No such file or directory\n"


def test_a_closed_pipe_is_one_line(ops_env: Emulator, ops_run: Run,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    small_set(ops_env, count=10, days=1)

    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr("sys.stdout", ClosedPipe())
    code, _, err = ops_run("records", "--since", "2026-11-01", "--until", "2026-11-01")
    assert code == 1
    assert err == "kfsync: error: the output was closed (broken pipe) before the export ended\n"


# --------------------------------------------------------------------------- the JSON lines


@pytest.mark.parametrize("text", [
    "", "plain", "客服你好", 'quote " and backslash \\', "new\nline\rtab\t", "\x00\x01\x1f\x7f",
    "emoji 😀 and U+2028 \u2028 U+2029 \u2029", "</script>", "\ufeffbom", "a" * 5000,
    "lone \ud800 surrogate \udfff",
])
def test_a_json_line_is_what_json_dumps_writes(text: str) -> None:
    record = MsgRecord(f"o{text[:3]}", 2003, text, 1_790_000_000, f"w{text[-2:]}@shop_cs")
    for zone in (timezone.utc, timezone(timedelta(hours=8)), timezone(timedelta(hours=-3, minutes=-30))):
        iso = datetime.fromtimestamp(record.time, zone).isoformat()
        expected = json.dumps({**record.to_dict(), "time_iso": iso}, ensure_ascii=False) + "\n"
        assert records_command.jsonl_line(record, iso) == expected
        stream = io.StringIO()
        records_command.jsonl_writer(stream, zone)([record, record])
        assert stream.getvalue() == json_escapes(expected) * 2


@pytest.mark.parametrize("zone_name", ["Asia/Shanghai", "America/New_York", "Australia/Lord_Howe",
                                       "Asia/Kathmandu", "Europe/Amsterdam", "UTC"])
def test_times_are_written_as_isoformat_writes_them(zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    # Around daylight saving changes, and long ago, when offsets had seconds (local mean time).
    moments = [0, 59, 60, -2_000_000_000 + 7, 1_710_054_000, 1_730_613_600, 1_743_868_800,
               1_790_000_000]
    for base in moments:
        for step in range(-3700, 3700, 37):
            timestamp = base + step
            if timestamp < 0 and zone_name == "UTC":
                continue
            expected = datetime.fromtimestamp(timestamp, zone).isoformat()
            assert records_command._iso(timestamp, zone) == expected
