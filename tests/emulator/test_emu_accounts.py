"""Account endpoints: add, update, delete (three wire forms), list; routing and body errors."""

from __future__ import annotations

import threading

import pytest

from kfsync.emulator import Emulator
from tests.helpers.emu_wire import OK, Wx, bound, kf

ADD = "/customservice/kfaccount/add"
UPDATE = "/customservice/kfaccount/update"
DEL = "/customservice/kfaccount/del"


@pytest.fixture
def wx(emulator: Emulator) -> Wx:
    return Wx(emulator.base_url)


def test_add_then_list_shows_the_documented_fields(wx: Wx) -> None:
    assert wx.add("alice", "客服Alice") == OK
    assert wx.get("/cgi-bin/customservice/getkflist") == {"kf_list": [
        {"kf_account": kf("alice"), "kf_nick": "客服Alice", "kf_id": 1001, "kf_headimgurl": ""}]}


def test_kf_ids_increase_and_are_not_reused(wx: Wx) -> None:
    for prefix in ("a", "b", "c"):
        assert wx.add(prefix) == OK
    assert wx.get(DEL, kf_account=kf("c")) == OK
    assert wx.add("d") == OK
    assert [item["kf_id"] for item in wx.accounts().values()] == [1001, 1002, 1004]


@pytest.mark.parametrize("account", [
    "toolongprefix@shop_cs", "bad-char@shop_cs", "@shop_cs", "alice@other_id", "alice",
    "alice@shop_cs@x", "",
])
def test_add_rejects_malformed_accounts(wx: Wx, account: str) -> None:
    assert wx.post(ADD, {"kf_account": account, "nickname": "n"})["errcode"] == 65404
    assert wx.post(UPDATE, {"kf_account": account, "nickname": "n"})["errcode"] == 65404


def test_ten_character_prefix_with_underscore_and_digits_is_fine(wx: Wx) -> None:
    assert wx.add("a_b_c_1234") == OK


@pytest.mark.parametrize("nickname", ["", "   ", "x" * 17, None, 5])
def test_add_and_update_reject_bad_nicknames(wx: Wx, nickname: object) -> None:
    assert wx.post(ADD, {"kf_account": kf("alice"), "nickname": nickname})["errcode"] == 65403
    wx.add("alice")
    assert wx.post(UPDATE, {"kf_account": kf("alice"), "nickname": nickname})["errcode"] == 65403


def test_sixteen_character_nickname_is_fine(wx: Wx) -> None:
    assert wx.add("alice", "客" * 16) == OK


def test_add_refuses_duplicates(wx: Wx) -> None:
    assert wx.add("alice") == OK
    assert wx.add("alice") == {"errcode": 65406, "errmsg": "custom service account exists"}


def test_add_refuses_beyond_max_accounts() -> None:
    with Emulator(max_accounts=2) as emu:
        wx = Wx(emu.base_url)
        assert wx.add("a") == OK
        assert wx.add("b") == OK
        assert wx.add("c")["errcode"] == 65405
        assert wx.add("a")["errcode"] == 65406  # exists is reported before the limit


def test_update_changes_the_nickname_and_needs_an_existing_account(wx: Wx) -> None:
    wx.add("alice", "old")
    assert wx.post(UPDATE, {"kf_account": kf("alice"), "nickname": "new",
                            "password": "5f4dcc3b5aa765d61d8327deb882cf99"}) == OK
    assert wx.accounts()[kf("alice")]["kf_nick"] == "new"
    assert wx.post(UPDATE, {"kf_account": kf("nobody"), "nickname": "n"})["errcode"] == 65401


@pytest.mark.parametrize("form", ["get-query", "post-body", "post-query"])
def test_delete_accepts_three_wire_forms(wx: Wx, form: str) -> None:
    wx.add("alice")
    if form == "get-query":
        answer = wx.get(DEL, kf_account=kf("alice"))
    elif form == "post-body":
        answer = wx.post(DEL, {"kf_account": kf("alice")})
    else:
        answer = wx.post(DEL, params={"kf_account": kf("alice")})
    assert answer == OK
    assert wx.accounts() == {}
    assert wx.get(DEL, kf_account=kf("alice")) == {
        "errcode": 65401, "errmsg": "invalid custom service account"}


def test_delete_needs_an_account_name(wx: Wx) -> None:
    assert wx.post(DEL)["errcode"] == 65401
    assert wx.post(DEL, {"kf_account": 7})["errcode"] == 65401


def test_delete_removes_the_accounts_sessions_and_allows_re_adding(
        wx: Wx, emulator: Emulator) -> None:
    emulator.admin.seed(accounts=[bound("alice"), bound("bob")])
    assert wx.session("create", kf("alice"), "oCustomer1") == OK
    assert wx.session("create", kf("bob"), "oCustomer2") == OK
    assert wx.get(DEL, kf_account=kf("alice")) == OK
    assert wx.get("/customservice/kfsession/getsession", openid="oCustomer1") == {
        "createtime": 0, "kf_account": ""}
    assert [s["openid"] for s in emulator.admin.state()["sessions"]] == ["oCustomer2"]
    assert wx.add("alice") == OK
    assert wx.accounts()[kf("alice")]["kf_id"] == 1003


@pytest.mark.parametrize("path", [
    "/customservice/getkflist", "/cgi-bin/customservice/kfaccount/add", "/nothing",
    "/customservice/msgrecord/ getmsglist", "/",
])
def test_unknown_paths_answer_40066_with_http_200(wx: Wx, path: str) -> None:
    response = wx.response("GET", path)
    assert response.status_code == 200
    assert response.json() == {"errcode": 40066, "errmsg": "invalid url"}


def test_wrong_methods(wx: Wx) -> None:
    assert wx.get(ADD)["errcode"] == 43002
    assert wx.post("/cgi-bin/customservice/getkflist")["errcode"] == 43001


def test_bad_json_bodies(wx: Wx) -> None:
    assert wx.post(ADD)["errcode"] == 44002
    assert wx.post(ADD, data=b"not json")["errcode"] == 47001
    assert wx.post(ADD, data=b"\xff\xfe")["errcode"] == 47001
    assert wx.post(ADD, ["a"])["errcode"] == 47001


def test_token_is_checked_before_anything_else(wx: Wx) -> None:
    assert wx.post(ADD, {"kf_account": kf("a"), "nickname": "n"}, token=None)["errcode"] == 41001
    assert wx.post(ADD, data=b"nope", token="bogus")["errcode"] == 40001


def test_answers_are_utf8_json_with_the_wechat_content_type(wx: Wx) -> None:
    wx.add("alice", "客服")
    response = wx.response("GET", "/cgi-bin/customservice/getkflist")
    assert response.headers["Content-Type"] == "application/json; encoding=utf-8"
    assert "客服".encode() in response.content


def test_concurrent_adds_get_distinct_ids(wx: Wx) -> None:
    token = wx.token
    answers: list[object] = []

    def add(index: int) -> None:
        answers.append(Wx(wx.base_url).post(
            ADD, {"kf_account": kf(f"p{index}"), "nickname": "n"}, token=token))

    threads = [threading.Thread(target=add, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [OK] * 12
    assert sorted(a["kf_id"] for a in wx.accounts().values()) == list(range(1001, 1013))
