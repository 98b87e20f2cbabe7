"""The operations table renderer: display widths (CJK, emoji, combining marks) and alignment."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import pytest

from kfsync.errors import UsageError
from kfsync.render.table import (
    Table,
    cells,
    char_width,
    display_width,
    render_listing,
    render_table,
)

Aligned = Callable[[str, Sequence[Sequence[str]], frozenset[int]], None]


@pytest.mark.parametrize(
    ("char", "width"),
    [
        ("a", 1),
        ("é", 1),
        ("小", 2),  # CJK ideograph: W
        ("Ａ", 2),  # full-width Latin: F
        ("😀", 2),  # emoji: W
        ("ｶ", 1),  # half-width katakana: H
        ("\u0301", 0),  # combining acute accent
        ("\u200d", 0),  # zero-width joiner (Cf)
        ("\ufe0f", 0),  # variation selector-16 (Mn)
    ],
)
def test_char_width(char: str, width: int) -> None:
    assert char_width(char) == width


@pytest.mark.parametrize(
    ("text", "width"),
    [("", 0), ("Bob", 3), ("小美", 4), ("陈师傅·售后", 11), ("Cafe\u0301", 4), ("客服😀", 6)],
)
def test_display_width(text: str, width: int) -> None:
    assert display_width(text) == width


def test_columns_line_up_by_display_width(ops_aligned: Aligned) -> None:
    rows = (cells("alice", "小美😀", 7), cells("bob", "Bob", 1234), cells("chen", "陈师傅·售后", 56))
    table = Table(("NAME", "NICKNAME", "N"), rows, right=frozenset({2}))
    ops_aligned(render_table(table), [table.headers, *rows], table.right)


def test_misaligned_columns_are_caught(ops_aligned: Aligned) -> None:
    # The checker itself: padding by len() instead of display width fails it.
    text = "NAME  N\n小美    1\n"
    with pytest.raises(AssertionError):
        ops_aligned(text, [("NAME", "N"), ("小美", "1")], frozenset())


def test_cells_are_made_visible_and_empty_ones_shown() -> None:
    table = Table(("A", "B", "C"), (cells("evil\x1b[31m\nrow", None, ""),))
    text = render_table(table)
    assert text.splitlines()[1].split() == ["evil\\x1b[31m\\x0arow", "-", "-"]
    assert "\x1b" not in text


def test_a_row_of_the_wrong_length_is_a_bug() -> None:
    with pytest.raises(ValueError, match="2 cells, expected 3"):
        Table(("A", "B", "C"), (("1", "2"),))


def test_listing_as_json_keeps_utf8() -> None:
    text = render_listing("json", Table(("A",), ()), {"nick": "小美"})
    assert text.endswith("\n")
    assert '"小美"' in text
    assert json.loads(text) == {"nick": "小美"}


def test_listing_refuses_an_unknown_format() -> None:
    with pytest.raises(UsageError, match="use one of text, json"):
        render_listing("yaml", Table(("A",), ()), {})
