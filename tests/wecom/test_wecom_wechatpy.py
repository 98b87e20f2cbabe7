"""wechatpy's WeCom kf client, unmodified, against the emulator: only its base URL is moved.

wechatpy fetches tokens from a gettoken URL it hard-codes on qyapi.weixin.qq.com, so
the test hands it a token fetched from the emulator (wechatpy's documented
`access_token=` argument) instead of letting it reach the internet.  It sends
`kf/account/list` as a GET without paging, which is where the `get_list` switch matters.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from wechatpy import exceptions
from wechatpy.work import WeChatClient as Client

from kfsync.providers.wecom.emulator import DEFAULT_CORPID, DEFAULT_SECRET, WeComEmulator
from tests.helpers.wecom import LIST, calls_to, people, picture


@pytest.fixture
def wechatpy(wecom: WeComEmulator) -> Iterator[Any]:
    token = requests.get(f"{wecom.base_url}/cgi-bin/gettoken", timeout=10, params={
        "corpid": DEFAULT_CORPID, "corpsecret": DEFAULT_SECRET}).json()["access_token"]
    client = Client(DEFAULT_CORPID, DEFAULT_SECRET, access_token=token, timeout=10)
    client.API_BASE_URL = f"{wecom.base_url}/cgi-bin/"
    yield client
    client._http.close()


def seed(wecom: WeComEmulator) -> None:
    wecom.admin.seed(users=people("alice", "bob"), accounts=[
        {"open_kfid": "wkDesk", "name": "Desk", "servicers": [{"userid": "alice"}]},
        *({"name": f"More {n}"} for n in range(149))],
        customers=[{"external_userid": "wmLi", "nickname": "Li"}],
        messages=[{"open_kfid": "wkDesk", "external_userid": "wmLi", "text": "hello"}],
        upgrade_service={"userids": ["bob"], "chat_ids": []})


@pytest.mark.parametrize("mode", ["paged", "first_page"])
def test_the_get_list_gives_the_first_page(wecom: WeComEmulator, wechatpy: Any,
                                           mode: str) -> None:
    seed(wecom)
    wecom.admin.switch(get_list=mode)
    answer = wechatpy.kf.get_account_list()
    assert answer["errcode"] == 0
    assert len(answer["account_list"]) == 100  # no paging: 50 accounts stay out of sight
    assert answer["account_list"][0] == {"open_kfid": "wkDesk", "name": "Desk", "avatar": "",
                                         "manage_privilege": True}
    assert calls_to(wecom, LIST)[0]["method"] == "GET"


def test_a_server_that_refuses_get_breaks_it(wecom: WeComEmulator, wechatpy: Any) -> None:
    seed(wecom)
    wecom.admin.switch(get_list="refused")
    with pytest.raises(exceptions.WeChatClientException) as exc:
        wechatpy.kf.get_account_list()
    assert exc.value.errcode == 40058


def test_servicers_links_media_sessions_and_messages(wecom: WeComEmulator,
                                                     wechatpy: Any) -> None:
    seed(wecom)
    kf = wechatpy.kf
    added = kf.add_servicer("wkDesk", ["bob", "ghost"])
    assert added["errcode"] == 0
    assert [(r["userid"], r["errcode"]) for r in added["result_list"]] == [
        ("bob", 0), ("ghost", 60111)]
    assert [s["userid"] for s in kf.get_servicer_list("wkDesk")["servicer_list"]] == [
        "alice", "bob"]
    assert kf.del_servicer("wkDesk", "bob")["result_list"][0]["errmsg"] == "success"
    url = kf.add_contact_way("wkDesk", "from_wechatpy")["url"]
    assert url == kf.add_contact_way("wkDesk", "from_wechatpy")["url"]
    media = wechatpy.media.upload("image", io.BytesIO(picture()))
    assert media["type"] == "image"
    assert media["media_id"]
    assert kf.get_service_state("wkDesk", "wmLi")["service_state"] == 0
    assert kf.trans_service_state("wkDesk", "wmLi", 1)["errcode"] == 0
    page = kf.sync_msg(token="")
    assert [m["text"]["content"] for m in page["msg_list"]] == ["hello"]
    assert page["has_more"] == 0
    sent = wechatpy.kf_message.send_text("wmLi", "wkDesk", "hi!")
    assert sent["msgid"]
    customers = kf.batchget_customer(["wmLi", "wmNobody"])
    assert [c["nickname"] for c in customers["customer_list"]] == ["Li"]
    assert customers["invalid_external_userid"] == ["wmNobody"]
    assert kf.get_upgrade_service_config()["member_range"]["userid_list"] == ["bob"]
    upgrade = kf.upgrade_service("wkDesk", "wmLi", 1, member={"userid": "bob", "wording": "x"})
    assert upgrade["errcode"] == 0
    assert kf.cancel_upgrade_service("wkDesk", "wmLi")["errcode"] == 0


def test_errors_reach_wechatpy_as_its_exceptions(wecom: WeComEmulator, wechatpy: Any) -> None:
    seed(wecom)
    with pytest.raises(exceptions.WeChatClientException) as exc:
        wechatpy.kf.get_servicer_list("wkMissing")
    assert exc.value.errcode == 95004
    assert "from ip: 127.0.0.1" in exc.value.errmsg
