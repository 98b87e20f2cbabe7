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
NOT_MANAGED = f"Console only ({CONSOLE_ONLY}) is not managed by this app; left alone"


@pytest.fixture(scope="module")
def wecom_server() -> Iterator[WeComEmulator]:
    with WeComEmulator() as emu:
        yield emu


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
    assert f"  ~ servicers  售前咨询 ({SALES})  # servicers differ: +lisi, +department 2, " \
           "-department 10" in planned.out
    assert "  + add        售后服务  name \"售后服务\", avatar \"avatars/after.png\"" in planned.out
    assert "(after 售后服务 is added)  # servicers of a new account: +wang.wu, +department 10" \
        in planned.out
    assert f"  - delete     旧账号 ({OLD})" in planned.out
    assert NOT_MANAGED in planned.out
    assert ("Plan: 1 to add, 1 to change, 1 to delete, 0 to invite, 0 avatars, 2 servicer changes"
            in planned.out)
    assert corp.writes() == []

    seeded = corp.live()[SALES]["picture"]
    applied = corp.apply()
    assert applied.code == 0, applied.text
    assert "Verified: the live accounts match the configuration." in applied.out
    assert ("Apply complete: 1 added, 1 updated, 1 deleted, 0 invited, 0 avatars set, "
            "2 servicer changes made") in applied.out
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
    assert changes == [f"  ~ servicers  售前咨询 ({SALES})  # servicers differ: +ghost"]
    assert "      + user ghost\n\n" in left.out
