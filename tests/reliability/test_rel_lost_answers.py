"""The applier under lost answers and re-reads that fail: every change still ends done, failed or skipped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kfsync.apply import ApplyResult
from kfsync.cache import Cache
from kfsync.config import load_config
from kfsync.engine import declare
from kfsync.providers.wechat_mp.client import KfClient, RetryPolicy
from kfsync.providers.wechat_mp.client.results import KfAccount
from kfsync.providers.wechat_mp.provider import WechatMpProvider
from tests.helpers.reliability import (
    ADD_PATH,
    INVITE_PATH,
    LIST_PATH,
    Workspace,
    apply_now,
    assert_lost_add_settled,
    effective_adds,
    kf,
)


@pytest.fixture
def client(workspace: Workspace) -> Iterator[KfClient]:
    with KfClient(retry=RetryPolicy(sleep=lambda _: None)) as made:
        yield made


def apply_config(folder: Path, client: KfClient, text: str) -> ApplyResult:
    config_path = folder / "kfsync.yaml"
    config_path.write_text("version: 1\nofficial_account: {wechat_id: shop_cs}\n" + text,
                           encoding="utf-8")
    return apply_now(declare(load_config(config_path)), WechatMpProvider(client, cache=Cache(None)))


ALICE = "accounts:\n  alice: {nickname: Alice, wechat: alice_wx}\n"


@pytest.mark.parametrize("drops", [["before", "before"], ["before", "after"],
                                   ["before", "before", "before", "after"]])
def test_an_answer_lost_again_and_again_is_resolved_by_re_reading_each_time(
        workspace: Workspace, client: KfClient, drops: list[str]) -> None:
    admin = workspace.emulator.admin
    for drop in drops:
        admin.fault(ADD_PATH, drop=drop)
    result = apply_config(workspace.folder, client, ALICE)
    entries = admin.requests()
    assert_lost_add_settled(result, entries, ADD_PATH, drops)
    assert effective_adds(entries) == {kf("alice"): 1}


def test_answers_lost_without_end_fail_the_change_and_skip_its_dependents(
        workspace: Workspace, client: KfClient) -> None:
    workspace.emulator.admin.fault(ADD_PATH, 20, drop="before")
    result = apply_config(workspace.folder, client, ALICE)
    add, invite = result.outcomes
    assert add.status == "failed"
    assert add.message is not None
    assert add.message.startswith("answer lost 5 times")
    assert invite.status == "skipped"
    assert effective_adds(workspace.emulator.admin.requests()) == {}


@pytest.mark.parametrize(("their_nickname", "status"), [("Alice", "done"), ("Alicia", "failed")])
def test_an_account_someone_else_adds_after_our_re_read(
        workspace: Workspace, client: KfClient, monkeypatch: pytest.MonkeyPatch,
        their_nickname: str, status: str) -> None:
    """Lost answer, re-read (not there), then a racing apply adds it: our repeat meets 65406.

    With the nickname we wanted, that is done; with another one, it is not.
    """
    workspace.emulator.admin.fault(ADD_PATH, drop="before")
    list_accounts = client.list_accounts
    reads: list[int] = []

    def re_read_then_race() -> tuple[KfAccount, ...]:
        accounts = list_accounts()
        reads.append(len(accounts))
        if len(reads) == 2:  # the plan's read, then the re-read after the lost answer
            with KfClient(retry=RetryPolicy(sleep=lambda _: None)) as other:
                other.add_account(kf("alice"), their_nickname)
        return accounts

    monkeypatch.setattr(client, "list_accounts", re_read_then_race)
    add, invite = apply_config(workspace.folder, client, ALICE).outcomes
    assert add.status == status, add
    if status == "done":
        assert add.note == "WeChat said 65406; already so"
        assert invite.status == "done"
    else:
        assert add.errcode == 65406
        assert add.message is not None
        assert add.message.startswith("answer lost, then: errcode 65406")
        assert invite.status == "skipped"
    assert effective_adds(workspace.emulator.admin.requests()) == {kf("alice"): 1}


@pytest.mark.parametrize(("path", "errcode"), [(ADD_PATH, 65406), (INVITE_PATH, 65411)])
def test_a_refusal_whose_re_read_fails_is_a_failed_change_not_a_crash(
        workspace: Workspace, client: KfClient, path: str, errcode: int) -> None:
    admin = workspace.emulator.admin
    admin.fault(path, errcode=errcode)
    admin.fault(LIST_PATH, latency_ms=0)  # the plan's own read goes through
    admin.fault(LIST_PATH, 4, http_status=502)  # the re-read does not, in 4 attempts
    result = apply_config(workspace.folder, client, ALICE)
    statuses = {o.change.action.value: o for o in result.outcomes}
    failed = statuses["add" if path == ADD_PATH else "invite"]
    assert failed.status == "failed"
    assert failed.errcode == errcode
    assert failed.message is not None
    assert "HTTP 502" in failed.message
