"""Error and log lines carry outside text escaped, as plan output does.

WeChat's errmsg, the reason a server gave for closing a connection, a file
name and a config value all reach `kfsync: error:` or a log line.  Whoever
controls them must not be able to forge a GitHub `::error` annotation (a line
starting with `::`), rewrite the terminal (ESC, CSI, OSC, C1 controls, a
carriage return), or reorder what a reader sees (bidi overrides).
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
from collections.abc import Iterator

import pytest

from tests.helpers.security import LIST_PATH, TOKEN_PATH, Shop, StandIn, assert_one_line_error, body

#: Text an errmsg, a server or a pull request may hold.
HOSTILE = {
    "newline-annotation": "bad\n::error file=x::forged",
    "carriage-return": "bad\r\x1b[2K\x1b[32mall good",
    "osc-link": "\x1b]8;;http://evil.example\x07click\x1b]8;;\x07",
    "osc-title": "\x1b]0;pwned\x1b\\",
    "bidi": "\u202egnp.exe",
    "c1": "c1 \x9b31m red \x85 next",
    "separator": "sep\u2028::warning::x",
    "nul-del": "a\x00b\x7f",
}
#: What may not be left raw in anything kfsync prints.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def assert_inert(text: str, *, annotations: bool = False) -> None:
    """No raw control or bidi character, and no line GitHub would run as a workflow command
    (but kfsync's own annotations, one per problem, when `annotations`)."""
    assert not RAW.search(text), repr(text)
    ours = ("::error file=",) if annotations else ()
    commands = [line for line in text.splitlines() if line.lstrip().startswith("::")]
    assert [line for line in commands if not line.startswith(ours)] == [], text


@pytest.fixture
def hostile_api(shop: Shop, stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> Shop:
    monkeypatch.setenv("KFSYNC_API_BASE", stand_in.url)
    shop.write_config({"alice": {"nickname": "Alice"}})
    return shop


def errmsg(code: int, text: str) -> bytes:
    return json.dumps({"errcode": code, "errmsg": text}).encode()


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_an_errmsg_is_escaped_in_the_error_line(
        hostile_api: Shop, stand_in: StandIn, case: str) -> None:
    stand_in.routes[LIST_PATH] = body(errmsg(40013, HOSTILE[case]))
    for args in (("plan", "-c", hostile_api.config), ("accounts",),
                 ("apply", "-c", hostile_api.config, "--auto-approve", "--format", "json")):
        run = hostile_api.run(*args)
        line = assert_one_line_error(run)
        assert "WeChat errcode 40013" in line
        assert_inert(run.text)


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_an_errmsg_is_escaped_in_the_apply_report_and_the_debug_log(
        hostile_api: Shop, stand_in: StandIn, case: str) -> None:
    stand_in.routes[LIST_PATH] = body(b'{"kf_list": []}')
    stand_in.routes["/customservice/kfaccount/add"] = body(errmsg(-1, HOSTILE[case]))
    run = hostile_api.run("-vv", "apply", "-c", hostile_api.config, "--auto-approve")
    assert run.code == 4, run.text
    assert "errcode -1" in run.out
    assert "retry 1/3" in run.err  # the debug lines that carry the errmsg were written
    assert_inert(run.text)
    for line in run.err.splitlines():
        assert line.startswith(("DEBUG ", "INFO ", "WARNING ", "[1/1] ")), line


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_token_answer_is_escaped(hostile_api: Shop, stand_in: StandIn, case: str) -> None:
    stand_in.routes[TOKEN_PATH] = body(errmsg(40125, HOSTILE[case]))
    run = hostile_api.plan()
    assert "WeChat errcode 40125" in assert_one_line_error(run)
    assert_inert(run.text)


@pytest.fixture
def raw_server() -> Iterator[tuple[list[bytes], str]]:
    """A server on 127.0.0.1 that answers every connection with the bytes given, then closes."""
    answer: list[bytes] = [b""]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    conn.recv(65536)
                    conn.sendall(answer[0])
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield answer, f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


@pytest.mark.parametrize("reply", [
    b"\x1b[2J::error::status\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\x1b[31m\n::error::chunk\r\n",
    b"\xe2\x80\xae\x1b]0;t\x07\r\n",
])
def test_a_connection_closed_with_a_weird_reason_is_escaped(
        shop: Shop, raw_server: tuple[list[bytes], str], monkeypatch: pytest.MonkeyPatch,
        reply: bytes) -> None:
    answer, url = raw_server
    answer[0] = reply
    monkeypatch.setenv("KFSYNC_API_BASE", url)
    shop.write_config({"alice": {"nickname": "Alice"}})
    run = shop.plan()
    assert "the connection was lost" in assert_one_line_error(run)
    assert_inert(run.text)


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_file_name_is_escaped(shop: Shop, case: str) -> None:
    name = "k" + HOSTILE[case].replace("\x00", "0").replace("/", "_") + ".yaml"
    for exists in (False, True):
        path = shop.folder / name
        if exists:
            path.write_text("version: 1\naccounts: {}\n", encoding="utf-8")
        run = shop.run("plan", "-c", path)
        assert_one_line_error(run)
        assert_inert(run.text)
        validated = shop.run("validate", "-c", path)
        assert validated.code == 1
        assert_inert(validated.text)


def test_a_file_name_that_is_not_utf8_is_escaped_and_json_stays_valid(shop: Shop) -> None:
    name = os.fsdecode(b"\xff\xfe kfsync.yaml")  # a surrogate-escaped name, as argv gives it
    path = shop.folder / name
    path.write_text("version: 1\naccounts: {}\n", encoding="utf-8")
    run = shop.run("validate", "-c", path, "--format", "json")
    assert run.code == 1
    document = json.loads(run.out)
    assert document["file"] == str(path)
    assert_inert(run.text)
    assert_one_line_error(shop.run("plan", "-c", path))


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_config_value_is_escaped_in_problems(shop: Shop, case: str) -> None:
    value = json.dumps(HOSTILE[case])  # a YAML double-quoted string with the same escapes
    shop.config.write_text("version: 1\nofficial_account:\n  wechat_id: shop_cs\naccounts:\n"
                           f"  alice:\n    nickname: {value}\n    wechat: {value}\n"
                           f"  {value}:\n    nickname: B\n", encoding="utf-8")
    for fmt in ("text", "github", "json"):
        validated = shop.run("validate", "-c", shop.config, "--format", fmt)
        assert validated.code == 1, validated.text
        assert_inert(validated.text, annotations=fmt == "github")
    run = shop.plan()
    assert_one_line_error(run)
    assert_inert(run.text)
