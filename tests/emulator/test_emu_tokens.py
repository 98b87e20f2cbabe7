"""Token endpoints and token checks: errors, classic supersession, stable rotation, expiry."""

from __future__ import annotations

import pytest

from kfsync.emulator import Emulator
from tests.helpers.emu_wire import Wx

LIST = "/cgi-bin/customservice/getkflist"


@pytest.fixture
def wx(emulator: Emulator) -> Wx:
    return Wx(emulator.base_url)


def works(wx: Wx, token: str) -> bool:
    return "kf_list" in wx.get(LIST, token=token)


def code_with(wx: Wx, token: str) -> int:
    return int(wx.get(LIST, token=token)["errcode"])


def test_classic_token_is_a_long_string_valid_7200_s(wx: Wx) -> None:
    body = wx.fetch_token()
    assert set(body) == {"access_token", "expires_in"}
    assert body["expires_in"] == 7200
    assert len(body["access_token"]) >= 32
    assert works(wx, body["access_token"])


@pytest.mark.parametrize(("overrides", "code"), [
    ({"grant_type": "password"}, 40002),
    ({"grant_type": ""}, 40002),
    ({"appid": ""}, 41002),
    ({"appid": "wx0000000000000000"}, 40013),
    ({"secret": ""}, 41004),
    ({"secret": "0" * 32}, 40125),
])
def test_token_endpoint_errors(wx: Wx, overrides: dict[str, str], code: int) -> None:
    assert wx.fetch_token(**overrides)["errcode"] == code
    assert wx.stable_token(**overrides)["errcode"] == code


def test_stable_token_needs_post_and_a_json_object(wx: Wx) -> None:
    assert wx.get("/cgi-bin/stable_token", token=None)["errcode"] == 43002
    assert wx.post("/cgi-bin/stable_token", token=None)["errcode"] == 44002
    assert wx.post("/cgi-bin/stable_token", token=None, data=b"{nope")["errcode"] == 47001
    assert wx.post("/cgi-bin/stable_token", [1], token=None)["errcode"] == 47001
    assert wx.stable_token(force_refresh="yes")["errcode"] == 40097
    assert wx.post("/cgi-bin/token", token=None)["errcode"] == 43001


def test_missing_garbage_and_expired_tokens(wx: Wx, emulator: Emulator) -> None:
    assert wx.get(LIST, token=None)["errcode"] == 41001
    assert wx.response("GET", LIST, params={"access_token": ""}, token=None).json() == {
        "errcode": 41001, "errmsg": "access_token missing"}
    assert code_with(wx, "not-a-token") == 40001
    token = wx.fetch_token()["access_token"]
    emulator.admin.advance_clock(7199)
    assert works(wx, token)
    emulator.admin.advance_clock(1)
    assert code_with(wx, token) == 42001


def test_classic_tokens_supersede_with_a_five_minute_overlap(wx: Wx, emulator: Emulator) -> None:
    first = wx.fetch_token()["access_token"]
    second = wx.fetch_token()["access_token"]
    assert first != second
    assert works(wx, first)
    emulator.admin.advance_clock(299)
    assert works(wx, first)
    emulator.admin.advance_clock(1)
    assert code_with(wx, first) == 40001
    assert works(wx, second)


def test_a_third_classic_token_ends_the_first_at_once(wx: Wx) -> None:
    first = wx.fetch_token()["access_token"]
    second = wx.fetch_token()["access_token"]
    third = wx.fetch_token()["access_token"]
    assert code_with(wx, first) == 40001
    assert works(wx, second)
    assert works(wx, third)


def test_stable_token_is_returned_unchanged_while_valid(wx: Wx, emulator: Emulator) -> None:
    first = wx.stable_token()
    assert first["expires_in"] == 7200
    emulator.admin.advance_clock(100)
    again = wx.stable_token(force_refresh=False)
    assert again["access_token"] == first["access_token"]
    assert again["expires_in"] == 7100


def test_stable_token_rotates_in_its_last_five_minutes(wx: Wx, emulator: Emulator) -> None:
    old = wx.stable_token()["access_token"]
    emulator.admin.advance_clock(7200 - 300)
    rotated = wx.stable_token()
    assert rotated["access_token"] != old
    assert rotated["expires_in"] == 7200
    assert wx.stable_token()["access_token"] == rotated["access_token"]
    emulator.admin.advance_clock(299)
    assert works(wx, old)
    emulator.admin.advance_clock(1)
    assert code_with(wx, old) == 42001
    assert works(wx, rotated["access_token"])


def test_force_refresh_invalidates_the_previous_stable_token(
        wx: Wx, emulator: Emulator) -> None:
    old = wx.stable_token()["access_token"]
    emulator.admin.advance_clock(30)
    new = wx.stable_token(force_refresh=True)["access_token"]
    assert new != old
    assert code_with(wx, old) == 40001
    assert works(wx, new)


def test_force_refresh_within_30_s_returns_the_current_token(wx: Wx, emulator: Emulator) -> None:
    emulator.admin.advance_clock(60)
    first = wx.stable_token(force_refresh=True)["access_token"]
    emulator.admin.advance_clock(20)  # the clock also runs in real time: leave it slack
    assert wx.stable_token(force_refresh=True)["access_token"] == first
    emulator.admin.advance_clock(10)
    assert wx.stable_token(force_refresh=True)["access_token"] != first


def test_stable_and_classic_tokens_are_independent(wx: Wx, emulator: Emulator) -> None:
    stable = wx.stable_token()["access_token"]
    classic = wx.fetch_token()["access_token"]
    for _ in range(3):
        wx.fetch_token()
    assert works(wx, stable)
    emulator.admin.advance_clock(60)
    assert wx.stable_token(force_refresh=True)["access_token"] != stable
    assert code_with(wx, classic) == 40001  # superseded by the classic fetches, not by stable
    assert emulator.admin.state()["tokens"]["issued"] == {"classic": 4, "stable": 2}
