"""The terminal renderers: plan text, progress lines, apply report; colour on and off."""

from __future__ import annotations

import pytest

from kfsync.apply import ApplyResult, Outcome, Status
from kfsync.errors import UsageError
from kfsync.plan import Action, Change, PendingInvite, Plan
from kfsync.render import (
    apply_summary,
    progress_line,
    render_apply,
    render_plan,
    render_plan_text,
)

SAMPLE_TEXT = """\
kfsync will make these changes to shop_cs:

  + add        alice@shop_cs  nickname "Alice"  # declared, not live
  ~ set_avatar alice@shop_cs  avatar "avatars/alice.jpg"  (after alice is added)  \
# declared, not live
  > invite     alice@shop_cs  invite_wx "wx_alice"  (after alice is added)  # declared, not live
  ~ update     bob@shop_cs  nickname "Bob" → "小明"  # nickname differs
  ~ set_avatar bob@shop_cs  avatar (none) → "b.jpg"  # no live avatar
  - delete     carol@shop_cs  nickname "Carol", kf_wx "wx_carol"  # tombstone (state: absent)
-/+ rebind     dave@shop_cs  # rebind from wx_old to wx_new
      - delete      nickname "Dave", kf_wx "wx_old"
      + add         nickname "Dave"  (after dave is deleted)
      > invite      invite_wx "wx_new"  (after dave is added)
  > invite     erin@shop_cs  invite_wx "wx_erin"  # invitation rejected

Pending invitations:
  fay@shop_cs: invitation to "wx_fay" pending until 2024-05-01 20:00+08:00

Unmanaged accounts:
  zed@shop_cs: not declared; policy unmanaged: report

Warnings:
  bob@shop_cs: live avatar could not be read (timeout); left as it is

Plan: 2 to add, 1 to change, 2 to delete, 3 to invite, 2 avatars (1 rebind)
"""


def test_sample_plan(sample_plan: Plan) -> None:
    assert render_plan(sample_plan, "text", color=False) == SAMPLE_TEXT


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (Change(Action.ADD, "a@x", None, {"nickname": "A"}, "declared, not live"),
         '  + add        a@x  nickname "A"  # declared, not live'),
        (Change(Action.UPDATE, "a@x", {"nickname": "A"}, {"nickname": "B"}, "nickname differs"),
         '  ~ update     a@x  nickname "A" → "B"  # nickname differs'),
        (Change(Action.SET_AVATAR, "a@x", {"avatar": "http://mmbiz/1"}, {"avatar": "a.jpg"}, "new"),
         '  ~ set_avatar a@x  avatar "http://mmbiz/1" → "a.jpg"  # new'),
        (Change(Action.DELETE, "a@x", {"nickname": "A", "kf_wx": None}, None, "tombstone"),
         '  - delete     a@x  nickname "A"  # tombstone'),
        (Change(Action.INVITE, "a@x", None, {"invite_wx": "wx"}, "new", ("add:a@x",)),
         '  > invite     a@x  invite_wx "wx"  (after a is added)  # new'),
    ],
)
def test_one_change_line(change: Change, line: str) -> None:
    text = render_plan_text(Plan("x", (change,)), color=False)
    assert text.splitlines()[2] == line


def test_rebind_is_shown_once_with_its_steps(sample_plan: Plan) -> None:
    lines = render_plan_text(sample_plan, color=False).splitlines()
    dave = [line for line in lines if "dave" in line or line.startswith("      ")]
    assert dave[0] == "-/+ rebind     dave@shop_cs  # rebind from wx_old to wx_new"
    steps = [line.split()[:2] for line in dave[1:]]
    assert steps == [["-", "delete"], ["+", "add"], [">", "invite"]]
    assert sum(1 for line in lines if "dave@shop_cs  " in line) == 1


def test_empty_plan() -> None:
    assert render_plan(Plan("shop_cs", ()), "text", color=True) == (
        "No changes. The live accounts match the configuration.\n"
    )


def test_empty_plan_still_lists_what_the_reviewer_should_know() -> None:
    plan = Plan("shop_cs", (), pending_invites=(PendingInvite("a@shop_cs", "wx", 0),),
                refusals=("a@shop_cs is protected and cannot be deleted",))
    assert render_plan_text(plan, color=False) == (
        "Pending invitations:\n"
        '  a@shop_cs: invitation to "wx" pending until 1970-01-01 08:00+08:00\n'
        "\n"
        "Refused:\n"
        "  a@shop_cs is protected and cannot be deleted\n"
        "\n"
        "No changes. The live accounts match the configuration.\n"
    )


@pytest.mark.parametrize(
    ("needle", "code"),
    [
        ("+ add", "32"),
        ("~ update", "33"),
        ("- delete", "31"),
        ("> invite", "36"),
        ("-/+ rebind", "35"),
    ],
)
def test_colour_on(sample_plan: Plan, needle: str, code: str) -> None:
    assert f"\x1b[{code}m{needle}\x1b[0m" in render_plan_text(sample_plan, color=True)


def test_colour_off_has_no_escape_sequences(sample_plan: Plan) -> None:
    assert "\x1b" not in render_plan_text(sample_plan, color=False)


def test_colour_does_not_change_the_words(sample_plan: Plan) -> None:
    coloured = render_plan_text(sample_plan, color=True)
    for code in ("31", "32", "33", "35", "36"):
        coloured = coloured.replace(f"\x1b[{code}m", "")
    assert coloured.replace("\x1b[0m", "") == render_plan_text(sample_plan, color=False)


def test_hostile_nickname_cannot_drive_the_terminal() -> None:
    nickname = "\x1b[2J\x1b[31mEvil\nPlan: 0 to add\u202e"
    change = Change(Action.ADD, "a@x", None, {"nickname": nickname}, "declared\r")
    text = render_plan_text(Plan("x", (change,), warnings=("w\x07",)), color=False)
    assert "\x1b" not in text
    assert "\r" not in text
    assert "\x07" not in text
    assert "\u202e" not in text
    assert [line for line in text.splitlines() if line.startswith("Plan:")] == [
        "Plan: 1 to add, 0 to change, 0 to delete, 0 to invite, 0 avatars"
    ]
    assert '"\\x1b[2J\\x1b[31mEvil\\x0aPlan: 0 to add\\u202e"' in text


# --------------------------------------------------------------------------- apply

_ADD = Change(Action.ADD, "alice@shop_cs", None, {"nickname": "Alice"}, "declared")


@pytest.mark.parametrize(
    ("outcome", "line"),
    [
        (Outcome(_ADD, "done", 120), "[3/7] add alice@shop_cs … ok (120 ms)"),
        (Outcome(_ADD, "done", 5, note="answer lost; confirmed by re-reading"),
         "[3/7] add alice@shop_cs … ok (5 ms; answer lost; confirmed by re-reading)"),
        (Outcome(_ADD, "failed", 80, 65403,
                 "errcode 65403 illegal nickname (a nickname is 1 to 16 characters)"),
         "[3/7] add alice@shop_cs … failed: errcode 65403 illegal nickname "
         "(a nickname is 1 to 16 characters)"),
        (Outcome(_ADD, "failed", 80, 45009,
                 "answer lost, then: errcode 45009 quota"),
         "[3/7] add alice@shop_cs … failed: answer lost, then: errcode 45009 quota"),
        (Outcome(_ADD, "failed", 80, None, "cannot reach api.weixin.qq.com"),
         "[3/7] add alice@shop_cs … failed: cannot reach api.weixin.qq.com"),
        (Outcome(_ADD, "failed", 80, 40001, None),
         "[3/7] add alice@shop_cs … failed: errcode 40001"),
        (Outcome(_ADD, "skipped", message="delete alice@shop_cs did not complete"),
         "[3/7] add alice@shop_cs … skipped (delete alice@shop_cs did not complete)"),
    ],
)
def test_progress_line(outcome: Outcome, line: str) -> None:
    assert progress_line(3, 7, outcome, False) == line


@pytest.mark.parametrize(
    ("status", "coloured"),
    [("done", "\x1b[32mok\x1b[0m"), ("failed", "\x1b[31mfailed\x1b[0m"),
     ("skipped", "\x1b[33mskipped\x1b[0m")],
)
def test_progress_line_colour(status: Status, coloured: str) -> None:
    outcome = Outcome(_ADD, status)
    assert coloured in progress_line(1, 1, outcome, True)
    assert "\x1b" not in progress_line(1, 1, outcome, False)


def test_apply_summary_complete() -> None:
    outcomes = (Outcome(_ADD, "done"),)
    assert apply_summary(ApplyResult(outcomes)) == (
        "Apply complete: 1 added, 0 updated, 0 deleted, 0 invited, 0 avatars set"
    )


def test_apply_text_incomplete(incomplete_result: ApplyResult) -> None:
    assert render_apply(incomplete_result, "text", verify=None) == (
        "Failed:\n"
        "  add alice@shop_cs … failed: errcode 65403 illegal nickname "
        "(a nickname is 1 to 16 characters)\n"
        "Skipped:\n"
        "  set_avatar alice@shop_cs … skipped (add alice@shop_cs did not complete)\n"
        "  invite alice@shop_cs … skipped (add alice@shop_cs did not complete)\n"
        "  invite erin@shop_cs … skipped (stopped after WeChat quota error 45009)\n"
        "Stopped: stopped after WeChat quota error 45009\n"
        "\n"
        "Apply incomplete: 1 added, 1 updated, 2 deleted, 1 invited, 1 avatar set; "
        "1 failed, 3 skipped\n"
    )


def test_apply_text_verified() -> None:
    result = ApplyResult((Outcome(_ADD, "done", 3),))
    assert render_apply(result, "text", verify=Plan("shop_cs", ())) == (
        "Verified: the live accounts match the configuration.\n"
        "\n"
        "Apply complete: 1 added, 0 updated, 0 deleted, 0 invited, 0 avatars set\n"
    )


def test_apply_text_not_converged() -> None:
    result = ApplyResult((Outcome(_ADD, "done", 3),))
    text = render_apply(result, "text", verify=Plan("shop_cs", (_ADD,)), color=False)
    assert text.splitlines()[:4] == [
        "Not converged: planning again still finds changes:",
        "  kfsync will make these changes to shop_cs:",
        "",
        '    + add        alice@shop_cs  nickname "Alice"  # declared',
    ]


def test_unknown_formats_are_usage_errors(sample_plan: Plan) -> None:
    with pytest.raises(UsageError, match="unknown plan format 'yaml'"):
        render_plan(sample_plan, "yaml", color=False)
    with pytest.raises(UsageError, match="unknown apply format 'markdown'"):
        render_apply(ApplyResult(()), "markdown", verify=None)


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_every_plan_format_ends_with_one_newline(sample_plan: Plan, fmt: str) -> None:
    text = render_plan(sample_plan, fmt, color=False)
    assert text.endswith("\n")
    assert not text.endswith("\n\n")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_every_apply_format_ends_with_one_newline(
    incomplete_result: ApplyResult, fmt: str
) -> None:
    text = render_apply(incomplete_result, fmt, verify=None)
    assert text.endswith("\n")
    assert not text.endswith("\n\n")
