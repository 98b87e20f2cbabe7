"""The plan: what it takes to make the live accounts match the declared ones.

`plan(desired, live, policy, rules)` is a pure function: no client, no clock,
no environment, no printing.  It returns a `Plan`, a value that renderers
show, safety checks judge (`kfsync.safety`), saved-plan files carry, and
`apply` executes in the order given here.

The planner is generic: it keeps what is declared and what is ignored,
unmanaged, protected or absent, diffs the fields `kfsync.model` declares, and
orders the changes by one key.  What a product does with a difference comes
from its `kfsync.providers.base.Rules`, handed in as a value: which live
account a declared entry is (`match`), and which calls make, delete or change
one (`create`, `delete`, `expand`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from kfsync.model import (
    AVATAR,
    COMPARED,
    INVITE_WX,
    Desired,
    DesiredAccount,
    DesiredAvatar,
    Difference,
    Field,
    LiveAccount,
    LiveState,
    Policy,
    Values,
)

if TYPE_CHECKING:
    from kfsync.providers.base import Rules

__all__ = ["Action", "Change", "Desired", "DesiredAvatar", "Expansion", "Matching", "Output",
           "PendingInvite", "Plan", "plan"]


class Action(str, enum.Enum):
    """The kinds of change, declared in apply order."""

    DELETE = "delete"
    ADD = "add"
    UPDATE = "update"
    SET_AVATAR = "set_avatar"
    SERVICERS = "servicers"  #: who works the account: users and departments added and removed
    INVITE = "invite"


_ORDER = {action: index for index, action in enumerate(Action)}

#: Two pictures whose perceptual hashes differ in at most this many bits are the same picture.
SAME_PICTURE_BITS = 24


def _values(given: Mapping[str, object] | None) -> Values | None:
    return given if given is None or isinstance(given, Values) else Values(given)


@dataclass(frozen=True, init=False)
class Change:
    """One API operation the plan would make.

    `before` and `after` hold field values by the names `kfsync.model.FIELDS`
    declares (given as any mapping, kept as `Values`; read one typed with
    `change.after.of(NICKNAME)`).
    """

    action: Action
    account: str
    before: Values | None  #: the live values the change replaces
    after: Values | None  #: the values it sets
    reason: str
    depends_on: tuple[str, ...] = ()
    rebind: bool = False

    def __init__(
        self,
        action: Action,
        account: str,
        before: Mapping[str, object] | None,
        after: Mapping[str, object] | None,
        reason: str,
        depends_on: tuple[str, ...] = (),
        rebind: bool = False,
    ) -> None:
        given = {"action": action, "account": account, "before": _values(before),
                 "after": _values(after), "reason": reason, "depends_on": tuple(depends_on),
                 "rebind": rebind}
        for name, value in given.items():
            object.__setattr__(self, name, value)

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
            "before": self.before.to_dict() if self.before is not None else None,
            "after": self.after.to_dict() if self.after is not None else None,
            "reason": self.reason,
            "depends_on": list(self.depends_on),
            "rebind": self.rebind,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Change:
        return cls(
            action=Action(data["action"]),
            account=str(data["account"]),
            before=data.get("before"),
            after=data.get("after"),
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
        return {"account": self.account, INVITE_WX.name: self.invite_wx, "expires": self.expires}


@dataclass(frozen=True)
class Output:
    """A value the provider hands out for an account, reported as Terraform reports outputs.

    e.g. the contact link of one scene (`kind` "contact_link", `key` the scene).
    The plan lists what will be reported, with `value` None: known after apply.
    """

    account: str
    kind: str
    key: str
    value: str | None = None

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.account}:{self.key}"

    def to_dict(self) -> dict[str, Any]:
        return {"account": self.account, "kind": self.kind, "key": self.key, "value": self.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Output:
        value = data.get("value")
        return cls(str(data["account"]), str(data["kind"]), str(data["key"]),
                   None if value is None else str(value))


@dataclass(frozen=True)
class Plan:
    """Every change, in apply order, plus what the reviewer should know besides."""

    wechat_id: str
    changes: tuple[Change, ...]
    unmanaged: tuple[str, ...] = ()
    pending_invites: tuple[PendingInvite, ...] = ()
    warnings: tuple[str, ...] = ()
    refusals: tuple[str, ...] = ()  #: safety rules the plan breaks whatever the flags
    outputs: tuple[Output, ...] = ()  #: what apply will report, e.g. contact links
    #: the kinds of change the product plans, as its rules say (None: not said, e.g. a plan
    #: document of an earlier version): a summary for people names only these
    actions: tuple[Action, ...] | None = None

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
        summary = {
            "add": counts["add"],
            "change": counts["update"],
            "delete": counts["delete"],
            "invite": counts["invite"],
            "avatar": counts["set_avatar"],
            "rebind": sum(1 for c in self.deletes if c.rebind),
        }
        if counts["servicers"]:  # only providers with servicers plan them
            summary["servicers"] = counts["servicers"]
        return summary


# --------------------------------------------------------------------------- what rules answer


@dataclass(frozen=True)
class Matching:
    """Which live account each declared entry is, as a provider's rules decide."""

    pairs: Mapping[str, LiveAccount]  #: declared prefix (present or absent) -> its live account
    unclaimed: tuple[LiveAccount, ...] = ()  #: managed live accounts no declared entry is
    warnings: tuple[str, ...] = ()  #: live accounts left alone, and why
    refusals: tuple[str, ...] = ()  #: e.g. an ambiguous match: the plan may not be applied
    #: declared prefixes that match no live account the rules may pair, for a reason a refusal
    #: gives (an ambiguous name, an account the app may not manage): not created either, so that
    #: the plan does not show an add that is no one's intent
    blocked: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Expansion:
    """The changes that make one live account what its entry declares, and what to say besides."""

    changes: tuple[Change, ...] = ()
    warnings: tuple[str, ...] = ()
    pending: tuple[PendingInvite, ...] = ()
    #: set when the changes delete the account and make it again (e.g. "rebound from a to b"):
    #: a protected account is refused instead
    replaces: str | None = None


# --------------------------------------------------------------------------- planning


def plan(desired: Desired, live: LiveState, policy: Policy, rules: Rules) -> Plan:
    """Compare the declared accounts with the live ones, by `rules`; pure and deterministic."""
    declared = {a.prefix: a for a in desired.config.accounts if not policy.is_ignored(a.prefix)}
    present = {p: a for p, a in declared.items() if a.present}
    matching = rules.match(tuple(declared.values()),
                           tuple(a for a in live.accounts if not policy.is_ignored(a.prefix)))
    pairs = matching.pairs

    changes: list[Change] = []
    warnings = list(matching.warnings)
    refusals = list(matching.refusals)
    pending: list[PendingInvite] = []
    unmanaged: list[str] = []

    for prefix in sorted(pairs.keys() - present.keys()):  # tombstones
        account = pairs[prefix]
        if policy.is_protected(prefix):
            refusals.append(f"{account.kf_account} is protected and cannot be deleted")
            continue
        changes.append(rules.delete(account, "tombstone (state: absent)"))
    for account in sorted(matching.unclaimed, key=lambda a: a.prefix):
        if policy.unmanaged == "delete" and policy.is_protected(account.prefix):
            warnings.append(f"{account.kf_account} is not declared but protected; left alone")
        elif policy.unmanaged == "delete":
            changes.append(rules.delete(account, "not declared (unmanaged: delete)"))
        elif policy.unmanaged == "report":
            unmanaged.append(account.kf_account)

    differing = _differences({p: (present[p], pairs[p]) for p in present.keys() & pairs.keys()},
                             rules.fields)
    for prefix in sorted(present):
        entry = present[prefix]
        avatar = desired.avatars.get(prefix)
        paired = pairs.get(prefix)
        if paired is None:
            if prefix not in matching.blocked:
                changes.extend(rules.create(entry, avatar, "declared, not live"))
            continue
        account = paired
        found = list(differing.get(prefix, ()))
        picture, unreadable = _picture_difference(account, avatar, live)
        if picture is not None:
            found.append(picture)
        if not found:  # in sync: nothing for the rules to expand
            if unreadable:
                warnings.append(unreadable)
            continue
        expansion = rules.expand(entry, avatar, account, tuple(found), live.now)
        if expansion.replaces is not None and policy.is_protected(prefix):
            refusals.append(f"{account.kf_account} is protected and cannot be {expansion.replaces}")
            continue
        changes.extend(expansion.changes)
        if unreadable and expansion.replaces is None:
            warnings.append(unreadable)
        warnings.extend(expansion.warnings)
        pending.extend(expansion.pending)

    managed = bool(pairs) or bool(matching.unclaimed)
    if managed and not present and any(c.destructive for c in changes):
        refusals.append(
            "the config declares no accounts while live has some; refusing to delete them all"
        )
    changes.sort(key=lambda c: c.sort_key)
    refusals.extend(_told_apart(changes))
    return Plan(
        wechat_id=rules.scope,
        changes=tuple(changes),
        unmanaged=tuple(sorted(unmanaged)),
        pending_invites=tuple(pending),
        warnings=tuple(warnings),
        refusals=tuple(refusals),
        outputs=rules.outputs(tuple(present.values())),
        actions=tuple(rules.actions),
    )


def _told_apart(changes: Sequence[Change]) -> list[str]:
    """Refusals for changes apply cannot tell apart, which share an id; `changes` are in order.

    Live names may repeat where an account is identified by a server id (WeCom):
    two namesakes deleted by one plan would be one `delete:<name>` twice.
    """
    shared = [later.id for earlier, later in pairwise(changes)
              if later.account == earlier.account and later.action is earlier.action]
    return [f"{shared.count(change_id) + 1} changes would be {change_id} (live accounts share the "
            "name), which apply cannot tell apart: rename all but one in the console, or declare "
            "the one to keep with its `id`" for change_id in dict.fromkeys(shared)]


def _differences(
    both: Mapping[str, tuple[DesiredAccount, LiveAccount]], product: Sequence[Field[Any]],
) -> dict[str, tuple[Difference, ...]]:
    """The product's compared fields (not pictures) that differ, by prefix; one not declared is not."""
    fields = [(f, f.declared, f.live) for f in COMPARED
              if f in product and not f.picture and f.declared is not None and f.live is not None]
    # Flat values: `!=` says all there is, and deepdiff per row would cost ten times the plan.
    found = {}
    for prefix, (entry, account) in both.items():
        found[prefix] = tuple(
            Difference(f, now, value) for f, declared, live in fields
            if (value := getattr(entry, declared)) is not None
            and (now := getattr(account, live)) != value
        )
    return {p: differences for p, differences in found.items() if differences}


def _picture_difference(
    account: LiveAccount, avatar: DesiredAvatar | None, live: LiveState
) -> tuple[Difference | None, str | None]:
    """The avatar as a difference (live URL or None -> declared path), or why it is not compared."""
    if avatar is None:
        return None, None
    if not account.headimgurl:
        return Difference(AVATAR, None, avatar.path), None
    picture = live.pictures.get(account.headimgurl)
    if picture is None or picture.phash is None:
        why = picture.error if picture is not None and picture.error else "not downloaded"
        return None, f"{account.kf_account}: live avatar could not be read ({why}); left as it is"
    try:
        distance = hamming(picture.phash, avatar.phash)
    except ValueError as exc:  # e.g. a damaged picture cache entry
        return None, f"{account.kf_account}: live avatar cannot be compared ({exc}); left as it is"
    if distance <= SAME_PICTURE_BITS:
        return None, None
    return Difference(AVATAR, account.headimgurl, avatar.path), None


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
