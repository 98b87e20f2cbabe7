"""Invitations: inviteworker rules and the waiting -> accepted / rejected / expired lifecycle."""

from __future__ import annotations

import pytest

from kfsync.emulator import Emulator
from kfsync.emulator.exceptions import EmulatorAdminError
from tests.helpers.emu_wire import OK, Wx, bound, kf

ALICE = kf("alice")


@pytest.fixture
def wx(emulator: Emulator) -> Wx:
    return Wx(emulator.base_url)


def test_invitation_waits_then_accepting_binds(wx: Wx, emulator: Emulator) -> None:
    wx.add("alice")
    now = emulator.admin.now()
    assert wx.invite(ALICE, "worker_one") == OK
    item = wx.accounts()[ALICE]
    assert item["invite_wx"] == "worker_one"
    assert item["invite_status"] == "waiting"
    assert item["invite_expire_time"] - now in range(259200, 259202)
    assert "kf_wx" not in item
    emulator.admin.accept_invite(ALICE)
    item = wx.accounts()[ALICE]
    assert item["kf_wx"] == "worker_one"
    assert not {"invite_wx", "invite_expire_time", "invite_status"} & set(item)


@pytest.mark.parametrize(("resolve", "status"), [("reject", "rejected"), ("expire", "expired")])
def test_rejected_or_expired_invitations_keep_their_fields_and_can_be_renewed(
        wx: Wx, emulator: Emulator, resolve: str, status: str) -> None:
    wx.add("alice")
    wx.invite(ALICE, "worker_one")
    expires = wx.accounts()[ALICE]["invite_expire_time"]
    getattr(emulator.admin, f"{resolve}_invite")(ALICE)
    item = wx.accounts()[ALICE]
    assert (item["invite_wx"], item["invite_expire_time"], item["invite_status"]) == (
        "worker_one", expires, status)
    assert wx.invite(ALICE, "worker_one") == OK
    assert wx.accounts()[ALICE]["invite_status"] == "waiting"


def test_invitations_expire_by_the_emulator_clock() -> None:
    with Emulator(invite_lifetime=600) as emu:
        wx = Wx(emu.base_url)
        wx.add("alice")
        wx.invite(ALICE, "worker_one")
        emu.admin.advance_clock(599)
        assert wx.accounts()[ALICE]["invite_status"] == "waiting"
        emu.admin.advance_clock(1)
        assert wx.accounts()[ALICE]["invite_status"] == "expired"
        with pytest.raises(EmulatorAdminError, match="no waiting invitation"):
            emu.admin.accept_invite(ALICE)


def test_invite_errors(wx: Wx, emulator: Emulator) -> None:
    emulator.admin.seed(accounts=[bound("bob"), {"kf_account": ALICE, "kf_nick": "a"},
                                  {"kf_account": kf("carol"), "kf_nick": "c"}])
    assert wx.invite(kf("nobody"), "worker_one")["errcode"] == 65401
    assert wx.post("/customservice/kfaccount/inviteworker", {"invite_wx": "worker_x"})[
        "errcode"] == 65401
    for bad in ("1abcdef", "abc", "a" * 21, "has space1", ""):
        assert wx.invite(ALICE, bad)["errcode"] == 65409
    assert wx.invite(kf("bob"), "worker_one") == {
        "errcode": 65412, "errmsg": "the custom service account have been bound by a wechat user"}
    assert wx.invite(ALICE, "worker_one") == OK
    assert wx.invite(ALICE, "worker_one")["errcode"] == 65408
    assert wx.invite(kf("carol"), "worker_one")["errcode"] == 65408
    assert wx.invite(ALICE, "worker_two")["errcode"] == 65411
    assert wx.invite(kf("carol"), "wx_bob_user")["errcode"] == 65407


def test_a_user_bound_to_five_accounts_gives_65410(wx: Wx, emulator: Emulator) -> None:
    emulator.admin.seed(accounts=[bound(f"b{i}", kf_wx="busy_worker") for i in range(5)]
                        + [{"kf_account": ALICE, "kf_nick": "a"}])
    assert wx.invite(ALICE, "busy_worker") == {
        "errcode": 65410, "errmsg": "too many custom service accounts bound by the worker"}


def test_admin_invitation_errors(emulator: Emulator) -> None:
    with pytest.raises(EmulatorAdminError, match=r"404.*no kf account"):
        emulator.admin.accept_invite(ALICE)
    emulator.admin.seed(accounts=[{"kf_account": ALICE, "kf_nick": "a"}])
    with pytest.raises(EmulatorAdminError, match=r"409.*no waiting invitation"):
        emulator.admin.reject_invite(ALICE)
    with pytest.raises(EmulatorAdminError, match=r"400.*kf_account must be a string"):
        emulator.admin._call("POST", "invites/accept", {})
