"""`kfsync session create|close|get|list|waiting`, and every refusal explained in one line."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from kfsync.emulator import Emulator

Run = Callable[..., tuple[int, str, str]]
Fails = Callable[..., str]
Aligned = Callable[[str, Sequence[Sequence[str]], frozenset[int]], None]

CST = timezone(timedelta(hours=8))
CONFIG = "version: 1\nofficial_account:\n  wechat_id: shop_cs\naccounts: {}\n"


def seed_team(emu: Emulator) -> None:
    emu.admin.seed(accounts=[
        {"kf_account": "alice@shop_cs", "kf_nick": "小美", "kf_wx": "alice_wx", "status": 1},
        {"kf_account": "bob@shop_cs", "kf_nick": "Bob", "kf_wx": "bob_wx1", "status": 1},
        {"kf_account": "carol@shop_cs", "kf_nick": "Carol", "kf_wx": "carol_wx"},  # offline
        {"kf_account": "dan@shop_cs", "kf_nick": "Dan", "status": 1},  # not bound
    ])


def iso(timestamp: int) -> str:
    """ISO 8601 with the offset, as machine formats write times: `2026-11-04T12:00:00+08:00`."""
    return datetime.fromtimestamp(timestamp, CST).strftime("%Y-%m-%dT%H:%M:%S+08:00")


def shown(timestamp: int) -> str:
    moment = datetime.fromtimestamp(timestamp, CST)
    return moment.strftime("%Y-%m-%d %H:%M" + (":%S" if moment.second else "") + "+08:00")


def test_create_get_list_close(ops_env: Emulator, ops_run: Run, ops_aligned: Aligned) -> None:
    seed_team(ops_env)
    assert ops_run("session", "create", "alice@shop_cs", "oCust_1") == (
        0, "Session created: alice@shop_cs and oCust_1.\n", "")
    since = shown(ops_env.admin.now())

    code, out, _ = ops_run("session", "get", "oCust_1")
    assert code == 0
    ops_aligned(out, [("OPENID", "SERVED BY", "SINCE"), ("oCust_1", "alice@shop_cs", since)],
                frozenset())

    code, out, _ = ops_run("session", "list", "alice@shop_cs")
    assert code == 0
    ops_aligned(out, [("OPENID", "SINCE"), ("oCust_1", since)], frozenset())

    assert ops_run("session", "close", "alice@shop_cs", "oCust_1", "--text", "再见") == (
        0, "Session closed: alice@shop_cs and oCust_1.\n", "")
    assert ops_run("session", "get", "oCust_1")[1].splitlines()[1].split() == [
        "oCust_1", "-", "-"]


def json_of(run: Run, *argv: str) -> Any:
    code, out, err = run(*argv, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_json_shapes(ops_env: Emulator, ops_run: Run) -> None:
    seed_team(ops_env)
    assert json_of(ops_run, "session", "create", "bob@shop_cs", "oCust_2") == {
        "session": "created", "kf_account": "bob@shop_cs", "openid": "oCust_2"}
    now = ops_env.admin.now()
    assert json_of(ops_run, "session", "get", "oCust_2") == {
        "openid": "oCust_2", "kf_account": "bob@shop_cs", "createtime": now,
        "createtime_iso": iso(now)}
    assert json_of(ops_run, "session", "get", "oNobody") == {
        "openid": "oNobody", "kf_account": None, "createtime": 0}
    assert json_of(ops_run, "session", "list", "bob@shop_cs") == {
        "kf_account": "bob@shop_cs",
        "sessions": [{"openid": "oCust_2", "createtime": now, "createtime_iso": iso(now)}]}
    assert json_of(ops_run, "session", "close", "bob@shop_cs", "oCust_2") == {
        "session": "closed", "kf_account": "bob@shop_cs", "openid": "oCust_2"}


def test_list_of_an_idle_agent(ops_env: Emulator, ops_run: Run) -> None:
    seed_team(ops_env)
    assert ops_run("session", "list", "bob@shop_cs") == (
        0, "", "bob@shop_cs serves no customer now.\n")


def test_waiting(ops_env: Emulator, ops_run: Run, ops_aligned: Aligned) -> None:
    now = ops_env.admin.now()
    ops_env.admin.seed(waitcase=[{"openid": "oLate", "latest_time": now},
                                 {"openid": "oEarly", "latest_time": now - 3600}])
    code, out, err = ops_run("session", "waiting")
    assert (code, err) == (0, "")
    ops_aligned(out, [("OPENID", "LATEST MESSAGE"), ("oEarly", shown(now - 3600)),
                      ("oLate", shown(now))], frozenset())
    assert json_of(ops_run, "session", "waiting") == {"count": 2, "waitcaselist": [
        {"openid": "oEarly", "latest_time": now - 3600, "latest_time_iso": iso(now - 3600)},
        {"openid": "oLate", "latest_time": now, "latest_time_iso": iso(now)}]}
    utc = json_of(ops_run, "session", "waiting", "--tz", "UTC")["waitcaselist"][1]
    assert utc["latest_time_iso"] == datetime.fromtimestamp(now, timezone.utc).isoformat()
    assert utc["latest_time_iso"].endswith("+00:00")


def test_waiting_says_when_wechat_lists_only_some(ops_env: Emulator, ops_run: Run) -> None:
    now = ops_env.admin.now()
    ops_env.admin.seed(waitcase=[{"openid": f"o{i}", "latest_time": now - i} for i in range(101)])
    code, out, err = ops_run("session", "waiting")
    assert code == 0
    assert len(out.splitlines()) == 101  # the header and 100
    assert err == "101 customers are waiting; WeChat lists the first 100.\n"


def test_nobody_waiting(ops_env: Emulator, ops_run: Run) -> None:
    assert ops_run("session", "waiting") == (0, "", "No customer is waiting.\n")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("create", "dan@shop_cs", "oCust_1"),
         "dan@shop_cs is not bound to a WeChat user: invite one (`wechat:` in kfsync.yaml, then "
         "`kfsync apply`) and have them accept in WeChat [WeChat errcode 65402]"),
        (("create", "carol@shop_cs", "oCust_1"),
         "carol@shop_cs is not online: its agent must log in to the web kf tool "
         "[WeChat errcode 65415]"),
        (("create", "zed@shop_cs", "oCust_1"),
         "zed@shop_cs does not exist: declare it in kfsync.yaml and run `kfsync apply`, or check "
         "the name with `kfsync accounts` [WeChat errcode 65401]"),
        (("create", "alice@shop_cs", "not an openid"),
         "invalid openid 'not an openid': it must be the openid of a follower of this Official "
         "Account [WeChat errcode 40003]"),
        (("close", "alice@shop_cs", "oCust_9"),
         "oCust_9 has no open session: there is nothing to close [WeChat errcode 65413]"),
        (("close", "dan@shop_cs", "oCust_9"),
         "dan@shop_cs is not bound to a WeChat user: invite one (`wechat:` in kfsync.yaml, then "
         "`kfsync apply`) and have them accept in WeChat [WeChat errcode 65402]"),
        (("get", "bad/openid"),
         "invalid openid 'bad/openid': it must be the openid of a follower of this Official "
         "Account [WeChat errcode 40003]"),
        (("list", "zed@shop_cs"),
         "zed@shop_cs does not exist: declare it in kfsync.yaml and run `kfsync apply`, or check "
         "the name with `kfsync accounts` [WeChat errcode 65401]"),
        (("list", "dan@shop_cs"),
         "dan@shop_cs is not bound to a WeChat user: invite one (`wechat:` in kfsync.yaml, then "
         "`kfsync apply`) and have them accept in WeChat [WeChat errcode 65402]"),
    ],
)
def test_refusals_say_what_to_do(ops_env: Emulator, ops_fails: Fails, argv: tuple[str, ...],
                                 message: str) -> None:
    seed_team(ops_env)
    assert ops_fails("session", *argv) == message


def test_served_by_another_agent_names_it(ops_env: Emulator, ops_run: Run,
                                          ops_fails: Fails) -> None:
    seed_team(ops_env)
    assert ops_run("session", "create", "alice@shop_cs", "oCust_1")[0] == 0
    assert ops_fails("session", "create", "bob@shop_cs", "oCust_1") == (
        "oCust_1 is being served by alice@shop_cs: close that session first with "
        "`kfsync session close alice@shop_cs oCust_1` [WeChat errcode 65414]")
    assert ops_fails("session", "close", "bob@shop_cs", "oCust_1").startswith(
        "oCust_1 is being served by alice@shop_cs:")


def test_served_by_another_agent_when_wechat_will_not_say_who(ops_env: Emulator,
                                                              ops_fails: Fails) -> None:
    seed_team(ops_env)
    ops_env.admin.fault("/customservice/kfsession/create", errcode=65414)
    ops_env.admin.fault("/customservice/kfsession/getsession", errcode=65400)
    assert ops_fails("session", "create", "bob@shop_cs", "oCust_1") == (
        "oCust_1 is being served by another kf account: `kfsync session get oCust_1` shows which; "
        "that session must be closed first [WeChat errcode 65414]")


def test_other_refusals_keep_the_client_hint(ops_env: Emulator, ops_fails: Fails) -> None:
    ops_env.admin.fault("/customservice/kfsession/getwaitcase", errcode=65400)
    message = ops_fails("session", "waiting")
    assert "errcode 65400" in message
    assert "enable the new customer service" in message


def test_a_prefix_is_completed_from_the_config(ops_env: Emulator, ops_run: Run,
                                               ops_fails: Fails) -> None:
    seed_team(ops_env)
    Path("kfsync.yaml").write_text(CONFIG, encoding="utf-8")
    assert ops_run("session", "create", "alice", "oCust_1")[1] == (
        "Session created: alice@shop_cs and oCust_1.\n")
    Path("other.yaml").write_text(CONFIG.replace("shop_cs", "elsewhere"), encoding="utf-8")
    assert "zed@elsewhere does not exist" in ops_fails("session", "list", "zed", "-c",
                                                   "other.yaml")
    assert ops_run("session", "close", "alice", "oCust_1")[0] == 0


def test_a_prefix_without_a_config_asks_for_the_full_account(ops_env: Emulator,
                                                             ops_fails: Fails) -> None:
    assert ops_fails("session", "list", "alice") == (
        "give the full kf account, e.g. alice@<the Official Account's WeChat ID> (kfsync.yaml "
        "was not found to complete the prefix 'alice')")


def test_a_prefix_with_a_broken_config_asks_for_the_full_account(ops_env: Emulator,
                                                                 ops_fails: Fails) -> None:
    Path("kfsync.yaml").write_text("version: 1\naccounts: {}\n", encoding="utf-8")
    message = ops_fails("session", "create", "alice", "oCust_1")
    assert message.startswith("give the full kf account, e.g. alice@<the Official Account's "
                              "WeChat ID> (kfsync.yaml could not complete the prefix 'alice': ")
    assert "official_account" in message
