"""Session endpoints against the emulator: create, close, who serves a customer, lists, waiting."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kfsync.emulator import Emulator
from kfsync.errors import WeChatError
from kfsync.providers.wechat_mp.client import KfClient
from kfsync.providers.wechat_mp.client.results import CustomerSession, KfSession, WaitCase
from tests.helpers.client import calls_to, kf, seed_serving


def test_session_lifecycle(emulator: Emulator, client: KfClient) -> None:
    seed_serving(emulator, "anna")
    assert client.get_session("customer_1") == CustomerSession(None, 0)
    client.create_session(kf("anna"), "customer_1", text="from the shop")
    client.create_session(kf("anna"), "customer_1")  # the same session again: a no-op
    session = client.get_session("customer_1")
    assert session.kf_account == kf("anna")
    assert client.list_sessions(kf("anna")) == (KfSession("customer_1", session.createtime),)
    client.close_session(kf("anna"), "customer_1")
    assert client.list_sessions(kf("anna")) == ()
    bodies = [entry["body"] for entry in calls_to(emulator, "/customservice/kfsession/create")]
    assert bodies == [{"kf_account": kf("anna"), "openid": "customer_1", "text": "from the shop"},
                      {"kf_account": kf("anna"), "openid": "customer_1"}]


def test_session_errors(emulator: Emulator, client: KfClient) -> None:
    seed_serving(emulator, "anna", "bo")
    emulator.admin.seed(accounts=[{"kf_account": kf("cy"), "kf_nick": "Cy"},
                                  {"kf_account": kf("di"), "kf_nick": "Di", "kf_wx": "di_wx"}])
    client.create_session(kf("anna"), "customer_1")
    cases: list[tuple[Callable[[], object], int, str | None]] = [
        (lambda: client.create_session(kf("bo"), "customer_1"), 65414, kf("bo")),
        (lambda: client.create_session(kf("cy"), "customer_2"), 65402, kf("cy")),
        (lambda: client.create_session(kf("di"), "customer_2"), 65415, kf("di")),
        (lambda: client.close_session(kf("bo"), "customer_3"), 65413, kf("bo")),
        (lambda: client.create_session(kf("anna"), "bad openid!"), 40003, kf("anna")),
        (lambda: client.list_sessions(kf("cy")), 65402, kf("cy")),
        (lambda: client.get_session("bad openid!"), 40003, None),
    ]
    for call, errcode, account in cases:
        with pytest.raises(WeChatError) as caught:
            call()
        assert (caught.value.errcode, caught.value.account) == (errcode, account)


def test_list_waiting(emulator: Emulator, client: KfClient) -> None:
    assert client.list_waiting().count == 0
    emulator.admin.seed(waitcase=[{"openid": f"customer_{i}", "latest_time": 1_700_000_000 + i}
                                  for i in range(105)])
    waiting = client.list_waiting()
    assert waiting.count == 105
    assert len(waiting.cases) == 100
    assert waiting.cases[0] == WaitCase("customer_0", 1_700_000_000)
