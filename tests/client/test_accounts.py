"""Account endpoints against the emulator over HTTP: list, add, update, delete, invite, avatar."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET, Emulator
from kfsync.errors import UsageError, WeChatError
from kfsync.providers.wechat_mp.client import KfClient
from tests.helpers.client import NO_WAIT, calls_to, jpeg, kf


def test_add_update_delete(emulator: Emulator, client: KfClient) -> None:
    assert client.list_accounts() == ()
    client.add_account(kf("anna"), "Anna")
    [anna] = client.list_accounts()
    assert (anna.kf_account, anna.nickname, anna.prefix, anna.headimgurl) == (
        kf("anna"), "Anna", "anna", None)
    assert anna.kf_id.isdigit()
    client.update_account(kf("anna"), "安娜")
    assert client.list_accounts()[0].nickname == "安娜"
    client.delete_account(kf("anna"))
    assert client.list_accounts() == ()
    [delete] = calls_to(emulator, "/customservice/kfaccount/del")
    assert (delete["method"], delete["body"]) == ("POST", {"kf_account": kf("anna")})


@pytest.mark.parametrize(("prefix", "nickname", "errcode"), [
    ("way_too_long_prefix", "X", 65404),
    ("anna", "a nickname far longer than sixteen", 65403),
])
def test_add_refused(client: KfClient, prefix: str, nickname: str, errcode: int) -> None:
    with pytest.raises(WeChatError) as caught:
        client.add_account(kf(prefix), nickname)
    assert caught.value.errcode == errcode
    assert caught.value.account == kf(prefix)
    assert caught.value.endpoint == "/customservice/kfaccount/add"
    assert caught.value.hint
    assert str(caught.value).startswith(f"{kf(prefix)}: WeChat errcode {errcode}")


def test_add_existing_account(client: KfClient) -> None:
    client.add_account(kf("anna"), "Anna")
    with pytest.raises(WeChatError, match="65406") as caught:
        client.add_account(kf("anna"), "Anna")
    assert caught.value.hint == "the kf account already exists"


@pytest.mark.parametrize(("method", "args"), [
    ("update_account", ("Ghost",)), ("delete_account", ()), ("invite_worker", ("someone_wx",)),
])
def test_unknown_account(client: KfClient, method: str, args: tuple[str, ...]) -> None:
    with pytest.raises(WeChatError) as caught:
        getattr(client, method)(kf("ghost"), *args)
    assert (caught.value.errcode, caught.value.account) == (65401, kf("ghost"))
    assert "kfaccount/add first" in str(caught.value)


def test_invite_and_outcomes(emulator: Emulator, client: KfClient) -> None:
    client.add_account(kf("anna"), "Anna")
    client.add_account(kf("bo"), "Bo")
    client.invite_worker(kf("anna"), "anna_wechat")
    client.invite_worker(kf("bo"), "bo_wechat")
    anna, bo = client.list_accounts()
    assert (anna.invite_wx, anna.invite_status, anna.kf_wx) == ("anna_wechat", "waiting", None)
    assert anna.invite_expire_time is not None
    assert anna.invite_expire_time > emulator.admin.now()
    emulator.admin.accept_invite(kf("anna"))
    emulator.admin.reject_invite(kf("bo"))
    anna, bo = client.list_accounts()
    assert (anna.kf_wx, anna.invite_status) == ("anna_wechat", None)
    assert bo.invite_status == "rejected"
    with pytest.raises(WeChatError, match="65412"):
        client.invite_worker(kf("anna"), "someone_else")


def test_set_avatar_from_bytes_and_from_a_path(emulator: Emulator, client: KfClient,
                                               tmp_path: Path) -> None:
    client.add_account(kf("anna"), "Anna")
    client.set_avatar(kf("anna"), jpeg())
    first = client.list_accounts()[0].headimgurl
    assert first is not None
    assert first.startswith(emulator.base_url)
    picture = tmp_path / "anna.jpg"
    picture.write_bytes(jpeg((64, 64)))
    client.set_avatar(kf("anna"), picture)
    second = client.list_accounts()[0].headimgurl
    assert second not in (None, first)
    assert requests.get(str(second), timeout=5).content.startswith(b"\xff\xd8\xff")
    uploads = calls_to(emulator, "/customservice/kfaccount/uploadheadimg")
    assert [u["body"]["multipart"]["media"]["filename"] for u in uploads] == [
        "avatar.jpg", "anna.jpg"]
    assert uploads[0]["body"]["multipart"]["media"]["content_type"] == "image/jpeg"
    assert uploads[0]["query"]["kf_account"] == kf("anna")


def test_set_avatar_refused(client: KfClient, tmp_path: Path) -> None:
    client.add_account(kf("anna"), "Anna")
    with pytest.raises(WeChatError, match="40005") as caught:
        client.set_avatar(kf("anna"), b"\x89PNG\r\n\x1a\n not a jpeg")
    assert caught.value.account == kf("anna")
    with pytest.raises(UsageError, match=r"cannot read avatar picture .*missing\.jpg"):
        client.set_avatar(kf("anna"), tmp_path / "missing.jpg")


def test_list_online(emulator: Emulator, client: KfClient) -> None:
    emulator.admin.seed(accounts=[
        {"kf_account": kf("anna"), "kf_nick": "Anna", "kf_wx": "anna_wechat", "status": 1,
         "accepted_case": 2},
        {"kf_account": kf("bo"), "kf_nick": "Bo"},
    ])
    [online] = client.list_online()
    assert (online.kf_account, online.status, online.accepted_case) == (kf("anna"), 1, 2)


def test_strict_emulator_literal_at_and_kf_id_strings(strict_emulator: Emulator) -> None:
    with KfClient(appid=DEFAULT_APPID, secret=DEFAULT_SECRET, api_base=strict_emulator.base_url,
                  retry=NO_WAIT) as client:
        client.add_account(kf("anna"), "小安")  # raw UTF-8: strict refuses \u escapes
        client.invite_worker(kf("anna"), "anna_wechat")
        strict_emulator.admin.accept_invite(kf("anna"))
        client.set_avatar(kf("anna"), jpeg())  # kf_account in the query
        assert client.list_sessions(kf("anna")) == ()  # kf_account in the query
        [anna] = client.list_accounts()
        assert anna.nickname == "小安"
        assert anna.kf_id.isdigit()
        log = strict_emulator.admin.requests()
        assert all(entry["errcode"] in (None, 0) for entry in log), log
        # What the client never sends is refused: the `@` percent-encoded.
        raw = requests.get(f"{strict_emulator.base_url}/customservice/kfsession/getsessionlist"
                           f"?access_token={client.tokens.current()}&kf_account=anna%40shop_cs",
                           timeout=5).json()
        assert raw["errcode"] == 61452
