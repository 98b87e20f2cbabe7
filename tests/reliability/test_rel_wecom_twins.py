"""Twins, one at a time: an account this run added, and one of its name another apply made meanwhile.

The racing applies of test_rel_wecom_race.py meet twins at whatever moments the
scheduler picks; here the twin is seeded between the apply and its verifying
reading, with an open_kfid that sorts before or after ours, so that each way of
settling it is seen, and so are a delete that fails and a reading that lists an
account the other apply deletes before its servicers are read.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest

from kfsync.cache import Cache
from kfsync.config import load_config
from kfsync.engine import Declared, declare, judged
from kfsync.providers.wecom.client import WeComClient
from kfsync.providers.wecom.provider import WeComProvider
from tests.helpers.rel_wecom import (
    BOOTSTRAP,
    WeComWanted,
    WeComWorkspace,
    assert_wecom_live_matches,
    write_wecom_shop,
)
from tests.helpers.reliability import apply_now, judge_now, picture

SALES = WeComWanted("售前咨询", ("user01", "user02"), (2,), ("web",))
FIRST, LAST = "wk----twin", "wkzzzztwin"  #: before and after any open_kfid WeCom makes
DELETE = "/cgi-bin/kf/account/del"
LINK = "/cgi-bin/kf/add_contact_way"


def applied(workspace: WeComWorkspace, provider: WeComProvider) -> Declared:
    """SALES added and given its servicers by `provider`, which keeps what it added."""
    declared = declare(load_config(write_wecom_shop(workspace.folder, [SALES])))
    assert apply_now(declared, provider).complete
    return declared


def twin_of_sales(open_kfid: str) -> dict[str, Any]:
    """SALES as another apply of the same file adds it: same name, same picture (the first)."""
    return {"open_kfid": open_kfid, "name": SALES.name,
            "avatar_base64": base64.b64encode(picture(0)).decode()}


def ours(workspace: WeComWorkspace) -> str:
    return next(str(a["open_kfid"]) for a in workspace.emulator.admin.state()["accounts"]
                if a["open_kfid"] != BOOTSTRAP)


@pytest.mark.parametrize("twin", [FIRST, LAST])
def test_the_smallest_open_kfid_is_kept_and_is_the_one_the_links_are_made_for(
        wecom_workspace: WeComWorkspace, wecom_client: WeComClient, twin: str,
        caplog: pytest.LogCaptureFixture) -> None:
    admin = wecom_workspace.emulator.admin
    provider = WeComProvider(wecom_client, cache=Cache(None))
    declared = applied(wecom_workspace, provider)
    added = ours(wecom_workspace)
    admin.seed(accounts=[twin_of_sales(twin)])  # its apply has not given it servicers yet

    verified = judge_now(declared, provider)

    kept, deleted = sorted([added, twin])
    assert verified.plan.empty, verified.plan.changes
    assert [e["body"]["open_kfid"] for e in admin.requests() if e["path"] == DELETE] == [deleted]
    assert f"{SALES.name}: another apply added it too; kept {kept}, deleted {deleted}" \
        in caplog.messages
    assert_wecom_live_matches(admin.state(), [SALES])  # the twin kept got its servicers
    assert ours(wecom_workspace) == kept
    links = provider.outputs(verified.plan.outputs)
    assert [(o.key, bool(o.value)) for o in links] == [("web", True)]
    assert [e["body"]["open_kfid"] for e in admin.requests() if e["path"] == LINK] == [kept]


def test_an_apply_that_added_nothing_settles_nothing(
        wecom_workspace: WeComWorkspace, wecom_client: WeComClient) -> None:
    """Two accounts of one name that this run did not make are the user's to sort out:
    kfsync deletes neither, and the plan refuses them."""
    admin = wecom_workspace.emulator.admin
    declared = applied(wecom_workspace, WeComProvider(wecom_client, cache=Cache(None)))
    other = WeComProvider(wecom_client, cache=Cache(None))
    before = other.read(declared.config)
    admin.seed(accounts=[twin_of_sales(FIRST)])
    again = other.read(declared.config)
    assert len(again.accounts) == len(before.accounts) + 1
    verified = judged(declared, again, rules=other.rules(declared.config))
    assert verified.refused is not None
    assert f"two live accounts are named {SALES.name}" in str(verified.refused)
    assert all(e["path"] != DELETE for e in admin.requests())


def test_a_twin_that_cannot_be_deleted_is_left_to_the_plan_with_a_warning(
        wecom_workspace: WeComWorkspace, wecom_client: WeComClient,
        caplog: pytest.LogCaptureFixture) -> None:
    admin = wecom_workspace.emulator.admin
    provider = WeComProvider(wecom_client, cache=Cache(None))
    declared = applied(wecom_workspace, provider)
    admin.seed(accounts=[twin_of_sales(LAST)])
    admin.fault(DELETE, 10, errcode=40058)

    with caplog.at_level(logging.WARNING):
        verified = judge_now(declared, provider)

    assert verified.refused is not None
    assert f"two live accounts are named {SALES.name}" in str(verified.refused)
    assert any(m.startswith(f"{SALES.name}: could not delete {LAST}, made by an apply racing "
                            "this one: ") and "40058" in m for m in caplog.messages)
    assert f"{SALES.name}: another apply added it too; kept {ours(wecom_workspace)}, " \
        "deleted none" in caplog.messages


def test_an_account_deleted_between_the_list_and_its_servicers_is_not_live(
        wecom_workspace: WeComWorkspace, wecom_client: WeComClient) -> None:
    admin = wecom_workspace.emulator.admin
    declared = applied(wecom_workspace, WeComProvider(wecom_client, cache=Cache(None)))
    admin.fault("/cgi-bin/kf/servicer/list", errcode=95004)  # the first listed: the bootstrap
    reading = WeComProvider(wecom_client, cache=Cache(None), parallelism=1).read(declared.config)
    assert [a.kf_account for a in reading.accounts] == [SALES.name]


def test_a_protected_name_is_never_settled_by_deleting_a_twin(
        wecom_workspace: WeComWorkspace, wecom_client: WeComClient) -> None:
    """`policy.protected` means never deleted, a twin included: the plan refuses the two instead."""
    admin = wecom_workspace.emulator.admin
    provider = WeComProvider(wecom_client, cache=Cache(None))
    config = write_wecom_shop(wecom_workspace.folder, [SALES])
    config.write_text(config.read_text(encoding="utf-8") + "policy:\n  protected: ['售前*']\n",
                      encoding="utf-8")
    declared = declare(load_config(config))
    assert apply_now(declared, provider).complete
    admin.seed(accounts=[twin_of_sales(LAST)])

    verified = judge_now(declared, provider)

    assert verified.refused is not None
    assert f"two live accounts are named {SALES.name}" in str(verified.refused)
    assert all(e["path"] != DELETE for e in admin.requests())
