"""Sessions, the wait list and the online list."""

from __future__ import annotations

import pytest

from kfsync.emulator import Emulator
from tests.helpers.emu_wire import OK, Wx, bound, kf

ALICE, BOB = kf("alice"), kf("bob")
GETSESSION = "/customservice/kfsession/getsession"
SESSIONLIST = "/customservice/kfsession/getsessionlist"
WAITCASE = "/customservice/kfsession/getwaitcase"
ONLINE = "/cgi-bin/customservice/getonlinekflist"


@pytest.fixture
def wx(emulator: Emulator) -> Wx:
    emulator.admin.seed(accounts=[
        bound("alice", accepted_case=2), bound("bob", status=3), bound("offline", status=0),
        {"kf_account": kf("unbound"), "kf_nick": "u", "status": 1}])
    return Wx(emulator.base_url)


def test_create_get_list_and_close(wx: Wx, emulator: Emulator) -> None:
    now = emulator.admin.now()
    assert wx.session("create", ALICE, "oCustomer1") == OK
    session = wx.get(GETSESSION, openid="oCustomer1")
    assert session["kf_account"] == ALICE
    assert session["createtime"] - now in (0, 1)
    assert wx.get(SESSIONLIST, kf_account=ALICE) == {
        "sessionlist": [{"createtime": session["createtime"], "openid": "oCustomer1"}]}
    assert wx.session("close", ALICE, "oCustomer1") == OK
    assert wx.get(GETSESSION, openid="oCustomer1") == {"createtime": 0, "kf_account": ""}
    assert wx.get(SESSIONLIST, kf_account=ALICE) == {"sessionlist": []}


def test_create_is_idempotent_and_text_is_accepted(wx: Wx) -> None:
    assert wx.session("create", ALICE, "oCustomer1") == OK
    assert wx.post("/customservice/kfsession/create",
                   {"kf_account": ALICE, "openid": "oCustomer1", "text": "hi"}) == OK
    assert len(wx.get(SESSIONLIST, kf_account=ALICE)["sessionlist"]) == 1


def test_create_errors(wx: Wx) -> None:
    assert wx.session("create", kf("nobody"), "oCustomer1")["errcode"] == 65401
    assert wx.session("create", kf("unbound"), "oCustomer1")["errcode"] == 65402
    assert wx.session("create", kf("offline"), "oCustomer1") == {
        "errcode": 65415, "errmsg": "the worker is not online"}
    assert wx.session("create", ALICE, "bad openid!")["errcode"] == 40003
    assert wx.post("/customservice/kfsession/create", {"kf_account": ALICE})["errcode"] == 40003
    wx.session("create", ALICE, "oCustomer1")
    assert wx.session("create", BOB, "oCustomer1") == {
        "errcode": 65414, "errmsg": "another worker is serving the customer"}


def test_close_errors(wx: Wx) -> None:
    assert wx.session("close", ALICE, "oCustomer1") == {
        "errcode": 65413, "errmsg": "no effective session for the customer"}
    wx.session("create", ALICE, "oCustomer1")
    assert wx.session("close", BOB, "oCustomer1")["errcode"] == 65414
    assert wx.session("close", kf("nobody"), "oCustomer1")["errcode"] == 65401
    assert wx.session("close", kf("unbound"), "oCustomer1")["errcode"] == 65402


def test_session_reads_errors(wx: Wx) -> None:
    assert wx.get(GETSESSION)["errcode"] == 40003
    assert wx.get(SESSIONLIST, kf_account=kf("nobody"))["errcode"] == 65401
    assert wx.get(SESSIONLIST, kf_account=kf("unbound"))["errcode"] == 65402
    assert wx.get(SESSIONLIST)["errcode"] == 65401


def test_online_list_counts_open_sessions(wx: Wx) -> None:
    wx.session("create", ALICE, "oCustomer1")
    wx.session("create", ALICE, "oCustomer2")
    assert wx.get(ONLINE) == {"kf_online_list": [
        {"kf_account": ALICE, "status": 1, "kf_id": 1001, "accepted_case": 4},
        {"kf_account": BOB, "status": 3, "kf_id": 1002, "accepted_case": 0},
        {"kf_account": kf("unbound"), "status": 1, "kf_id": 1004, "accepted_case": 0}]}


def test_wait_list_is_capped_at_100_earliest_first(wx: Wx, emulator: Emulator) -> None:
    assert wx.get(WAITCASE) == {"count": 0, "waitcaselist": []}
    emulator.admin.seed(waitcase=[{"openid": f"oWait{i:03d}", "latest_time": 1_700_000_000 - i}
                                  for i in range(150)])
    waiting = wx.get(WAITCASE)
    assert waiting["count"] == 150
    assert len(waiting["waitcaselist"]) == 100
    assert waiting["waitcaselist"][0] == {"latest_time": 1_700_000_000 - 149,
                                          "openid": "oWait149"}
    times = [w["latest_time"] for w in waiting["waitcaselist"]]
    assert times == sorted(times)


def test_creating_a_session_takes_the_customer_off_the_wait_list(
        wx: Wx, emulator: Emulator) -> None:
    emulator.admin.seed(waitcase=[{"openid": "oWaiting", "latest_time": 1_700_000_000},
                                  {"openid": "oOther", "latest_time": 1_700_000_001}])
    assert wx.session("create", ALICE, "oWaiting") == OK
    assert wx.get(WAITCASE) == {"count": 1, "waitcaselist": [
        {"latest_time": 1_700_000_001, "openid": "oOther"}]}
