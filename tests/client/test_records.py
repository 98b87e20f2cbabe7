"""Chat records from the emulator: one page, every record over days in both msgid modes, legacy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET, Emulator
from kfsync.errors import WeChatError
from kfsync.providers.wechat_mp.client import KfClient
from kfsync.providers.wechat_mp.client.paging import CHINA_OFFSET, DAY
from kfsync.providers.wechat_mp.client.results import MsgRecord
from tests.helpers.client import NO_WAIT, calls_to, kf

CST = timezone(timedelta(hours=8))
START = datetime(2024, 3, 1, tzinfo=CST)
T0 = int(START.timestamp())
assert (T0 + CHINA_OFFSET) % DAY == 0


def seeded_records(count: int, days: int) -> list[dict[str, object]]:
    """`count` records spread over `days`, a few on each day's first and last second."""
    step = days * DAY // count
    times = [T0 + i * step for i in range(count)]
    times += [T0 + d * DAY + edge for d in range(1, days) for edge in (-1, -1, 0)]
    return [{"openid": f"customer_{i % 7}", "opercode": 2002 + i % 2, "text": f"message {i}",
             "time": t, "worker": kf("anna")} for i, t in enumerate(sorted(times))]


def as_records(seeded: list[dict[str, object]]) -> list[MsgRecord]:
    return [MsgRecord.from_dict(item) for item in seeded]


@pytest.fixture(scope="module", params=["next", "last"])
def paged_emulator(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    with Emulator(msgid_mode=request.param) as emu:
        yield emu


def test_every_record_exactly_once_over_days(paged_emulator: Emulator) -> None:
    paged_emulator.admin.reset()
    seeded = seeded_records(4000, days=4)
    paged_emulator.admin.seed(records=seeded)
    with KfClient(appid=DEFAULT_APPID, secret=DEFAULT_SECRET, api_base=paged_emulator.base_url,
                  retry=NO_WAIT) as client:
        got = list(client.iter_records(START, START + timedelta(days=4), number=700))
        # the range is half-open, and ints work as well as datetimes
        head = list(client.iter_records(T0, T0 + DAY, number=10000))
    assert got == as_records(seeded)
    assert head == [r for r in as_records(seeded) if r.time < T0 + DAY]
    bodies = [e["body"] for e in calls_to(paged_emulator, "/customservice/msgrecord/getmsglist")]
    assert all(b["endtime"] - b["starttime"] <= DAY for b in bodies)


def test_one_page(emulator: Emulator, client: KfClient) -> None:
    emulator.admin.seed(records=seeded_records(5, days=1))
    page = client.get_msg_page(T0, T0 + DAY, msgid=1, number=3)
    assert (len(page.records), page.number) == (3, 3)
    assert page.msgid > 1
    empty = client.get_msg_page(T0 - DAY, T0 - 1)
    assert (empty.records, empty.number, empty.msgid) == ((), 0, 0)


@pytest.mark.parametrize(("start", "end", "errcode"), [
    (T0, T0 + DAY + 1, 65417),
    (T0 * 1000, T0 * 1000 + 1, 65416),
])
def test_page_errors(client: KfClient, start: int, end: int, errcode: int) -> None:
    with pytest.raises(WeChatError) as caught:
        client.get_msg_page(start, end)
    assert caught.value.errcode == errcode
    assert caught.value.endpoint == "/customservice/msgrecord/getmsglist"


def test_legacy_records(emulator: Emulator, client: KfClient) -> None:
    seeded = seeded_records(120, days=3)
    emulator.admin.seed(records=seeded)
    records = as_records(seeded)
    assert list(client.iter_legacy_records(START, START + timedelta(days=3), page_size=10)) \
        == records
    first = client.get_legacy_records(T0, T0 + DAY - 1, page_index=2, page_size=10,
                                      openid="customer_3")
    assert first == tuple(r for r in records if r.openid == "customer_3"
                          and r.time < T0 + DAY)[10:20]
    assert list(client.iter_legacy_records(T0, T0 + 2 * DAY, openid="customer_3")) == [
        r for r in records if r.openid == "customer_3" and r.time < T0 + 2 * DAY]
    with pytest.raises(WeChatError, match="61500"):
        client.get_legacy_records(T0, T0 + DAY)  # not on one day
