"""Token modes against the emulator: supersession, expiry, stable immunity, static, fetch errors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from kfsync.emulator import Emulator
from kfsync.errors import CredentialsError, QuotaError, WeChatError
from kfsync.providers.wechat_mp.client import KfClient
from tests.helpers.client import ClientFactory, calls_to

LIST = "/cgi-bin/customservice/getkflist"


def test_classic_token_superseded_by_another_server(emulator: Emulator,
                                                    make_client: ClientFactory) -> None:
    ours = make_client(token_mode="classic")
    ours.list_accounts()
    make_client(token_mode="classic").list_accounts()  # another server takes a new token
    ours.list_accounts()  # the old token still works during the overlap
    assert len(calls_to(emulator, "/cgi-bin/token")) == 2
    emulator.admin.advance_clock(301)
    ours.list_accounts()  # 40001, then one refresh and one retry
    assert len(calls_to(emulator, "/cgi-bin/token")) == 3
    assert [e["errcode"] for e in calls_to(emulator, LIST)][-2:] == [40001, None]


@pytest.mark.parametrize("mode", ["stable", "classic"])
def test_expired_token_is_fetched_again(emulator: Emulator, make_client: ClientFactory,
                                        mode: str) -> None:
    client = make_client(token_mode=mode)
    client.list_accounts()
    emulator.admin.advance_clock(7200)
    client.list_accounts()
    path = "/cgi-bin/stable_token" if mode == "stable" else "/cgi-bin/token"
    assert len(calls_to(emulator, path)) == 2
    assert [e["errcode"] for e in calls_to(emulator, LIST)][-2:] == [42001, None]


def test_stable_token_is_immune_to_classic_fetches(emulator: Emulator,
                                                   make_client: ClientFactory) -> None:
    stable = make_client()
    stable.list_accounts()
    make_client(token_mode="classic").list_accounts()
    emulator.admin.advance_clock(301)
    stable.list_accounts()
    assert len(calls_to(emulator, "/cgi-bin/stable_token")) == 1
    assert all(e["errcode"] is None for e in calls_to(emulator, LIST))
    [fetch] = calls_to(emulator, "/cgi-bin/stable_token")
    assert fetch["body"]["force_refresh"] is False


def test_a_token_refused_twice_is_an_error(emulator: Emulator, client: KfClient) -> None:
    emulator.admin.fault(LIST, count=2, errcode=40001)
    with pytest.raises(WeChatError, match="40001"):
        client.list_accounts()
    assert len(calls_to(emulator, LIST)) == 2


def test_static_token(emulator: Emulator, make_client: ClientFactory) -> None:
    fetcher = make_client(token_mode="classic")
    fetcher.list_accounts()
    static = make_client(appid=None, secret=None, access_token=fetcher.tokens.current(),
                         token_mode="static")
    assert static.list_accounts() == ()
    emulator.admin.advance_clock(7200)
    with pytest.raises(CredentialsError, match=r"static access token \(KFSYNC_ACCESS_TOKEN\) "
                                               r"is invalid or expired: WeChat errcode 42001"):
        static.list_accounts()


@pytest.mark.parametrize(("credentials", "errcode", "hint"), [
    ({"secret": "a-wrong-secret-value"}, 40125, "KFSYNC_APPSECRET"),
    ({"appid": "wx0000000000000000"}, 40013, "KFSYNC_APPID"),
])
@pytest.mark.parametrize("mode", ["stable", "classic"])
def test_token_fetch_refused(make_client: ClientFactory, credentials: dict[str, str],
                             errcode: int, hint: str, mode: str) -> None:
    client = make_client(token_mode=mode, **credentials)
    with pytest.raises(WeChatError) as caught:
        client.list_accounts()
    assert caught.value.errcode == errcode
    assert hint in str(caught.value)
    assert caught.value.endpoint in ("/cgi-bin/stable_token", "/cgi-bin/token")


def test_token_fetch_quota(emulator: Emulator, client: KfClient) -> None:
    emulator.admin.fault("/cgi-bin/stable_token", errcode=45009)
    with pytest.raises(QuotaError, match="45009"):
        client.list_accounts()
    assert calls_to(emulator, LIST) == []


def test_concurrent_calls_fetch_one_token(emulator: Emulator, client: KfClient) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: client.list_accounts(), range(16)))
    assert results == [()] * 16
    assert len(calls_to(emulator, "/cgi-bin/stable_token")) == 1
    assert len(calls_to(emulator, LIST)) == 16
