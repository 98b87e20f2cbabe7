"""--strict: %40 in query kf_account, \\uXXXX escapes in JSON bodies, kf_id as a string."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from kfsync.emulator import Emulator
from tests.helpers.emu_wire import OK, Wx, bound, kf

ALICE = kf("alice")
DEL = "/customservice/kfaccount/del"
SESSIONLIST = "/customservice/kfsession/getsessionlist"


@pytest.fixture(scope="module")
def strict_server() -> Iterator[Emulator]:
    with Emulator(strict=True) as emu:
        yield emu


@pytest.fixture
def strict(strict_server: Emulator) -> Wx:
    strict_server.admin.reset()
    strict_server.admin.seed(accounts=[bound("alice")])
    return Wx(strict_server.base_url)


def raw_get(wx: Wx, path: str, query: str) -> dict[str, object]:
    """A GET whose query string is sent exactly as written."""
    body: dict[str, object] = wx.response(
        "GET", f"{path}?access_token={wx.token}&{query}", token=None).json()
    return body


def test_percent_encoded_at_is_refused_in_strict_mode(strict: Wx) -> None:
    assert raw_get(strict, SESSIONLIST, "kf_account=alice%40shop_cs") == {
        "errcode": 61452, "errmsg": "invalid kf_account"}
    assert raw_get(strict, DEL, "kf_account=alice%40shop_cs")["errcode"] == 61452
    assert raw_get(strict, SESSIONLIST, "kf_account=alice@shop_cs") == {"sessionlist": []}
    assert raw_get(strict, DEL, "kf_account=alice@shop_cs") == OK


def test_percent_encoded_at_is_fine_by_default(emulator: Emulator) -> None:
    emulator.admin.seed(accounts=[bound("alice")])
    wx = Wx(emulator.base_url)
    assert raw_get(wx, SESSIONLIST, "kf_account=alice%40shop_cs") == {"sessionlist": []}


def test_unicode_escapes_are_refused_in_strict_mode(strict: Wx) -> None:
    escaped = json.dumps({"kf_account": kf("bob"), "nickname": "客服"}).encode()
    assert b"\\u" in escaped
    answer = strict.post("/customservice/kfaccount/add", data=escaped)
    assert answer["errcode"] == 40033
    assert answer["errmsg"].startswith("invalid charset.")
    raw = json.dumps({"kf_account": kf("bob"), "nickname": "客服"}, ensure_ascii=False).encode()
    assert strict.post("/customservice/kfaccount/add", data=raw) == OK
    backslash = json.dumps({"kf_account": kf("carol"), "nickname": "a\\u0041"}).encode()
    assert strict.post("/customservice/kfaccount/add", data=backslash) == OK


def test_unicode_escapes_are_fine_by_default(emulator: Emulator) -> None:
    wx = Wx(emulator.base_url)
    escaped = json.dumps({"kf_account": kf("bob"), "nickname": "客服"}).encode()
    assert wx.post("/customservice/kfaccount/add", data=escaped) == OK
    assert wx.accounts()[kf("bob")]["kf_nick"] == "客服"


def test_kf_id_is_a_string_in_strict_mode(strict: Wx) -> None:
    assert strict.accounts()[ALICE]["kf_id"] == "1001"
    online = strict.get("/cgi-bin/customservice/getonlinekflist")["kf_online_list"]
    assert online[0]["kf_id"] == "1001"
