"""Apply under injected faults: lost answers, busy bursts, quota, failures, non-convergence."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pytest

from kfsync.apply import Applier
from kfsync.plan import Action, Change
from kfsync.providers.wechat_mp.client import KfClient
from kfsync.providers.wechat_mp.provider import WechatMpProvider
from tests.helpers.e2e import (
    ADD_PATH,
    AVATAR_PATH,
    DELETE_PATH,
    INVITE_PATH,
    LIST_PATH,
    TOKEN_PATH,
    UPDATE_PATH,
    Shop,
    json_out,
    kf,
    progress_lines,
    seeded,
    statuses,
)


def one_of_each(shop: Shop) -> None:
    """A plan with a delete, an add (with its avatar and invitation) and an update."""
    shop.write_config({
        "alice": {"nickname": "Alice", "avatar": shop.avatar("alice.png", "stripes"),
                  "wechat": "alice_wx"},
        "bob": {"nickname": "Bob"},
        "carol": {"state": "absent"},
    })
    shop.seed(seeded("bob", "Bobby"), seeded("carol", "Carol"))


@pytest.mark.parametrize("drop", ["after", "before"])
@pytest.mark.parametrize("path", [ADD_PATH, INVITE_PATH, DELETE_PATH])
def test_lost_answer_ends_done_with_exactly_one_effective_write(
        shop: Shop, path: str, drop: str) -> None:
    one_of_each(shop)
    shop.admin.fault(path, drop=drop)
    applied = shop.apply("--auto-approve")
    assert applied.code == 0, applied.text
    assert "Apply complete: 1 added, 1 updated, 1 deleted, 1 invited, 1 avatar set" in applied.out
    sent = shop.calls(path)
    # `after`: made once, confirmed by re-reading; `before`: not made, so made again, once.
    assert [e["fault"] for e in sent] == (["drop:after"] if drop == "after" else ["drop:before", None])
    assert len(shop.effective(path)) == 1
    note = "confirmed by re-reading" if drop == "after" else "not made; made again"
    assert re.search(rf"\] \w+ \w+@shop_cs … ok \(\d+ ms; answer lost; {note}\)", applied.err), applied.err
    for write in (ADD_PATH, INVITE_PATH, DELETE_PATH, UPDATE_PATH, AVATAR_PATH):
        assert len(shop.effective(write)) == 1, write
    assert set(shop.live()) == {kf("alice"), kf("bob")}
    shop.assert_converged()


def test_busy_bursts_are_retried_until_done(shop: Shop, retry_sleeps: list[float]) -> None:
    one_of_each(shop)
    bursts = {TOKEN_PATH: 2, LIST_PATH: 3, ADD_PATH: 3, AVATAR_PATH: 2, INVITE_PATH: 3, DELETE_PATH: 2}
    for path, count in bursts.items():
        shop.admin.fault(path, count, errcode=-1)
    shop.admin.fault(UPDATE_PATH, 2, http_status=503)
    applied = shop.apply("--auto-approve")
    assert applied.code == 0, applied.text
    assert len(retry_sleeps) == sum(bursts.values()) + 2
    assert all(delay > 0 for delay in retry_sleeps)
    for path in (ADD_PATH, INVITE_PATH, DELETE_PATH, UPDATE_PATH, AVATAR_PATH):
        assert len(shop.effective(path)) == 1, path
    shop.assert_converged()


def rename_four(shop: Shop) -> None:
    names = ("ann", "ben", "cat", "dan")
    shop.write_config({n: {"nickname": n.title()} for n in names})
    shop.seed(*(seeded(n, n.upper()) for n in names))


def test_quota_error_stops_new_work_and_reports_the_rest_skipped(shop: Shop) -> None:
    rename_four(shop)
    shop.admin.fault(UPDATE_PATH, latency_ms=0)  # the first update goes through
    shop.admin.fault(UPDATE_PATH, errcode=45009)  # the second meets the daily quota
    applied = shop.apply("--auto-approve", "--parallelism", "1")
    assert applied.code == 4, applied.text
    lines = progress_lines(applied.err)
    assert re.fullmatch(r"\[1/4\] update ann@shop_cs … ok \(\d+ ms\)", lines[0])
    assert lines[1].startswith("[2/4] update ben@shop_cs … failed: errcode 45009")
    assert lines[2:] == [
        "[3/4] update cat@shop_cs … skipped (stopped after WeChat quota error 45009)",
        "[4/4] update dan@shop_cs … skipped (stopped after WeChat quota error 45009)",
    ]
    assert "Stopped: stopped after WeChat quota error 45009" in applied.out
    assert "Apply incomplete: 0 added, 1 updated, 0 deleted, 0 invited, 0 avatars set; " \
           "1 failed, 2 skipped" in applied.out
    assert len(shop.calls(UPDATE_PATH)) == 2


def test_quota_error_lets_the_calls_in_flight_finish(shop: Shop) -> None:
    rename_four(shop)
    shop.write_config({
        **{n: {"nickname": n.title()} for n in ("ann", "ben", "cat", "dan")},
        "eve": {"nickname": "Eve", "avatar": shop.avatar("eve.png", "halves"), "wechat": "eve_wx"},
    })
    shop.admin.fault(ADD_PATH, latency_ms=300)  # still in flight when the quota error comes back
    shop.admin.fault(UPDATE_PATH, errcode=45009)
    applied = shop.apply("--auto-approve", "--parallelism", "4", "--format", "json")
    assert applied.code == 4, applied.text
    document = json_out(applied)
    outcome = statuses(document)
    assert outcome["add:eve@shop_cs"] == "done"  # in flight all along, and finished
    updates = [outcome[f"update:{kf(n)}"] for n in ("ann", "ben", "cat", "dan")]
    assert updates.count("failed") == 1
    # Each update either was started before the quota error came back (and finished) or not at all.
    assert updates.count("done") + 1 == len(shop.calls(UPDATE_PATH)) >= 3
    assert updates.count("done") == len(shop.effective(UPDATE_PATH))
    assert outcome["set_avatar:eve@shop_cs"] == outcome["invite:eve@shop_cs"] == "skipped"
    assert document["stopped"] == "stopped after WeChat quota error 45009"
    assert document["complete"] is False
    assert shop.calls(AVATAR_PATH) == shop.calls(INVITE_PATH) == []


def test_a_failed_change_skips_only_its_dependents(shop: Shop) -> None:
    shop.write_config({
        n: {"nickname": n.title(), "avatar": shop.avatar(f"{n}.png", "frame"), "wechat": f"{n}_wx"}
        for n in ("amy", "bea")
    })
    shop.admin.fault(ADD_PATH, errcode=65403)
    applied = shop.apply("--auto-approve", "--parallelism", "1")
    assert applied.code == 4, applied.text
    assert "add amy@shop_cs … failed: errcode 65403" in applied.err
    assert "set_avatar amy@shop_cs … skipped (add amy@shop_cs did not complete)" in applied.err
    assert "invite amy@shop_cs … skipped (add amy@shop_cs did not complete)" in applied.err
    for action in ("add", "set_avatar", "invite"):
        assert re.search(rf"{action} bea@shop_cs … ok", applied.err), action
    assert "Failed:\n  add amy@shop_cs … failed: errcode 65403" in applied.out
    assert "Not converged: planning again still finds changes:" in applied.out
    assert "Apply incomplete: 1 added, 0 updated, 0 deleted, 1 invited, 1 avatar set; " \
           "1 failed, 2 skipped" in applied.out
    assert set(shop.live()) == {kf("bea")}


@pytest.fixture
def lazy_updates(monkeypatch: pytest.MonkeyPatch) -> None:
    """An Applier that says it updated a nickname but never sent the call."""
    make = WechatMpProvider.execute

    def call(self: WechatMpProvider, change: Change, uploads: Mapping[str, bytes]) -> None:
        if change.action is not Action.UPDATE:
            make(self, change, uploads)

    monkeypatch.setattr(WechatMpProvider, "execute", call)


@pytest.mark.usefixtures("lazy_updates")
def test_apply_that_did_not_converge_says_so_and_exits_4(shop: Shop) -> None:
    one_of_each(shop)
    applied = shop.apply("--auto-approve")
    assert applied.code == 4, applied.text
    assert "Apply complete: 1 added, 1 updated" in applied.out  # every call said ok …
    assert "Not converged: planning again still finds changes:" in applied.out  # … yet
    assert 'update     bob@shop_cs  nickname "Bobby" → "Bob"' in applied.out
    verify = json_out(shop.apply("--auto-approve", "--format", "json"))["verify"]
    assert [c["id"] for c in verify["changes"]] == ["update:bob@shop_cs"]


def test_console_edit_during_apply_is_caught_by_the_verification(
        shop: Shop, console: KfClient, monkeypatch: pytest.MonkeyPatch) -> None:
    one_of_each(shop)
    run = Applier.run

    def run_then_edit(self: Applier, plan: object) -> object:
        result = run(self, plan)  # type: ignore[arg-type]
        console.update_account(kf("bob"), "Bobby again")
        return result

    monkeypatch.setattr(Applier, "run", run_then_edit)
    applied = shop.apply("--auto-approve")
    assert applied.code == 4, applied.text
    assert "Not converged" in applied.out
    assert '"Bobby again" → "Bob"' in applied.out


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_verification_that_cannot_read_the_live_list_still_reports_the_apply(
        shop: Shop, fmt: str) -> None:
    one_of_each(shop)
    shop.admin.fault(LIST_PATH, latency_ms=0)  # the plan's own read
    shop.admin.fault(LIST_PATH, errcode=45009)  # the verification's
    applied = shop.apply("--auto-approve", "--format", fmt)
    assert applied.code == 4, applied.text
    assert "Not verified: the live accounts could not be read again: WeChat errcode 45009" in applied.err
    if fmt == "text":
        assert "Apply complete: 1 added, 1 updated, 1 deleted, 1 invited, 1 avatar set" in applied.out
    else:
        document = json_out(applied)
        assert document["complete"] is True
        assert document["verify"] is None
    shop.assert_converged()
