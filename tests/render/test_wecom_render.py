"""WeCom plans and apply reports in every renderer: servicers, ids, outputs (no HTTP).

The plans are built by hand in the shapes the WeCom rules make (see
WECOM-DESIGN: ADD with name and avatar, UPDATE with the id on both sides,
SERVICERS with users and departments, DELETE with id and name) with their
contact-link outputs.  Markdown is checked on GitHub's own renderer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

from kfsync.apply import ApplyResult, Outcome
from kfsync.plan import Action, Change, Output, Plan
from kfsync.planfile.document import plan_from_json
from kfsync.render import (
    apply_summary,
    render_apply,
    render_plan,
    render_plan_markdown,
    render_plan_text,
)
from kfsync.render.common import visible
from kfsync.render.markdown import MAX_MOVES
from tests.helpers.gfm import Rendered, assert_inert_comment

CORP = "ww0123456789abcdef"
KFID = "wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJqw"
GONE = "wkAJ2GCAAAcccccccccccccccccccccc"
LIVE_URL = "https://wework.qpic.cn/wwhead/abc/0"
NOTE = ("A contact link cannot be deleted through the API: a scene removed from the file is only "
        "dropped from this report.")
SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "plan.schema.json")
                    .read_text(encoding="utf-8"))


def wecom_changes() -> tuple[Change, ...]:
    """A new account with its servicers, a rename with a new avatar, servicers moved, a delete."""
    changes = [
        Change(Action.ADD, "售前咨询", None, {"name": "售前咨询", "avatar": "avatars/pre.png"},
               "declared, not live"),
        Change(Action.SERVICERS, "售前咨询", {"users": (), "departments": ()},
               {"users": ("lisi", "zhangsan"), "departments": ("2", "10")},
               "servicers of a new account: 4 to add",
               ("add:售前咨询",)),
        Change(Action.UPDATE, "售后服务", {"id": KFID, "name": "售后", "avatar": LIVE_URL},
               {"id": KFID, "name": "售后服务", "avatar": "avatars/post.png"},
               "renamed from 售后 and live avatar is a different picture"),
        Change(Action.SERVICERS, "售后服务", {"id": KFID, "users": ("lisi", "wangwu")},
               {"id": KFID, "users": ("wangwu", "zhangsan")}, "servicers differ: 1 to add, 1 to remove"),
        Change(Action.DELETE, "旧账号", {"id": GONE, "name": "旧账号"}, None,
               "tombstone (state: absent)"),
    ]
    return tuple(sorted(changes, key=lambda c: c.sort_key))


LINKS = (
    Output("售前咨询", "contact_link", "wechat_menu"),
    Output("售前咨询", "contact_link", "website"),
    Output("售后服务", "contact_link", "qr"),
)


def valued(outputs: tuple[Output, ...] = LINKS) -> tuple[Output, ...]:
    return tuple(Output(o.account, o.kind, o.key, f"https://work.weixin.qq.com/kf/kfc{o.key}")
                 for o in outputs)


@pytest.fixture
def wecom_plan() -> Plan:
    # The outputs as the rules list them, by account; the renderers keep that order.
    return Plan(CORP, wecom_changes(), outputs=(LINKS[2], LINKS[0], LINKS[1]))


def done(plan: Plan) -> ApplyResult:
    return ApplyResult(tuple(Outcome(c, "done", 40) for c in plan.changes))


def validator(pointer: str = "") -> jsonschema.Draft202012Validator:
    registry: Registry[Any] = Registry().with_resource(SCHEMA["$id"],
                                                       Resource.from_contents(SCHEMA))
    return jsonschema.Draft202012Validator({"$ref": f"{SCHEMA['$id']}#{pointer}"},
                                           registry=registry)


# --------------------------------------------------------------------------- text

WECOM_TEXT = f"""\
kfsync will make these changes to {CORP}:

  + add        售前咨询  name "售前咨询", avatar "avatars/pre.png"  # declared, not live
  ~ servicers  售前咨询  (after 售前咨询 is added)  \
# servicers of a new account: 4 to add
      + user lisi
      + user zhangsan
      + department 2
      + department 10
  ~ update     售后服务 ({KFID})  name "售后" → "售后服务", avatar "{LIVE_URL}" → \
"avatars/post.png"  # renamed from 售后 and live avatar is a different picture
  ~ servicers  售后服务 ({KFID})  # servicers differ: 1 to add, 1 to remove
      + user zhangsan
      - user lisi
  - delete     旧账号 ({GONE})  name "旧账号"  # tombstone (state: absent)

Outputs:
  售前咨询: contact_link "wechat_menu" = (known after apply)
  售前咨询: contact_link "website" = (known after apply)
  售后服务: contact_link "qr" = (known after apply)
{NOTE}

Plan: 1 to add, 1 to change, 1 to delete, 0 to invite, 0 avatars, 2 servicer changes
"""


def test_wecom_plan_text(wecom_plan: Plan) -> None:
    assert render_plan(wecom_plan, "text", color=False) == WECOM_TEXT


def test_the_id_is_shown_once_beside_the_account_never_as_a_field(wecom_plan: Plan) -> None:
    lines = render_plan_text(wecom_plan, color=False).splitlines()
    for change in wecom_plan.changes:
        line = next(line for line in lines if f" {change.action.value} " in line
                    and f" {change.account}" in line)
        kfid = change.before.get("id") if change.before is not None else None
        if kfid is None:
            assert "(wk" not in line
            continue
        assert line.count(str(kfid)) == 1
        assert f"{change.account} ({kfid})" in line
        assert "id " not in line.replace(f"({kfid})", "")


@pytest.mark.parametrize(
    ("before", "after", "moved"),
    [
        ({"users": ()}, {"users": ("a", "b")}, ["+ user a", "+ user b"]),
        ({"id": KFID, "users": ("a", "b")}, {"id": KFID, "users": ()}, ["- user a", "- user b"]),
        ({"id": KFID, "departments": ("2", "10")}, {"id": KFID, "departments": ("2", "3", "11")},
         ["+ department 3", "+ department 11", "- department 10"]),
        ({"id": KFID, "users": ("b",), "departments": ("1",)},
         {"id": KFID, "users": ("a",), "departments": ()},
         ["+ user a", "- user b", "- department 1"]),
        (None, {"users": ("a",)}, ["+ user a"]),  # a saved plan that says nothing of before
    ],
)
def test_servicers_lines(before: dict[str, Any] | None, after: dict[str, Any],
                         moved: list[str]) -> None:
    change = Change(Action.SERVICERS, "售前", before, after, "servicers differ")
    lines = render_plan_text(Plan(CORP, (change,)), color=False).splitlines()
    head = "  ~ servicers  售前" + (f" ({KFID})" if before and "id" in before else "")
    assert lines[2] == head + "  # servicers differ"
    assert lines[3:3 + len(moved)] == ["      " + m for m in moved]
    assert lines[3 + len(moved)] == ""


def test_hostile_servicers_cannot_fake_a_line() -> None:
    hostile = ("zhang\n  + add        evil", "\x1b[31mred", "\u202eevil")
    change = Change(Action.SERVICERS, "售前\nx", {"id": "wk\r1", "users": ()},
                    {"id": "wk\r1", "users": hostile}, "servicers differ")
    text = render_plan_text(Plan(CORP, (change,)), color=False)
    lines = text.splitlines()
    assert lines[2] == "  ~ servicers  售前\\x0ax (wk\\x0d1)  # servicers differ"
    assert lines[3:6] == ["      + user " + visible(h) for h in hostile]
    assert "\x1b" not in text
    assert "\u202e" not in text


def test_servicer_lines_are_coloured_by_their_symbol() -> None:
    change = Change(Action.SERVICERS, "a", {"users": ("old",)}, {"users": ("new",)}, "x")
    lines = render_plan_text(Plan(CORP, (change,)), color=True).splitlines()
    assert lines[3] == "      \x1b[32m+ user new\x1b[0m"
    assert lines[4] == "      \x1b[31m- user old\x1b[0m"


def test_a_plan_in_sync_still_lists_its_outputs() -> None:
    text = render_plan_text(Plan(CORP, (), outputs=LINKS[:1]), color=False)
    assert text == (
        'Outputs:\n  售前咨询: contact_link "wechat_menu" = (known after apply)\n'
        f"{NOTE}\n\nNo changes. The live accounts match the configuration.\n"
    )


def test_hostile_scenes_and_values_stay_on_their_line() -> None:
    outputs = (Output("a\nb", "contact_link", 'x"\ny'), Output("a", "contact_link", "", "u\n\x1b"))
    text = render_apply(ApplyResult(()), "text", verify=None, outputs=outputs)
    assert text.splitlines()[1:3] == ['  a: contact_link "" = "u\\x0a\\x1b"',
                                      '  a\\x0ab: contact_link "x\\"\\x0ay" = (known after apply)']


@pytest.mark.parametrize(
    ("count", "summary"),
    [
        (0, "Plan: 0 to add, 1 to change, 0 to delete, 0 to invite, 0 avatars"),
        (1, "Plan: 0 to add, 1 to change, 0 to delete, 0 to invite, 0 avatars, 1 servicer change"),
        (2, "Plan: 0 to add, 1 to change, 0 to delete, 0 to invite, 0 avatars, "
            "2 servicer changes"),
    ],
)
def test_the_summary_counts_servicer_changes_only_when_there_are_some(count: int,
                                                                      summary: str) -> None:
    changes = [Change(Action.UPDATE, "a", {"id": "wk1", "name": "x"}, {"id": "wk1", "name": "a"},
                      "renamed from x")]
    changes += [Change(Action.SERVICERS, f"s{i}", {"users": ()}, {"users": ("u",)}, "new")
                for i in range(count)]
    plan = Plan(CORP, tuple(changes))
    assert render_plan_text(plan, color=False).splitlines()[-1] == summary
    assert f"**{summary}**" in render_plan_markdown(plan)
    assert apply_summary(done(plan)).endswith(
        "0 avatars set" + (f", {count} servicer change{'s' * (count > 1)} made" if count else ""))


# --------------------------------------------------------------------------- apply report


def test_apply_report_lists_the_outputs_with_their_values(wecom_plan: Plan) -> None:
    text = render_apply(done(wecom_plan), "text", verify=Plan(CORP, ()),
                        outputs=valued(wecom_plan.outputs))
    assert text == (
        "Verified: the live accounts match the configuration.\n"
        "\n"
        "Outputs:\n"
        '  售前咨询: contact_link "wechat_menu" = "https://work.weixin.qq.com/kf/kfcwechat_menu"\n'
        '  售前咨询: contact_link "website" = "https://work.weixin.qq.com/kf/kfcwebsite"\n'
        '  售后服务: contact_link "qr" = "https://work.weixin.qq.com/kf/kfcqr"\n'
        f"{NOTE}\n"
        "\n"
        "Apply complete: 1 added, 1 updated, 1 deleted, 0 invited, 0 avatars set, "
        "2 servicer changes made\n"
    )


def test_apply_report_says_in_one_line_why_the_outputs_are_missing(wecom_plan: Plan) -> None:
    why = "errcode 95000 invalid open_kfid (售前咨询 is not live: run kfsync plan)"
    text = render_apply(done(wecom_plan), "text", verify=Plan(CORP, ()), outputs_error=why)
    lines = text.splitlines()
    assert lines[-3:] == [f"Outputs not reported: {why}", "",
                          "Apply complete: 1 added, 1 updated, 1 deleted, 0 invited, "
                          "0 avatars set, 2 servicer changes made"]
    assert "Outputs:" not in lines
    coloured = render_apply(done(wecom_plan), "text", verify=None, outputs_error="x\ny",
                            color=True)
    assert "\x1b[31mOutputs not reported: \x1b[0mx\\x0ay\n" in coloured


def test_a_verification_that_still_finds_changes_does_not_repeat_the_outputs(
    wecom_plan: Plan,
) -> None:
    text = render_apply(done(wecom_plan), "text", verify=wecom_plan, outputs=valued())
    assert text.count("Outputs:") == 1
    assert "(known after apply)" not in text
    assert text.count(NOTE) == 1
    assert f"    ~ servicers  售后服务 ({KFID})" in text  # the verification plan, indented


def test_a_failed_servicers_change_is_counted_and_reported(wecom_plan: Plan) -> None:
    by_id = {c.id: c for c in wecom_plan.changes}
    failed = "1 servicer failed: 60111 no such user (zhangsan)"
    outcomes = tuple(Outcome(c, "done", 30) for c in wecom_plan.changes
                     if c.id != "servicers:售后服务")
    result = ApplyResult((*outcomes, Outcome(by_id["servicers:售后服务"], "failed", 30, 60111,
                                             failed)))
    text = render_apply(result, "text", verify=None)
    assert text.splitlines()[:2] == ["Failed:", f"  servicers 售后服务 … failed: {failed}"]
    assert text.splitlines()[-1] == (
        "Apply incomplete: 1 added, 1 updated, 1 deleted, 0 invited, 0 avatars set, "
        "1 servicer change made; 1 failed, 0 skipped")


# --------------------------------------------------------------------------- Markdown


def test_wecom_plan_markdown(wecom_plan: Plan) -> None:
    markdown = render_plan_markdown(wecom_plan)
    lines = markdown.splitlines()
    assert lines[1] == (f"**Plan: 1 to add, 1 to change, 1 to delete, 0 to invite, 0 avatars, "
                        f"2 servicer changes** (`{CORP}`)")
    assert (f"- `-` **delete** `旧账号` (`{GONE}`): name `旧账号` — "
            "tombstone &#40;state&#58; absent&#41;") in lines
    assert ("| `~` | servicers | `售前咨询` | + user `lisi`, + user `zhangsan`, + department `2`, "
            "+ department `10` (after `售前咨询` is added) |") in "\n".join(lines)
    assert (f"| `~` | update | `售后服务` (`{KFID}`) | name `售后` → `售后服务`, avatar "
            f"`{LIVE_URL}` → `avatars/post.png` |") in markdown
    assert f"| `~` | servicers | `售后服务` (`{KFID}`) | + user `zhangsan`, - user `lisi` |" in markdown
    outputs = lines.index("### Outputs")
    assert lines[outputs + 1:outputs + 6] == [
        "",
        "- `售前咨询`: `contact_link` `wechat_menu` = (known after apply)",
        "- `售前咨询`: `contact_link` `website` = (known after apply)",
        "- `售后服务`: `contact_link` `qr` = (known after apply)",
        "",
    ]
    assert lines.index("</details>") < outputs
    rendered = assert_inert_comment(markdown)
    assert NOTE in rendered.text
    assert rendered.rows == [5] * 5  # the header and the four changes that do not delete


HOSTILE = ["<script>alert(1)</script>", "a|b", "`x`", "``", "line\n# heading", "@all",
           "</details>", "[x](http://evil)", "**b**", "\u202eevil", "  "]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_servicers_scenes_and_ids_stay_inert_in_markdown(hostile: str) -> None:
    changes = (
        Change(Action.SERVICERS, hostile, {"id": hostile, "users": ("x",)},
               {"id": hostile, "users": (hostile,), "departments": (hostile,)}, hostile),
        Change(Action.DELETE, "d" + hostile, {"id": hostile, "name": hostile}, None, hostile),
    )
    plan = Plan(CORP, changes, outputs=(Output(hostile, "contact_link", hostile),))
    markdown = render_plan_markdown(plan)
    rendered = assert_inert_comment(markdown)
    shown = visible(hostile)
    assert rendered.codes.count(shown) >= 7  # account, id, user, department, scene...
    assert rendered.rows == [5, 5]
    assert "script" not in rendered.elements
    assert not rendered.links


def test_many_servicers_are_counted_past_the_cap() -> None:
    users = tuple(f"u{i:03d}" for i in range(MAX_MOVES + 5))
    change = Change(Action.SERVICERS, "a", {"users": ()}, {"users": users}, "new")
    markdown = render_plan_markdown(Plan(CORP, (change,)))
    row = next(line for line in markdown.splitlines() if line.startswith("| `~`"))
    assert row.count("+ user") == MAX_MOVES
    assert f"+ user `u{MAX_MOVES - 1:03d}` and 5 more |" in row
    assert "u020" not in row


def test_outputs_are_cut_to_fit_with_a_pointer() -> None:
    outputs = tuple(Output(f"客服{i:03d}", "contact_link", f"scene_{i}") for i in range(500))
    markdown = render_plan_markdown(Plan(CORP, (), outputs=outputs), limit=4_000)
    assert len(markdown) <= 4_000
    lines = markdown.splitlines()
    kept = [line for line in lines if line.startswith("- `客服")]
    assert 0 < len(kept) < 500
    assert f"… {500 - len(kept)} more outputs; run `kfsync plan` for the full plan" in lines
    assert lines[-1] == NOTE.replace(":", "&#58;").replace(".", "&#46;")  # the note stays
    assert_inert_comment(markdown)


def test_a_wecom_update_shows_both_pictures(wecom_plan: Plan) -> None:
    markdown = render_plan_markdown(wecom_plan, pictures=lambda path: f"/uploads/{path}")
    row = next(line for line in markdown.splitlines() if "| update |" in line)
    images = Rendered.of(markdown).images
    assert [i["src"] for i in images] == ["/uploads/avatars/pre.png", LIVE_URL,
                                          "/uploads/avatars/post.png"]
    assert "live avatar" in row


# --------------------------------------------------------------------------- JSON


def test_wecom_plan_document_validates_and_reads_back(wecom_plan: Plan) -> None:
    document = json.loads(render_plan(wecom_plan, "json", color=False))
    validator().validate(document)
    assert document["summary"]["servicers"] == 2
    servicers = next(c for c in document["changes"] if c["id"] == "servicers:售后服务")
    assert servicers["before"] == {"id": KFID, "users": ["lisi", "wangwu"]}
    assert document["outputs"][0] == {"account": "售后服务", "kind": "contact_link", "key": "qr",
                                      "value": None}
    assert plan_from_json(document) == wecom_plan


def test_apply_document_carries_the_outputs_and_their_error(wecom_plan: Plan) -> None:
    check = validator("/$defs/apply_document")
    result = done(wecom_plan)
    reported = json.loads(render_apply(result, "json", verify=Plan(CORP, ()), outputs=valued()))
    check.validate(reported)
    assert reported["outputs"][1] == {"account": "售前咨询", "kind": "contact_link",
                                      "key": "website",
                                      "value": "https://work.weixin.qq.com/kf/kfcwebsite"}
    assert "outputs_error" not in reported
    assert reported["counts"]["servicers"] == 2

    failed = json.loads(render_apply(result, "json", verify=Plan(CORP, ()),
                                     outputs_error="errcode 95000 invalid open_kfid"))
    check.validate(failed)
    assert failed["outputs_error"] == "errcode 95000 invalid open_kfid"
    assert "outputs" not in failed


def test_official_account_documents_gain_no_new_keys(sample_plan: Plan,
                                                     incomplete_result: ApplyResult) -> None:
    document = json.loads(render_apply(incomplete_result, "json", verify=sample_plan))
    assert "outputs" not in document
    assert "outputs_error" not in document
    assert "servicers" not in document["counts"]
    assert "servicers" not in document["verify"]["summary"]
    assert "Outputs" not in render_plan(sample_plan, "markdown", color=False)
