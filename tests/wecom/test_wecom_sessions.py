"""Sessions, messages, customers, upgrade service and statistics against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from kfsync.errors import TransportError, UsageError, WeChatError
from kfsync.providers.wecom.client import WeComClient
from kfsync.providers.wecom.emulator import WeComEmulator
from tests.helpers.wecom import bootstrap, calls_to, people

SYNC = "/cgi-bin/kf/sync_msg"
DAY = 86400


def seed(wecom: WeComEmulator, **extra: Any) -> str:
    return bootstrap(wecom, users=people("alice", "bob"), customers=[
        {"external_userid": "wmCustomer1", "nickname": "Li", "gender": 2,
         "enter_session_context": {"scene": "spring"}},
        {"external_userid": "wmCustomer2"}], **extra)


def code_of(call: Any) -> int:
    with pytest.raises(WeChatError) as exc:
        call()
    return exc.value.errcode


def test_service_state_transitions(wecom: WeComEmulator, client: WeComClient) -> None:
    kf = seed(wecom, messages=[{"open_kfid": "wkBootstrap0001", "external_userid": "wmCustomer1",
                                "text": "hello"}])
    wecom.admin.seed(accounts=[{"open_kfid": "wkDesk2", "name": "Desk 2", "servicers": [
        {"userid": "alice"}, {"userid": "bob", "status": 1}]}])
    assert client.get_service_state(kf, "wmCustomer2").service_state == 4
    state = client.get_service_state(kf, "wmCustomer1")
    assert (state.service_state, state.meaning) == (0, "unhandled")
    assert client.trans_service_state(kf, "wmCustomer1", 1) is None
    assert code_of(lambda: client.trans_service_state(kf, "wmCustomer1", 0)) == 95016
    with pytest.raises(UsageError):
        client.trans_service_state(kf, "wmCustomer1", 3)
    assert code_of(lambda: client.trans_service_state(kf, "wmCustomer1", 3, "alice")) == 95014
    wecom.admin.seed(messages=[{"open_kfid": "wkDesk2", "external_userid": "wmCustomer1",
                                "text": "again"}])
    assert code_of(lambda: client.trans_service_state("wkDesk2", "wmCustomer1", 3, "bob")) \
        == 95019
    assert client.trans_service_state("wkDesk2", "wmCustomer1", 3, "alice")
    assert client.get_service_state("wkDesk2", "wmCustomer1").servicer_userid == "alice"
    assert client.trans_service_state("wkDesk2", "wmCustomer1", 4)
    assert code_of(lambda: client.trans_service_state("wkDesk2", "wmCustomer1", 1)) == 95013
    assert code_of(lambda: client.get_service_state(kf, "wmStranger")) == 40096


def test_sync_msg_pages_by_cursor(wecom: WeComEmulator, client: WeComClient) -> None:
    now = wecom.admin.now()
    seed(wecom, messages=[{"open_kfid": "wkBootstrap0001", "external_userid": "wmCustomer1",
                           "text": f"m{n}", "send_time": now - 4 * DAY + n * 3600}
                          for n in range(120)])
    pages = list(client.iter_msg_pages(limit=25))
    texts = [m.text for page in pages for m in page.messages]
    assert texts == [f"m{n}" for n in range(24, 120)]  # older than 3 days are gone
    assert [len(p.messages) for p in pages] == [25, 25, 25, 21]
    assert [p.has_more for p in pages] == [True, True, True, False]
    assert all(c["body"]["limit"] == 25 for c in calls_to(wecom, SYNC))
    wecom.admin.seed(messages=[{"open_kfid": "wkBootstrap0001", "external_userid": "wmCustomer2",
                                "msgtype": "image", "content": {"media_id": "m1"},
                                "send_time": now}])
    fresh = list(client.iter_messages(pages[-1].next_cursor, open_kfid="wkBootstrap0001"))
    assert [(m.msgtype, m.content["media_id"], m.text) for m in fresh] == [("image", "m1", None)]
    assert fresh[0].origin == 3
    assert fresh[0].external_userid == "wmCustomer2"


def test_sync_msg_refuses_bad_arguments(wecom: WeComEmulator, client: WeComClient) -> None:
    seed(wecom)
    assert code_of(lambda: client.sync_msg(token="t" * 129)) == 95007
    assert code_of(lambda: client.sync_msg("not-a-cursor")) == 40058
    with pytest.raises(UsageError):
        client.sync_msg(limit=1001)


def test_send_msg_rules(wecom: WeComEmulator, client: WeComClient) -> None:
    kf = seed(wecom)
    text = {"content": "thanks"}
    assert code_of(lambda: client.send_msg("wmCustomer1", kf, "text", text)) == 95031
    wecom.admin.seed(messages=[{"open_kfid": kf, "external_userid": "wmCustomer1",
                                "text": "hi"}])
    assert code_of(lambda: client.send_msg("wmCustomer1", kf, "sticker", text)) == 95009
    assert client.send_msg("wmCustomer1", kf, "text", text, msgid="mine1") == "mine1"
    for _ in range(4):
        assert client.send_msg("wmCustomer1", kf, "text", text)
    assert code_of(lambda: client.send_msg("wmCustomer1", kf, "text", text)) == 95001
    wecom.admin.advance_clock(48 * 3600 + 1)
    wecom.admin.seed(messages=[{"open_kfid": kf, "external_userid": "wmCustomer1",
                                "text": "again", "send_time": wecom.admin.now() - 49 * 3600}])
    assert code_of(lambda: client.send_msg("wmCustomer1", kf, "text", text)) == 95002
    client.trans_service_state(kf, "wmCustomer1", 2)
    assert code_of(lambda: client.send_msg("wmCustomer1", kf, "text", text)) == 95018
    # Messages sent through the API are not read back by sync_msg.
    assert {m.text for m in client.iter_messages()} == {"hi", "again"}


def test_customers_in_batches_of_100(wecom: WeComEmulator, client: WeComClient) -> None:
    seed(wecom)
    ids = ["wmCustomer1", *(f"wmNobody{n}" for n in range(150)), "wmCustomer2"]
    batch = client.batchget_customers(ids, need_enter_session_context=True)
    assert [c.external_userid for c in batch.customers] == ["wmCustomer1", "wmCustomer2"]
    assert len(batch.invalid_external_userids) == 150
    assert batch.customers[0].enter_session_context == {"scene": "spring"}
    assert (batch.customers[0].nickname, batch.customers[0].gender) == ("Li", 2)
    assert [len(c["body"]["external_userid_list"])
            for c in calls_to(wecom, "/cgi-bin/kf/customer/batchget")] == [100, 52]
    assert client.batchget_customers(["wmCustomer1"]).customers[0].enter_session_context is None


def test_upgrade_service(wecom: WeComEmulator, client: WeComClient) -> None:
    kf = seed(wecom, upgrade_service={"userids": ["alice"], "chat_ids": ["wrChat1"]})
    config = client.get_upgrade_service_config()
    assert (config.member_userids, config.groupchat_ids) == (("alice",), ("wrChat1",))
    client.upgrade_service(kf, "wmCustomer1", userid="alice", wording="Our expert")
    client.upgrade_service(kf, "wmCustomer1", chat_id="wrChat1")
    assert code_of(lambda: client.upgrade_service(kf, "wmCustomer1", userid="bob")) == 40058
    client.cancel_upgrade_service(kf, "wmCustomer1")
    with pytest.raises(UsageError):
        client.upgrade_service(kf, "wmCustomer1")


def test_statistics(wecom: WeComEmulator, client: WeComClient) -> None:
    today = wecom.admin.now() // DAY * DAY
    kf = seed(wecom, statistics=[
        {"stat_time": today - 2 * DAY, "open_kfid": "wkBootstrap0001",
         "statistic": {"session_cnt": 4, "ai_transfer_rate": 0.25}},
        {"stat_time": today - DAY, "open_kfid": "wkBootstrap0001",
         "statistic": {"session_cnt": 6}},
        {"stat_time": today - DAY, "open_kfid": "wkBootstrap0001", "servicer_userid": "alice",
         "statistic": {"session_cnt": 2}}])
    days = client.corp_statistic(today - 7 * DAY, today - DAY, open_kfid=kf)
    assert [(d.stat_time, dict(d.values)) for d in days] == [
        (today - 2 * DAY, {"session_cnt": 4.0, "ai_transfer_rate": 0.25}),
        (today - DAY, {"session_cnt": 6.0})]
    mine = client.servicer_statistic(today - DAY, today - DAY, open_kfid=kf,
                                     servicer_userid="alice")
    assert [dict(d.values) for d in mine] == [{"session_cnt": 2.0}]
    assert code_of(lambda: client.corp_statistic(today, today)) == 40058  # not yesterday yet
    assert code_of(lambda: client.corp_statistic(today - 200 * DAY, today - DAY)) == 40058


def test_a_cursor_that_does_not_advance_stops_the_walk(wecom: WeComEmulator,
                                                       client: WeComClient,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    seed(wecom, messages=[{"open_kfid": "wkBootstrap0001", "external_userid": "wmCustomer1",
                           "text": "x"}] * 3)
    page = client.sync_msg(limit=1)
    monkeypatch.setattr(client, "sync_msg", lambda *args, **kwargs: page)
    with pytest.raises(TransportError, match="did not advance"):
        list(client.iter_msg_pages(page.next_cursor))


def test_send_msg_on_event_takes_each_code_once(wecom: WeComEmulator,
                                                client: WeComClient) -> None:
    kf = seed(wecom, event_codes=["WELCOME1"], messages=[
        {"open_kfid": "wkBootstrap0001", "external_userid": "wmCustomer1", "text": "hi"}])
    welcome = {"content": "Welcome!"}
    assert client.send_msg_on_event("WELCOME1", "text", welcome, msgid="w1") == "w1"
    assert code_of(lambda: client.send_msg_on_event("WELCOME1", "text", welcome)) == 40058
    end_code = client.trans_service_state(kf, "wmCustomer1", 4)
    assert end_code is not None
    assert code_of(lambda: client.send_msg_on_event(end_code, "image", {"media_id": "m"})) \
        == 95009
    assert client.send_msg_on_event(end_code, "msgmenu", {"head_content": "Bye"})
    wecom.admin.seed(messages=[{"open_kfid": kf, "external_userid": "wmCustomer2", "text": "x"}])
    late = client.trans_service_state(kf, "wmCustomer2", 4)
    assert late is not None
    wecom.admin.advance_clock(20)
    assert code_of(lambda: client.send_msg_on_event(late, "text", welcome)) == 40058
