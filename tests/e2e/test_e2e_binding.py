"""Every row of the binding table, over HTTP: what plan shows and what apply does."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timezone
from typing import Any

import pytest

from kfsync.avatars import load_avatar
from tests.helpers.e2e import (
    ADD_PATH,
    AVATAR_PATH,
    DELETE_PATH,
    INVITE_PATH,
    Shop,
    json_out,
    kf,
    names,
    seeded,
)


def declare_alice(shop: Shop, *, wechat: str | None = "alice_wx", **policy: Any) -> None:
    account: dict[str, Any] = {"nickname": "Alice", "avatar": shop.avatar("alice.png", "halves")}
    if wechat is not None:
        account["wechat"] = wechat
    shop.write_config({"alice": account}, policy=policy or None)


def live_avatar(shop: Shop) -> dict[str, Any]:
    """Alice's live picture, the declared one, so that only the binding differs."""
    jpeg = load_avatar(shop.folder / "avatars" / "alice.png")
    return {"headimg_base64": base64.b64encode(jpeg).decode()}


def test_bound_to_the_declared_id_is_left_as_it_is(shop: Shop) -> None:
    declare_alice(shop)
    shop.seed(seeded("alice", "Alice", kf_wx="alice_wx", **live_avatar(shop)))
    result = shop.plan("--detailed-exitcode")
    assert result.code == 0, result.text
    assert "No changes." in result.out
    assert "Pending" not in result.out


def test_waiting_unexpired_invitation_to_the_id_is_shown_pending(shop: Shop) -> None:
    declare_alice(shop)
    expires = shop.admin.now() + 2 * 86400
    shop.seed(seeded("alice", "Alice", invite_wx="alice_wx", invite_expire_time=expires,
                     **live_avatar(shop)))
    result = shop.plan("--detailed-exitcode", "--tz", "UTC")
    assert result.code == 0, result.text
    moment = datetime.fromtimestamp(expires, tz=timezone.utc)
    until = moment.strftime("%Y-%m-%d %H:%M" + (":%S" if moment.second else "") + "+00:00")
    assert f'alice@shop_cs: invitation to "alice_wx" pending until {until}' in result.out
    document = json_out(shop.plan("--format", "json"))
    assert document["pending_invites"] == [
        {"account": kf("alice"), "invite_wx": "alice_wx", "expires": expires}]
    assert document["changes"] == []

    applied = shop.apply("--auto-approve")
    assert applied.code == 0, applied.text
    assert shop.writes() == []


def test_waiting_invitation_to_another_id_is_a_warning_not_a_change(shop: Shop) -> None:
    declare_alice(shop)
    shop.seed(seeded("alice", "Alice", invite_wx="someone_else", **live_avatar(shop)))
    result = shop.plan("--detailed-exitcode")
    assert result.code == 0, result.text
    assert "Warnings:" in result.out
    assert "alice@shop_cs: an invitation to someone_else is pending until" in result.out


@pytest.mark.parametrize(
    ("invitation", "reason"),
    [
        ({"invite_wx": "alice_wx", "invite_status": "rejected"}, "invitation rejected"),
        ({"invite_wx": "alice_wx", "invite_status": "expired"}, "invitation expired"),
        ({"invite_wx": "old_friend", "invite_status": "rejected"}, "invitation rejected"),
        ({"invite_wx": "alice_wx", "invite_expire_time": 1_000_000_000}, "invitation expired"),
        ({}, "not bound"),
    ],
    ids=["rejected", "expired", "rejected-other-id", "waiting-but-past-its-time", "none"],
)
def test_no_live_invitation_means_invite(shop: Shop, invitation: dict[str, Any], reason: str) -> None:
    declare_alice(shop)
    shop.seed(seeded("alice", "Alice", **invitation, **live_avatar(shop)))
    result = shop.plan("--detailed-exitcode")
    assert result.code == 2, result.text
    assert re.search(rf'> invite +alice@shop_cs  .*invite_wx .*"alice_wx"  # {reason}', result.out), \
        result.out
    assert "Plan: 0 to add, 0 to change, 0 to delete, 1 to invite, 0 avatars" in result.out

    applied = shop.apply("--auto-approve")
    assert applied.code == 0, applied.text
    assert [e["body"] for e in shop.calls(INVITE_PATH)] == [
        {"kf_account": kf("alice"), "invite_wx": "alice_wx"}]
    assert shop.live()[kf("alice")]["invitation"]["invite_status"] == "waiting"
    shop.assert_converged()


def test_bound_to_another_id_is_a_destructive_rebind(shop: Shop) -> None:
    declare_alice(shop, wechat="alice_new", max_deletes=0)
    shop.seed(seeded("alice", "Alice", kf_wx="alice_old", **live_avatar(shop)))

    refused = shop.plan()
    assert refused.code == 3, refused.text
    assert "-/+ rebind" in refused.out
    assert "rebind from alice_old to alice_new" in refused.out
    assert "Plan: 1 to add, 0 to change, 1 to delete, 1 to invite, 1 avatar (1 rebind)" in refused.out
    assert "max_deletes=0" in refused.err
    assert "--allow-delete alice" in refused.err
    document = json_out(shop.plan("--format", "json", "--allow-delete", "alice"))
    assert names(document["changes"]) == [
        "delete:alice@shop_cs", "add:alice@shop_cs", "set_avatar:alice@shop_cs", "invite:alice@shop_cs"]
    assert all(c["rebind"] for c in document["changes"])
    assert document["summary"]["rebind"] == 1

    assert shop.apply("--auto-approve").code == 3
    assert shop.writes() == []

    applied = shop.apply("--auto-approve", "--allow-delete", "alice")
    assert applied.code == 0, applied.text
    paths = [e["path"] for e in shop.writes()]
    assert paths[:2] == [DELETE_PATH, ADD_PATH]  # the steps after the add may run in any order
    assert sorted(paths[2:]) == sorted([AVATAR_PATH, INVITE_PATH])
    alice = shop.live()[kf("alice")]
    assert alice["kf_wx"] is None
    assert alice["invitation"]["invite_wx"] == "alice_new"
    assert alice["kf_nick"] == "Alice"
    assert alice["media_id"]
    shop.assert_converged()


def test_rebind_within_max_deletes_needs_no_flag(shop: Shop) -> None:
    declare_alice(shop, wechat="alice_new", max_deletes=1)
    shop.seed(seeded("alice", "Alice", kf_wx="alice_old", **live_avatar(shop)))
    applied = shop.apply("--auto-approve")
    assert applied.code == 0, applied.text
    assert len(shop.effective(DELETE_PATH)) == 1
    shop.assert_converged()


def test_bound_account_without_declared_wechat_is_left_alone(shop: Shop) -> None:
    declare_alice(shop, wechat=None)
    shop.seed(seeded("alice", "Alice", kf_wx="whoever", **live_avatar(shop)))
    result = shop.plan("--detailed-exitcode")
    assert result.code == 0, result.text
    assert "No changes." in result.out
    assert shop.apply("--auto-approve").code == 0
    assert shop.writes() == []
    assert shop.live()[kf("alice")]["kf_wx"] == "whoever"
