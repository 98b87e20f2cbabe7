"""The Markdown renderer: layout, hostile strings made inert, and the size cap."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kfsync.plan import Action, Change, PendingInvite, Plan
from kfsync.render import render_plan, render_plan_markdown
from kfsync.render.markdown import MAX_CHARS, MAX_FIELD, marker, md_escape

ENTITY = re.compile(r"&#\d+;")
OUR_CODE_SPANS = re.compile(r"`(?:-/\+|\+|~|-|>)`")
HOSTILE = [
    "**bold**",
    "<img src=x onerror=alert(1)>",
    "@all",
    "a|b",
    "</details>",
    "[x](http://evil)",
    "`code` ``` fence",
    "line\n# heading\n- item",
    "<!-- kfsync:shop_cs -->",
    "_em_ ~~strike~~ :smile: &amp; &#60; \\*",
    "    indented",
    "www.evil.com https://evil.com a@b.com",
    "\r\n\u2028\u202e\x00",
    "!" + "[img](x)",
]


def assert_inert(escaped: str) -> None:
    """No Markdown or HTML can start here: only entities, letters, digits, spaces and non-ASCII."""
    bare = ENTITY.sub("", escaped)
    assert not set(bare) & set(string.punctuation), escaped
    assert not set(escaped) & {"\n", "\r", "\t"}
    for char in "@#":
        entity = f"&#{ord(char)};"
        assert entity not in escaped.replace(entity + "&#8288;", ""), "no mention, no issue link"
    assert not escaped.startswith(" ")
    assert not escaped.endswith(" ")
    assert "  " not in escaped


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_are_inert(text: str) -> None:
    assert_inert(md_escape(text))


@given(st.text())
def test_any_string_is_inert(text: str) -> None:
    assert_inert(md_escape(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Alice", "Alice"),
        ("小明 客服", "小明 客服"),
        ("a|b", "a&#124;b"),
        ("@all", "&#64;&#8288;all"),
        ("<b>", "&#60;b&#62;"),
        ("#1", "&#35;&#8288;1"),
        ("a\nb", "a&#92;x0ab"),
        (" a  b ", "&#32;a&#32;&#32;b&#32;"),
    ],
)
def test_md_escape(text: str, expected: str) -> None:
    assert md_escape(text) == expected


def test_long_strings_are_clipped() -> None:
    assert md_escape("x" * 10_000) == "x" * MAX_FIELD + "…"


def _hostile_plan() -> Plan:
    changes = []
    for index, nickname in enumerate(HOSTILE):
        account = f"u{index:02d}@shop_cs"
        changes += [
            Change(Action.UPDATE, account, {"nickname": "old"}, {"nickname": nickname}, nickname),
            Change(Action.DELETE, f"d{index:02d}@shop_cs", {"nickname": nickname}, None, nickname),
        ]
    return Plan(
        "shop_cs",
        tuple(sorted(changes, key=lambda c: c.sort_key)),
        unmanaged=tuple(f"{n}@shop_cs" for n in HOSTILE),
        pending_invites=tuple(PendingInvite(f"p{i}@shop_cs", n, 0) for i, n in enumerate(HOSTILE)),
        warnings=tuple(HOSTILE),
        refusals=tuple(HOSTILE),
    )


def test_hostile_plan_renders_inert() -> None:
    text = render_plan(_hostile_plan(), "markdown", color=False)
    assert "@" not in text
    assert text.count("</details>") == 1
    assert text.count("<details>") == 1
    assert text.count("<!--") == 1
    assert "<img" not in text
    assert "**bold**" not in text
    assert "](" not in text
    assert "`" not in OUR_CODE_SPANS.sub("", text)
    for line in text.splitlines():
        assert not line.startswith(("#", "    ")) or line.startswith("### ")
        if line.startswith("| "):
            assert line.count("|") == 6, line
    for nickname in HOSTILE:
        assert md_escape(nickname) in text


def test_layout(sample_plan: Plan) -> None:
    text = render_plan_markdown(sample_plan)
    lines = text.splitlines()
    assert lines[0] == "<!-- kfsync:shop_cs -->"
    assert lines[1] == (
        "**Plan: 2 to add, 1 to change, 2 to delete, 3 to invite, 2 avatars (1 rebind)** "
        "(shop&#95;cs)"
    )
    order = [
        "### Destructive changes", "<details>", "<summary>Other changes (6)</summary>",
        "</details>", "### Pending invitations", "### Unmanaged accounts", "### Warnings",
    ]
    positions = [lines.index(heading) for heading in order]
    assert positions == sorted(positions)
    destructive = lines[positions[0]:positions[1]]
    assert any("**delete** carol" in line for line in destructive)
    assert any("**rebind** dave" in line for line in destructive)
    table = lines[positions[1]:positions[3]]
    assert not any("carol" in line or "dave" in line for line in table)
    bob = (
        '| `~` | update | bob&#64;&#8288;shop&#95;cs | nickname "Bob" → "小明" '
        "| nickname differs |"
    )
    assert bob in table


def test_rebind_is_one_item_with_its_steps(sample_plan: Plan) -> None:
    lines = render_plan_markdown(sample_plan).splitlines()
    start = next(i for i, line in enumerate(lines) if "**rebind**" in line)
    assert lines[start] == (
        "- `-/+` **rebind** dave&#64;&#8288;shop&#95;cs — rebind from wx&#95;old to wx&#95;new"
    )
    assert lines[start + 1:start + 4] == [
        '  - `-` delete: nickname "Dave", kf&#95;wx "wx&#95;old"',
        '  - `+` add: nickname "Dave" (after delete&#58;dave&#64;&#8288;shop&#95;cs)',
        '  - `>` invite: invite&#95;wx "wx&#95;new" (after add&#58;dave&#64;&#8288;shop&#95;cs)',
    ]


def test_without_destructive_changes_the_table_is_just_changes() -> None:
    plan = Plan("shop_cs", (Change(Action.ADD, "a@shop_cs", None, {"nickname": "A"}, "new"),))
    text = render_plan_markdown(plan)
    assert "<summary>Changes (1)</summary>" in text
    assert "Destructive" not in text


def test_empty_plan(empty_plan: Plan) -> None:
    assert render_plan_markdown(empty_plan) == (
        "<!-- kfsync:shop_cs -->\n"
        "**No changes. The live accounts match the configuration.** (shop&#95;cs)\n"
    )


@pytest.mark.parametrize(
    ("wechat_id", "line"),
    [("shop_cs", "<!-- kfsync:shop_cs -->"), ("a-->b <x>", "<!-- kfsync:a--_b__x_ -->")],
)
def test_marker(wechat_id: str, line: str) -> None:
    assert marker(wechat_id) == line


# --------------------------------------------------------------------------- size cap


def _many(action: Action, count: int) -> Plan:
    def change(index: int) -> Change:
        account = f"agent{index:05d}@shop_cs"
        if action is Action.DELETE:
            before = {"nickname": f"客服 {index}", "kf_wx": "wx"}
            return Change(action, account, before, None, "tombstone")
        return Change(action, account, None, {"nickname": f"客服 {index}"}, "declared, not live")

    return Plan("shop_cs", tuple(change(i) for i in range(count)))


def _pointer_count(text: str, noun: str) -> int:
    pointer = rf"… (\d+) more {noun}; run `kfsync plan --format json` for the full plan"
    found = re.search(pointer, text)
    assert found, f"no pointer for {noun}"
    return int(found.group(1))


def test_ten_thousand_changes_fit(sample_plan: Plan) -> None:
    text = render_plan_markdown(_many(Action.ADD, 10_000))
    assert len(text) <= MAX_CHARS
    rows = [line for line in text.splitlines() if line.startswith("| `+`")]
    assert 100 < len(rows) < 10_000
    assert len(rows) + _pointer_count(text, "changes") == 10_000
    assert text.rstrip().endswith("</details>")
    assert text.startswith("<!-- kfsync:shop_cs -->\n**Plan: 10000 to add,")


def test_ten_thousand_deletes_fit() -> None:
    text = render_plan_markdown(_many(Action.DELETE, 10_000))
    assert len(text) <= MAX_CHARS
    items = [line for line in text.splitlines() if line.startswith("- `-` **delete**")]
    assert len(items) + _pointer_count(text, "destructive changes") == 10_000


def test_the_table_is_cut_before_other_sections() -> None:
    adds = _many(Action.ADD, 10_000)
    plan = Plan("shop_cs", adds.changes, unmanaged=tuple(f"u{i}@shop_cs" for i in range(50)))
    text = render_plan_markdown(plan)
    assert len(text) <= MAX_CHARS
    assert text.count(": not declared; policy unmanaged: report") == 50
    _pointer_count(text, "changes")


def test_every_section_is_cut_when_it_must_be() -> None:
    many = range(5_000)
    plan = Plan(
        "shop_cs",
        _many(Action.ADD, 5_000).changes,
        unmanaged=tuple(f"u{i}@shop_cs" for i in many),
        warnings=tuple(f"warning {i}: " + "w" * 100 for i in many),
        pending_invites=tuple(PendingInvite(f"p{i}@shop_cs", "wx", 0) for i in many),
    )
    text = render_plan_markdown(plan, limit=20_000)
    assert len(text) <= 20_000
    assert _pointer_count(text, "changes") == 5_000
    _pointer_count(text, "warnings")


def test_small_plans_are_not_cut(sample_plan: Plan) -> None:
    assert "more changes" not in render_plan_markdown(sample_plan)
