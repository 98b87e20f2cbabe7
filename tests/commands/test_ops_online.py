"""`kfsync online`: the agents online, what their status means, and their accepted cases."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import pytest

from kfsync.commands.online import status_text
from kfsync.emulator import Emulator

Run = Callable[..., tuple[int, str, str]]
Aligned = Callable[[str, Sequence[Sequence[str]], frozenset[int]], None]


def seed_agents(emu: Emulator) -> None:
    emu.admin.seed(accounts=[
        {"kf_account": "alice@shop_cs", "kf_nick": "小美", "kf_wx": "alice_wx", "status": 1,
         "accepted_case": 12},
        {"kf_account": "bob@shop_cs", "kf_nick": "Bob", "kf_wx": "bob_wx1", "status": 2},
        {"kf_account": "chen@shop_cs", "kf_nick": "陈", "kf_wx": "chen_wx", "status": 3,
         "accepted_case": 3},
        {"kf_account": "off@shop_cs", "kf_nick": "Off", "kf_wx": "off_wx1"},
    ])


@pytest.mark.parametrize(
    ("status", "text"),
    [(0, "0 offline"), (1, "1 web online"), (2, "2 mobile (legacy)"),
     (3, "3 PC and mobile (legacy)"), (9, "9 unknown")],
)
def test_status_meaning(status: int, text: str) -> None:
    assert status_text(status) == text


def test_table_lists_online_agents_only(ops_env: Emulator, ops_run: Run,
                                        ops_aligned: Aligned) -> None:
    seed_agents(ops_env)
    ops_run("session", "create", "alice@shop_cs", "oCustomer1")  # one more accepted case
    code, out, err = ops_run("online")
    assert (code, err) == (0, "")
    rows = [
        ("ACCOUNT", "KF_ID", "STATUS", "ACCEPTED"),
        ("alice@shop_cs", "1001", "1 web online", "13"),
        ("bob@shop_cs", "1002", "2 mobile (legacy)", "0"),
        ("chen@shop_cs", "1003", "3 PC and mobile (legacy)", "3"),
    ]
    ops_aligned(out, rows, frozenset({1, 3}))
    assert "off@shop_cs" not in out


def test_json_adds_the_status_meaning(ops_env: Emulator, ops_run: Run) -> None:
    seed_agents(ops_env)
    code, out, _ = ops_run("online", "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert document["online"][0] == {"kf_account": "alice@shop_cs", "kf_id": "1001", "status": 1,
                                     "accepted_case": 12, "status_text": "web online"}
    assert [a["status_text"] for a in document["online"]] == [
        "web online", "mobile (legacy)", "PC and mobile (legacy)"]


def test_nobody_online(ops_env: Emulator, ops_run: Run) -> None:
    code, out, err = ops_run("online")
    assert (code, out) == (0, "")
    assert "No agent is online" in err
    code, out, _ = ops_run("online", "--format", "json")
    assert (code, json.loads(out)) == (0, {"online": []})


def test_a_wechat_refusal_is_one_line(ops_env: Emulator, ops_fails: Callable[..., str]) -> None:
    ops_env.admin.fault("/cgi-bin/customservice/getonlinekflist", errcode=65400)
    message = ops_fails("online")
    assert "errcode 65400" in message
    assert "enable the new customer service" in message
