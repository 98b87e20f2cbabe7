"""The Markdown renderer: layout, hostile strings inert and copyable, the size cap.

Checked on GitHub's own renderer (cmark-gfm, see tests/helpers/gfm.py): what
the HTML holds, not only what the Markdown looks like.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kfsync.plan import Action, Change, PendingInvite, Plan
from kfsync.render import render_plan, render_plan_markdown
from kfsync.render.common import visible
from kfsync.render.markdown import (
    MAX_CHARS,
    MAX_REFUSALS,
    FullPlan,
    full_plan_pointer,
    marker,
)
from kfsync.render.mdescape import MAX_FIELD, md_code, md_text
from tests.helpers.gfm import Rendered, assert_inert_comment

HOSTILE = [
    "@everyone",
    "@all 注意",
    "#1",
    "GH-12 a5c3785ed8d6a35868bc169f07e40e889087fd2e",
    "<img src=x onerror=alert(1)>",
    "[x](http://evil)",
    "!" + "[img](http://evil/x.png)",
    "http://evil.example",
    "www.evil.com a@b.com",
    "`x`",
    "`code` ``` fence",
    "``",
    "|",
    "a | b",
    "*_~",
    "**bold** _em_ ~~strike~~ :smile: :+1:",
    "&amp; &#60; \\*",
    "</details>",
    "<!-- kfsync:shop_cs -->",
    "    indented",
    " lead and trail ",
    "a  b",
    "\u202eevil\u202c",
    "zero\u200bwidth\u2060join\ufeff",
    "😀 👍🏽 客服小美",
    "小明",
    "line\n# heading\n- item",
    "\r\n\u2028\x00\x1b[31m",
    "\\",
    "- item",
    "1. item",
    "> quote",
    "| --- | --- |",
]


def _copied(markdown: str) -> str:
    """What a reader copies from the rendered Markdown, all of it."""
    return Rendered.of(markdown).text


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("in_table", [False, True])
def test_a_code_span_copies_exactly_and_does_nothing(text: str, in_table: bool) -> None:
    markdown = f"| a |\n| - |\n| {md_code(text, in_table=True)} |\n" if in_table else (
        f"- {md_code(text)}\n")
    rendered = Rendered.of(markdown)
    assert rendered.codes == [visible(text)]
    assert set(rendered.elements) <= {"ul", "li", "code", "table", "thead", "tbody", "tr", "th",
                                      "td"}
    assert rendered.rows in ([], [1, 1])
    assert not rendered.links


def test_only_what_cannot_be_held_is_written_visibly() -> None:
    span = md_code("a\nb\u202e")
    assert _copied(f"- {span}\n").strip() == "a\\x0ab\\u202e"
    assert md_code("") == "(empty)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Alice", "`Alice`"),
        ("`x`", "`` `x` ``"),
        ("a``b", "```a``b```"),
        (" a", "`  a `"),
        ("  ", "`  `"),
        ("a|b", "`a|b`"),
    ],
)
def test_the_fence_and_padding(text: str, expected: str) -> None:
    assert md_code(text) == expected


def test_in_a_table_a_bar_is_escaped() -> None:
    assert md_code("a|b", in_table=True) == "`a\\|b`"


@given(st.text())
def test_any_string_copies_exactly_from_a_code_span(text: str) -> None:
    for in_table in (False, True):
        markdown = (f"| h |\n| - |\n| x{md_code(text, in_table=True)}x |\n" if in_table
                    else f"- x{md_code(text)}x\n")
        rendered = Rendered.of(markdown)
        assert rendered.codes == ([visible(text[:MAX_FIELD] + "…" * (len(text) > MAX_FIELD))]
                                  if text else [])
        assert not rendered.links


@given(st.text())
def test_any_free_text_copies_exactly_and_does_nothing(text: str) -> None:
    clipped = text[:MAX_FIELD] + "…" * (len(text) > MAX_FIELD)
    rendered = Rendered.of(f"- x {md_text(text)} x\n")
    assert "".join(rendered.data).strip("\n") == f"x {visible(clipped)} x"
    assert set(rendered.elements) <= {"ul", "li", "code"}
    assert not re.search(r"@|#\d|https?:|www\.|:[a-z_+-][a-z0-9_+-]*:", "".join(rendered.prose),
                         re.IGNORECASE)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nickname differs", "nickname differs"),
        ("rebind from wx_old to wx_new", "rebind from `wx_old` to `wx_new`"),
        ("bob@shop_cs: left as it is (timeout)", "`bob@shop_cs`&#58; left as it is &#40;timeout&#41;"),
        ("@all 注意", "`@all` 注意"),
        ("call 12345678", "call `12345678`"),
        ("a  b", "a`  `b"),
    ],
)
def test_free_text_keeps_words_as_prose(text: str, expected: str) -> None:
    assert md_text(text) == expected


def test_long_strings_are_clipped() -> None:
    assert md_code("x" * 10_000) == "`" + "x" * MAX_FIELD + "…`"


def _hostile_plan() -> Plan:
    changes = []
    for index, nickname in enumerate(HOSTILE):
        account = f"u{index:02d}@shop_cs"
        changes += [
            Change(Action.UPDATE, account, {"nickname": "old"}, {"nickname": nickname}, nickname),
            Change(Action.DELETE, f"d{index:02d}@shop_cs", {"nickname": nickname}, None, nickname),
            Change(Action.ADD, nickname, None, {"nickname": nickname}, "declared, not live"),
            Change(Action.SET_AVATAR, nickname, None, {"avatar": nickname}, "declared, not live",
                   (f"add:{nickname}",)),
        ]
    return Plan(
        nickname,
        tuple(sorted(changes, key=lambda c: c.sort_key)),
        unmanaged=tuple(f"{n}@shop_cs" for n in HOSTILE),
        pending_invites=tuple(PendingInvite(f"p{i}@shop_cs", n, 0) for i, n in enumerate(HOSTILE)),
        warnings=tuple(HOSTILE),
        refusals=tuple(HOSTILE),
    )


def test_hostile_plan_renders_inert_and_every_name_copies_exactly() -> None:
    markdown = render_plan(_hostile_plan(), "markdown", color=False)
    rendered = assert_inert_comment(markdown)
    assert rendered.elements.count("details") == 1
    for nickname in HOSTILE:
        shown = visible(nickname)
        assert shown in rendered.codes  # the nickname, and the account named by it
        assert f"{shown}@shop_cs" in rendered.codes
        assert "".join(rendered.data).count(shown) >= 6  # refusal, warning and reasons too


def test_layout(sample_plan: Plan) -> None:
    text = render_plan_markdown(sample_plan)
    lines = text.splitlines()
    assert lines[0] == "<!-- kfsync:shop_cs -->"
    assert lines[1] == (
        "**Plan: 2 to add, 1 to change, 2 to delete, 3 to invite, 2 avatars (1 rebind)** "
        "(`shop_cs`)"
    )
    order = [
        "### Destructive changes", "<details>", "<summary>Other changes (6)</summary>",
        "</details>", "### Pending invitations", "### Unmanaged accounts", "### Warnings",
    ]
    positions = [lines.index(heading) for heading in order]
    assert positions == sorted(positions)
    destructive = lines[positions[0]:positions[1]]
    assert any("**delete** `carol@shop_cs`" in line for line in destructive)
    assert any("**rebind** `dave@shop_cs`" in line for line in destructive)
    table = lines[positions[1]:positions[3]]
    assert not any("carol" in line or "dave" in line for line in table)
    assert "| `~` | update | `bob@shop_cs` | nickname `Bob` → `小明` | nickname differs |" in table
    assert_inert_comment(text)


def test_rebind_is_one_item_with_its_steps(sample_plan: Plan) -> None:
    lines = render_plan_markdown(sample_plan).splitlines()
    start = next(i for i, line in enumerate(lines) if "**rebind**" in line)
    assert lines[start] == "- `-/+` **rebind** `dave@shop_cs` — rebind from `wx_old` to `wx_new`"
    assert lines[start + 1:start + 4] == [
        "  - `-` delete: nickname `Dave`, `kf_wx` `wx_old`",
        "  - `+` add: nickname `Dave` (after `dave` is deleted)",
        "  - `>` invite: `invite_wx` `wx_new` (after `dave` is added)",
    ]


def test_without_destructive_changes_the_table_is_just_changes() -> None:
    plan = Plan("shop_cs", (Change(Action.ADD, "a@shop_cs", None, {"nickname": "A"}, "new"),))
    text = render_plan_markdown(plan)
    assert "<summary>Changes (1)</summary>" in text
    assert "Destructive" not in text


def test_empty_plan(empty_plan: Plan) -> None:
    assert render_plan_markdown(empty_plan) == (
        "<!-- kfsync:shop_cs -->\n"
        "**No changes. The live accounts match the configuration.** (`shop_cs`)\n"
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
    pointer = rf"… (\d+) more {noun}; run `kfsync plan` for the full plan"
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


# --------------------------------------------------------------------------- refusal


def test_a_refusal_is_said_once_at_the_top(sample_plan: Plan) -> None:
    reason = "the plan deletes 2 accounts, more than max_deletes=1; name each with --allow-delete"
    text = render_plan_markdown(sample_plan, refused=reason)
    lines = text.splitlines()
    assert lines[1:4] == ["", "> [!CAUTION]", "> **Refused.** kfsync will not apply this plan:"]
    assert lines[4] == ("> - the plan deletes 2 accounts&#44; more than `max_deletes=1`&#59; "
                        "name each with `--allow-delete`")
    assert lines[6].startswith("**Plan: ")
    assert text.lower().count("refused") == 1
    assert_inert_comment(text)


def test_the_plan_s_own_refusals_are_the_alert() -> None:
    plan = Plan("shop_cs", (), refusals=("a@shop_cs is protected", "b@shop_cs is protected"))
    text = render_plan_markdown(plan, refused="a@shop_cs is protected; b@shop_cs is protected")
    assert "> - `a@shop_cs` is protected\n> - `b@shop_cs` is protected\n" in text
    assert text.lower().count("refused") == 1
    assert text.count("protected") == 2


def test_many_refusals_are_counted_past_the_first() -> None:
    plan = Plan("shop_cs", (), refusals=tuple(f"p{i}@shop_cs is protected" for i in range(500)))
    text = render_plan_markdown(plan)
    assert text.count("is protected") == MAX_REFUSALS
    assert "\n>\n> … 480 more refusals; run `kfsync plan` for the full plan\n" in text
    assert_inert_comment(text)


# --------------------------------------------------------------------------- where the rest is

RUN = "https://github.example/o/r/actions/runs/42"


@pytest.mark.parametrize(
    ("full_plan", "pointer", "links"),
    [
        (None, "run `kfsync plan` for the full plan", ()),
        (FullPlan("the step summary of this run", RUN),
         f"the full plan is in [the step summary of this run](<{RUN}>)", (RUN,)),
        (FullPlan("the artifacts of this job"), "the full plan is in the artifacts of this job", ()),
        (FullPlan("the [odd] place", "javascript:alert(1)"),
         "the full plan is in the (odd) place", ()),
        (FullPlan("x", "https://e.example/a b>"), "the full plan is in x", ()),
    ],
)
def test_a_cut_comment_says_where_the_full_plan_is(
        full_plan: FullPlan | None, pointer: str, links: tuple[str, ...]) -> None:
    assert full_plan_pointer(full_plan) == pointer
    text = render_plan_markdown(_many(Action.ADD, 3_000), full_plan=full_plan, limit=20_000)
    assert len(text) <= 20_000
    assert f"more changes; {pointer}\n" in text
    assert_inert_comment(text, links=links)
