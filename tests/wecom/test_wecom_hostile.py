"""Answers the emulator never gives: wrong types, absurd lengths, lone surrogates, odd shapes.

A stdlib HTTP server on 127.0.0.1 answers each path with the JSON a test sets,
standing in for a WeCom that misbehaves (a transport fault no emulator produces).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from kfsync.errors import TransportError
from kfsync.providers.wecom.client import WeComClient
from tests.helpers.wecom import NO_WAIT

TOKEN = {"errcode": 0, "access_token": "hostile-stand-in-token", "expires_in": 7200}


class Hostile(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self.bodies: dict[str, bytes] = {}


class _Handler(BaseHTTPRequestHandler):
    server: Hostile

    def do_GET(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.partition("?")[0]
        body = self.server.bodies.get(path, json.dumps(TOKEN).encode())
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def hostile() -> Iterator[Hostile]:
    with Hostile(("127.0.0.1", 0)) as server:
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        yield server
        server.shutdown()


@pytest.fixture
def client(hostile: Hostile) -> Iterator[WeComClient]:
    hostile.bodies = {}
    with WeComClient("wwhostile", "hostile-secret", api_base=f"http://127.0.0.1:"
                     f"{hostile.server_address[1]}", retry=NO_WAIT) as made:
        yield made


def answer(hostile: Hostile, path: str, body: Any) -> None:
    hostile.bodies[path] = body if isinstance(body, bytes) else json.dumps(body).encode()


def account(**fields: Any) -> dict[str, Any]:
    return {"errcode": 0, "account_list": [{"open_kfid": "wkOne", "name": "One", **fields}]}


@pytest.mark.parametrize(("body", "field"), [
    (account(open_kfid=7), "account_list[0].open_kfid"),
    (account(open_kfid="wk" + "x" * 100), "account_list[0].open_kfid"),
    (account(name=["One"]), "account_list[0].name"),
    (account(name="n" * 100_000), "account_list[0].name"),
    (account(avatar={"url": "x"}), "account_list[0].avatar"),
    (account(manage_privilege="yes"), "account_list[0].manage_privilege"),
    ({"errcode": 0, "account_list": {"open_kfid": "wkOne"}}, "account_list"),
    ({"errcode": "0", "account_list": []}, None),
])
def test_bad_account_lists_are_clean_errors(hostile: Hostile, client: WeComClient,
                                            body: dict[str, Any], field: str | None) -> None:
    answer(hostile, "/cgi-bin/kf/account/list", body)
    if field is None:  # errcode as a string of digits is read as the number
        assert client.list_accounts() == ()
        return
    with pytest.raises(TransportError) as exc:
        client.list_accounts()
    assert field in str(exc.value)
    assert "/cgi-bin/kf/account/list" in str(exc.value)
    assert len(str(exc.value)) < 300


def test_missing_manage_privilege_is_unknown(hostile: Hostile, client: WeComClient) -> None:
    answer(hostile, "/cgi-bin/kf/account/list", account())
    assert client.list_accounts()[0].manage_privilege is None


def test_lone_surrogates_become_replacement_characters(hostile: Hostile, client: WeComClient,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    answer(hostile, "/cgi-bin/kf/account/list",
           b'{"errcode":0,"account_list":[{"open_kfid":"wkOne","name":"A\\ud83d",'
           b'"manage_privilege":true}]}')
    with caplog.at_level(logging.WARNING):
        assert client.list_accounts()[0].name == "A\ufffd"
    assert "lone UTF-16 surrogate" in caplog.text


@pytest.mark.parametrize("item", [
    {"errcode": 0, "errmsg": "success"},
    {"userid": "a", "department_id": 2, "errcode": 0},
    {"userid": "a", "errcode": "broken"},
    {"userid": 5, "errcode": 0},
])
def test_bad_servicer_results_are_clean_errors(hostile: Hostile, client: WeComClient,
                                               item: dict[str, Any]) -> None:
    answer(hostile, "/cgi-bin/kf/servicer/add", {"errcode": 0, "result_list": [item]})
    with pytest.raises(TransportError, match="result_list"):
        client.add_servicers("wkOne", ["a"])


@pytest.mark.parametrize(("path", "body", "call"), [
    ("/cgi-bin/kf/add_contact_way", {"errcode": 0, "url": "javascript:alert(1)"},
     lambda c: c.add_contact_way("wkOne")),
    ("/cgi-bin/media/upload", {"errcode": 0, "media_id": "", "created_at": 1},
     lambda c: c.upload_image(b"\xff\xd8\xff" + b"0" * 10)),
    ("/cgi-bin/media/upload", {"errcode": 0, "media_id": "m", "created_at": -5},
     lambda c: c.upload_image(b"\xff\xd8\xff" + b"0" * 10)),
    ("/cgi-bin/kf/account/add", {"errcode": 0}, lambda c: c.add_account("x", "m")),
    ("/cgi-bin/kf/service_state/get", {"errcode": 0, "service_state": 9},
     lambda c: c.get_service_state("wkOne", "wm")),
    ("/cgi-bin/kf/sync_msg", {"errcode": 0, "msg_list": [{"msgid": "1", "msgtype": "text",
                                                          "send_time": "soon"}]},
     lambda c: c.sync_msg()),
    ("/cgi-bin/kf/get_corp_statistic", {"errcode": 0, "statistic_list": [
        {"stat_time": 1, "statistic": {"session_cnt": "many"}}]},
     lambda c: c.corp_statistic(0, 1)),
])
def test_other_bad_answers_are_clean_errors(hostile: Hostile, client: WeComClient, path: str,
                                            body: dict[str, Any], call: Any) -> None:
    answer(hostile, path, body)
    with pytest.raises(TransportError, match="malformed answer"):
        call(client)
