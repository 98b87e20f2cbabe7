"""WeCom's planning rules: accounts named by their name, identified by their open_kfid.

A 微信客服 account is what customers see by its name, but WeCom knows it by the
open_kfid it assigned; names may repeat in a corp.  So a declared entry is the
live account it pins with `id`, else the one managed account of its name, else
the one of a name it had (`previously`); anything less certain is a refusal,
never a guess.  Accounts the app may not manage are left alone.  A rename and a
new avatar are one update call; who works an account (servicers) is a change of
its own; nothing is ever deleted and made again, since a new account is a new
open_kfid and breaks every contact link handed out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kfsync.model import (
    AVATAR,
    KF_ID,
    NAME,
    SERVICER_DEPARTMENTS,
    SERVICER_USERS,
    DesiredAccount,
    DesiredAvatar,
    Difference,
    Field,
    LiveAccount,
    list_moves,
)
from kfsync.plan import Action, Change, Expansion, Matching, Output
from kfsync.providers.wecom.errcodes import CONSOLE

#: Servicers named in a change's reason before the rest are counted.
_COUNTS = {2: "two", 3: "three"}


@dataclass(frozen=True)
class WeComRules:
    """The rules for the 微信客服 accounts of the corp whose CorpID is `scope`."""

    scope: str  #: the CorpID (`ww…`)
    #: an account's name, avatar and who works it
    fields: tuple[Field[Any], ...] = (NAME, AVATAR, SERVICER_USERS, SERVICER_DEPARTMENTS)
    #: no invitations and no avatar call of its own: a picture rides in the add or the update
    actions: tuple[Action, ...] = (Action.DELETE, Action.ADD, Action.UPDATE, Action.SERVICERS)

    def match(self, declared: Sequence[DesiredAccount], live: Sequence[LiveAccount]) -> Matching:
        managed: dict[str, list[LiveAccount]] = defaultdict(list)
        unmanaged: dict[str, list[LiveAccount]] = defaultdict(list)
        for account in sorted(live, key=_identity):  # so all below comes out in this order
            (unmanaged if account.manage_privilege is False else managed)[account.nickname].append(account)
        by_id = {a.kf_id: a for a in live if a.kf_id}
        pairs: dict[str, LiveAccount] = {}
        claims: dict[LiveAccount, list[str]] = defaultdict(list)  #: live account -> its entries
        #: open_kfids some entry names, paired or not: an ambiguous namesake is not "undeclared"
        touched: set[str] = set()
        refusals: list[str] = []
        blocked: set[str] = set()  #: entries refused: neither paired nor made
        for entry in sorted(declared, key=lambda e: e.prefix):
            found, refusal, named = _find(entry, by_id, managed, unmanaged)
            touched.update(named)
            if refusal is not None:
                refusals.append(refusal)
                blocked.add(entry.prefix)
            if found is not None:
                pairs[entry.prefix] = found
                claims[found].append(entry.prefix)
        for account, entries in sorted(claims.items(), key=lambda item: _identity(item[0])):
            if len(entries) > 1:
                refusals.append(
                    f"{_shown(account)} is claimed by {len(entries)} entries ({', '.join(entries)}); "
                    "an account is one entry: remove the others, or pin each with its own `id:`"
                )
        warnings = tuple(
            f"{_shown(account)} is not managed by this app; left alone"
            for accounts in unmanaged.values() for account in accounts
        )
        unclaimed = tuple(account for accounts in managed.values() for account in accounts
                          if account.kf_id not in touched)
        if not managed and any(e.present and not e.id and e.prefix not in pairs
                               and e.prefix not in blocked for e in declared):
            # WeCom lets an app add accounts only once the console has given it one (48002).
            refusals.append(
                "this app manages no 微信客服 account yet, and WeCom lets an app add accounts only "
                f"once it manages one: assign an account to the app in the console ({CONSOLE}), "
                "then plan again"
            )
        return Matching(pairs=pairs, unclaimed=unclaimed, warnings=warnings, refusals=tuple(refusals),
                        blocked=frozenset(blocked))

    def create(self, entry: DesiredAccount, avatar: DesiredAvatar | None, reason: str) -> list[Change]:
        if entry.id:  # pinned but not live: `match` refused it; kfsync never makes it again
            return []
        name = _name(entry)
        after = {NAME.name: name}
        if avatar is not None:  # the loader requires one; the provider refuses an add without
            after[AVATAR.name] = avatar.path
        changes = [Change(Action.ADD, name, None, after, reason)]
        before: dict[str, object] = {}
        wanted: dict[str, object] = {}
        adding = 0
        for field, declared in _declared_servicers(entry):
            if declared:
                before[field.name] = ()
                wanted[field.name] = declared
                adding += len(declared)
        if wanted:
            changes.append(Change(Action.SERVICERS, name, before, wanted,
                                  "servicers of a new account: " + _counted(adding, 0),
                                  (f"{Action.ADD.value}:{name}",)))
        return changes

    def delete(self, account: LiveAccount, reason: str) -> Change:
        return Change(Action.DELETE, account.nickname,
                      {KF_ID.name: account.kf_id, NAME.name: account.nickname}, None, reason)

    def expand(self, entry: DesiredAccount, avatar: DesiredAvatar | None, account: LiveAccount,
               differences: Sequence[Difference], now: int) -> Expansion:
        by_field = {d.field: d for d in differences}
        name = _name(entry)
        changes = []
        updated = [by_field[f] for f in (NAME, AVATAR) if f in by_field]
        if updated:
            changes.append(Change(
                Action.UPDATE, name,
                {KF_ID.name: account.kf_id, **{d.field.name: d.before for d in updated}},
                {KF_ID.name: account.kf_id, **{d.field.name: d.after for d in updated}},
                " and ".join(_why(d) for d in updated),
            ))
        before: dict[str, object] = {}
        after: dict[str, object] = {}
        adding = removing = 0
        for field in (SERVICER_USERS, SERVICER_DEPARTMENTS):
            difference = by_field.get(field)
            if difference is None:
                continue
            was = _texts(difference.before)
            wanted = _texts(difference.after)
            added, removed = list_moves(was, wanted)
            if not added and not removed:  # the same people, listed in another order
                continue
            before[field.name] = was
            after[field.name] = wanted
            adding += len(added)
            removing += len(removed)
        if after:
            changes.append(Change(Action.SERVICERS, name, {KF_ID.name: account.kf_id, **before},
                                  {KF_ID.name: account.kf_id, **after},
                                  "servicers differ: " + _counted(adding, removing)))
        return Expansion(tuple(changes))

    def outputs(self, present: Sequence[DesiredAccount]) -> tuple[Output, ...]:
        return tuple(Output(_name(entry), "contact_link", scene)
                     for entry in sorted(present, key=lambda e: e.prefix)
                     for scene in sorted(set(entry.scenes)))


def _find(
    entry: DesiredAccount,
    by_id: dict[str, LiveAccount],
    managed: dict[str, list[LiveAccount]],
    unmanaged: dict[str, list[LiveAccount]],
) -> tuple[LiveAccount | None, str | None, set[str]]:
    """The live account `entry` is, or why it cannot be said; and the open_kfids it names."""
    name = _name(entry)
    if entry.id:
        account = by_id.get(entry.id)
        if account is None:
            if not entry.present:  # a tombstone of an account already gone: nothing to do
                return None, None, set()
            return None, (f"{name}: id {entry.id} is not live; kfsync never re-creates a pinned "
                          "account: remove `id` to create a new one, or fix it"), set()
        if account.manage_privilege is False:
            return None, _not_ours(name, account), {entry.id}
        return account, None, {entry.id}
    for names in ((name,), entry.previously):
        found = [a for n in dict.fromkeys(names) for a in managed.get(n, ())]
        if len(found) == 1:
            return found[0], None, {str(found[0].kf_id)}
        if found:
            ids = sorted(str(a.kf_id) for a in found)
            counted = _COUNTS.get(len(found), str(len(found)))
            shared = " or ".join(sorted({a.nickname for a in found}))
            return None, (f"{name}: {counted} live accounts are named {shared} ({', '.join(ids)}): "
                          "pin one with `id:`"), set(ids)
        theirs = [a for n in dict.fromkeys(names) for a in unmanaged.get(n, ())]
        if theirs:
            return None, _not_ours(name, theirs[0]), {str(a.kf_id) for a in theirs}
    return None, None, set()


def _not_ours(name: str, account: LiveAccount) -> str:
    return (f"{name}: {_shown(account)} is not managed by this app; let the app manage it under "
            f"{CONSOLE}, or leave it out of the file")


def _name(entry: DesiredAccount) -> str:
    return entry.name or entry.prefix


def _shown(account: LiveAccount) -> str:
    return f"{account.nickname} ({account.kf_id})"


def _identity(account: LiveAccount) -> tuple[str, str]:
    return (account.nickname, account.kf_id or "")


def _declared_servicers(entry: DesiredAccount) -> Iterable[tuple[Field[Any], tuple[str, ...]]]:
    for field in (SERVICER_USERS, SERVICER_DEPARTMENTS):
        declared = field.wanted(entry)
        if isinstance(declared, tuple):
            yield field, declared


def _texts(value: object) -> tuple[str, ...]:
    """A servicer list from a difference: a live list not read counts as no one."""
    return tuple(str(v) for v in value) if isinstance(value, (tuple, list)) else ()


def _counted(adding: int, removing: int) -> str:
    """`2 to add, 1 to remove`: who they are, the change's lists say (and renderers show)."""
    return ", ".join(f"{count} to {verb}" for count, verb in ((adding, "add"), (removing, "remove"))
                     if count)


def _why(difference: Difference) -> str:
    if difference.field is NAME:
        return f"renamed from {difference.before}"
    return "no live avatar" if difference.before is None else "live avatar is a different picture"
