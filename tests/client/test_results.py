"""Parsing wire JSON into result dataclasses: lenient where WeChat varies, strict on types."""

from __future__ import annotations

import json
import re

import pytest

from kfsync.client.wire import WireFormatError
from kfsync.providers.wechat_mp.client.results import (
    CustomerSession,
    KfAccount,
    KfSession,
    MsgPage,
    MsgRecord,
    OnlineKf,
    WaitingCases,
    account_list,
    legacy_record_list,
    online_list,
    session_list,
)

FULL_ACCOUNT = {
    "kf_account": "anna@shop_cs", "kf_nick": "Anna", "kf_id": "1001",
    "kf_headimgurl": "http://mmbiz.qpic.cn/x/0", "invite_wx": "anna_wx",
    "invite_expire_time": 123456789, "invite_status": "waiting", "kf_openid": "o1",
}


@pytest.mark.parametrize("kf_id", [1001, "1001"])
def test_kf_id_number_or_string_becomes_string(kf_id: object) -> None:
    account = KfAccount.from_dict({"kf_account": "a@shop_cs", "kf_nick": "A", "kf_id": kf_id})
    assert account.kf_id == "1001"
    online = OnlineKf.from_dict({"kf_account": "a@shop_cs", "kf_id": kf_id, "status": 1})
    assert online.kf_id == "1001"


def test_minimal_account_has_none_for_missing_optional_fields() -> None:
    account = KfAccount.from_dict({"kf_account": "bo@shop_cs", "kf_nick": "Bo", "kf_id": 7,
                                   "kf_headimgurl": ""})
    assert account == KfAccount("bo@shop_cs", "Bo", "7")
    assert account.headimgurl is None
    assert account.prefix == "bo"


def test_invite_expire_time_accepts_a_string_of_digits() -> None:
    account = KfAccount.from_dict({**FULL_ACCOUNT, "invite_expire_time": "123456789"})
    assert account.invite_expire_time == 123456789
    assert KfAccount.from_dict({**FULL_ACCOUNT, "invite_expire_time": 1.7e9}).invite_expire_time \
        == 1_700_000_000


@pytest.mark.parametrize("absurd", [
    -1, 10**20, 1e20, 1.5, "soon", "NaN", float("nan"), float("inf"), "1e9", True, [1], {"t": 1},
    "9" * 40, "²",
])
def test_an_invite_expire_time_that_is_no_time_is_an_unknown_expiry_and_a_warning(
        absurd: object, caplog: pytest.LogCaptureFixture) -> None:
    account = KfAccount.from_dict({**FULL_ACCOUNT, "invite_expire_time": absurd})
    assert account.invite_expire_time is None
    assert account.invite_status == "waiting"
    [record] = [r for r in caplog.records if r.levelname == "WARNING"]
    assert "kf_list" not in record.getMessage()  # parsed alone, the path is the field's own
    assert "invite_expire_time must be a unix time" in record.getMessage()
    assert "expiry is taken as unknown" in record.getMessage()


RECORD = {"openid": "o1", "opercode": 2002, "text": "你好", "time": 1400563710, "worker": "a@shop_cs"}


@pytest.mark.parametrize("value", [
    KfAccount.from_dict(FULL_ACCOUNT),
    KfAccount("bo@shop_cs", "Bo", "7", kf_wx="bo_wx"),
    OnlineKf("a@shop_cs", "1001", 1, accepted_case=2, auto_accept=5, kf_openid="o"),
    OnlineKf("a@shop_cs", "1001", 0),
    CustomerSession("a@shop_cs", 1400000000),
    CustomerSession(None, 0),
    KfSession("o1", 1400000000),
    WaitingCases(150, ()),
    MsgRecord("o1", 2002, "你好", 1400563710, "a@shop_cs"),
    MsgPage((MsgRecord("o1", 2003, "[image]", 1, "a@shop_cs"),), 1, 2),
])
def test_to_dict_round_trips(value: KfAccount | OnlineKf | CustomerSession | KfSession
                             | WaitingCases | MsgRecord | MsgPage) -> None:
    assert type(value).from_dict(value.to_dict()) == value


def test_full_account_to_dict_is_the_wire_shape() -> None:
    assert KfAccount.from_dict(FULL_ACCOUNT).to_dict() == FULL_ACCOUNT


def test_list_answers() -> None:
    assert account_list({"kf_list": [FULL_ACCOUNT]})[0].nickname == "Anna"
    assert online_list({"kf_online_list": []}) == ()
    assert session_list({"sessionlist": [{"openid": "o", "createtime": 5}]}) == (
        KfSession("o", 5),)
    assert legacy_record_list({"recordlist": [
        {"worker": " anna", "openid": "o", "opercode": 1000, "time": 3}]}) == (
        MsgRecord("o", 1000, "", 3, "anna"),)


def test_waiting_cases_without_a_list() -> None:
    assert WaitingCases.from_dict({"count": 0}) == WaitingCases(0, ())
    listed = WaitingCases.from_dict({"count": 150, "waitcaselist": [
        {"latest_time": 9, "openid": "o"}]})
    assert listed.count == 150
    assert listed.cases[0].latest_time == 9


def test_no_session_is_none() -> None:
    assert CustomerSession.from_dict({"createtime": 0, "kf_account": ""}).kf_account is None


def test_a_page_decoded_with_the_record_hook_is_the_same_page() -> None:
    """Records made while decoding, and the odd ones read field by field, as without the hook."""
    odd = {**RECORD, "time": "1400563711", "worker": " anna@shop_cs ", "text": None}
    text = json.dumps({"recordlist": [RECORD, odd, RECORD], "number": 3, "msgid": 4})
    hooked = MsgPage.from_dict(json.loads(text, object_hook=MsgPage.record_hook))
    assert hooked == MsgPage.from_dict(json.loads(text))
    assert hooked.records[1] == MsgRecord("o1", 2002, "", 1400563711, "anna@shop_cs")
    with pytest.raises(WireFormatError, match=re.escape("recordlist[1].opercode")):
        MsgPage.from_dict(json.loads(json.dumps({"recordlist": [RECORD, {**RECORD, "opercode": []}],
                                                 "number": 2, "msgid": 3}),
                                     object_hook=MsgPage.record_hook))


@pytest.mark.parametrize(("parse", "body", "message"), [
    (account_list, {"kf_list": "x"}, "field kf_list must be an array, got string"),
    (account_list, {}, "field kf_list must be an array, got nothing"),
    (account_list, {"kf_list": [5]}, "kf_list[0] must be a JSON object, got number"),
    (account_list, {"kf_list": [{**FULL_ACCOUNT, "kf_id": [1]}]},
     "field kf_list[0].kf_id must be a number or a non-empty string, got array"),
    (account_list, {"kf_list": [{**FULL_ACCOUNT, "kf_id": True}]}, "got boolean"),
    (account_list, {"kf_list": [{**FULL_ACCOUNT, "kf_nick": 3}]},
     "field kf_list[0].kf_nick must be a string, got number"),
    (account_list, {"kf_list": [{**FULL_ACCOUNT, "invite_status": "lost"}]},
     "invite_status must be one of waiting, rejected, expired"),
    (MsgPage.from_dict, {"recordlist": [{"openid": "o", "opercode": 2002, "time": 1e20}],
                         "number": 1, "msgid": 1},
     "field recordlist[0].time must be a unix time (seconds from 1970 to 9999), got number"),
    (session_list, {"sessionlist": [{"openid": "o", "createtime": -5}]},
     "field sessionlist[0].createtime must be a unix time"),
    (online_list, {"kf_online_list": [{"kf_account": "a", "kf_id": 1, "status": "on"}]},
     "status must be a whole number"),
    (online_list, {"kf_online_list": [{"kf_account": "a", "kf_id": 1}]},
     "status must be a number, got nothing"),
    (MsgPage.from_dict, {"recordlist": [], "number": 0, "msgid": None},
     "field msgid must be a number, got null"),
    (MsgPage.from_dict, [], "the answer must be a JSON object, got array"),
    (MsgPage.from_dict, {"recordlist": {"a": 1}, "number": 0, "msgid": 1},
     "field recordlist must be an array, got object"),
    (MsgPage.from_dict, {"recordlist": [RECORD, 7], "number": 2, "msgid": 3},
     "recordlist[1] must be a JSON object, got number"),
    (MsgPage.from_dict, {"recordlist": [RECORD, {**RECORD, "time": "soon"}], "number": 2,
                         "msgid": 3}, "field recordlist[1].time must be a unix time"),
    (MsgPage.from_dict, {"recordlist": [RECORD, {**RECORD, "time": -5}], "number": 2,
                         "msgid": 3}, "field recordlist[1].time must be a unix time"),
    (MsgPage.from_dict, {"recordlist": [RECORD, {**RECORD, "openid": None}], "number": 2,
                         "msgid": 3}, "field recordlist[1].openid must be a string, got null"),
])
def test_wrong_types_name_the_field(parse: object, body: object, message: str) -> None:
    assert callable(parse)
    with pytest.raises(WireFormatError, match=re.escape(message)):
        parse(body)
