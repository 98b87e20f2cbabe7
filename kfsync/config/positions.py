"""Where things are in a config file: field paths, 1-based line and column, and problems placed there.

The YAML reader records a position for every key and value; the schema and
cross-field checks use them to place each `Problem` on the key or value it is
about, its message led by the field's dotted path.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from kfsync.errors import Problem
from kfsync.textsafe import visible

#: a place in the document: mapping keys and list indexes from the root
FieldPath = tuple[str | int, ...]

# The line breaks PyYAML counts, so that our positions agree with its marks.
LINE_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")


def printable(text: str) -> str:
    """`text` as is, or JSON-quoted if it holds anything that would break a one-line message."""
    return text if text.isprintable() else visible(json.dumps(text, ensure_ascii=False))


def dotted(path: FieldPath) -> str:
    """`("accounts", "alice", "nickname")` -> `accounts.alice.nickname`; indexes as `[1]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = printable(part) if part and "." not in part else json.dumps(part)
            out += f".{name}" if out else name
    return out


@dataclass
class Positions:
    """Where each key and value of a document is written (1-based line, column)."""

    keys: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    values: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    #: source text of unquoted scalars that did not load as text (for "quote it" hints)
    plain: dict[FieldPath, str] = field(default_factory=dict)

    def key(self, path: FieldPath) -> tuple[int, int]:
        """The position of the key naming `path`, else of the nearest enclosing key or value."""
        for end in range(len(path), 0, -1):
            found = self.keys.get(path[:end]) or self.values.get(path[:end])
            if found:
                return found
        return self.values.get((), (1, 1))

    def value(self, path: FieldPath) -> tuple[int, int]:
        """The position of the value at `path`, else as `key()`."""
        return self.values.get(path) or self.key(path)

    def problem(self, display: str, path: FieldPath, message: str, *, at_key: bool) -> Problem:
        """A Problem about `path`, placed on its key or its value, its message led by the field."""
        return field_problem(display, self.key(path) if at_key else self.value(path), path, message)


def field_problem(
    display: str, position: tuple[int, int], path: FieldPath, message: str
) -> Problem:
    field = dotted(path)
    return Problem(display, *position, f"{field}: {message}" if field else message, field)


def line_col(text: str, index: int) -> tuple[int, int]:
    """1-based line and column (in code points) of `text[index]`, counting breaks as YAML does."""
    line, start = 1, 0
    for match in LINE_BREAK.finditer(text, 0, index):
        line, start = line + 1, match.end()
    return line, index - start + 1
