"""What every plan renderer shares: symbols, colours, display order, wording.

The text, JSON and Markdown renderers differ only in how they escape and lay
out; the words they use ("Plan: 1 to add, …"), the symbol of each action, the
order rows appear in, how a rebind is grouped, how a change is described and
what the notes sections say all live here, once.  Describing functions take
the renderer's `Escaping`, so that each applies its own quoting to
user-derived strings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kfsync.model import label
from kfsync.plan import Action, Change, Plan
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


def plan_summary_line(summary: Mapping[str, int]) -> str:
    """`Plan: 1 to add, 2 to change, 0 to delete, 1 to invite, 1 avatar` (+ rebinds)."""
    line = (
        f"Plan: {summary['add']} to add, {summary['change']} to change, "
        f"{summary['delete']} to delete, {summary['invite']} to invite, "
        f"{plural(summary['avatar'], 'avatar')}"
    )
    rebinds = summary.get("rebind", 0)
    if rebinds:
        line += f" ({plural(rebinds, 'rebind')})"
    return line


def headline(plan: Plan) -> str:
    """The one line that sums a plan up: its counts, or that there is nothing to do."""
    return NO_CHANGES if plan.empty else plan_summary_line(plan.summary())


def apply_summary_line(counts: Mapping[str, int], complete: bool) -> str:
    """`Apply complete: 1 added, …, 1 avatar set`; when incomplete, `…; 1 failed, 2 skipped`."""
    done = (
        f"{counts['added']} added, {counts['updated']} updated, {counts['deleted']} deleted, "
        f"{counts['invited']} invited, {plural(counts['avatars'], 'avatar')} set"
    )
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
    """What the change does to its fields: `nickname "Bob" → "Bobby"`, `avatar "a.jpg"`."""
    key = escaping.text

    def value(raw: Any) -> str:
        return "(none)" if raw is None else escaping.value(str(raw))

    if change.before is not None and change.after is not None:
        before = change.before
        parts = [
            f"{key(label(name))} {value(new)}"
            if before.get(name) == new
            else f"{key(label(name))} {value(before.get(name))} → {value(new)}"
            for name, new in change.after.items()
        ]
    else:
        side = change.after if change.after is not None else change.before
        parts = [f"{key(label(name))} {value(v)}" for name, v in (side or {}).items()
                 if v is not None]
    return ", ".join(parts)


#: What each kind of change a change waits for has done, in words.
_DONE: Mapping[Action, str] = {
    Action.DELETE: "{} is deleted",
    Action.ADD: "{} is added",
    Action.UPDATE: "{} is updated",
    Action.SET_AVATAR: "{}'s avatar is set",
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
