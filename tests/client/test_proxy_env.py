"""Proxies from the environment (HTTP(S)_PROXY, NO_PROXY) are honoured by API calls and picture
downloads alike, though read once per client (per host, for downloads)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kfsync.downloads import download_pictures
from kfsync.errors import TransportError
from kfsync.providers.wechat_mp.client import KfClient, RetryPolicy

PICTURE = b"\x89PNG\r\n\x1a\n" + b"a picture, as far as a download goes"


class _Proxy(BaseHTTPRequestHandler):
    """A stand-in forward proxy: records each request line and answers an empty account list."""

    seen: list[str]

    def do_GET(self) -> None:
        self.seen.append(self.path)
        picture = "/mmbiz_jpg/" in self.path
        body = PICTURE if picture else json.dumps({"kf_list": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "image/png" if picture else "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Handler", (_Proxy,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def use_proxy(proxy: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch,
              no_proxy: str | None = None) -> list[str]:
    """Name the stand-in as HTTP_PROXY (and `no_proxy` as NO_PROXY); the request lines it sees."""
    address, seen = proxy
    monkeypatch.setenv("HTTP_PROXY", address)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    if no_proxy is not None:
        monkeypatch.setenv("NO_PROXY", no_proxy)
    return seen


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_calls_go_through_the_proxy_the_environment_names(
    proxy: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = use_proxy(proxy, monkeypatch)
    base = f"http://127.0.0.1:{closed_port()}"  # nothing listens there: only the proxy answers
    with KfClient(access_token="static-token-value", api_base=base) as client:
        assert client.list_accounts() == ()
        assert client.list_accounts() == ()
    assert len(seen) == 2
    assert all(line.startswith(f"{base}/cgi-bin/customservice/getkflist?") for line in seen)


def test_no_proxy_sends_calls_direct(
    proxy: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = use_proxy(proxy, monkeypatch, no_proxy="127.0.0.1")
    base = f"http://127.0.0.1:{closed_port()}"
    with KfClient(access_token="static-token-value", api_base=base,
                  retry=RetryPolicy(attempts=1)) as client, pytest.raises(TransportError):
        client.list_accounts()
    assert seen == []


def test_picture_downloads_go_through_the_proxy_unless_no_proxy_names_their_host(
    proxy: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = use_proxy(proxy, monkeypatch, no_proxy="localhost")
    port = closed_port()
    proxied = [f"http://127.0.0.1:{port}/mmbiz_jpg/{name}/0" for name in ("a", "b", "c")]
    direct = f"http://localhost:{port}/mmbiz_jpg/d/0"
    got = download_pictures([*proxied, direct], workers=2)
    assert [got[url].data for url in proxied] == [PICTURE] * 3
    assert got[direct].data is None  # straight to a closed port: nothing there
    assert sorted(seen) == sorted(proxied)
