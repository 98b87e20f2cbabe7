"""The shared wording, order and descriptions every renderer uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from kfsync.plan import Action, Change, Plan
from kfsync.render.common import (
    REBIND_SYMBOL,
    Escaping,
    apply_summary_line,
    colorize,
    dependencies,
    describe,
    entries,
    headline,
    more_line,
    plan_summary_line,
    quoted,
    visible,
)

PLAIN = Escaping(text=str, value=quoted)


def _summary(**counts: int) -> dict[str, int]:
    return {"add": 0, "change": 0, "delete": 0, "invite": 0, "avatar": 0, "rebind": 0, **counts}


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        (_summary(add=1, change=2, invite=1, avatar=1),
         "Plan: 1 to add, 2 to change, 0 to delete, 1 to invite, 1 avatar"),
        (_summary(avatar=2), "Plan: 0 to add, 0 to change, 0 to delete, 0 to invite, 2 avatars"),
        (_summary(), "Plan: 0 to add, 0 to change, 0 to delete, 0 to invite, 0 avatars"),
        (_summary(add=1, delete=1, rebind=1),
         "Plan: 1 to add, 0 to change, 1 to delete, 0 to invite, 0 avatars (1 rebind)"),
        (_summary(add=2, delete=2, rebind=2),
         "Plan: 2 to add, 0 to change, 2 to delete, 0 to invite, 0 avatars (2 rebinds)"),
    ],
)
def test_plan_summary_line(counts: Mapping[str, int], expected: str) -> None:
    assert plan_summary_line(counts) == expected


def test_headline_of_empty_plan() -> None:
    assert headline(Plan("shop_cs", ())) == "No changes. The live accounts match the configuration."


def _counts(**counts: int) -> dict[str, int]:
    base = {"added": 0, "updated": 0, "deleted": 0, "invited": 0, "avatars": 0, "failed": 0}
    return {**base, "skipped": 0, **counts}


@pytest.mark.parametrize(
    ("counts", "complete", "expected"),
    [
        (_counts(added=1, updated=2, invited=1, avatars=1), True,
         "Apply complete: 1 added, 2 updated, 0 deleted, 1 invited, 1 avatar set"),
        (_counts(avatars=3), True,
         "Apply complete: 0 added, 0 updated, 0 deleted, 0 invited, 3 avatars set"),
        (_counts(added=1, failed=1, skipped=2), False,
         "Apply incomplete: 1 added, 0 updated, 0 deleted, 0 invited, 0 avatars set; "
         "1 failed, 2 skipped"),
    ],
)
def test_apply_summary_line(counts: Mapping[str, int], complete: bool, expected: str) -> None:
    assert apply_summary_line(counts, complete) == expected


MP = (Action.DELETE, Action.ADD, Action.UPDATE, Action.SET_AVATAR, Action.INVITE)
WECOM = (Action.DELETE, Action.ADD, Action.UPDATE, Action.SERVICERS)


@pytest.mark.parametrize(
    ("counts", "actions", "expected"),
    [
        (_summary(add=1), MP, "Plan: 1 to add, 0 to change, 0 to delete, 0 to invite, 0 avatars"),
        (_summary(add=1, servicers=2), WECOM,
         "Plan: 1 to add, 0 to change, 0 to delete, 2 servicer changes"),
        (_summary(change=1), WECOM, "Plan: 0 to add, 1 to change, 0 to delete, 0 servicer changes"),
        # a kind the product does not say it plans is still named when the plan holds it
        (_summary(invite=1), WECOM,
         "Plan: 0 to add, 0 to change, 0 to delete, 1 to invite, 0 servicer changes"),
        (_summary(servicers=1), None,
         "Plan: 0 to add, 0 to change, 0 to delete, 0 to invite, 0 avatars, 1 servicer change"),
    ],
)
def test_the_plan_line_names_the_kinds_of_change_the_product_plans(
        counts: Mapping[str, int], actions: tuple[Action, ...] | None, expected: str) -> None:
    assert plan_summary_line(counts, actions) == expected


@pytest.mark.parametrize(
    ("counts", "actions", "expected"),
    [
        (_counts(added=1), MP, "Apply complete: 1 added, 0 updated, 0 deleted, 0 invited, 0 avatars set"),
        (_counts(added=1, servicers=1), WECOM,
         "Apply complete: 1 added, 0 updated, 0 deleted, 1 servicer change made"),
        (_counts(updated=1), WECOM, "Apply complete: 0 added, 1 updated, 0 deleted, 0 servicer changes made"),
    ],
)
def test_the_apply_line_names_the_kinds_of_change_the_product_plans(
        counts: Mapping[str, int], actions: tuple[Action, ...] | None, expected: str) -> None:
    assert apply_summary_line(counts, True, actions) == expected


def test_a_plan_names_its_products_kinds_of_change_in_its_headline() -> None:
    wecom = Plan("ww0123456789abcdef", (Change(Action.ADD, "售前", None, {"name": "售前"}, "new"),),
                 actions=WECOM)
    assert headline(wecom) == "Plan: 1 to add, 0 to change, 0 to delete, 0 servicer changes"


def test_more_line_says_where_the_rest_is() -> None:
    assert more_line(3, "changes", "see the run") == "… 3 more changes; see the run"


@pytest.mark.parametrize(
    ("depends_on", "expected"),
    [
        ((), ""),
        (("add:alice@shop_cs",), "after alice is added"),
        (("delete:alice@shop_cs",), "after alice is deleted"),
        (("update:alice@shop_cs",), "after alice is updated"),
        (("set_avatar:alice@shop_cs",), "after alice's avatar is set"),
        (("invite:alice@shop_cs",), "after alice is invited"),
        (("add:bob@other", "delete:alice@shop_cs"), "after bob@other is added and alice is deleted"),
        (("add:noat",), "after noat is added"),
        (("frobnicate:x@shop_cs",), "after frobnicate:x@shop_cs"),
        (("add:",), "after add:"),
    ],
)
def test_dependencies_are_words(depends_on: tuple[str, ...], expected: str) -> None:
    change = Change(Action.INVITE, "alice@shop_cs", None, {"invite_wx": "w"}, "why", depends_on)
    assert dependencies(change, str) == expected
    if depends_on:
        assert dependencies(change, lambda name: f"<{name}>").count("<") == len(depends_on)


def _change(
    action: Action, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> Change:
    return Change(action, "a@shop_cs", before, after, "why")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_change(Action.ADD, None, {"nickname": "Alice"}), 'nickname "Alice"'),
        (_change(Action.UPDATE, {"nickname": "Bob"}, {"nickname": "Bobby"}),
         'nickname "Bob" → "Bobby"'),
        (_change(Action.SET_AVATAR, {"avatar": None}, {"avatar": "a.jpg"}),
         'avatar (none) → "a.jpg"'),
        (_change(Action.DELETE, {"nickname": "C", "kf_wx": None}, None), 'nickname "C"'),
        (_change(Action.DELETE, {"nickname": "C", "kf_wx": "wx1"}, None),
         'nickname "C", kf_wx "wx1"'),
        (_change(Action.INVITE, {"invite_wx": "wx1", "invite_status": "rejected"},
                 {"invite_wx": "wx1"}), 'invite_wx "wx1"'),
        (_change(Action.INVITE, {"invite_wx": None, "invite_status": None},
                 {"invite_wx": "wx2"}), 'invite_wx (none) → "wx2"'),
        (_change(Action.ADD, None, {"nickname": 'say "hi"\\'}), r'nickname "say \"hi\"\\"'),
    ],
)
def test_describe(change: Change, expected: str) -> None:
    assert describe(change, PLAIN) == expected


def test_entries_fold_a_rebind_and_order_by_account() -> None:
    changes = (
        Change(Action.DELETE, "b@x", {"nickname": "B"}, None, "rebind from 1 to 2", rebind=True),
        Change(Action.DELETE, "c@x", {"nickname": "C"}, None, "tombstone"),
        Change(Action.ADD, "a@x", None, {"nickname": "A"}, "declared"),
        Change(Action.ADD, "b@x", None, {"nickname": "B"}, "rebind", ("delete:b@x",), True),
        Change(Action.INVITE, "b@x", None, {"invite_wx": "2"}, "rebind", ("add:b@x",), True),
        Change(Action.INVITE, "a@x", None, {"invite_wx": "1"}, "declared", ("add:a@x",)),
    )
    rows = entries(changes)
    assert [(r.account, r.label, r.symbol) for r in rows] == [
        ("a@x", "add", "+"),
        ("a@x", "invite", ">"),
        ("b@x", "rebind", REBIND_SYMBOL),
        ("c@x", "delete", "-"),
    ]
    rebind = rows[2]
    assert [c.action for c in rebind.changes] == [Action.DELETE, Action.ADD, Action.INVITE]
    assert rebind.reason == "rebind from 1 to 2"
    assert rebind.destructive
    assert not rows[0].destructive


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain 小明 😀", "plain 小明 😀"),
        ("a\nb", "a\\x0ab"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("\u202eevil", "\\u202eevil"),
        ("x\u2028y\x85", "x\\u2028y\\x85"),
    ],
)
def test_visible_escapes_controls(text: str, expected: str) -> None:
    assert visible(text) == expected


def test_quoted_is_unambiguous() -> None:
    assert quoted('a"b\\c\td') == '"a\\"b\\\\c\\x09d"'


@pytest.mark.parametrize(
    ("color", "code", "expected"),
    [(True, "32", "\x1b[32m+\x1b[0m"), (False, "32", "+"), (True, None, "+")],
)
def test_colorize(color: bool, code: str | None, expected: str) -> None:
    assert colorize("+", code, color) == expected
