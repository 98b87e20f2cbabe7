"""WeCom writes whose answers are lost: an add is settled by re-reading, a servicer batch is repeated.

kf/account/add is not idempotent: an add whose connection drops is never sent
again blindly; the list says whether it was made (then its open_kfid is taken
from there, for the servicers).  Servicer calls are: a lost batch is sent again,
and the items it already made answer "ignored", which counts as done.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kfsync.apply import ApplyResult
from kfsync.cache import Cache
from kfsync.config import load_config
from kfsync.engine import declare
from kfsync.providers.wecom.client import WeComClient
from kfsync.providers.wecom.provider import WeComProvider
from tests.helpers.rel_wecom import (
    ADD,
    SERVICER_ADD,
    WeComWanted,
    WeComWorkspace,
    assert_wecom_live_matches,
    wecom_adds,
    write_wecom_shop,
)
from tests.helpers.reliability import apply_now, assert_lost_add_settled

LIST = "/cgi-bin/kf/account/list"


def apply_shop(folder: Path, client: WeComClient, wanted: list[WeComWanted]) -> ApplyResult:
    declared = declare(load_config(write_wecom_shop(folder, wanted)))
    return apply_now(declared, WeComProvider(client, cache=Cache(None)))


SALES = WeComWanted("售前咨询", ("user01", "user02"), (2,), ())


@pytest.mark.parametrize("drops", [["after"], ["before", "before"], ["before", "after"],
                                   ["before", "before", "before", "after"]])
def test_a_lost_add_is_settled_by_re_reading_each_time_and_its_servicers_follow(
        wecom_workspace: WeComWorkspace, wecom_client: WeComClient, drops: list[str]) -> None:
    admin = wecom_workspace.emulator.admin
    for drop in drops:
        admin.fault(ADD, drop=drop)
    result = apply_shop(wecom_workspace.folder, wecom_client, [SALES])
    entries = admin.requests()
    assert_lost_add_settled(result, entries, ADD, drops)
    assert wecom_adds(entries) == {SALES.name: 1}
    assert_wecom_live_matches(admin.state(), [SALES])


def test_an_add_lost_without_end_fails_skips_its_servicers_and_adds_nothing(
        wecom_workspace: WeComWorkspace, wecom_client: WeComClient) -> None:
    admin = wecom_workspace.emulator.admin
    admin.fault(ADD, 20, drop="before")
    add, servicers = apply_shop(wecom_workspace.folder, wecom_client, [SALES]).outcomes
    assert add.status == "failed"
    assert add.message is not None
    assert add.message.startswith("answer lost 5 times")
    assert (servicers.status, servicers.message) == ("skipped", f"add {SALES.name} did not complete")
    assert wecom_adds(admin.requests()) == {}


def test_a_lost_add_whose_re_read_fails_is_a_failed_change_and_a_rerun_adds_nothing_twice(
        wecom_workspace: WeComWorkspace, wecom_client: WeComClient) -> None:
    admin = wecom_workspace.emulator.admin
    admin.fault(LIST, latency_ms=0)  # the plan's own reading goes through
    admin.fault(ADD, drop="after")
    admin.fault(LIST, 4, http_status=502)  # the re-read does not, in 4 attempts
    add, servicers = apply_shop(wecom_workspace.folder, wecom_client, [SALES]).outcomes
    assert add.status == "failed"
    assert add.message is not None
    assert "HTTP 502" in add.message
    assert servicers.status == "skipped"
    # The next apply finds the account made and only sets its servicers.
    again = apply_shop(wecom_workspace.folder, wecom_client, [SALES]).outcomes
    assert [(o.change.action.value, o.status) for o in again] == [("servicers", "done")]
    assert wecom_adds(admin.requests()) == {SALES.name: 1}
    assert_wecom_live_matches(admin.state(), [SALES])


@pytest.mark.parametrize("drop", ["before", "after"])
def test_a_lost_servicer_batch_is_sent_again_and_what_it_made_counts_as_done(
        wecom_workspace: WeComWorkspace, wecom_client: WeComClient, drop: str) -> None:
    """150 members: two batches; the second one's answer is lost, and it is sent once more."""
    admin = wecom_workspace.emulator.admin
    many = [f"member{n:03d}" for n in range(150)]
    admin.seed(users=[{"userid": u} for u in many])
    crowded = WeComWanted("全员值班", tuple(many), (), ())
    admin.fault(SERVICER_ADD, latency_ms=0)  # the first batch goes through
    admin.fault(SERVICER_ADD, drop=drop)
    add, servicers = apply_shop(wecom_workspace.folder, wecom_client, [crowded]).outcomes
    assert (add.status, servicers.status) == ("done", "done"), servicers
    batches = [e for e in admin.requests() if e["path"] == SERVICER_ADD]
    assert [e["fault"] for e in batches] == ["latency_ms:0", f"drop:{drop}", None]
    assert [len(e["body"]["userid_list"]) for e in batches] == [100, 50, 50]
    assert batches[1]["body"] == batches[2]["body"]
    assert_wecom_live_matches(admin.state(), [crowded])
