"""Plans and apply results built directly, for the pure renderer tests (no HTTP)."""

from __future__ import annotations

import pytest

from kfsync.apply import ApplyResult, Outcome
from kfsync.plan import Action, Change, PendingInvite, Plan

SUFFIX = "@shop_cs"


def sample_changes() -> tuple[Change, ...]:
    """One of each kind, a new account with its steps, and one rebind."""
    alice, bob, carol, dave, erin = (n + SUFFIX for n in ("alice", "bob", "carol", "dave", "erin"))
    changes = [
        Change(Action.ADD, alice, None, {"nickname": "Alice"}, "declared, not live"),
        Change(Action.SET_AVATAR, alice, None, {"avatar": "avatars/alice.jpg"},
               "declared, not live", (f"add:{alice}",)),
        Change(Action.INVITE, alice, None, {"invite_wx": "wx_alice"}, "declared, not live",
               (f"add:{alice}",)),
        Change(Action.UPDATE, bob, {"nickname": "Bob"}, {"nickname": "小明"}, "nickname differs"),
        Change(Action.SET_AVATAR, bob, {"avatar": None}, {"avatar": "b.jpg"}, "no live avatar"),
        Change(Action.DELETE, carol, {"nickname": "Carol", "kf_wx": "wx_carol"}, None,
               "tombstone (state: absent)"),
        Change(Action.DELETE, dave, {"nickname": "Dave", "kf_wx": "wx_old"}, None,
               "rebind from wx_old to wx_new", rebind=True),
        Change(Action.ADD, dave, None, {"nickname": "Dave"}, "rebind", (f"delete:{dave}",), True),
        Change(Action.INVITE, dave, None, {"invite_wx": "wx_new"}, "rebind", (f"add:{dave}",),
               True),
        Change(Action.INVITE, erin, {"invite_wx": "wx_erin", "invite_status": "rejected"},
               {"invite_wx": "wx_erin"}, "invitation rejected"),
    ]
    return tuple(sorted(changes, key=lambda c: c.sort_key))


@pytest.fixture
def sample_plan() -> Plan:
    return Plan(
        wechat_id="shop_cs",
        changes=sample_changes(),
        unmanaged=("zed" + SUFFIX,),
        pending_invites=(PendingInvite("fay" + SUFFIX, "wx_fay", 1714564800),),
        warnings=("bob@shop_cs: live avatar could not be read (timeout); left as it is",),
    )


@pytest.fixture
def empty_plan() -> Plan:
    return Plan(wechat_id="shop_cs", changes=())


@pytest.fixture
def incomplete_result() -> ApplyResult:
    changes = sample_changes()
    by_id = {c.id: c for c in changes}
    outcomes = [
        Outcome(c, "done", 120) for c in changes if not c.account.startswith(("alice", "erin"))
    ]
    outcomes += [
        Outcome(by_id["add:alice@shop_cs"], "failed", 80, 65403,
                "errcode 65403 illegal nickname (a nickname is 1 to 16 characters)"),
        Outcome(by_id["set_avatar:alice@shop_cs"], "skipped",
                message="add alice@shop_cs did not complete"),
        Outcome(by_id["invite:alice@shop_cs"], "skipped",
                message="add alice@shop_cs did not complete"),
        Outcome(by_id["invite:erin@shop_cs"], "skipped",
                message="stopped after WeChat quota error 45009"),
    ]
    return ApplyResult(tuple(outcomes), stopped="stopped after WeChat quota error 45009")
