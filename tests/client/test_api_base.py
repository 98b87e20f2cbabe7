"""KFSYNC_API_BASE: what is accepted, and the backup host tried when the default one is unreachable.

No test here resolves or reaches a real WeChat host.  The default and backup
bases are module constants of `kfsync.client.config`; the failover tests point
the "default" at a closed port on 127.0.0.1 (or at a name whose lookup is
faked to fail) and the "backup" at the emulator.  `getaddrinfo` is guarded:
any name other than loopback and the fake `*.kfsync.test` ones fails the test.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from kfsync.cli import main
from kfsync.client import config as client_config
from kfsync.client.config import ClientConfig, checked_api_base
from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET, Emulator
from kfsync.errors import OutcomeUnknownError, TransportError, UsageError
from kfsync.providers.wechat_mp.client import KfClient, RetryPolicy
from tests.helpers.client import kf

APP = {"KFSYNC_APPID": "wxenv", "KFSYNC_APPSECRET": "env-secret-value"}
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
FAKE_DOMAIN = ".kfsync.test"
TRANSPORT_LOG = "kfsync.client.transport"


# ---------------------------------------------------------------------- validation


@pytest.mark.parametrize(("value", "normalised"), [
    ("https://api.weixin.qq.com", "https://api.weixin.qq.com"),
    ("https://api.weixin.qq.com/", "https://api.weixin.qq.com"),
    ("HTTPS://API.Weixin.QQ.com", "https://api.weixin.qq.com"),
    ("https://sh.api.weixin.qq.com", "https://sh.api.weixin.qq.com"),
    ("https://sz.api.weixin.qq.com", "https://sz.api.weixin.qq.com"),
    ("https://hk.api.weixin.qq.com", "https://hk.api.weixin.qq.com"),
    ("https://relay.example.com:8443/wechat/", "https://relay.example.com:8443/wechat"),
    ("https://10.0.0.7", "https://10.0.0.7"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("http://127.9.9.9:1", "http://127.9.9.9:1"),
    ("http://[::1]:8080/", "http://[::1]:8080"),
    ("http://localhost:8080", "http://localhost:8080"),
])
def test_accepted_api_bases(value: str, normalised: str) -> None:
    assert checked_api_base(value) == normalised


@pytest.mark.parametrize(("value", "reason"), [
    ("api.weixin.qq.com", "it is not an https:// URL"),
    ("ftp://api.weixin.qq.com", "it is not an https:// URL"),
    ("https://", "it is not an https:// URL"),
    ("http://api.weixin.qq.com", "http:// would send the app secret in clear text; use https://"),
    ("http://10.0.0.7:8080", "http:// would send the app secret in clear text"),
    ("http://localhost.evil.example", "http:// would send the app secret in clear text"),
    ("http://127.0.0.1.evil.example", "http:// would send the app secret in clear text"),
    ("https://api.weixin.qq.com@evil.example", "it names a user before @"),
    ("https://user:pw@api.weixin.qq.com", "it names a user before @"),
    ("https://api.weixin.qq.com?x=1", "it has a query or a fragment"),
    ("https://api.weixin.qq.com/#x", "it has a query or a fragment"),
    ("https://api.weixin.qq.com?", "it has a query or a fragment"),
    ("https://api.weixin.qq.com/a/../b", "its path may only be a plain prefix"),
    ("https://api.weixin.qq.com//x", "its path may only be a plain prefix"),
    ("https://api.weixin.qq.com/a b", "its path may only be a plain prefix"),
    ("https://api weixin.qq.com", "its host or port is not valid"),
    ("https://api.weixin.qq.com:99999", "its host or port is not valid"),
    ("https://api.weixin.qq.com:0", "its host or port is not valid"),
    ("https://-bad-.example", "its host or port is not valid"),
])
def test_refused_api_bases(value: str, reason: str) -> None:
    with pytest.raises(UsageError) as caught:
        ClientConfig.resolve(environ={**APP, "KFSYNC_API_BASE": value})
    assert str(caught.value).startswith(f"KFSYNC_API_BASE {value!r} is refused: {reason}")


def test_only_the_default_base_has_a_backup() -> None:
    assert client_config.DEFAULT_API_BASE == "https://api.weixin.qq.com"
    assert client_config.BACKUP_API_BASE == "https://api2.weixin.qq.com"
    unset = ClientConfig.resolve(environ=APP)
    assert (unset.api_base, unset.backup_api_base) == (
        "https://api.weixin.qq.com", "https://api2.weixin.qq.com")
    spelled = ClientConfig.resolve(environ={**APP, "KFSYNC_API_BASE": "HTTPS://api.weixin.qq.com/"})
    assert spelled.backup_api_base == "https://api2.weixin.qq.com"
    for other in ("https://sh.api.weixin.qq.com", "https://api2.weixin.qq.com",
                  "https://api.weixin.qq.com:443", "http://127.0.0.1:9"):
        assert ClientConfig.resolve(environ={**APP, "KFSYNC_API_BASE": other}).backup_api_base is None


# ---------------------------------------------------------------------- failover


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture(autouse=True)
def lookups(monkeypatch: pytest.MonkeyPatch) -> dict[str, OSError]:
    """Fake lookup failures by name (`*.kfsync.test`); any other non-loopback name fails the test."""
    failures: dict[str, OSError] = {}
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name in failures:
            raise failures[name]
        assert name in LOOPBACK, f"a test tried to resolve {name}"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    return failures


@pytest.fixture
def backup_is(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], None]:
    """Make `default` the default base and `backup` its backup; KFSYNC_API_BASE unset."""
    monkeypatch.delenv("KFSYNC_API_BASE", raising=False)

    def point(default: str, backup: str) -> None:
        monkeypatch.setattr(client_config, "DEFAULT_API_BASE", default)
        monkeypatch.setattr(client_config, "BACKUP_API_BASE", backup)

    return point


@pytest.fixture
def urls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URL of every request any requests.Session sends (query left out)."""
    sent: list[str] = []
    real = requests.Session.request

    def spy(self: requests.Session, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(url.split("?")[0])
        return real(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", spy)
    return sent


def client(sleeps: list[float] | None = None, **settings: Any) -> KfClient:
    retry = RetryPolicy(attempts=3, sleep=(sleeps if sleeps is not None else []).append)
    return KfClient(appid=DEFAULT_APPID, secret=DEFAULT_SECRET, retry=retry, **settings)


def warnings_in(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == TRANSPORT_LOG and r.levelno == logging.WARNING]


def test_an_unreachable_default_host_fails_over_once_and_sticks(
        emulator: Emulator, backup_is: Callable[[str, str], None], urls: list[str],
        caplog: pytest.LogCaptureFixture) -> None:
    primary = f"http://127.0.0.1:{closed_port()}"
    backup_is(primary, emulator.base_url)
    sleeps: list[float] = []
    with client(sleeps) as kf_client:
        kf_client.add_account(kf("anna"), "Anna")
        assert [a.kf_account for a in kf_client.list_accounts()] == [kf("anna")]
        kf_client.update_account(kf("anna"), "Anna 2")
        assert kf_client.config.api_base == primary  # the setting; the transport moved
    assert [u for u in urls if u.startswith(primary)] == [f"{primary}/cgi-bin/stable_token"]
    assert len(urls) == 5
    assert sleeps == []  # the move to the backup is not a retry
    host, backup_host = primary.removeprefix("http://"), emulator.base_url.removeprefix("http://")
    [warning] = warnings_in(caplog)
    assert warning.startswith(f"{host} unreachable (NewConnectionError: ")
    assert "Connection refused" in warning
    assert warning.endswith(f"); trying the backup host {backup_host}")


@pytest.mark.parametrize(("failure", "detail"), [
    (socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
     "NameResolutionError: "),
    (TimeoutError("timed out"), "ConnectTimeoutError: "),
])
def test_dns_failures_and_connect_timeouts_fail_over(
        emulator: Emulator, backup_is: Callable[[str, str], None], lookups: dict[str, OSError],
        caplog: pytest.LogCaptureFixture, failure: OSError, detail: str) -> None:
    name = "api" + FAKE_DOMAIN
    lookups[name] = failure
    backup_is(f"https://{name}", emulator.base_url)
    with client() as kf_client:
        assert kf_client.list_accounts() == ()
    [warning] = warnings_in(caplog)
    assert warning.startswith(f"{name} unreachable ({detail}")


def test_concurrent_calls_fail_over_with_one_warning(
        emulator: Emulator, backup_is: Callable[[str, str], None], urls: list[str],
        caplog: pytest.LogCaptureFixture) -> None:
    backup_is(f"http://127.0.0.1:{closed_port()}", emulator.base_url)
    token = requests.post(f"{emulator.base_url}/cgi-bin/stable_token", timeout=10, json={
        "grant_type": "client_credential", "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET,
    }).json()["access_token"]
    urls.clear()
    barrier = threading.Barrier(16)
    results: list[int] = []
    with KfClient(access_token=token, retry=RetryPolicy(sleep=lambda _: None)) as kf_client:

        def work() -> None:
            barrier.wait()
            results.append(len(kf_client.list_accounts()))

        threads = [threading.Thread(target=work) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert results == [0] * 16
    assert len(warnings_in(caplog)) == 1
    assert sum(1 for u in urls if u.startswith(emulator.base_url)) == 16


def test_an_unreachable_backup_is_retried_then_reported(
        backup_is: Callable[[str, str], None], caplog: pytest.LogCaptureFixture) -> None:
    backup = f"http://127.0.0.1:{closed_port()}"
    backup_is(f"http://127.0.0.1:{closed_port()}", backup)
    sleeps: list[float] = []
    with client(sleeps) as kf_client, pytest.raises(TransportError) as caught:
        kf_client.list_accounts()
    assert str(caught.value).startswith("cannot connect to the API for /cgi-bin/stable_token")
    assert len(sleeps) == 2  # attempts=3, all on the backup
    assert len(warnings_in(caplog)) == 1


def test_a_non_default_base_never_fails_over(
        emulator: Emulator, backup_is: Callable[[str, str], None],
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    backup_is("https://api.weixin.qq.com", emulator.base_url)
    monkeypatch.setenv("KFSYNC_API_BASE", f"http://127.0.0.1:{closed_port()}")
    with client() as kf_client, pytest.raises(TransportError, match="cannot connect to the API"):
        kf_client.list_accounts()
    assert emulator.admin.requests() == []
    assert warnings_in(caplog) == []


class _Unhelpful(BaseHTTPRequestHandler):
    """A primary host that is reachable but fails: 502, or hangs up after reading the request."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if getattr(self.server, "mode", "") == "drop":
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(502)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def unhelpful() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Unhelpful)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("scheme", "mode", "error"), [
    ("http", "502", "HTTP 502 from /cgi-bin/stable_token"),
    ("http", "drop", "the connection was lost"),
    ("https", "502", "request to /cgi-bin/stable_token failed (SSLError"),  # TLS to plain HTTP
])
def test_a_host_that_answers_or_was_sent_to_never_fails_over(
        emulator: Emulator, backup_is: Callable[[str, str], None],
        unhelpful: ThreadingHTTPServer, caplog: pytest.LogCaptureFixture,
        scheme: str, mode: str, error: str) -> None:
    unhelpful.mode = mode  # type: ignore[attr-defined]
    backup_is(f"{scheme}://127.0.0.1:{unhelpful.server_address[1]}", emulator.base_url)
    with client() as kf_client, pytest.raises(TransportError) as caught:
        kf_client.list_accounts()
    assert error in str(caught.value)
    assert emulator.admin.requests() == []
    assert warnings_in(caplog) == []


def test_a_write_whose_answer_was_lost_is_not_resent_to_the_backup(
        emulator: Emulator, backup_is: Callable[[str, str], None],
        unhelpful: ThreadingHTTPServer) -> None:
    unhelpful.mode = "drop"  # type: ignore[attr-defined]
    backup_is(f"http://127.0.0.1:{unhelpful.server_address[1]}", emulator.base_url)
    with KfClient(access_token="some-token", retry=RetryPolicy(sleep=lambda _: None)) as kf_client, \
            pytest.raises(OutcomeUnknownError):
        kf_client.delete_account(kf("anna"))
    assert emulator.admin.requests() == []


def test_the_cli_says_it_moved_to_the_backup(
        emulator: Emulator, backup_is: Callable[[str, str], None], tmp_path: Any,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    primary = f"http://127.0.0.1:{closed_port()}"
    backup_is(primary, emulator.base_url)
    monkeypatch.setenv("KFSYNC_APPID", DEFAULT_APPID)
    monkeypatch.setenv("KFSYNC_APPSECRET", DEFAULT_SECRET)
    logger = logging.getLogger("kfsync")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    try:
        assert main(["accounts", "--format", "json"]) == 0
        err = capsys.readouterr().err
        assert main(["-q", "accounts", "--format", "json"]) == 0
        quiet = capsys.readouterr().err
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved
    [line] = err.splitlines()
    assert line.startswith(f"WARNING {TRANSPORT_LOG}: {primary.removeprefix('http://')} "
                           "unreachable (NewConnectionError: ")
    assert line.endswith(f"trying the backup host {emulator.base_url.removeprefix('http://')}")
    assert quiet == ""
