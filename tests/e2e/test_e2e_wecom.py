"""The WeCom provider end to end: `python -m kfsync` against the WeCom emulator over HTTP.

The corp has members, departments, accounts the app manages and one it does
not.  Each test runs the real CLI as a subprocess (KFSYNC_CORPID,
KFSYNC_CORPSECRET and KFSYNC_API_BASE point at the emulator) and checks the
live state through the emulator's admin API and its request log: what was
sent, and what was not.  No run prints the corp secret, a token or a traceback
(`Corp.run` checks each).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from kfsync.config.resources import data_path
from kfsync.providers.wecom.client import WeComClient
from kfsync.providers.wecom.emulator import DEFAULT_CORPID, DEFAULT_SECRET, WeComEmulator
from kfsync.providers.wecom.errcodes import CONSOLE
from tests.helpers.gfm import assert_inert_comment
from tests.helpers.wecom import NO_WAIT
from tests.helpers.wecom_cli import account
from tests.helpers.wecom_e2e import (
    ADD,
    DELETE,
    LINK,
    READS,
    SERVICER_ADD,
    SERVICER_DEL,
    UPDATE,
    Corp,
    mentions,
    servicers,
    spy_tokens,
)

SALES = "wkSales0001"
OLD = "wkOld0002"
CONSOLE_ONLY = "wkConsole0003"
URL = re.compile(r"https://work\.weixin\.qq\.com/kf/kfc[0-9a-f]{32}")
NOTE = ("A contact link cannot be deleted through the API: a scene removed from the file is only "
        "dropped from this report.")
PICTURES = "/wwhead/"
NOT_MANAGED = f"Console only ({CONSOLE_ONLY}) is not managed by this app; left alone"


@pytest.fixture
def corp(wecom_server: WeComEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Corp:
    """An empty folder, and the (reset) emulator seeded with a corp: members, departments, accounts."""
    wecom_server.admin.reset()
    wecom_server.admin.freeze_clock()
    folder = tmp_path / "corp"
    folder.mkdir()
    corp = Corp(folder, wecom_server)
    spy_tokens(monkeypatch, corp.tokens)
    corp.admin.seed(
        users=[{"userid": u} for u in ("zhangsan", "lisi", "wang.wu")],
        departments=[{"department_id": 2}, {"department_id": 10}],
        accounts=[
            account(SALES, "售前咨询", 1, servicers=[{"userid": "zhangsan"}, {"department_id": 10}]),
            account(OLD, "旧账号", 2),
            account(CONSOLE_ONLY, "Console only", 3, manage_privilege=False,
                    servicers=[{"userid": "lisi"}]),
        ],
    )
    return corp


@pytest.fixture
def console(wecom_server: WeComEmulator) -> Iterator[WeComClient]:
    """Someone changing the accounts in the WeCom console meanwhile (through the API)."""
    with WeComClient(corpid=DEFAULT_CORPID, secret=DEFAULT_SECRET, api_base=wecom_server.base_url,
                     retry=NO_WAIT) as client:
        yield client


def declare(corp: Corp, **policy: Any) -> None:
    """The sales account with new servicers and two links, a new account, and a tombstone."""
    corp.write_config({
        "售前咨询": {"avatar": corp.avatar("sales.png", "stripes"),
                  "servicers": {"users": ["lisi", "zhangsan"], "departments": [2]},
                  "scenes": ["website", "app"]},
        "售后服务": {"avatar": corp.avatar("after.png", "checker"),
                  "servicers": {"users": ["wang.wu"], "departments": [10]},
                  "scenes": ["poster"]},
        "旧账号": {"state": "absent"},
    }, policy=policy or None)


def apply_document() -> Draft202012Validator:
    schema = json.loads(data_path("schemas", "plan.schema.json").read_text(encoding="utf-8"))
    registry: Registry[Any] = Registry().with_resource(schema["$id"], Resource.from_contents(schema))
    return Draft202012Validator({"$ref": f"{schema['$id']}#/$defs/apply_document"},
                                registry=registry)


def links(report: str) -> dict[tuple[str, str], str]:
    """The contact links a text report gives: (name, scene) -> value as shown."""
    found = re.findall(r'^  (\S+): contact_link "([^"]*)" = (.+)$', report, re.MULTILINE)
    return {(name, scene): value for name, scene, value in found}


# --------------------------------------------------------------------------- plan, apply, plan


def test_plan_apply_and_plan_again_finds_nothing(corp: Corp) -> None:
    declare(corp)
    planned = corp.plan("--detailed-exitcode")
    assert planned.code == 2, planned.text
    assert f"  ~ servicers  售前咨询 ({SALES})  # servicers differ: 2 to add, 1 to remove" \
        in planned.out
    assert "  + add        售后服务  name \"售后服务\", avatar \"avatars/after.png\"" in planned.out
    assert "(after 售后服务 is added)  # servicers of a new account: 2 to add" \
        in planned.out
    assert f"  - delete     旧账号 ({OLD})" in planned.out
    assert NOT_MANAGED in planned.out
    assert ("Plan: 1 to add, 1 to change, 1 to delete, 2 servicer changes"
            in planned.out)
    assert corp.writes() == []

    seeded = corp.live()[SALES]["picture"]
    applied = corp.apply()
    assert applied.code == 0, applied.text
    assert "Verified: the live accounts match the configuration." in applied.out
    assert "Apply complete: 1 added, 1 updated, 1 deleted, 2 servicer changes made" in applied.out
    live = corp.live()
    assert sorted(a["name"] for a in live.values()) == ["Console only", "售前咨询", "售后服务"]
    assert OLD not in live
    added = corp.named("售后服务")
    assert all(a["picture"] for a in live.values())  # every account has an avatar
    assert live[SALES]["picture"] != seeded  # the declared picture replaced the seeded one
    assert servicers(live[SALES]) == (["lisi", "zhangsan"], [2])
    assert servicers(added) == (["wang.wu"], [10])
    assert servicers(live[CONSOLE_ONLY]) == (["lisi"], [])
    assert corp.assert_converged().code == 0


def test_a_new_avatar_is_uploaded_and_set_in_one_update(corp: Corp) -> None:
    declare(corp)
    assert corp.apply().code == 0
    before = corp.live()[SALES]["picture"]
    corp.avatar("sales.png", "frame")
    since = corp.last_seq()
    applied = corp.apply()
    assert applied.code == 0, applied.text
    [update] = corp.calls(UPDATE, since)
    assert set(update["body"]) == {"open_kfid", "media_id"}
    assert corp.live()[SALES]["picture"] not in ("", before)
    corp.assert_converged()


# --------------------------------------------------------------------------- renames


@pytest.mark.parametrize("entry", [{"id": SALES}, {"previously": ["售前咨询"]}],
                         ids=["id", "previously"])
def test_a_rename_is_an_update_of_the_same_account(corp: Corp, entry: dict[str, Any]) -> None:
    avatar = corp.avatar("sales.png", "stripes")
    corp.write_config({"售前服务": {**entry, "avatar": avatar}})
    planned = corp.plan("--detailed-exitcode")
    assert planned.code == 2, planned.text
    assert f"  ~ update     售前服务 ({SALES})  name \"售前咨询\" → \"售前服务\"" in planned.out
    assert "# renamed from 售前咨询 and live avatar is a different picture" in planned.out
    since = corp.last_seq()
    applied = corp.apply()
    assert applied.code == 0, applied.text
    [update] = corp.calls(UPDATE, since)
    assert update["body"]["open_kfid"] == SALES
    assert update["body"]["name"] == "售前服务"
    assert corp.calls(ADD, since) == corp.calls(DELETE, since) == []
    live = corp.live()
    assert live[SALES]["name"] == "售前服务"
    assert servicers(live[SALES]) == (["zhangsan"], [10])  # servicers not declared: left alone
    corp.assert_converged()


# --------------------------------------------------------------------------- servicers


def test_a_servicer_that_fails_leaves_the_others_done_and_only_itself_to_do(corp: Corp) -> None:
    corp.write_config({"售前咨询": {"id": SALES, "avatar": corp.avatar("sales.png", "stripes"),
                                "servicers": {"users": ["ghost", "lisi", "zhangsan"],
                                              "departments": [2]}}})
    since = corp.last_seq()
    applied = corp.apply()
    assert applied.code == 4, applied.text
    failure = ("servicers 售前咨询 … failed: errcode 60111 servicers not added: ghost "
               "(60111 no member of the corp has this userid)")
    assert failure in applied.err
    assert f"Failed:\n  {failure}" in applied.out
    assert "Apply incomplete: " in applied.out
    assert "; 1 failed, 0 skipped" in applied.out
    [added] = corp.calls(SERVICER_ADD, since)
    assert added["body"] == {"open_kfid": SALES, "userid_list": ["ghost", "lisi"],
                             "department_id_list": [2]}
    [removed] = corp.calls(SERVICER_DEL, since)  # the failed item stops nothing else
    assert removed["body"] == {"open_kfid": SALES, "department_id_list": [10]}
    assert servicers(corp.live()[SALES]) == (["lisi", "zhangsan"], [2])

    left = corp.plan("--detailed-exitcode")
    assert left.code == 2, left.text
    changes = [line for line in left.out.splitlines() if line.startswith("  ") and "#" in line]
    assert changes == [f"  ~ servicers  售前咨询 ({SALES})  # servicers differ: 1 to add"]
    assert "      + user ghost\n\n" in left.out


# --------------------------------------------------------------------------- refusals


def test_two_live_accounts_of_one_name_block_the_plan_and_nothing_is_sent(corp: Corp) -> None:
    corp.admin.seed(accounts=[account("wkTwinA", "售前咨询", 4)])
    corp.write_config({"售前咨询": {"avatar": corp.avatar("sales.png", "stripes"),
                                "servicers": {"users": ["lisi"]}}})
    refusal = f"售前咨询: two live accounts are named 售前咨询 ({SALES}, wkTwinA): pin one with `id:`"
    planned = corp.plan("--detailed-exitcode")
    assert planned.code == 3, planned.text
    assert f"Refused:\n  {refusal}" in planned.out
    assert planned.err == f"kfsync: error: refused: {refusal}\n"
    applied = corp.apply()
    assert applied.code == 3, applied.text
    assert applied.err == f"kfsync: error: refused: {refusal}\n"
    assert corp.writes() == []
    assert all(r["path"] in READS or r["path"].startswith(PICTURES) for r in corp.requests())

    corp.write_config({"售前咨询": {"id": "wkTwinA", "avatar": corp.avatar("sales.png", "stripes")}})
    pinned = corp.plan("--detailed-exitcode")  # the pin says which; the other is not declared
    assert pinned.code == 2, pinned.text
    assert "Refused" not in pinned.out
    assert "  售前咨询: not declared; policy unmanaged: report" in pinned.out


def test_a_tombstone_within_max_deletes_is_deleted(corp: Corp) -> None:
    corp.write_config({"售前咨询": {"id": SALES, "avatar": corp.avatar("sales.png", "stripes")},
                       "旧账号": {"state": "absent"}}, policy={"max_deletes": 1})
    applied = corp.apply()
    assert applied.code == 0, applied.text
    assert [c["body"] for c in corp.calls(DELETE)] == [{"open_kfid": OLD}]
    assert OLD not in corp.live()
    corp.assert_converged()


def test_deletes_over_max_deletes_need_each_name(corp: Corp) -> None:
    corp.admin.seed(accounts=[account("wkSpare0009", "备用", 5)])
    corp.write_config({"售前咨询": {"id": SALES, "avatar": corp.avatar("sales.png", "stripes")},
                       "旧账号": {"state": "absent"}, "备用": {"state": "absent"}},
                      policy={"max_deletes": 1})
    refusal = ("kfsync: error: refused: the plan deletes 2 accounts (rebinds included), more than "
               "max_deletes=1; name each with --allow-delete 备用,旧账号\n")
    for allowed in ((), ("--allow-delete", "旧账号")):
        refused = corp.apply(*allowed)
        assert refused.code == 3, refused.text
        assert refused.err == refusal
    assert corp.writes() == []
    stray = corp.apply("--allow-delete", "旧账号@x,备用")
    assert stray.code == 3, stray.text
    assert "--allow-delete names 旧账号@x, which the plan does not delete" in stray.err
    applied = corp.apply("--allow-delete", "备用,旧账号")
    assert applied.code == 0, applied.text
    assert sorted(c["body"]["open_kfid"] for c in corp.calls(DELETE)) == [OLD, "wkSpare0009"]
    assert {OLD, "wkSpare0009"}.isdisjoint(corp.live())


def test_an_account_the_app_does_not_manage_is_never_touched(corp: Corp) -> None:
    corp.write_config({"售前咨询": {"id": SALES, "avatar": corp.avatar("sales.png", "stripes"),
                                "servicers": {"users": []}}},
                      policy={"unmanaged": "delete", "max_deletes": 5})
    untouched = corp.live()[CONSOLE_ONLY]
    planned = corp.plan()
    assert planned.code == 0, planned.text
    assert f"Warnings:\n  {NOT_MANAGED}\n" in planned.out
    assert "delete     Console only" not in planned.out
    applied = corp.apply("--format", "json")
    assert applied.code == 0, applied.text
    assert NOT_MANAGED in json.loads(applied.out)["verify"]["warnings"]
    assert sorted(c["body"]["open_kfid"] for c in corp.calls(DELETE)) == [OLD]  # managed, undeclared
    assert corp.live()[CONSOLE_ONLY] == untouched
    corp.assert_converged()
    touched = mentions(corp.requests(), CONSOLE_ONLY)
    assert {r["path"] for r in touched} <= READS, touched


@pytest.mark.parametrize("entry", [{}, {"id": CONSOLE_ONLY}, {"previously": ["Console only"]}],
                         ids=["name", "id", "previously"])
def test_an_entry_for_an_account_the_app_does_not_manage_is_refused(
        corp: Corp, entry: dict[str, Any]) -> None:
    name = "Console only" if not entry.get("previously") else "Renamed"
    corp.write_config({name: {**entry, "avatar": corp.avatar("c.png", "halves")}})
    refusal = (f"{name}: Console only ({CONSOLE_ONLY}) is not managed by this app; let the app "
               f"manage it under {CONSOLE}, or leave it out of the file")
    for run in (corp.plan, corp.apply):
        refused = run()
        assert refused.code == 3, refused.text
        assert refusal in refused.err
    assert corp.writes() == []
    assert {r["path"] for r in mentions(corp.requests(), CONSOLE_ONLY)} <= READS


def test_an_app_that_manages_no_account_yet_is_told_where_in_the_console(
        corp: Corp, wecom_server: WeComEmulator) -> None:
    wecom_server.admin.reset()
    corp.admin.seed(accounts=[account(CONSOLE_ONLY, "Console only", 3, manage_privilege=False)])
    corp.write_config({"售前咨询": {"avatar": corp.avatar("sales.png", "stripes")}})
    refusal = ("this app manages no 微信客服 account yet, and WeCom lets an app add accounts only "
               f"once it manages one: assign an account to the app in the console ({CONSOLE}), "
               "then plan again")
    planned = corp.plan("--detailed-exitcode")
    assert planned.code == 3, planned.text
    assert f"Refused:\n  {refusal}\n" in planned.out
    applied = corp.apply()
    assert applied.code == 3, applied.text
    assert refusal in applied.err
    assert corp.writes() == []
    assert all(r["errcode"] in (None, 0) for r in corp.requests())  # no 48002 met at apply


# --------------------------------------------------------------------------- outputs


def test_the_plan_says_known_after_apply_and_apply_gives_the_links(corp: Corp) -> None:
    declare(corp)
    planned = corp.plan()
    assert planned.code == 0, planned.text
    assert links(planned.out) == {("售前咨询", "app"): "(known after apply)",
                                  ("售前咨询", "website"): "(known after apply)",
                                  ("售后服务", "poster"): "(known after apply)"}
    assert NOTE in planned.out
    assert corp.calls(LINK) == []  # a plan makes no link

    applied = corp.apply()
    assert applied.code == 0, applied.text
    report = applied.out.split("Verified: the live accounts match the configuration.")[1]
    made = links(report)
    assert sorted(made) == [("售前咨询", "app"), ("售前咨询", "website"), ("售后服务", "poster")]
    assert all(URL.fullmatch(value.strip('"')) for value in made.values()), made
    assert len(set(made.values())) == 3
    assert NOTE in report
    added = corp.named("售后服务")["open_kfid"]
    assert sorted((c["body"]["open_kfid"], c["body"]["scene"]) for c in corp.calls(LINK)) == sorted(
        [(SALES, "app"), (SALES, "website"), (added, "poster")])


def test_json_apply_carries_the_links(corp: Corp) -> None:
    declare(corp)
    applied = corp.apply("--format", "json")
    assert applied.code == 0, applied.text
    document = json.loads(applied.out)
    apply_document().validate(document)
    assert [(o["account"], o["kind"], o["key"]) for o in document["outputs"]] == [
        ("售前咨询", "contact_link", "app"), ("售前咨询", "contact_link", "website"),
        ("售后服务", "contact_link", "poster")]
    assert all(URL.fullmatch(o["value"]) for o in document["outputs"])
    assert "outputs_error" not in document


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_link_that_cannot_be_made_leaves_the_apply_incomplete(corp: Corp, fmt: str) -> None:
    declare(corp)
    corp.admin.fault(LINK, errcode=95000)
    applied = corp.apply("--format", fmt)
    assert applied.code == 4, applied.text
    assert corp.named("售后服务")  # the changes themselves were made
    if fmt == "json":
        document = json.loads(applied.out)
        apply_document().validate(document)
        assert document["complete"] is True
        assert "95000" in document["outputs_error"]
        assert "outputs" not in document
        return
    [warning] = [line for line in applied.out.splitlines() if line.startswith("Outputs not")]
    assert warning.startswith("Outputs not reported: ")
    assert "95000" in warning
    assert applied.out.rstrip().splitlines()[-1].startswith("Apply complete: 1 added")


def test_an_apply_in_sync_reports_the_links_again(corp: Corp) -> None:
    declare(corp)
    first = corp.apply()
    assert first.code == 0, first.text
    since = corp.last_seq()
    again = corp.apply()
    assert again.code == 0, again.text
    assert "No changes. The live accounts match the configuration." in again.out
    assert links(again.out.split("No changes.")[1]) == links(first.out.split("Verified:")[1])
    assert [c["path"] for c in corp.writes(since)] == [LINK] * 3  # only the links, asked again

    as_json = corp.apply("--format", "json")
    assert as_json.code == 0, as_json.text
    document = json.loads(as_json.out)
    apply_document().validate(document)
    assert document["outcomes"] == []
    assert document["verify"]["changes"] == []
    assert all(URL.fullmatch(o["value"]) for o in document["outputs"])

    corp.admin.fault(LINK, errcode=95000)
    failed = corp.apply()
    assert failed.code == 4, failed.text
    assert "Outputs not reported: " in failed.out


def test_a_scene_removed_from_the_file_is_only_no_longer_reported(corp: Corp) -> None:
    declare(corp)
    assert corp.apply().code == 0
    corp.write_config({"售前咨询": {"id": SALES, "avatar": "avatars/sales.png",
                                "servicers": {"users": ["lisi", "zhangsan"], "departments": [2]},
                                "scenes": ["app"]}})
    since = corp.last_seq()
    applied = corp.apply()
    assert applied.code == 0, applied.text
    assert "No changes. The live accounts match the configuration." in applied.out
    assert list(links(applied.out)) == [("售前咨询", "app")]
    assert NOTE in applied.out
    assert [c["body"]["scene"] for c in corp.calls(LINK, since)] == ["app"]



# --------------------------------------------------------------------------- import, saved plans


def test_an_imported_file_plans_no_changes(corp: Corp) -> None:
    imported = corp.run("import", "--provider", "wecom", "-o", "imported/kf.yaml")
    assert (imported.code, imported.out) == (0, ""), imported.text
    assert imported.err.splitlines()[-1] == (
        "Imported 2 accounts (2 avatars, 1 not managed by this app) into imported/kf.yaml")
    text = (corp.folder / "imported/kf.yaml").read_text(encoding="utf-8")
    corp.assert_no_secret(text)
    assert f"#   Console only ({CONSOLE_ONLY})" in text
    since = corp.last_seq()
    planned = corp.run("plan", "-c", "imported/kf.yaml", "--detailed-exitcode")
    assert planned.code == 0, planned.text
    assert "No changes. The live accounts match the configuration." in planned.out
    assert corp.writes(since) == []


def saved_plan(corp: Corp) -> Path:
    declare(corp)
    return corp.save_plan()


def test_a_saved_plan_applies_and_converges(corp: Corp) -> None:
    saved = saved_plan(corp)
    applied = corp.run("apply", saved, "-c", corp.config)
    assert applied.code == 0, applied.text
    assert "Apply complete: 1 added, 1 updated, 1 deleted, 2 servicer changes made" in applied.out
    assert len(links(applied.out)) == 3
    assert servicers(corp.named("售后服务")) == (["wang.wu"], [10])
    corp.assert_converged()


def test_a_saved_plan_made_stale_by_a_console_rename_is_refused_saying_so(
        corp: Corp, console: WeComClient) -> None:
    saved = saved_plan(corp)
    console.update_account(SALES, name="售前")
    since = corp.last_seq()
    refused = corp.run("apply", saved, "-c", corp.config)
    assert refused.code == 3, refused.text
    assert refused.err.startswith(
        f"kfsync: error: saved plan is stale (the live accounts changed: 售前咨询 ({SALES}): "
        "kf_account 售前咨询 → 售前, nickname 售前咨询 → 售前 since "), refused.err
    assert refused.err.count("\n") == 1
    assert corp.writes(since) == []


# --------------------------------------------------------------------------- Markdown


def test_the_markdown_plan_shows_servicers_and_outputs_inertly(corp: Corp) -> None:
    declare(corp)
    planned = corp.plan("--format", "markdown")
    assert planned.code == 0, planned.text
    markdown = planned.out
    assert markdown.splitlines()[0] == f"<!-- kfsync:{DEFAULT_CORPID} -->"
    assert_inert_comment(markdown)
    assert (f"| `~` | servicers | `售前咨询` (`{SALES}`) | + user `lisi`, + department `2`, "
            "- department `10` |") in markdown
    assert "| `~` | servicers | `售后服务` | + user `wang.wu`, + department `10` (after `售后服务` " \
           "is added) |" in markdown
    assert "### Outputs\n\n- `售前咨询`: `contact_link` `app` = (known after apply)\n" in markdown
    assert "- `售后服务`: `contact_link` `poster` = (known after apply)\n" in markdown
    assert f"- Console only `({CONSOLE_ONLY})` is not managed by this app" in markdown


# --------------------------------------------------------------------------- secrets


def test_no_secret_in_any_output_even_when_debugging(corp: Corp) -> None:
    declare(corp)
    for args in (("plan", "-c", corp.config, "--debug", "-vv"),
                 ("plan", "-c", corp.config, "--format", "json"),
                 ("apply", "-c", corp.config, "--auto-approve", "--debug", "-vv"),
                 ("accounts", "--provider", "wecom", "--format", "json"),
                 ("import", "--provider", "wecom", "-o", "again.yaml", "--debug")):
        done = corp.run(*args)  # checks the corp secret and every token the emulator gave
        assert done.code == 0, done.text
    assert corp.tokens, "the emulator handed out no token to check against"
    for written in (corp.folder / "again.yaml", corp.folder / "kfsync.schema.json"):
        corp.assert_no_secret(written.read_text(encoding="utf-8"))
