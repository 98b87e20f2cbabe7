"""The Markdown renderer, for pull-request comments.

Layout: a hidden marker on the first line (`<!-- kfsync:<wechat_id> -->`, so CI
updates one comment), a refusal if any (once, as a caution alert), the
summary line, destructive changes in their own section (never collapsed), the
other changes in a table inside `<details>`, the outputs apply will report
(e.g. contact links), then pending invitations, unmanaged accounts and warnings.

Every user-derived string goes through `kfsync.render.mdescape`: names and
values become code spans, which copy exactly and cannot format, link,
mention, break the table or close the `<details>` block.  The comment is kept
under `MAX_CHARS` by cutting rows, with a pointer to where the full plan is
(`FullPlan`, which the command works out from the CI environment).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from kfsync.plan import Change, Output, Plan
from kfsync.render.common import (
    OUTPUTS_TITLE,
    SYMBOLS,
    Entry,
    Escaping,
    Section,
    context,
    dependencies,
    describe,
    entries,
    headline,
    more_line,
    move_text,
    moves,
    notes,
    output_notes,
    output_text,
    outputs_in_order,
)
from kfsync.render.mdescape import md_code, md_text
from kfsync.render.thumbnails import PictureUrl, thumbnails

#: GitHub refuses comments over 65,536 characters; stay well below.
MAX_CHARS = 60_000
#: Refusals listed at the top at most; the rest are counted.
MAX_REFUSALS = 20
#: Servicers added or removed shown in one change at most; the rest are counted.
MAX_MOVES = 20

ESCAPING = Escaping(text=md_text, value=md_code, name=md_code)
_IN_TABLE = Escaping(
    text=lambda text: md_text(text, in_table=True),
    value=lambda text: md_code(text, in_table=True),
    name=lambda text: md_code(text, in_table=True),
)
#: A URL we link to: http(s), and nothing Markdown's `<...>` link destination cannot hold.
_SAFE_URL = re.compile(r"https?://[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+")


@dataclass(frozen=True)
class FullPlan:
    """Where a reader finds the whole plan when the comment is cut."""

    where: str  #: words: "the step summary and artifacts of this workflow run"
    url: str = ""  #: a link to it, when there is one


def full_plan_pointer(full_plan: FullPlan | None) -> str:
    """`the full plan is in [the artifacts of this job](…)`; run it locally when nowhere else."""
    if full_plan is None:
        return "run `kfsync plan` for the full plan"
    where = full_plan.where.replace("[", "(").replace("]", ")")
    if _SAFE_URL.fullmatch(full_plan.url):
        where = f"[{where}](<{full_plan.url}>)"
    return f"the full plan is in {where}"


def marker(wechat_id: str) -> str:
    """The hidden first line CI looks for to update its one comment."""
    return f"<!-- kfsync:{re.sub(r'[^A-Za-z0-9_.-]', '_', wechat_id)} -->"


@dataclass(frozen=True)
class _Block:
    """A section whose rows may be cut to fit, with a pointer saying how many were."""

    head: tuple[str, ...]
    rows: tuple[str, ...]
    weights: tuple[int, ...]  #: how many items each row stands for
    noun: str
    tail: tuple[str, ...] = ()
    cut_first: bool = False


def render_plan_markdown(
    plan: Plan,
    *,
    limit: int = MAX_CHARS,
    refused: str = "",
    full_plan: FullPlan | None = None,
    pictures: PictureUrl | None = None,
) -> str:
    """The plan as a pull-request comment of at most `limit` characters (newline included).

    `refused` is why a safety rule refused the plan, when the plan's own refusals do not
    say it already; `full_plan` is where to send the reader when rows had to be cut. With
    `pictures`, avatar changes also show the live and the new picture (see `thumbnails`).
    """
    pointer = full_plan_pointer(full_plan)
    reasons = plan.refusals or ((refused,) if refused else ())
    top = [marker(plan.wechat_id), *_refusal(reasons, pointer)]
    top.append(f"**{headline(plan)}** ({md_code(plan.wechat_id)})")
    rows = entries(plan.changes)
    destructive = [r for r in rows if r.destructive]
    others = [r for r in rows if not r.destructive]
    destructive_section = Section(
        "Destructive changes",
        "destructive changes",
        tuple(_destructive_item(r, pictures) for r in destructive),
    )
    blocks = [
        _list_block(destructive_section, tuple(len(r.changes) for r in destructive)),
        _table_block(others, titled_other=bool(destructive), pictures=pictures),
        _outputs_block(plan.outputs),
        *(_list_block(section) for section in notes(plan, ESCAPING)),
    ]
    return _fit(top, [b for b in blocks if b.rows], limit - 1, pointer) + "\n"


def _refusal(reasons: Sequence[str], pointer: str) -> list[str]:
    """A caution alert at the very top: the reviewer reads first that nothing can be applied."""
    if not reasons:
        return []
    lines = ["", "> [!CAUTION]", "> **Refused.** kfsync will not apply this plan:"]
    lines += [f"> - {md_text(reason)}" for reason in reasons[:MAX_REFUSALS]]
    if len(reasons) > MAX_REFUSALS:
        lines += [">", f"> {more_line(len(reasons) - MAX_REFUSALS, 'refusals', pointer)}"]
    return [*lines, ""]


def _list_block(section: Section, weights: tuple[int, ...] | None = None) -> _Block:
    return _Block(
        head=("", f"### {section.title}", ""),
        rows=tuple(f"- {item}" for item in section.items),
        weights=weights if weights is not None else (1,) * len(section.items),
        noun=section.noun,
    )


def _outputs_block(outputs: Sequence[Output]) -> _Block:
    """What apply will report, each `known after apply`, and what to know about them."""
    said = output_notes(outputs)
    return _Block(
        head=("", f"### {OUTPUTS_TITLE}", ""),
        rows=tuple(f"- {output_text(o, ESCAPING)}" for o in outputs_in_order(outputs)),
        weights=(1,) * len(outputs),
        noun="outputs",
        tail=("", *(md_text(note) for note in said)) if said else (),
    )


def _account(account: str, change: Change, escaping: Escaping) -> str:
    """`` `售前咨询` ``, or with the id of the live account it is, `` `售后` (`wkAJ2…`) ``."""
    shown = context(change)
    return escaping.name(account) + (f" ({escaping.name(shown)})" if shown else "")


def _destructive_item(row: Entry, pictures: PictureUrl | None) -> str:
    label = f"`{row.symbol}` **{row.label}** {_account(row.account, row.changes[0], ESCAPING)}"
    if not row.rebind:
        first = _change_text(row.changes[0], ESCAPING, pictures)
        return f"{label}: {first} — {md_text(row.reason)}"
    steps = [
        f"  - `{SYMBOLS[step.action]}` {step.action.value}: "
        f"{_change_text(step, ESCAPING, pictures)}"
        for step in row.changes
    ]
    return "\n".join([f"{label} — {md_text(row.reason)}", *steps])


def _change_text(change: Change, escaping: Escaping, pictures: PictureUrl | None) -> str:
    text = ", ".join(part for part in (describe(change, escaping), _moves_text(change, escaping))
                     if part)
    after = dependencies(change, escaping.name)
    if after:
        text = f"{text} ({after})" if text else f"({after})"
    return text + thumbnails(change, pictures)


def _moves_text(change: Change, escaping: Escaping) -> str:
    """`+ user `zhangsan`, - department `2``: at most `MAX_MOVES`, the rest counted."""
    found = moves(change)
    shown = ", ".join(move_text(m, escaping) for m in found[:MAX_MOVES])
    more = len(found) - MAX_MOVES
    return f"{shown} and {more} more" if more > 0 else shown


def _table_block(rows: Sequence[Entry], *, titled_other: bool, pictures: PictureUrl | None) -> _Block:
    title = "Other changes" if titled_other else "Changes"
    return _Block(
        head=(
            "",
            "<details>",
            f"<summary>{title} ({sum(len(r.changes) for r in rows)})</summary>",
            "",
            "| | Action | Account | Change | Reason |",
            "| --- | --- | --- | --- | --- |",
        ),
        rows=tuple(
            f"| `{r.symbol}` | {r.label} | {_account(r.account, r.changes[0], _IN_TABLE)} | "
            f"{_change_text(r.changes[0], _IN_TABLE, pictures)} | {_IN_TABLE.text(r.reason)} |"
            for r in rows
        ),
        weights=tuple(len(r.changes) for r in rows),
        noun="changes",
        tail=("", "</details>"),
        cut_first=True,
    )


def _fit(top: list[str], blocks: list[_Block], limit: int, pointer: str) -> str:
    """Join the blocks, cutting rows (the table's first) until the text fits in `limit`."""
    sizes = [_Sizes(block, pointer) for block in blocks]
    keep = [len(block.rows) for block in blocks]
    total = sum(len(line) + 1 for line in top) - 1 + sum(s.size(len(s.block.rows)) for s in sizes)
    order = sorted(range(len(blocks)), key=lambda i: (not blocks[i].cut_first, -i))
    for index in order:
        if total <= limit:
            break
        measure = sizes[index]
        full = measure.size(keep[index])
        count = keep[index]
        while count > 0 and total - full + measure.size(count) > limit:
            count -= 1
        total += measure.size(count) - full
        keep[index] = count
    lines = list(top)
    for measure, count in zip(sizes, keep, strict=True):
        lines.extend(measure.lines(count))
    return "\n".join(lines)


class _Sizes:
    """The length a block adds to the comment for each number of rows kept, in O(1)."""

    def __init__(self, block: _Block, pointer: str) -> None:
        self.block = block
        self.pointer = pointer
        self.fixed = sum(len(line) + 1 for line in (*block.head, *block.tail))
        self.prefix = [0]
        for row in block.rows:
            self.prefix.append(self.prefix[-1] + len(row) + 1)
        self.suffix_weight = [0] * (len(block.rows) + 1)
        for i in range(len(block.rows) - 1, -1, -1):
            self.suffix_weight[i] = self.suffix_weight[i + 1] + block.weights[i]

    def more(self, keep: int) -> str:
        """The line that says how many rows were cut and where they are, "" if none was."""
        if keep == len(self.block.rows):
            return ""
        return more_line(self.suffix_weight[keep], self.block.noun, self.pointer)

    def size(self, keep: int) -> int:
        more = self.more(keep)
        return self.fixed + self.prefix[keep] + (len(more) + 2 if more else 0)

    def lines(self, keep: int) -> list[str]:
        block, more = self.block, self.more(keep)
        return [*block.head, *block.rows[:keep], *(["", more] if more else []), *block.tail]
