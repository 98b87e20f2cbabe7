"""The terminal renderers: a Terraform-like plan, apply progress lines and the apply report.

Every user-derived string goes through `visible`/`quoted`, so a nickname cannot
move the cursor, recolour the terminal or fake a line of the plan.  Colour is
added only when the caller asks for it (the CLI decides: terminal, NO_COLOR,
--no-color).
"""

from __future__ import annotations

from collections.abc import Sequence

from kfsync.apply import ApplyResult, Outcome
from kfsync.plan import Change, Output, Plan
from kfsync.render.common import (
    COLORS,
    OUTPUTS_TITLE,
    STATUS_COLORS,
    SYMBOLS,
    Entry,
    Escaping,
    apply_summary_line,
    colorize,
    context,
    dependencies,
    describe,
    entries,
    headline,
    move_text,
    moves,
    notes,
    output_notes,
    output_text,
    outputs_in_order,
    quoted,
    refusals,
    visible,
)

ESCAPING = Escaping(text=visible, value=quoted, name=visible)
_LABEL_WIDTH = len("set_avatar")
_INDENT = "  "
#: Lines that say what a change adds to or removes from a list (servicers), under the change.
_MOVE_INDENT = _INDENT * 3


def render_plan_text(plan: Plan, *, color: bool) -> str:
    """The plan as a reviewer reads it in a terminal, ending with its summary line."""
    return "\n".join(_plan_lines(plan, color, outputs=True)) + "\n"


def _plan_lines(plan: Plan, color: bool, *, outputs: bool) -> list[str]:
    """The plan's lines; its outputs (each `(known after apply)`) only if `outputs`."""
    lines: list[str] = []
    rows = entries(plan.changes)
    if rows:
        lines.append(f"kfsync will make these changes to {visible(plan.wechat_id)}:")
        lines.append("")
        for row in rows:
            lines.extend(_entry_lines(row, color))
        lines.append("")
    if outputs:
        lines.extend(_output_lines(plan.outputs))
    lines.extend(_sections(plan, color))
    lines.append(headline(plan))
    return lines


def _entry_lines(row: Entry, color: bool) -> list[str]:
    if not row.rebind:
        change = row.changes[0]
        return [
            _change_line(change, row.symbol, _account(row.account, change), row.reason, color),
            *(_MOVE_INDENT + colorize(move_text(m, ESCAPING), COLORS[m.symbol], color)
              for m in moves(change)),
        ]
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
        parts[0] += " " + account
    parts.extend(d for d in details if d)
    line = "  ".join(parts).rstrip()
    return f"{line}  # {visible(reason)}" if reason else line


def _account(account: str, change: Change) -> str:
    """`售前咨询`, or with the id of the live account it is, `售后 (wkAJ2GCAAA…)`."""
    shown = context(change)
    return visible(account) + (f" ({visible(shown)})" if shown else "")


def _output_lines(outputs: Sequence[Output]) -> list[str]:
    """`Outputs:`, one line each, and what the reader should know about them."""
    if not outputs:
        return []
    return [
        f"{OUTPUTS_TITLE}:",
        *(_INDENT + output_text(o, ESCAPING) for o in outputs_in_order(outputs)),
        *output_notes(outputs),
        "",
    ]


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
    return apply_summary_line(result.counts(), result.complete, result.actions)


def render_apply_text(
    result: ApplyResult,
    *,
    verify: Plan | None,
    color: bool = False,
    outputs: Sequence[Output] = (),
    outputs_error: str | None = None,
) -> str:
    """What did not go through and why, the verification, the outputs, then the summary line.

    `outputs` are the values the provider handed out (e.g. contact links);
    `outputs_error` is why they could not be, shown as one line.
    """
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
    if outputs or outputs_error:
        if lines:
            lines.append("")
        lines.extend(_output_lines(outputs)[:-1] if outputs else [])
        if outputs_error:
            lines.append(colorize("Outputs not reported: ", STATUS_COLORS["failed"], color)
                         + visible(outputs_error))
    if lines:
        lines.append("")
    lines.append(apply_summary(result))
    return "\n".join(lines) + "\n"


def _verify_lines(verify: Plan, color: bool) -> list[str]:
    if verify.empty:
        return ["Verified: the live accounts match the configuration."]
    body = _plan_lines(verify, color, outputs=False)  # the report's outputs follow, with values
    return [
        "Not converged: planning again still finds changes:",
        *(_INDENT + line if line else line for line in body),
    ]
