"""The plan: what it takes to make the live accounts match the declared ones.

`plan(desired, live, policy)` is a pure function: no client, no clock, no
environment, no printing.  It returns a `Plan`, a value that renderers show,
safety checks judge (`kfsync.safety`), saved-plan files carry, and `apply`
executes in the order given here.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kfsync.model import (
    UPDATABLE,
    Desired,
    DesiredAccount,
    DesiredAvatar,
    LiveAccount,
    LiveState,
    Policy,
    changed_fields,
)
from kfsync.timefmt import human

__all__ = ["Action", "Change", "Desired", "DesiredAvatar", "PendingInvite", "Plan", "plan"]


class Action(str, enum.Enum):
    """The kinds of change, declared in apply order."""

    DELETE = "delete"
    ADD = "add"
    UPDATE = "update"
    SET_AVATAR = "set_avatar"
    INVITE = "invite"


_ORDER = {action: index for index, action in enumerate(Action)}

#: Two pictures whose perceptual hashes differ in at most this many bits are the same picture.
SAME_PICTURE_BITS = 24


def _copy(fields: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return dict(fields) if fields is not None else None


@dataclass(frozen=True)
class Change:
    """One API operation the plan would make."""

    action: Action
    account: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    reason: str
    depends_on: tuple[str, ...] = ()
    rebind: bool = False

    @property
    def id(self) -> str:
        return f"{self.action.value}:{self.account}"

    @property
    def destructive(self) -> bool:
        return self.action is Action.DELETE

    @property
    def sort_key(self) -> tuple[int, str]:
        return (_ORDER[self.action], self.account)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action.value,
            "account": self.account,
            "before": _copy(self.before),
            "after": _copy(self.after),
            "reason": self.reason,
            "depends_on": list(self.depends_on),
            "rebind": self.rebind,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Change:
        return cls(
            action=Action(data["action"]),
            account=str(data["account"]),
            before=_copy(data.get("before")),
            after=_copy(data.get("after")),
            reason=str(data["reason"]),
            depends_on=tuple(str(d) for d in data.get("depends_on", ())),
            rebind=bool(data.get("rebind", False)),
        )


@dataclass(frozen=True)
class PendingInvite:
    account: str
    invite_wx: str
    expires: int

    def to_dict(self) -> dict[str, Any]:
        return {"account": self.account, "invite_wx": self.invite_wx, "expires": self.expires}


@dataclass(frozen=True)
class Plan:
    """Every change, in apply order, plus what the reviewer should know besides."""

    wechat_id: str
    changes: tuple[Change, ...]
    unmanaged: tuple[str, ...] = ()
    pending_invites: tuple[PendingInvite, ...] = ()
    warnings: tuple[str, ...] = ()
    refusals: tuple[str, ...] = ()  #: safety rules the plan breaks whatever the flags

    @property
    def empty(self) -> bool:
        return not self.changes

    @property
    def deletes(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.destructive)

    def summary(self) -> dict[str, int]:
        counts = {a.value: 0 for a in Action}
        for change in self.changes:
            counts[change.action.value] += 1
        return {
            "add": counts["add"],
            "change": counts["update"],
            "delete": counts["delete"],
            "invite": counts["invite"],
            "avatar": counts["set_avatar"],
            "rebind": sum(1 for c in self.deletes if c.rebind),
        }


# --------------------------------------------------------------------------- planning


def plan(desired: Desired, live: LiveState, policy: Policy) -> Plan:
    """Compare the declared accounts with the live ones; pure and deterministic."""
    config = desired.config
    wechat_id = config.official_account.wechat_id
    suffix = "@" + wechat_id
    declared = {a.prefix: a for a in config.accounts if not policy.is_ignored(a.prefix)}
    present = {p: a for p, a in declared.items() if a.state == "present"}
    visible = [a for a in live.accounts if not policy.is_ignored(a.prefix)]
    managed_live = {a.prefix: a for a in visible if a.suffix == wechat_id}

    changes: list[Change] = []
    # Not ours (another suffix): never planned, but worth a word, since a wrong wechat_id looks like this.
    warnings = [
        f"{kf_account} is not an account of {wechat_id}; left alone "
        "(check official_account.wechat_id, or add its prefix to policy.ignore)"
        for kf_account in sorted(a.kf_account for a in visible if a.suffix != wechat_id)
    ]
    refusals: list[str] = []
    pending: list[PendingInvite] = []
    unmanaged: list[str] = []
    renamed = _changed_fields(managed_live, present)

    for prefix in sorted(managed_live.keys() - present.keys()):
        account = managed_live[prefix]
        if prefix in declared:  # a tombstone
            if policy.is_protected(prefix):
                refusals.append(f"{account.kf_account} is protected and cannot be deleted")
                continue
            changes.append(_delete(account, "tombstone (state: absent)"))
        elif policy.unmanaged == "delete" and policy.is_protected(prefix):
            warnings.append(f"{account.kf_account} is not declared but protected; left alone")
        elif policy.unmanaged == "delete":
            changes.append(_delete(account, "not declared (unmanaged: delete)"))
        elif policy.unmanaged == "report":
            unmanaged.append(account.kf_account)

    for prefix in sorted(present):
        entry = present[prefix]
        kf_account = prefix + suffix
        live_account = managed_live.get(prefix)
        avatar = desired.avatars.get(prefix)
        if live_account is None:
            changes.extend(_create(kf_account, entry, avatar, "declared, not live"))
            continue
        if entry.wechat and _bound_elsewhere(live_account, entry.wechat):
            if policy.is_protected(prefix):
                refusals.append(
                    f"{kf_account} is protected and cannot be rebound "
                    f"from {live_account.kf_wx} to {entry.wechat}"
                )
                continue
            changes.append(
                _delete(live_account, f"rebind from {live_account.kf_wx} to {entry.wechat}", rebind=True)
            )
            changes.extend(
                _create(kf_account, entry, avatar, "rebind", after_delete=True, rebind=True)
            )
            continue
        if "nickname" in renamed.get(prefix, ()):
            changes.append(
                Change(Action.UPDATE, kf_account, {"nickname": live_account.nickname},
                       {"nickname": entry.nickname}, "nickname differs")
            )
        avatar_change, warning = _avatar_change(kf_account, avatar, live_account, live)
        if avatar_change:
            changes.append(avatar_change)
        if warning:
            warnings.append(warning)
        if entry.wechat:
            invite, waiting = _binding(kf_account, entry.wechat, live_account, live.now)
            if invite:
                changes.append(invite)
            elif waiting and waiting.invite_wx != entry.wechat:
                warnings.append(
                    f"{kf_account}: an invitation to {waiting.invite_wx} is pending until "
                    f"{human(waiting.expires)}; {entry.wechat} can be invited once it expires or is "
                    "rejected (there is no API to withdraw it)"
                )
            elif waiting:
                pending.append(waiting)

    if managed_live and not present and any(c.destructive for c in changes):
        refusals.append(
            "the config declares no accounts while live has some; refusing to delete them all"
        )
    changes.sort(key=lambda c: c.sort_key)
    return Plan(
        wechat_id=wechat_id,
        changes=tuple(changes),
        unmanaged=tuple(sorted(unmanaged)),
        pending_invites=tuple(pending),
        warnings=tuple(warnings),
        refusals=tuple(refusals),
    )


def _changed_fields(
    live: Mapping[str, LiveAccount], present: Mapping[str, DesiredAccount]
) -> dict[str, set[str]]:
    """The updatable fields that differ, by prefix, for the accounts on both sides."""
    both = live.keys() & present.keys()
    names = [f.name for f in UPDATABLE]
    return changed_fields({p: {n: getattr(live[p], n) for n in names} for p in both},
                          {p: {n: getattr(present[p], n) for n in names} for p in both})


def _bound_elsewhere(account: LiveAccount, wechat: str) -> bool:
    return bool(account.kf_wx) and account.kf_wx != wechat


def _delete(account: LiveAccount, reason: str, *, rebind: bool = False) -> Change:
    before = {"nickname": account.nickname, "kf_wx": account.kf_wx}
    return Change(Action.DELETE, account.kf_account, before, None, reason, rebind=rebind)


def _create(
    kf_account: str,
    entry: DesiredAccount,
    avatar: DesiredAvatar | None,
    reason: str,
    *,
    after_delete: bool = False,
    rebind: bool = False,
) -> list[Change]:
    add_id = f"{Action.ADD.value}:{kf_account}"
    depends = (f"{Action.DELETE.value}:{kf_account}",) if after_delete else ()
    changes = [
        Change(Action.ADD, kf_account, None, {"nickname": entry.nickname}, reason, depends, rebind)
    ]
    if avatar is not None:
        changes.append(
            Change(Action.SET_AVATAR, kf_account, None, {"avatar": avatar.path}, reason, (add_id,), rebind)
        )
    if entry.wechat:
        changes.append(
            Change(Action.INVITE, kf_account, None, {"invite_wx": entry.wechat}, reason, (add_id,), rebind)
        )
    return changes


def _avatar_change(
    kf_account: str, avatar: DesiredAvatar | None, account: LiveAccount, live: LiveState
) -> tuple[Change | None, str | None]:
    if avatar is None:
        return None, None
    after = {"avatar": avatar.path}
    if not account.headimgurl:
        return Change(Action.SET_AVATAR, kf_account, {"avatar": None}, after, "no live avatar"), None
    picture = live.pictures.get(account.headimgurl)
    if picture is None or picture.phash is None:
        why = picture.error if picture is not None and picture.error else "not downloaded"
        return None, f"{kf_account}: live avatar could not be read ({why}); left as it is"
    try:
        distance = hamming(picture.phash, avatar.phash)
    except ValueError as exc:  # e.g. a damaged picture cache entry
        return None, f"{kf_account}: live avatar cannot be compared ({exc}); left as it is"
    if distance <= SAME_PICTURE_BITS:
        return None, None
    before = {"avatar": account.headimgurl}
    return Change(Action.SET_AVATAR, kf_account, before, after, "live avatar is a different picture"), None


def _binding(
    kf_account: str, wechat: str, account: LiveAccount, now: int
) -> tuple[Change | None, PendingInvite | None]:
    """The binding row of the plan table; a rebind is handled by the caller."""
    if account.kf_wx == wechat:
        return None, None
    status = account.invite_status
    waiting = pending_invitation(account, now)
    if waiting is not None:
        # Waiting and unexpired: WeChat refuses another invitation (65411) until it ends.
        return None, PendingInvite(kf_account, *waiting)
    before: dict[str, Any] = {"invite_wx": account.invite_wx, "invite_status": status}
    if account.invite_wx and status == "waiting":
        # An expiry WeChat did not give as a time is unknown: invite; 65411 would say it waits.
        reason = "invitation expired" if account.invite_expire_time else "invitation expiry unknown"
    elif account.invite_wx and status in ("rejected", "expired"):
        reason = f"invitation {status}"
    else:
        reason = "not bound"
    return Change(Action.INVITE, kf_account, before, {"invite_wx": wechat}, reason), None


def pending_invitation(account: LiveAccount, now: int) -> tuple[str, int] | None:
    """The invitee and expiry of an invitation still waiting at `now`, which plan never re-sends."""
    expires = account.invite_expire_time or 0
    if account.invite_wx and account.invite_status == "waiting" and expires > now:
        return account.invite_wx, expires
    return None


def hamming(left: str, right: str) -> int:
    """Bits that differ between two hex-encoded hashes of the same length.

    Raises ValueError for hashes that cannot be compared (other lengths, not hex).
    """
    if len(left) != len(right) or not left:
        raise ValueError(f"hashes of {len(left)} and {len(right)} hex digits cannot be compared")
    try:
        return (int(left, 16) ^ int(right, 16)).bit_count()
    except ValueError:
        raise ValueError("a hash is not hexadecimal") from None
