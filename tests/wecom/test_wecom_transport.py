"""Tokens, retries and errors of the WeCom client: refresh once, bounded retries, hints."""

from __future__ import annotations

import pytest

from kfsync.errors import CredentialsError, QuotaError, WeChatError
from kfsync.providers.wecom.client import WeComClient
from kfsync.providers.wecom.emulator import DEFAULT_SECRET, WeComEmulator
from kfsync.providers.wecom.ratelimit import MinuteLimit
from tests.helpers.wecom import GETTOKEN, LIST, WeComFactory, calls_to


def test_the_token_is_fetched_once_and_cached(wecom: WeComEmulator, client: WeComClient) -> None:
    for _ in range(3):
        client.list_accounts()
    fetches = calls_to(wecom, GETTOKEN)
    assert len(fetches) == 1
    assert fetches[0]["query"]["corpsecret"] == "***"
    assert all(c["query"]["access_token"] == "***" for c in calls_to(wecom, LIST))


@pytest.mark.parametrize("code", [40014, 42001])
def test_token_errors_refresh_once_then_succeed(wecom: WeComEmulator, client: WeComClient,
                                                code: int) -> None:
    client.list_accounts()
    wecom.admin.fault(LIST, errcode=code)
    assert client.list_accounts() == ()
    assert len(calls_to(wecom, GETTOKEN)) == 2


@pytest.mark.parametrize("code", [40014, 42001])
def test_token_errors_refresh_only_once(wecom: WeComEmulator, client: WeComClient,
                                        code: int) -> None:
    wecom.admin.fault(LIST, count=3, errcode=code)
    with pytest.raises(WeChatError) as exc:
        client.list_accounts()
    assert exc.value.errcode == code
    assert len(calls_to(wecom, GETTOKEN)) == 2
    assert len(calls_to(wecom, LIST)) == 2


def test_an_expired_token_on_the_emulator_clock_is_renewed(wecom: WeComEmulator,
                                                           client: WeComClient) -> None:
    client.list_accounts()
    wecom.admin.advance_clock(7200)
    assert client.list_accounts() == ()
    assert [c["errcode"] for c in calls_to(wecom, LIST)] == [0, 42001, 0]


@pytest.mark.parametrize("reuse", [True, False])
def test_gettoken_switch_same_or_fresh(wecom: WeComEmulator, make_client: WeComFactory,
                                       reuse: bool) -> None:
    wecom.admin.switch(token_reuse=reuse)
    first, second = make_client(), make_client()
    assert (first.tokens.current() == second.tokens.current()) is reuse
    # Either way both keep working: a superseded token (40014) is fetched again.
    first.list_accounts()
    assert [c["errcode"] for c in calls_to(wecom, LIST)] == ([0] if reuse else [40014, 0])


def test_a_wrong_secret_is_never_asked_again(wecom: WeComEmulator,
                                            make_client: WeComFactory) -> None:
    client = make_client(secret="not-" + DEFAULT_SECRET)
    for _ in range(3):
        with pytest.raises(WeChatError) as exc:
            client.list_accounts()
        assert exc.value.errcode == 40001
        assert "banned" in str(exc.value)
        assert "not-" + DEFAULT_SECRET not in str(exc.value)
    assert len(calls_to(wecom, GETTOKEN)) == 1


def test_a_wrong_corpid_is_40013(wecom: WeComEmulator, make_client: WeComFactory) -> None:
    with pytest.raises(WeChatError) as exc:
        make_client(corpid="ww0000000000000000").list_accounts()
    assert exc.value.errcode == 40013
    assert "KFSYNC_CORPID" in str(exc.value)


def test_a_static_token_cannot_be_renewed(wecom: WeComEmulator,
                                          make_client: WeComFactory) -> None:
    good = make_client().tokens.current()
    client = make_client(corpid=None, secret=None, access_token=good, token_mode="static")
    assert client.list_accounts() == ()
    wecom.admin.fault(LIST, errcode=40014)
    with pytest.raises(CredentialsError, match="KFSYNC_CORPID and KFSYNC_CORPSECRET"):
        client.list_accounts()


@pytest.mark.parametrize("code", [45033, 6000, -1])
def test_transient_codes_are_retried(wecom: WeComEmulator, client: WeComClient,
                                     code: int) -> None:
    wecom.admin.fault(LIST, count=2, errcode=code)
    assert client.list_accounts() == ()
    assert len(calls_to(wecom, LIST)) == 3


@pytest.mark.parametrize(("code", "error"), [(45033, QuotaError), (6000, WeChatError)])
def test_retries_are_bounded(wecom: WeComEmulator, client: WeComClient, code: int,
                             error: type[WeChatError]) -> None:
    wecom.admin.fault(LIST, count=10, errcode=code)
    with pytest.raises(error) as exc:
        client.list_accounts()
    assert exc.value.errcode == code
    assert len(calls_to(wecom, LIST)) == 4


def test_45009_is_not_retried(wecom: WeComEmulator, client: WeComClient) -> None:
    wecom.admin.fault(LIST, count=5, errcode=45009)
    with pytest.raises(QuotaError, match="10,000/min"):
        client.list_accounts()
    assert len(calls_to(wecom, LIST)) == 1


def test_60020_names_the_ip_to_trust(wecom: WeComEmulator, client: WeComClient) -> None:
    wecom.admin.seed(trusted_ips=["203.0.113.7"])
    with pytest.raises(WeChatError) as exc:
        client.list_accounts()
    assert exc.value.errcode == 60020
    assert "trusted IPs" in str(exc.value)
    assert str(exc.value).endswith("the IP WeCom saw is 127.0.0.1)")
    wecom.admin.seed(trusted_ips=["203.0.113.7", "127.0.0.1"])
    assert client.list_accounts() == ()


def test_an_app_not_authorised_for_the_kf_api(wecom: WeComEmulator, client: WeComClient) -> None:
    wecom.admin.seed(app_authorised=False)
    with pytest.raises(WeChatError) as exc:
        client.list_accounts()
    assert exc.value.errcode == 48002
    assert "可调用接口的应用" in str(exc.value)


def test_the_emulator_enforces_the_per_minute_limit(make_client: WeComFactory) -> None:
    with WeComEmulator(rate_limit=5) as tight:
        client = make_client(api_base=tight.base_url)
        for _ in range(5):
            client.list_accounts()
        with pytest.raises(QuotaError, match="10,000/min"):
            client.list_accounts()
        tight.admin.advance_clock(60)
        assert client.list_accounts() == ()


def test_the_client_waits_rather_than_pass_the_minute_limit() -> None:
    now = [0.0]
    waited: list[float] = []

    def sleep(seconds: float) -> None:
        waited.append(seconds)
        now[0] += seconds

    limit = MinuteLimit(3, clock=lambda: now[0], sleep=sleep)
    for step in range(3):
        now[0] = step * 10.0
        limit.wait("/cgi-bin/kf/account/list")
    limit.wait("/cgi-bin/kf/servicer/add")  # each API has its own count
    assert waited == []
    limit.wait("/cgi-bin/kf/account/list")
    assert waited == [40.0]  # until the first call leaves the 60 s window
    with pytest.raises(ValueError, match="at least 1"):
        MinuteLimit(0)
