"""Answers the emulator cannot give (HTML, truncated or non-object JSON, wrong types, 10 MB).

A tiny stdlib HTTP server on 127.0.0.1 stands in for WeChat here: these are
transport faults, the one thing the emulator cannot produce.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kfsync import __version__
from kfsync.errors import TransportError
from kfsync.providers.wechat_mp.client import KfClient, RetryPolicy

LIST = "/cgi-bin/customservice/getkflist"
#: (HTTP status, Content-Type, body, repeat) -- body repeated `repeat` times
Answer = tuple[int, str, bytes, int]


class StandIn(ThreadingHTTPServer):
    daemon_threads = True
    answer: Answer = (200, "application/json", b"{}", 1)
    hits = 0
    seen: tuple[str, str, dict[str, str], bytes] = ("", "", {}, b"")  #: the last request


class Handler(BaseHTTPRequestHandler):
    server: StandIn

    def do_POST(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        self.server.hits += 1
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen = (self.command, self.path, dict(self.headers), body)
        status, content_type, body, repeat = self.server.answer
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) * repeat))
        self.end_headers()
        try:
            for _ in range(repeat):
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading, as it should for a huge body

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def stand_in() -> Iterator[StandIn]:
    server = StandIn(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(stand_in: StandIn) -> Iterator[KfClient]:
    stand_in.hits = 0
    host, port = stand_in.server_address[:2]
    with KfClient(access_token="stand-in-token", api_base=f"http://{host!s}:{port}",
                  retry=RetryPolicy(attempts=3, sleep=lambda _: None)) as client:
        yield client


def answer(stand_in: StandIn, body: bytes, *, status: int = 200,
           content_type: str = "application/json; encoding=utf-8", repeat: int = 1) -> None:
    stand_in.answer = (status, content_type, body, repeat)


def test_wechat_content_type_is_accepted(stand_in: StandIn, client: KfClient) -> None:
    answer(stand_in, '{"kf_list": [{"kf_account": "a@shop_cs", "kf_nick": "小安", '
                     '"kf_id": "1001", "kf_headimgurl": ""}]}'.encode())
    assert client.list_accounts()[0].nickname == "小安"


@pytest.mark.parametrize(("body", "message"), [
    (b"<html><body>504 Gateway Time-out</body></html>",
     f"the answer from {LIST} is not JSON (it starts '<html><body>504"),
    (b'{"kf_list": [{"kf_account": "a@sh', f"the answer from {LIST} is not JSON"),
    (b"\xff\xfe{}", f"the answer from {LIST} is not JSON"),
    (b"", f"the answer from {LIST} is not JSON"),
    (b"[1, 2]", f"the answer from {LIST} is JSON but not an object"),
    (b'"ok"', f"the answer from {LIST} is JSON but not an object"),
    (b'{"kf_list": [{"kf_account": 5, "kf_nick": "A", "kf_id": 1}]}',
     f"malformed answer from {LIST}: field kf_list[0].kf_account must be a string, got number"),
    (b'{"kf_list": {}}', f"malformed answer from {LIST}: field kf_list must be an array"),
    (b'{"errcode": "0", "errmsg": "ok", "kf_list": []}', None),
    (b'{"errcode": [], "errmsg": "?"}',
     f"malformed answer from {LIST}: field errcode must be a whole number, got array"),
    (b'{"errcode": 0, "errmsg": 7, "kf_list": []}',
     f"malformed answer from {LIST}: field errmsg must be a string, got number"),
])
def test_malformed_answers_are_transport_errors(stand_in: StandIn, client: KfClient,
                                                body: bytes, message: str | None) -> None:
    answer(stand_in, body)
    if message is None:
        assert client.list_accounts() == ()
        return
    with pytest.raises(TransportError) as caught:
        client.list_accounts()
    assert str(caught.value).startswith(message)
    assert caught.value.endpoint == LIST
    assert stand_in.hits == 1  # a malformed answer is not retried


def test_a_huge_body_is_refused_unread(stand_in: StandIn, client: KfClient) -> None:
    answer(stand_in, b"x" * (1024 * 1024), repeat=10)
    with pytest.raises(TransportError, match=f"the answer from {LIST} is larger than 8 MiB"):
        client.list_accounts()


def test_gateway_page_with_5xx_is_retried_then_reported(stand_in: StandIn,
                                                        client: KfClient) -> None:
    answer(stand_in, b"<html>502 Bad Gateway</html>", status=502, content_type="text/html")
    with pytest.raises(TransportError, match=f"HTTP 502 from {LIST}"):
        client.list_accounts()
    assert stand_in.hits == 3


def test_other_http_errors_are_not_retried(stand_in: StandIn, client: KfClient) -> None:
    answer(stand_in, b"<html>403</html>", status=403, content_type="text/html")
    with pytest.raises(TransportError, match=f"HTTP 403 from {LIST}"):
        client.list_accounts()
    assert stand_in.hits == 1


def test_wire_details(stand_in: StandIn, client: KfClient) -> None:
    answer(stand_in, b'{"errcode": 0, "errmsg": "ok"}')
    client.update_account("anna@shop_cs", "小安")
    method, path, headers, body = stand_in.seen
    assert (method, path) == (
        "POST", "/customservice/kfaccount/update?access_token=stand-in-token")
    assert headers["User-Agent"] == f"kfsync/{__version__} (+python-requests)"
    assert headers["Content-Type"] == "application/json"
    assert body == '{"kf_account": "anna@shop_cs", "nickname": "小安"}'.encode()
    answer(stand_in, b'{"sessionlist": []}')
    client.list_sessions("anna@shop_cs")
    assert stand_in.seen[1] == ("/customservice/kfsession/getsessionlist"
                                "?access_token=stand-in-token&kf_account=anna@shop_cs")
