"""`kfsync accounts`: the live accounts with binding, invitation and avatar, as a table or JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone

import pytest

from kfsync.emulator import Emulator

Run = Callable[..., tuple[int, str, str]]
Fails = Callable[..., str]
Aligned = Callable[[str, Sequence[Sequence[str]], frozenset[int]], None]

CST = timezone(timedelta(hours=8))


def seed_shop(emu: Emulator) -> int:
    """The shop's accounts; answers when bob's invitation expires (3 days ahead)."""
    expires = emu.admin.now() + 3 * 86400
    emu.admin.seed(accounts=[
        {"kf_account": "alice@shop_cs", "kf_nick": "小美😀", "kf_wx": "alice_wx",
         "kf_headimgurl": "http://mmbiz.qpic.cn/a/0"},
        {"kf_account": "bob@shop_cs", "kf_nick": "Bob", "invite_wx": "bob_wx1",
         "invite_expire_time": expires},
        {"kf_account": "chen@shop_cs", "kf_nick": "陈师傅·售后", "invite_wx": "chen_wx",
         "invite_status": "rejected", "invite_expire_time": 1700000000},
        {"kf_account": "dan@shop_cs", "kf_nick": "Dan\u0301", "invite_wx": "dan_wx1",
         "invite_status": "expired", "invite_expire_time": 1700000000},
        {"kf_account": "eve@shop_cs", "kf_nick": "Eve"},
    ])
    return expires


def test_table_shows_binding_invitation_and_avatar(ops_env: Emulator, ops_run: Run,
                                                  ops_aligned: Aligned) -> None:
    expires = seed_shop(ops_env)
    moment = datetime.fromtimestamp(expires, CST)
    until = moment.strftime("%Y-%m-%d %H:%M" + (":%S" if moment.second else "") + "+08:00")
    code, out, err = ops_run("accounts")
    assert (code, err) == (0, "")
    rows = [
        ("ACCOUNT", "NICKNAME", "KF_ID", "BOUND TO", "INVITATION", "AVATAR"),
        ("alice@shop_cs", "小美😀", "1001", "alice_wx", "-", "yes"),
        ("bob@shop_cs", "Bob", "1002", "-", f"waiting for bob_wx1 until {until}", "no"),
        ("chen@shop_cs", "陈师傅·售后", "1003", "-", "rejected by chen_wx", "no"),
        ("dan@shop_cs", "Dan\u0301", "1004", "-", "expired (dan_wx1)", "no"),
        ("eve@shop_cs", "Eve", "1005", "-", "-", "no"),
    ]
    ops_aligned(out, rows, frozenset({2}))


def test_json_is_the_wire_shape(ops_env: Emulator, ops_run: Run) -> None:
    expires = seed_shop(ops_env)
    code, out, _ = ops_run("accounts", "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert list(document) == ["accounts"]
    by_name = {a["kf_account"]: a for a in document["accounts"]}
    assert by_name["alice@shop_cs"] == {
        "kf_account": "alice@shop_cs", "kf_nick": "小美😀", "kf_id": "1001",
        "kf_headimgurl": "http://mmbiz.qpic.cn/a/0", "kf_wx": "alice_wx",
    }
    assert by_name["bob@shop_cs"]["invite_status"] == "waiting"
    assert by_name["bob@shop_cs"]["invite_expire_time"] == expires
    assert by_name["bob@shop_cs"]["invite_expire_time_iso"] == (
        datetime.fromtimestamp(expires, CST).strftime("%Y-%m-%dT%H:%M:%S+08:00"))
    assert by_name["eve@shop_cs"]["kf_headimgurl"] == ""


def test_nicknames_cannot_inject_terminal_controls(ops_env: Emulator, ops_run: Run) -> None:
    ops_env.admin.seed(accounts=[{"kf_account": "mal@shop_cs", "kf_nick": "x\x1b[2Jy"}])
    code, out, _ = ops_run("accounts")
    assert code == 0
    assert "\x1b" not in out
    assert "x\\x1b[2Jy" in out


def test_no_accounts(ops_env: Emulator, ops_run: Run) -> None:
    assert ops_run("accounts") == (0, "", "No kf accounts yet (create them with `kfsync apply`).\n")
    code, out, _ = ops_run("accounts", "--format", "json")
    assert (code, json.loads(out)) == (0, {"accounts": []})


def test_missing_credentials_are_one_line(ops_env: Emulator, ops_fails: Fails,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KFSYNC_APPSECRET")
    assert "KFSYNC_APPSECRET" in ops_fails("accounts")


def test_a_wechat_refusal_is_one_line_with_its_hint(ops_env: Emulator, ops_fails: Fails) -> None:
    ops_env.admin.fault("/cgi-bin/customservice/getkflist", errcode=48001)
    message = ops_fails("accounts")
    assert "errcode 48001" in message
    assert "must be verified" in message


def test_unknown_format_is_a_usage_error(ops_env: Emulator, ops_fails: Fails) -> None:
    assert "'yaml' is not one of 'text', 'json'" in ops_fails("accounts", "--format", "yaml")
