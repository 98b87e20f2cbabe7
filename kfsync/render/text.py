"""The terminal renderers: a Terraform-like plan, apply progress lines and the apply report.

Every user-derived string goes through `visible`/`quoted`, so a nickname cannot
move the cursor, recolour the terminal or fake a line of the plan.  Colour is
added only when the caller asks for it (the CLI decides: terminal, NO_COLOR,
--no-color).
"""

from __future__ import annotations

from kfsync.apply import ApplyResult, Outcome
from kfsync.plan import Change, Plan
from kfsync.render.common import (
    COLORS,
    STATUS_COLORS,
    SYMBOLS,
    Entry,
    Escaping,
    apply_summary_line,
    colorize,
    dependencies,
    describe,
    entries,
    headline,
    notes,
    quoted,
    refusals,
    visible,
)

ESCAPING = Escaping(text=visible, value=quoted, name=visible)
_LABEL_WIDTH = len("set_avatar")
_INDENT = "  "
#: How `WeChatError` words its message; the progress line keeps only the code and its meaning.
def render_plan_text(plan: Plan, *, color: bool) -> str:
    """The plan as a reviewer reads it in a terminal, ending with its summary line."""
    lines: list[str] = []
    rows = entries(plan.changes)
    if rows:
        lines.append(f"kfsync will make these changes to {visible(plan.wechat_id)}:")
        lines.append("")
        for row in rows:
            lines.extend(_entry_lines(row, color))
        lines.append("")
    lines.extend(_sections(plan, color))
    lines.append(headline(plan))
    return "\n".join(lines) + "\n"


def _entry_lines(row: Entry, color: bool) -> list[str]:
    if not row.rebind:
        return [_change_line(row.changes[0], row.symbol, row.account, row.reason, color)]
    lines = [_line(row.symbol, row.label, row.account, [], row.reason, color)]
    lines.extend(
        _INDENT * 2 + _change_line(step, SYMBOLS[step.action], None, None, color)
        for step in row.changes
    )
    return lines


def _change_line(
    change: Change, symbol: str, account: str | None, reason: str | None, color: bool
) -> str:
    details = [describe(change, ESCAPING)]
    after = dependencies(change, visible)
    if after:
        details.append(f"({after})")
    return _line(symbol, change.action.value, account, details, reason, color)


def _line(
    symbol: str,
    label: str,
    account: str | None,
    details: list[str],
    reason: str | None,
    color: bool,
) -> str:
    """`  ~ update     bob@shop_cs  nickname "Bob" → "Bobby"  # nickname differs`."""
    head = " " * (3 - len(symbol)) + colorize(f"{symbol} {label}", COLORS[symbol], color)
    parts = [head + " " * (_LABEL_WIDTH - len(label))]
    if account is not None:
        parts[0] += " " + visible(account)
    parts.extend(d for d in details if d)
    line = "  ".join(parts).rstrip()
    return f"{line}  # {visible(reason)}" if reason else line


def _sections(plan: Plan, color: bool) -> list[str]:
    lines: list[str] = []
    for section in (*notes(plan, ESCAPING), refusals(plan, ESCAPING)):
        if not section.items:
            continue
        code = STATUS_COLORS["failed"] if section.title == "Refused" else None
        lines.append(colorize(section.title + ":", code, color))
        lines.extend(_INDENT + item for item in section.items)
        lines.append("")
    return lines


# --------------------------------------------------------------------------- apply


def progress_line(index: int, total: int, outcome: Outcome, color: bool) -> str:
    """`[3/7] add alice@shop_cs … ok (120 ms)`, or `… failed: …`, or `… skipped (why)`."""
    return f"[{index}/{total}] {_outcome_line(outcome, color)}"


def _outcome_line(outcome: Outcome, color: bool) -> str:
    change = outcome.change
    return f"{change.action.value} {visible(change.account)} … {_status(outcome, color)}"


def _status(outcome: Outcome, color: bool) -> str:
    if outcome.status == "done":
        details = [f"{outcome.duration_ms} ms"]
        if outcome.note:
            details.append(visible(outcome.note))
        return colorize("ok", STATUS_COLORS["ok"], color) + f" ({'; '.join(details)})"
    if outcome.status == "skipped":
        why = f" ({visible(outcome.message)})" if outcome.message else ""
        return colorize("skipped", STATUS_COLORS["skipped"], color) + why
    message = outcome.message or (f"errcode {outcome.errcode}" if outcome.errcode else "error")
    return colorize("failed", STATUS_COLORS["failed"], color) + ": " + visible(message)


def apply_summary(result: ApplyResult) -> str:
    """One line: `Apply complete: 1 added, …` or `Apply incomplete: …; 1 failed, 2 skipped`."""
    return apply_summary_line(result.counts(), result.complete)


def render_apply_text(result: ApplyResult, *, verify: Plan | None, color: bool = False) -> str:
    """What did not go through and why, the verification, then the summary line."""
    lines: list[str] = []
    for title, status in (("Failed:", "failed"), ("Skipped:", "skipped")):
        items = [o for o in result.outcomes if o.status == status]
        if items:
            lines.append(title)
            lines.extend(_INDENT + _outcome_line(o, color) for o in items)
    if result.stopped:
        lines.append(f"Stopped: {visible(result.stopped)}")
    if verify is not None:
        if lines:
            lines.append("")
        lines.extend(_verify_lines(verify, color))
    if lines:
        lines.append("")
    lines.append(apply_summary(result))
    return "\n".join(lines) + "\n"


def _verify_lines(verify: Plan, color: bool) -> list[str]:
    if verify.empty:
        return ["Verified: the live accounts match the configuration."]
    body = render_plan_text(verify, color=color).splitlines()
    return [
        "Not converged: planning again still finds changes:",
        *(_INDENT + line if line else line for line in body),
    ]
