"""The access token and the app secret never show: not in errors, reprs or debug logs."""

from __future__ import annotations

import logging
import socket

import pytest

from kfsync.emulator import DEFAULT_SECRET, Emulator
from kfsync.errors import ApiError, TransportError, WeChatError
from kfsync.providers.wechat_mp.client import KfClient, RetryPolicy
from tests.helpers.client import ClientFactory

LIST = "/cgi-bin/customservice/getkflist"

SECRET = "redaction-test-secret-0123456789"
TOKEN = "redaction-test-token-ABCDEFGHIJ"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def assert_clean(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text
        assert TOKEN not in text


@pytest.mark.parametrize("mode", ["classic", "stable", "static"])  # classic: secret in the URL
def test_connection_errors_to_a_closed_port_are_clean(
        mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # urllib3 too: it logs URLs
    client = KfClient(appid="wxredact", secret=SECRET, access_token=TOKEN, token_mode=mode,
                      api_base=f"http://127.0.0.1:{closed_port()}",
                      retry=RetryPolicy(attempts=2, sleep=lambda _: None))
    with client, pytest.raises(TransportError) as caught:
        client.list_accounts()
    error = caught.value
    assert "cannot connect to the API" in str(error)
    # The requests exception (whose text has the URL) is neither chained nor kept as context.
    assert error.__cause__ is None
    assert error.__context__ is None
    assert_clean(str(error), repr(error), repr(client), repr(client.tokens), repr(client.config),
                 caplog.text)
    assert "retry 1/1" in caplog.text


def test_client_repr_names_the_app_but_no_secret() -> None:
    client = KfClient(appid="wxredact", secret=SECRET, api_base="http://127.0.0.1:9")
    assert client.appid == "wxredact"
    assert repr(client) == ("KfClient(api_base='http://127.0.0.1:9', appid='wxredact', "
                            "token_mode='stable')")


def test_every_api_error_is_a_kfsync_error() -> None:
    assert issubclass(TransportError, ApiError)


@pytest.mark.parametrize("mode", ["classic", "stable"])
def test_debug_logs_and_errors_from_the_emulator_are_clean(
        emulator: Emulator, make_client: ClientFactory, mode: str,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(token_mode=mode)
    client.list_accounts()
    token = client.tokens.current()
    emulator.admin.fault("/customservice/kfaccount/del", errcode=65401)
    with pytest.raises(WeChatError) as caught:
        client.delete_account("ghost@shop_cs")
    emulator.admin.fault(LIST, drop="after")
    client.list_accounts()
    texts = [str(caught.value), repr(caught.value), repr(client), repr(client.tokens),
             caplog.text]
    for text in texts:
        assert token not in text
        assert DEFAULT_SECRET not in text
    assert f"GET {LIST} -> 200 errcode=0 in" in caplog.text
    assert "POST /customservice/kfaccount/del -> 200 errcode=65401 in" in caplog.text
    assert f"GET {LIST} -> no answer errcode=None in" in caplog.text
