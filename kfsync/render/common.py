"""What every plan renderer shares: symbols, colours, display order, wording.

The text, JSON and Markdown renderers differ only in how they escape and lay
out; the words they use ("Plan: 1 to add, …"), the symbol of each action, the
order rows appear in, how a rebind is grouped, how a change is described and
what the notes sections say all live here, once.  Describing functions take
the renderer's `Escaping`, so that each applies its own quoting to
user-derived strings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kfsync.model import KF_ID, SERVICER_DEPARTMENTS, SERVICER_USERS, label, list_moves
from kfsync.plan import Action, Change, Output, Plan
from kfsync.textsafe import visible as visible  # re-exported: the renderers import it from here
from kfsync.timefmt import human

Escape = Callable[[str], str]


@dataclass(frozen=True)
class Escaping:
    """How a renderer makes user-derived strings safe: free text, and quoted values."""

    text: Escape
    value: Escape  #: must add its own quotes
    name: Escape = str  #: an account name or wechat id, shown bare


SYMBOLS: Mapping[Action, str] = {
    Action.ADD: "+",
    Action.UPDATE: "~",
    Action.SET_AVATAR: "~",
    Action.SERVICERS: "~",
    Action.DELETE: "-",
    Action.INVITE: ">",
}
REBIND_SYMBOL = "-/+"
REBIND_LABEL = "rebind"

#: ANSI SGR colour code of each symbol.
COLORS: Mapping[str, str] = {"+": "32", "~": "33", "-": "31", ">": "36", REBIND_SYMBOL: "35"}
STATUS_COLORS: Mapping[str, str] = {"ok": "32", "failed": "31", "skipped": "33"}

NO_CHANGES = "No changes. The live accounts match the configuration."
UNMANAGED_NOTE = "not declared; policy unmanaged: report"
OUTPUTS_TITLE = "Outputs"
KNOWN_AFTER_APPLY = "(known after apply)"
#: What a reader of the outputs should know about each kind, once under the list.
OUTPUT_NOTES: Mapping[str, str] = {
    "contact_link": "A contact link cannot be deleted through the API: a scene removed from the "
                    "file is only dropped from this report.",
}


def colorize(text: str, code: str | None, color: bool) -> str:
    """`text` in an ANSI colour when `color` is on (and a code is given)."""
    if not color or not code:
        return text
    return f"\x1b[{code}m{text}\x1b[0m"


def quoted(text: str) -> str:
    """`text` in double quotes, unambiguous: quotes, backslashes and unsafe characters escaped."""
    body = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + visible(body) + '"'


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"


# --------------------------------------------------------------------------- wording


def _names(actions: Sequence[Action] | None, action: Action, count: int) -> bool:
    """Whether a summary names `action`: the product plans it, or (not said) as ever, or it is there."""
    if count:
        return True
    if actions is None:
        return action is not Action.SERVICERS
    return action in actions


def plan_summary_line(summary: Mapping[str, int], actions: Sequence[Action] | None = None) -> str:
    """`Plan: 1 to add, 2 to change, 0 to delete, 1 to invite, 1 avatar` (+ rebinds).

    Only the kinds of change the product plans (`actions`, `Plan.actions`) are named:
    a WeCom plan has servicers, and neither invitations nor avatar calls.
    """
    line = (
        f"Plan: {summary['add']} to add, {summary['change']} to change, "
        f"{summary['delete']} to delete"
    )
    if _names(actions, Action.INVITE, summary["invite"]):
        line += f", {summary['invite']} to invite"
    if _names(actions, Action.SET_AVATAR, summary["avatar"]):
        line += f", {plural(summary['avatar'], 'avatar')}"
    servicers = summary.get("servicers", 0)  # only plans of providers with servicers have it
    if _names(actions, Action.SERVICERS, servicers):
        line += f", {plural(servicers, 'servicer change')}"
    rebinds = summary.get("rebind", 0)
    if rebinds:
        line += f" ({plural(rebinds, 'rebind')})"
    return line


def headline(plan: Plan) -> str:
    """The one line that sums a plan up: its counts, or that there is nothing to do."""
    return NO_CHANGES if plan.empty else plan_summary_line(plan.summary(), plan.actions)


def apply_summary_line(counts: Mapping[str, int], complete: bool,
                       actions: Sequence[Action] | None = None) -> str:
    """`Apply complete: 1 added, …, 1 avatar set`; when incomplete, `…; 1 failed, 2 skipped`.

    Like the plan's line, it names only the kinds of change the product plans (`actions`).
    """
    done = f"{counts['added']} added, {counts['updated']} updated, {counts['deleted']} deleted"
    if _names(actions, Action.INVITE, counts["invited"]):
        done += f", {counts['invited']} invited"
    if _names(actions, Action.SET_AVATAR, counts["avatars"]):
        done += f", {plural(counts['avatars'], 'avatar')} set"
    if "servicers" in counts or _names(actions, Action.SERVICERS, 0):
        done += f", {plural(counts.get('servicers', 0), 'servicer change')} made"
    if complete:
        return f"Apply complete: {done}"
    return f"Apply incomplete: {done}; {counts['failed']} failed, {counts['skipped']} skipped"


def more_line(count: int, noun: str, where: str) -> str:
    """The pointer shown where a renderer cut a list short, saying `where` the rest is."""
    return f"… {count} more {noun}; {where}"


# --------------------------------------------------------------------------- order


@dataclass(frozen=True)
class Entry:
    """One row of a rendered plan: a single change, or the steps of one rebind."""

    account: str
    changes: tuple[Change, ...]

    @property
    def rebind(self) -> bool:
        return self.changes[0].rebind

    @property
    def symbol(self) -> str:
        return REBIND_SYMBOL if self.rebind else SYMBOLS[self.changes[0].action]

    @property
    def label(self) -> str:
        return REBIND_LABEL if self.rebind else self.changes[0].action.value

    @property
    def destructive(self) -> bool:
        return any(c.destructive for c in self.changes)

    @property
    def reason(self) -> str:
        """The rebind's own reason sits on its delete; the other steps just say "rebind"."""
        head = next((c for c in self.changes if c.action is Action.DELETE), self.changes[0])
        return head.reason


def display_key(change: Change) -> tuple[str, tuple[int, str]]:
    """The one order plans are shown in: by account, then in apply order."""
    return (change.account, change.sort_key)


def entries(changes: Iterable[Change]) -> tuple[Entry, ...]:
    """The rows to show, in display order, each rebind folded into one entry."""
    rows: list[Entry] = []
    rebinds: dict[str, list[Change]] = {}
    for change in sorted(changes, key=display_key):
        if change.rebind:
            if change.account not in rebinds:
                rebinds[change.account] = []
                rows.append(Entry(change.account, ()))
            rebinds[change.account].append(change)
        else:
            rows.append(Entry(change.account, (change,)))
    return tuple(
        Entry(row.account, tuple(rebinds[row.account])) if not row.changes else row
        for row in rows
    )


# --------------------------------------------------------------------------- describing


def describe(change: Change, escaping: Escaping) -> str:
    """What the change does to its fields: `nickname "Bob" → "Bobby"`, `avatar "a.jpg"`.

    The id of the live account (`context`) and the lists a change sets (`moves`)
    are shown apart, so they are left out here.
    """
    key = escaping.text

    def value(raw: Any) -> str:
        if isinstance(raw, tuple):
            return "(" + ", ".join(escaping.value(item) for item in raw) + ")"
        return "(none)" if raw is None else escaping.value(str(raw))

    if change.before is not None and change.after is not None:
        before = change.before
        parts = [
            f"{key(label(name))} {value(new)}"
            if before.get(name) == new
            else f"{key(label(name))} {value(before.get(name))} → {value(new)}"
            for name, new in change.after.items()
            if name != KF_ID.name and not isinstance(new, tuple)
        ]
    else:
        side = change.after if change.after is not None else change.before
        parts = [f"{key(label(name))} {value(v)}" for name, v in (side or {}).items()
                 if v is not None and name != KF_ID.name
                 and not (change.after is not None and isinstance(v, tuple))]
    return ", ".join(parts)


def context(change: Change) -> str | None:
    """The id of the live account the change acts on, when the account is not named by it.

    It is what tells apart two accounts of one name (WeCom's open_kfid): shown
    once beside the account, never as a field that changes.
    """
    for side in (change.before, change.after):
        found = side.get(KF_ID.name) if side is not None else None
        if isinstance(found, str) and found:
            return found
    return None


#: How one item of each list field is called: `+ user zhangsan`, `- department 2`.
_ITEM: Mapping[str, str] = {SERVICER_USERS.name: "user", SERVICER_DEPARTMENTS.name: "department"}


@dataclass(frozen=True)
class Move:
    """One item a change adds to or removes from a list field, e.g. a servicer."""

    symbol: str  #: "+" or "-"
    noun: str  #: "user", "department"
    item: str


def moves(change: Change) -> tuple[Move, ...]:
    """What the change adds to and removes from each list it sets, field by field, adds first.

    A list the live account does not have yet (a new account's servicers) is all added.
    """
    found: list[Move] = []
    before = change.before
    for name, new in (change.after or {}).items():
        if not isinstance(new, tuple):
            continue
        old = before.get(name) if before is not None else None
        now = old if isinstance(old, tuple) else ()
        noun = _ITEM.get(name) or label(name)
        added, removed = list_moves(now, new)  # in the lists' order: departments by number
        found += [Move("+", noun, item) for item in added]
        found += [Move("-", noun, item) for item in removed]
    return tuple(found)


def move_text(move: Move, escaping: Escaping) -> str:
    """`+ user zhangsan`: the item as a name (bare in a terminal, a code span in Markdown)."""
    return f"{move.symbol} {escaping.text(move.noun)} {escaping.name(move.item)}"


#: What each kind of change a change waits for has done, in words.
_DONE: Mapping[Action, str] = {
    Action.DELETE: "{} is deleted",
    Action.ADD: "{} is added",
    Action.UPDATE: "{} is updated",
    Action.SET_AVATAR: "{}'s avatar is set",
    Action.SERVICERS: "{}'s servicers are set",
    Action.INVITE: "{} is invited",
}


def dependencies(change: Change, name: Escape) -> str:
    """`after alice is added`, or "" when the change waits for nothing."""
    if not change.depends_on:
        return ""
    return "after " + " and ".join(_done(d, change.account, name) for d in change.depends_on)


def _done(change_id: str, account: str, name: Escape) -> str:
    """`alice is added` for `add:alice@shop_cs`: the prefix alone within one Official Account."""
    action, _, other = change_id.partition(":")
    if action not in {a.value for a in Action} or not other:
        return name(change_id)  # a saved plan written by something else
    prefix, at, suffix = other.partition("@")
    shown = prefix if at and prefix and account.endswith("@" + suffix) else other
    return _DONE[Action(action)].format(name(shown))


# --------------------------------------------------------------------------- notes


@dataclass(frozen=True)
class Section:
    """A titled list of what the reviewer should know besides the changes."""

    title: str
    noun: str  #: for "… N more <noun>"
    items: tuple[str, ...]


def refusals(plan: Plan, escaping: Escaping) -> Section:
    return Section("Refused", "refusals", tuple(escaping.text(r) for r in plan.refusals))


def notes(plan: Plan, escaping: Escaping) -> tuple[Section, ...]:
    """Pending invitations, unmanaged accounts and warnings, in that order."""
    text, value = escaping.text, escaping.value
    pending = tuple(
        f"{escaping.name(p.account)}: invitation to {value(p.invite_wx)} pending until "
        f"{human(p.expires)}"
        for p in plan.pending_invites
    )
    unmanaged = tuple(f"{escaping.name(a)}: {UNMANAGED_NOTE}" for a in plan.unmanaged)
    return (
        Section("Pending invitations", "pending invitations", pending),
        Section("Unmanaged accounts", "unmanaged accounts", unmanaged),
        Section("Warnings", "warnings", tuple(text(w) for w in plan.warnings)),
    )


# --------------------------------------------------------------------------- outputs


def outputs_in_order(outputs: Iterable[Output]) -> tuple[Output, ...]:
    """The outputs by account, as the changes are shown; each account's in the order declared."""
    return tuple(sorted(outputs, key=lambda o: o.account))


def output_text(output: Output, escaping: Escaping) -> str:
    """`售前咨询: contact_link "wechat_menu" = (known after apply)`, or `= "https://…"`."""
    value = KNOWN_AFTER_APPLY if output.value is None else escaping.value(output.value)
    kind, key = escaping.text(output.kind), escaping.value(output.key)
    return f"{escaping.name(output.account)}: {kind} {key} = {value}"


def output_notes(outputs: Iterable[Output]) -> tuple[str, ...]:
    """The notes on the kinds of outputs listed (e.g. contact links cannot be deleted), once each."""
    kinds = dict.fromkeys(o.kind for o in outputs)
    return tuple(OUTPUT_NOTES[kind] for kind in kinds if kind in OUTPUT_NOTES)
