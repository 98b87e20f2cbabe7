"""The Official Account's planning rules: identity by `prefix@wechat_id`, bindings by invitation.

An account is its `kf_account`, `prefix@suffix`, where the suffix is the
Official Account's WeChat ID; accounts with another suffix are not ours.  A
new account is an add, then its avatar and its invitation; a nickname is an
update; a WeChat user is bound by an invitation that WeChat lets wait until
it expires or is rejected (it cannot be withdrawn); a binding to another user
is a rebind: delete, add again, avatar, invite.  `kfsync.importer` reads the
live side by the same rules (`pending_invitation`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kfsync.model import (
    AVATAR,
    INVITE_STATUS,
    INVITE_WX,
    KF_WX,
    NICKNAME,
    UPDATABLE,
    DesiredAccount,
    DesiredAvatar,
    Difference,
    Field,
    LiveAccount,
)
from kfsync.plan import Action, Change, Expansion, Matching, Output, PendingInvite
from kfsync.timefmt import human


@dataclass(frozen=True)
class WechatMpRules:
    """The rules for the kf accounts of the Official Account whose WeChat ID is `scope`."""

    scope: str  #: the Official Account's WeChat ID: every managed account's suffix
    #: an account's nickname, avatar and the WeChat user bound to it
    fields: tuple[Field[Any], ...] = (NICKNAME, AVATAR, KF_WX)
    actions: tuple[Action, ...] = (Action.DELETE, Action.ADD, Action.UPDATE, Action.SET_AVATAR,
                                   Action.INVITE)

    def match(self, declared: Sequence[DesiredAccount], live: Sequence[LiveAccount]) -> Matching:
        ours: dict[str, LiveAccount] = {}
        others: list[str] = []
        for account in live:
            prefix, _, suffix = account.kf_account.partition("@")
            if suffix == self.scope:
                ours[prefix] = account
            else:
                others.append(account.kf_account)
        names = {entry.prefix for entry in declared}
        # Not ours (another suffix): never planned, but worth a word, since a wrong wechat_id looks like this.
        warnings = tuple(
            f"{kf_account} is not an account of {self.scope}; left alone "
            "(check official_account.wechat_id, or add its prefix to policy.ignore)"
            for kf_account in sorted(others)
        )
        return Matching(
            pairs={p: a for p, a in ours.items() if p in names},
            unclaimed=tuple(a for p, a in sorted(ours.items()) if p not in names),
            warnings=warnings,
        )

    def create(self, entry: DesiredAccount, avatar: DesiredAvatar | None, reason: str) -> list[Change]:
        return self._create(entry, avatar, reason)

    def delete(self, account: LiveAccount, reason: str) -> Change:
        return _delete(account, reason)

    def expand(self, entry: DesiredAccount, avatar: DesiredAvatar | None, account: LiveAccount,
               differences: Sequence[Difference], now: int) -> Expansion:
        by_field = {d.field: d for d in differences}
        kf_account = account.kf_account
        binding = by_field.get(KF_WX)
        if binding is not None and account.kf_wx:  # bound to another WeChat user
            moved = f"from {account.kf_wx} to {entry.wechat}"
            return Expansion(
                (_delete(account, f"rebind {moved}", rebind=True),
                 *self._create(entry, avatar, "rebind", after_delete=True, rebind=True)),
                replaces=f"rebound {moved}",
            )
        changes = []
        updated = [d for d in differences if d.field in UPDATABLE]
        if updated:
            changes.append(Change(
                Action.UPDATE, kf_account, {d.field.name: d.before for d in updated},
                {d.field.name: d.after for d in updated},
                " and ".join(d.field.label for d in updated) + " differs",
            ))
        picture = by_field.get(AVATAR)
        if picture is not None:
            why = "no live avatar" if picture.before is None else "live avatar is a different picture"
            changes.append(Change(Action.SET_AVATAR, kf_account, {AVATAR.name: picture.before},
                                  {AVATAR.name: picture.after}, why))
        if binding is None or not entry.wechat:
            return Expansion(tuple(changes))
        invite, waiting = _binding(kf_account, entry.wechat, account, now)
        if invite is not None:
            return Expansion((*changes, invite))
        assert waiting is not None
        if waiting.invite_wx != entry.wechat:
            return Expansion(tuple(changes), warnings=(
                f"{kf_account}: an invitation to {waiting.invite_wx} is pending until "
                f"{human(waiting.expires)}; {entry.wechat} can be invited once it expires or is "
                "rejected (there is no API to withdraw it)",
            ))
        return Expansion(tuple(changes), pending=(waiting,))

    def outputs(self, present: Sequence[DesiredAccount]) -> tuple[Output, ...]:
        return ()  # the Official Account hands out nothing per account

    def _create(
        self,
        entry: DesiredAccount,
        avatar: DesiredAvatar | None,
        reason: str,
        *,
        after_delete: bool = False,
        rebind: bool = False,
    ) -> list[Change]:
        kf_account = f"{entry.prefix}@{self.scope}"
        add_id = f"{Action.ADD.value}:{kf_account}"
        depends = (f"{Action.DELETE.value}:{kf_account}",) if after_delete else ()
        changes = [Change(Action.ADD, kf_account, None, {NICKNAME.name: entry.nickname}, reason,
                          depends, rebind)]
        if avatar is not None:
            changes.append(Change(Action.SET_AVATAR, kf_account, None, {AVATAR.name: avatar.path},
                                  reason, (add_id,), rebind))
        if entry.wechat:
            changes.append(Change(Action.INVITE, kf_account, None, {INVITE_WX.name: entry.wechat},
                                  reason, (add_id,), rebind))
        return changes


def _delete(account: LiveAccount, reason: str, *, rebind: bool = False) -> Change:
    before = {NICKNAME.name: account.nickname, KF_WX.name: account.kf_wx}
    return Change(Action.DELETE, account.kf_account, before, None, reason, rebind=rebind)


def _binding(
    kf_account: str, wechat: str, account: LiveAccount, now: int
) -> tuple[Change | None, PendingInvite | None]:
    """The invitation that binds `wechat`, or the pending one that must end first."""
    status = account.invite_status
    waiting = pending_invitation(account, now)
    if waiting is not None:
        # Waiting and unexpired: WeChat refuses another invitation (65411) until it ends.
        return None, PendingInvite(kf_account, *waiting)
    before: dict[str, Any] = {INVITE_WX.name: account.invite_wx, INVITE_STATUS.name: status}
    if account.invite_wx and status == "waiting":
        # An expiry WeChat did not give as a time is unknown: invite; 65411 would say it waits.
        reason = "invitation expired" if account.invite_expire_time else "invitation expiry unknown"
    elif account.invite_wx and status in ("rejected", "expired"):
        reason = f"invitation {status}"
    else:
        reason = "not bound"
    return Change(Action.INVITE, kf_account, before, {INVITE_WX.name: wechat}, reason), None


def pending_invitation(account: LiveAccount, now: int) -> tuple[str, int] | None:
    """The invitee and expiry of an invitation still waiting at `now`, which plan never re-sends."""
    expires = account.invite_expire_time or 0
    if account.invite_wx and account.invite_status == "waiting" and expires > now:
        return account.invite_wx, expires
    return None
