"""The admin API: request log and its redaction, state, seed validation, reset, clock."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
import requests

from kfsync.emulator import DEFAULT_SECRET, Emulator, EmulatorAdmin
from kfsync.emulator.exceptions import EmulatorAdminError
from tests.helpers.emu_wire import Wx, bound, jpeg, kf, png


@pytest.fixture
def wx(emulator: Emulator) -> Wx:
    return Wx(emulator.base_url)


def test_request_log_masks_tokens_and_secrets(wx: Wx, emulator: Emulator) -> None:
    token = wx.token
    wx.stable_token()
    wx.add("alice", "A")
    wx.upload(kf("alice"), jpeg(), filename="me.jpg")
    emulator.admin.state()  # admin calls are not logged
    log = emulator.admin.requests()
    assert DEFAULT_SECRET not in str(log)
    assert token not in str(log)
    assert [entry["seq"] for entry in log] == [1, 2, 3, 4]
    fetch, stable, add, upload = log
    assert fetch["query"] == {"grant_type": "client_credential",
                              "appid": "wx5f1e0000000e1a7e", "secret": "***"}
    assert stable["body"]["secret"] == "***"
    assert stable["method"] == "POST"
    assert add == {"seq": 3, "time": add["time"], "method": "POST",
                   "path": "/customservice/kfaccount/add", "query": {"access_token": "***"},
                   "body": {"kf_account": kf("alice"), "nickname": "A"}, "status": 200,
                   "errcode": 0, "fault": None}
    assert upload["query"] == {"access_token": "***", "kf_account": kf("alice")}
    assert upload["body"] == {"multipart": {"media": {
        "filename": "me.jpg", "size": len(jpeg()), "content_type": "image/jpeg"}}}


def test_request_log_of_reads_and_unparsable_bodies(wx: Wx, emulator: Emulator) -> None:
    wx.get("/cgi-bin/customservice/getkflist")
    wx.post("/customservice/kfaccount/add", data=b"{oops")
    _, read, broken = emulator.admin.requests()
    assert (read["errcode"], read["body"]) == (None, None)
    assert (broken["errcode"], broken["body"]) == (47001, None)


def test_state_shows_accounts_sessions_clock_and_tokens(wx: Wx, emulator: Emulator) -> None:
    emulator.admin.seed(accounts=[bound("alice")], waitcase=[{"openid": "oW", "latest_time": 5}],
                        records=[{"openid": "o", "opercode": 2002, "text": "", "time": 1,
                                  "worker": kf("alice")}])
    wx.add("bob")
    wx.invite(kf("bob"), "worker_bob")
    wx.session("create", kf("alice"), "oCustomer")
    state = emulator.admin.state()
    assert emulator.admin.now() - state["now"] in (0, 1)
    assert state["config"]["wechat_id"] == "shop_cs"
    assert "secret" not in str(state["config"])
    alice, bob = state["accounts"]
    assert (alice["kf_wx"], alice["status"]) == ("wx_alice_user", 1)
    assert bob["invitation"]["invite_wx"] == "worker_bob"
    assert state["sessions"] == [{"kf_account": kf("alice"), "openid": "oCustomer",
                                  "createtime": state["sessions"][0]["createtime"]}]
    assert state["waitcase"] == [{"openid": "oW", "latest_time": 5}]
    assert state["records"] == 1
    assert state["tokens"]["issued"] == {"classic": 1, "stable": 0}


def test_reset_empties_everything_but_the_clock(wx: Wx, emulator: Emulator) -> None:
    emulator.admin.seed(accounts=[bound("alice")])
    emulator.admin.fault("*", errcode=-1)
    now = emulator.admin.advance_clock(10)
    emulator.admin.reset()
    state = emulator.admin.state()
    assert (state["accounts"], state["faults"], state["requests"]) == ([], [], 0)
    assert state["now"] >= now
    assert wx.add("bob") == {"errcode": 0, "errmsg": "ok"}
    assert wx.accounts()[kf("bob")]["kf_id"] == 1001


def test_seed_accepts_getkflist_items(wx: Wx, emulator: Emulator) -> None:
    picture = base64.b64encode(jpeg()).decode()
    result = emulator.admin.seed(accounts=[
        {"kf_account": kf("alice"), "kf_nick": "A", "kf_id": "2001",
         "kf_headimgurl": "http://mmbiz.qpic.cn/mmbiz/abc/0", "kf_openid": "oKf"},
        {"kf_account": kf("bob"), "kf_nick": "B", "headimg_base64": picture},
        {"kf_account": kf("carol"), "kf_nick": "C", "invite_wx": "worker_c",
         "invite_expire_time": 123456789, "invite_status": "expired"},
    ])
    assert result == {"ok": True, "accounts": 3, "records": 0, "waitcase": 0}
    items = wx.accounts()
    assert items[kf("alice")] == {"kf_account": kf("alice"), "kf_nick": "A", "kf_id": 2001,
                                  "kf_headimgurl": "http://mmbiz.qpic.cn/mmbiz/abc/0",
                                  "kf_openid": "oKf"}
    assert items[kf("bob")]["kf_id"] == 2002
    assert requests.get(items[kf("bob")]["kf_headimgurl"], timeout=10).status_code == 200
    assert items[kf("carol")]["invite_status"] == "expired"
    assert wx.add("dave") == {"errcode": 0, "errmsg": "ok"}
    assert wx.accounts()[kf("dave")]["kf_id"] == 2004


@pytest.mark.parametrize(("seed", "message"), [
    ({"accounts": [{"kf_account": "x@other", "kf_nick": "n"}]}, r"accounts\[0\].kf_account"),
    ({"accounts": [{"kf_account": kf("a"), "kf_nick": ""}]}, r"accounts\[0\].kf_nick"),
    ({"accounts": [{"kf_account": kf("a")}]}, "kf_nick"),
    ({"accounts": [{"kf_account": kf("a"), "kf_nick": "n", "kf_id": "x"}]}, "kf_id"),
    ({"accounts": [{"kf_account": kf("a"), "kf_nick": "n", "kf_id": 1},
                   {"kf_account": kf("b"), "kf_nick": "n", "kf_id": 1}]}, "1 is already used"),
    ({"accounts": [{"kf_account": kf("a"), "kf_nick": "n"}] * 2}, "already exists"),
    ({"accounts": [{"kf_account": kf("a"), "kf_nick": "n", "kf_wx": "w", "invite_wx": "v"}]},
     "cannot also have an invitation"),
    ({"accounts": [{"kf_account": kf("a"), "kf_nick": "n", "invite_status": "waiting"}]},
     "invite_wx"),
    ({"accounts": [{"kf_account": kf("a"), "kf_nick": "n", "invite_wx": "v",
                    "invite_status": "lost"}]}, "invite_status"),
    ({"accounts": [{"kf_account": kf("a"), "kf_nick": "n", "status": -1}]}, "status"),
    ({"accounts": [{"kf_account": kf("a"), "kf_nick": "n", "nick": "x"}]}, "unknown field"),
    ({"accounts": [{"kf_account": kf("a"), "kf_nick": "n", "headimg_base64": "!!"}]},
     "not valid base64"),
    ({"accounts": [{"kf_account": kf("a"), "kf_nick": "n",
                    "headimg_base64": base64.b64encode(png()).decode()}]}, "JPEG"),
    ({"accounts": ["alice"]}, "must be an object"),
    ({"accounts": {}}, "must be a list"),
    ({"records": [{"openid": "o", "opercode": 2002, "time": 1, "worker": "w"}]}, "text"),
    ({"records": [{"openid": "o", "opercode": 2002, "text": "t", "worker": "w"}]},
     "time: is required"),
    ({"waitcase": [{"openid": "o", "latest_time": 1}] * 2}, "already waiting"),
    ({"waitcases": []}, "unknown seed field"),
])
def test_bad_seeds_are_refused_whole(emulator: Emulator, seed: dict[str, Any],
                                     message: str) -> None:
    with pytest.raises(EmulatorAdminError, match=message):
        emulator.admin._call("POST", "seed", {"accounts": [bound("ok")], **seed}
                             if "accounts" not in seed else seed)
    assert emulator.admin.state()["accounts"] == []


def test_seed_respects_max_accounts() -> None:
    with Emulator(max_accounts=1) as emu, pytest.raises(EmulatorAdminError, match="max_accounts"):
        emu.admin.seed(accounts=[bound("a"), bound("b")])


def test_clock_and_unknown_admin_requests(emulator: Emulator) -> None:
    before = emulator.admin.now()
    assert emulator.admin.advance_clock(3600) >= before + 3600
    for bad in (-1, "10", None, True):
        with pytest.raises(EmulatorAdminError, match="advance"):
            emulator.admin._call("POST", "clock", {"advance": bad})
    with pytest.raises(EmulatorAdminError, match=r"404.*no admin route"):
        emulator.admin._call("GET", "reset")
    response = requests.post(f"{emulator.base_url}/_emulator/seed", data=b"{", timeout=10)
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]
    response = requests.post(f"{emulator.base_url}/_emulator/seed", data=b"[]", timeout=10)
    assert response.json() == {"error": "the body must be a JSON object"}


def test_frozen_clock_moves_only_when_advanced(emulator: Emulator) -> None:
    now = emulator.admin.freeze_clock()
    time.sleep(1.05)
    assert emulator.admin.now() == now
    assert emulator.admin.advance_clock(5) == now + 5
    restarted = emulator.admin.freeze_clock(False)
    assert restarted == now + 5  # no jump when the clock restarts
    for bad in ({"freeze": "yes"}, {}):
        with pytest.raises(EmulatorAdminError, match="freeze"):
            emulator.admin._call("POST", "clock", bad)


def test_admin_client_reports_an_unreachable_emulator() -> None:
    with Emulator() as emu:
        base_url = emu.base_url
    with pytest.raises(EmulatorAdminError, match="admin API at"):
        EmulatorAdmin(base_url, timeout=2).state()
