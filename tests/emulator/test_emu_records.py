"""Chat records: getmsglist (msgid paging, both msgid modes, errors) and legacy getrecord."""

from __future__ import annotations

import random
from typing import Any

import pytest

from kfsync.emulator import Emulator
from kfsync.providers.wechat_mp.emulator.models import Record, TimeOrderedRecords
from kfsync.providers.wechat_mp.emulator.records import _in_time_order, msg_page
from tests.helpers.emu_wire import Wx, kf

MSGLIST = "/customservice/msgrecord/getmsglist"
RECORD = "/customservice/msgrecord/getrecord"
DAY = 1_699_891_200  # midnight, China Standard Time, 2023-11-15


def records(count: int, start: int = DAY, step: int = 60) -> list[dict[str, Any]]:
    """Seed records listed newest first, to show that msgids follow time, not list order."""
    return [{"openid": f"oUser{i % 3}", "opercode": 2002 + i % 2, "text": f"message {i}",
             "time": start + i * step, "worker": kf("alice")} for i in reversed(range(count))]


@pytest.fixture
def wx(emulator: Emulator) -> Wx:
    emulator.admin.seed(records=records(25))
    return Wx(emulator.base_url)


def page(wx: Wx, msgid: int, number: int, start: int = DAY,
         end: int = DAY + 86400) -> dict[str, Any]:
    return wx.post(MSGLIST, {"starttime": start, "endtime": end, "msgid": msgid,
                             "number": number})


def test_first_page_in_time_order(wx: Wx) -> None:
    answer = page(wx, 1, 2)
    assert answer == {"recordlist": [
        {"openid": "oUser0", "opercode": 2002, "text": "message 0", "time": DAY,
         "worker": kf("alice")},
        {"openid": "oUser1", "opercode": 2003, "text": "message 1", "time": DAY + 60,
         "worker": kf("alice")}], "number": 2, "msgid": 3}


def test_paging_with_next_mode_reads_everything_once(wx: Wx) -> None:
    seen: list[str] = []
    msgid = 1
    while True:
        answer = page(wx, msgid, 10)
        seen += [r["text"] for r in answer["recordlist"]]
        if answer["number"] < 10:
            break
        msgid = answer["msgid"]
    assert seen == [f"message {i}" for i in range(25)]


def test_last_mode_answers_the_id_of_the_last_record() -> None:
    with Emulator(msgid_mode="last") as emu:
        emu.admin.seed(records=records(5))
        wx = Wx(emu.base_url)
        first = page(wx, 1, 2)
        assert (first["number"], first["msgid"]) == (2, 2)
        again = page(wx, first["msgid"], 2)
        assert [r["text"] for r in again["recordlist"]] == ["message 1", "message 2"]


def test_time_window_filters(wx: Wx) -> None:
    answer = page(wx, 1, 100, DAY + 60, DAY + 180)
    assert [r["time"] for r in answer["recordlist"]] == [DAY + 60, DAY + 120, DAY + 180]
    assert answer["msgid"] == 5


def test_empty_result(wx: Wx) -> None:
    assert page(wx, 1000, 10) == {"recordlist": [], "number": 0, "msgid": 0}
    assert page(wx, 1, 10, DAY - 7200, DAY - 1) == {"recordlist": [], "number": 0, "msgid": 0}


@pytest.mark.parametrize("body", [
    {"starttime": DAY * 1000, "endtime": (DAY + 60) * 1000, "msgid": 1, "number": 10},
    {"starttime": DAY + 10, "endtime": DAY, "msgid": 1, "number": 10},
    {"starttime": DAY, "endtime": DAY + 10, "msgid": 1, "number": 0},
    {"starttime": DAY, "endtime": DAY + 10, "msgid": 1, "number": 10001},
    {"starttime": str(DAY), "endtime": DAY + 10, "msgid": 1, "number": 10},
    {"starttime": DAY, "endtime": DAY + 10, "number": 10},
    {"starttime": DAY, "endtime": DAY + 10, "msgid": True, "number": 10},
])
def test_invalid_parameters_give_65416(wx: Wx, body: dict[str, Any]) -> None:
    assert wx.post(MSGLIST, body) == {"errcode": 65416, "errmsg": "param invalid, please check"}


def test_window_longer_than_a_day_gives_65417(wx: Wx) -> None:
    assert page(wx, 1, 10, DAY, DAY + 86401)["errcode"] == 65417
    assert "recordlist" in page(wx, 1, 10, DAY, DAY + 86400)


def legacy(wx: Wx, pageindex: int, pagesize: int, **extra: Any) -> dict[str, Any]:
    return wx.post(RECORD, {"starttime": DAY, "endtime": DAY + 86399, "pageindex": pageindex,
                            "pagesize": pagesize, **extra})


def test_legacy_getrecord_pages_and_filters(wx: Wx) -> None:
    first = legacy(wx, 1, 10)
    assert set(first) == {"recordlist"}
    assert [r["text"] for r in first["recordlist"]] == [f"message {i}" for i in range(10)]
    assert len(legacy(wx, 3, 10)["recordlist"]) == 5
    assert legacy(wx, 4, 10) == {"recordlist": []}
    mine = legacy(wx, 1, 50, openid="oUser1")["recordlist"]
    assert {r["openid"] for r in mine} == {"oUser1"}
    assert len(mine) == 8


def test_legacy_getrecord_errors(wx: Wx) -> None:
    assert legacy(wx, 1, 51) == {"errcode": 61451, "errmsg": "invalid parameter"}
    assert legacy(wx, 0, 10)["errcode"] == 61451
    assert legacy(wx, 1, 0)["errcode"] == 61451
    assert legacy(wx, 1, 10, openid=5)["errcode"] == 40003
    two_days = {"starttime": DAY, "endtime": DAY + 86400, "pageindex": 1, "pagesize": 10}
    assert wx.post(RECORD, two_days) == {"errcode": 61500, "errmsg": "date format error"}
    assert wx.post(RECORD, {**two_days, "endtime": DAY - 1})["errcode"] == 61500
    assert wx.post(RECORD, {**two_days, "starttime": "today"})["errcode"] == 61500


@pytest.mark.parametrize("mode", ["next", "last"])
def test_records_in_time_order_are_paged_by_bisection_as_by_a_scan(mode: str) -> None:
    """The bisection kept for records seeded in time order answers what the full scan does."""
    rng = random.Random(7)
    times = sorted(rng.randrange(1000, 5000) for _ in range(400))
    ordered = TimeOrderedRecords()
    for msgid, moment in enumerate(times, start=1):
        ordered.append(Record(msgid, "o", 2002, "t", moment, "w@shop_cs"))
    assert _in_time_order(ordered)
    scanned = list(ordered)
    for _ in range(300):
        start = rng.randrange(900, 5100)
        end = start + rng.randrange(0, 800)
        msgid, number = rng.randrange(1, 420), rng.randrange(1, 60)
        assert msg_page(ordered, start, end, msgid, number, mode) == msg_page(
            scanned, start, end, msgid, number, mode)
    ordered.append(Record(401, "o", 2002, "t", 10, "w@shop_cs"))  # back in time: scanned again
    assert not _in_time_order(ordered)
    assert msg_page(ordered, 0, 20, 1, 5, mode) == ([ordered[-1]], 402 if mode == "next" else 401)
