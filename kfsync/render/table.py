"""The one renderer of the operations commands (accounts, online, session): aligned tables or JSON.

A table is aligned by terminal display width, not by `len`: wide and
full-width characters (CJK, most emoji) take two columns, combining marks and
zero-width formatting characters none.  Every cell goes through `visible`, so
a nickname cannot move the cursor or break a row.  Renderers return whole
documents ending with one newline; nothing here prints.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from kfsync.errors import UsageError
from kfsync.render.common import visible
from kfsync.textsafe import json_escapes

TABLE_FORMATS = ("text", "json")
#: Between two columns.
GAP = "  "
#: Shown for an empty cell, so that every row has a visible value in every column.
EMPTY = "-"
#: General categories that take no column: non-spacing and enclosing marks, and format
#: characters (zero-width joiner, variation selectors are Mn).
_ZERO_WIDTH = frozenset({"Mn", "Me", "Cf"})


def char_width(char: str) -> int:
    """How many terminal columns one character takes: 0, 1 or 2."""
    if unicodedata.combining(char) or unicodedata.category(char) in _ZERO_WIDTH:
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """How many terminal columns `text` takes."""
    return sum(char_width(char) for char in text)


@dataclass(frozen=True)
class Table:
    """Column titles, rows of cells (strings), and which columns align right (numbers)."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    right: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.headers):
                raise ValueError(f"row {row!r} has {len(row)} cells, expected {len(self.headers)}")


def render_table(table: Table) -> str:
    """The table, its columns aligned by display width; trailing blanks trimmed."""
    lines = [table.headers, *(tuple(visible(cell) or EMPTY for cell in row) for row in table.rows)]
    widths = [max(display_width(line[i]) for line in lines) for i in range(len(table.headers))]
    out = []
    for line in lines:
        cells = [_pad(cell, width, i in table.right) for i, (cell, width) in
                 enumerate(zip(line, widths, strict=True))]
        out.append(GAP.join(cells).rstrip())
    return "\n".join(out) + "\n"


def _pad(cell: str, width: int, right: bool) -> str:
    blanks = " " * (width - display_width(cell))
    return blanks + cell if right else cell + blanks


def render_json(document: Mapping[str, object]) -> str:
    """A JSON document, UTF-8 text as is (not `\\u` escapes), keys in the given order."""
    return json_escapes(json.dumps(document, ensure_ascii=False, indent=2)) + "\n"


def render_listing(fmt: str, table: Table, document: Mapping[str, object]) -> str:
    """`table` (format `text`) or `document` (`json`) as `--format` asks."""
    if fmt == "text":
        return render_table(table)
    if fmt == "json":
        return render_json(document)
    raise UsageError(f"unknown format {fmt!r}: use one of {', '.join(TABLE_FORMATS)}")


def cells(*values: object) -> tuple[str, ...]:
    """A row from any values: None and "" become empty cells, others their `str`."""
    return tuple("" if value is None else str(value) for value in values)
