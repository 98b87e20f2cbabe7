"""The Markdown renderer, for pull-request comments.

Layout: a hidden marker on the first line (`<!-- kfsync:<wechat_id> -->`, so CI
updates one comment), the summary line, refusals, destructive changes in their
own section (never collapsed), the other changes in a table inside
`<details>`, then pending invitations, unmanaged accounts and warnings.

Every user-derived string goes through `md_escape`: all ASCII punctuation
becomes an HTML entity, `@` and `#` are followed by a word joiner, controls are written
as visible escapes, so a nickname cannot format, link, mention, break the
table or close the `<details>` block.  The comment is kept under `MAX_CHARS`
by cutting rows, with a pointer to the JSON plan where rows were cut.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass

from kfsync.plan import Change, Plan
from kfsync.render.common import (
    SYMBOLS,
    Entry,
    Escaping,
    Section,
    dependencies,
    describe,
    entries,
    headline,
    more_line,
    notes,
    refusals,
    visible,
)
from kfsync.render.thumbnails import PictureUrl, thumbnails

#: GitHub refuses comments over 65,536 characters; stay well below.
MAX_CHARS = 60_000
#: Longest user-derived string shown, in characters before escaping (WeChat's limits are lower).
MAX_FIELD = 200

#: Every ASCII punctuation character as a numeric entity.  GitHub finds mentions and
#: issue references in the rendered text, after entities are decoded, so `@` and `#` are
#: also followed by U+2060 WORD JOINER: read the same, but mention and link nothing.
_ENTITIES = {ord(c): f"&#{ord(c)};" for c in string.punctuation} | {
    ord("@"): "&#64;&#8288;",
    ord("#"): "&#35;&#8288;",
}
#: Leading, trailing or repeated spaces, which Markdown would drop or read as indentation.
_SPACES = re.compile(r"^ | \Z|(?<= ) | (?= )")


def md_escape(text: str) -> str:
    """`text` made inert in Markdown and HTML, still reading the same once rendered."""
    if len(text) > MAX_FIELD:
        text = text[:MAX_FIELD] + "…"
    return _SPACES.sub("&#32;", visible(text).translate(_ENTITIES))


def _md_value(text: str) -> str:
    return '"' + md_escape(text) + '"'


ESCAPING = Escaping(text=md_escape, value=_md_value)


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

    def lines(self, keep: int) -> list[str]:
        lines = [*self.head, *self.rows[:keep]]
        if keep < len(self.rows):
            lines += ["", more_line(sum(self.weights[keep:]), self.noun)]
        return lines + list(self.tail)


def render_plan_markdown(
    plan: Plan, *, limit: int = MAX_CHARS, pictures: PictureUrl | None = None
) -> str:
    """The plan as a pull-request comment of at most `limit` characters (newline included).

    With `pictures`, avatar changes also show the live and the new picture (see `thumbnails`).
    """
    top = [marker(plan.wechat_id), f"**{headline(plan)}** ({md_escape(plan.wechat_id)})"]
    rows = entries(plan.changes)
    destructive = [r for r in rows if r.destructive]
    others = [r for r in rows if not r.destructive]
    destructive_section = Section(
        "Destructive changes",
        "destructive changes",
        tuple(_destructive_item(r, pictures) for r in destructive),
    )
    blocks = [
        _list_block(refusals(plan, ESCAPING)),
        _list_block(destructive_section, tuple(len(r.changes) for r in destructive)),
        _table_block(others, titled_other=bool(destructive), pictures=pictures),
        *(_list_block(section) for section in notes(plan, ESCAPING)),
    ]
    return _fit(top, [b for b in blocks if b.rows], limit - 1) + "\n"


def _list_block(section: Section, weights: tuple[int, ...] | None = None) -> _Block:
    return _Block(
        head=("", f"### {section.title}", ""),
        rows=tuple(f"- {item}" for item in section.items),
        weights=weights if weights is not None else (1,) * len(section.items),
        noun=section.noun,
    )


def _destructive_item(row: Entry, pictures: PictureUrl | None) -> str:
    label = f"`{row.symbol}` **{row.label}** {md_escape(row.account)}"
    if not row.rebind:
        return f"{label}: {_change_text(row.changes[0], pictures)} — {md_escape(row.reason)}"
    steps = [
        f"  - `{SYMBOLS[step.action]}` {step.action.value}: {_change_text(step, pictures)}"
        for step in row.changes
    ]
    return "\n".join([f"{label} — {md_escape(row.reason)}", *steps])


def _change_text(change: Change, pictures: PictureUrl | None) -> str:
    text = describe(change, ESCAPING)
    after = dependencies(change, md_escape)
    return (f"{text} ({after})" if after else text) + thumbnails(change, pictures)


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
            f"| `{r.symbol}` | {r.label} | {md_escape(r.account)} | "
            f"{_change_text(r.changes[0], pictures)} | {md_escape(r.reason)} |"
            for r in rows
        ),
        weights=tuple(len(r.changes) for r in rows),
        noun="changes",
        tail=("", "</details>"),
        cut_first=True,
    )


def _fit(top: list[str], blocks: list[_Block], limit: int) -> str:
    """Join the blocks, cutting rows (the table's first) until the text fits in `limit`."""
    sizes = [_Sizes(block) for block in blocks]
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
    for block, count in zip(blocks, keep, strict=True):
        lines.extend(block.lines(count))
    return "\n".join(lines)


class _Sizes:
    """The length a block adds to the comment for each number of rows kept, in O(1)."""

    def __init__(self, block: _Block) -> None:
        self.block = block
        self.fixed = sum(len(line) + 1 for line in (*block.head, *block.tail))
        self.prefix = [0]
        for row in block.rows:
            self.prefix.append(self.prefix[-1] + len(row) + 1)
        self.suffix_weight = [0] * (len(block.rows) + 1)
        for i in range(len(block.rows) - 1, -1, -1):
            self.suffix_weight[i] = self.suffix_weight[i + 1] + block.weights[i]

    def size(self, keep: int) -> int:
        pointer = 0
        if keep < len(self.block.rows):
            pointer = 1 + len(more_line(self.suffix_weight[keep], self.block.noun)) + 1
        return self.fixed + self.prefix[keep] + pointer
