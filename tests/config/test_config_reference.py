"""The README's config reference is exactly what the schema generates."""

from __future__ import annotations

import json
from pathlib import Path

from kfsync.config.reference import END, START, reference_table
from kfsync.config.resources import schema_bytes

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_reference_matches_the_schema() -> None:
    text = README.read_text(encoding="utf-8")
    start, end = text.index(START), text.index(END) + len(END)
    assert text[start:end] == reference_table(), (
        "README's config reference is out of date: run `python -m kfsync.config.reference`"
    )


def test_reference_lists_every_schema_property() -> None:
    schema = json.loads(schema_bytes())
    table = reference_table()
    for key in schema["properties"]:
        assert f"| `{key}` |" in table
    assert "`accounts.PREFIX.nickname`" in table
    assert "&lt;wechat_id&gt;" in table  # no raw HTML in the rendered README
