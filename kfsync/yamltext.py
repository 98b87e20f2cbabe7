"""Writing kfsync.yaml by hand, line by line: scalars that read back as written, and comments.

The importers write their files as text rather than through `yaml.safe_dump`,
so that they can keep an order, put comments beside values and leave CJK as
it is.  What a live account holds is outside text: each value goes through
`scalar` (quoted when YAML would read it otherwise) and each comment through
`comment` (no line break can end it early).
"""

from __future__ import annotations

import json

#: The `$schema` an editor resolves next to the config; `kfsync import` writes it there.
SCHEMA_FILE = "kfsync.schema.json"
#: The column where a comment beside a value starts.
COMMENT_COLUMN = 30


def scalar(value: str) -> str:
    """`value` as one YAML scalar on one line: plain when safe, quoted when needed, CJK as is."""
    import yaml

    style = None if value.isprintable() else '"'
    text = yaml.safe_dump(value, allow_unicode=True, width=1 << 30, default_style=style)
    text = text.removesuffix("\n").removesuffix("\n...")
    if "\n" in text:  # a plain or single-quoted scalar folded at a line break
        text = yaml.safe_dump(value, allow_unicode=True, width=1 << 30, default_style='"').rstrip("\n")
    return text


def comment(text: str) -> str:
    """A comment can hold anything but a line break; any unprintable character becomes a space."""
    return "".join(char if char.isprintable() else " " for char in text)


def line(indent: int, body: str, note: str | None = None) -> str:
    """`body` indented, with `note` as a comment beside it at `COMMENT_COLUMN`."""
    text = " " * indent + body
    if note is None:
        return text
    return f"{text.ljust(COMMENT_COLUMN - 1)} # {comment(note)}"


def shown(text: str) -> str:
    """Text from the server, safe inside a one-line message or a YAML comment."""
    return text if text.isprintable() and text.strip() == text and text else json.dumps(text)


def file_header(about: list[str], schema_ref: str) -> list[str]:
    """The lines that open a written kfsync.yaml: the editor's `$schema`, `about`, `version: 1`.

    `about` are comment lines (each starting with `#`) that say what the file holds.
    """
    ref = comment(schema_ref)
    return [f"# yaml-language-server: $schema={ref}", "#", *about,
            f"# {ref} is `kfsync schema`, for editors; rewrite it after upgrading kfsync.",
            "version: 1"]


def policy_lines(key: str, keys: str, protected: str, protected_note: str) -> list[str]:
    """`policy:` with the defaults an import writes, and the other knobs as comments.

    `key` is what `--allow-delete` takes (NAME, PREFIX), `keys` what the entries are
    keyed by (names, prefixes); `protected` the example list, `protected_note` its comment.
    """
    return [
        "policy:",
        line(2, "unmanaged: report", "live accounts not declared below: report | ignore | delete"),
        line(2, "max_deletes: 1", f"more deletions in one apply need --allow-delete {key}"),
        line(2, f"# protected: [{protected}]", protected_note),
        line(2, '# ignore: ["temp*"]', f"{keys} kfsync never touches"),
    ]
