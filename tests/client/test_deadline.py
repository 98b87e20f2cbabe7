"""kfsync.client.deadline: total deadlines over real loopback sockets, and the setting's parsing."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from kfsync.client.config import seconds_setting
from kfsync.client.deadline import DeadlineAdapter, current_window, deadline
from kfsync.errors import UsageError

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@contextmanager
def serving(every: float) -> Iterator[str]:
    """A loopback server answering each request (keep-alive), a byte every `every` seconds."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()
    answer = ANSWER * 40 if every else ANSWER

    def serve(conn: socket.socket) -> None:
        with conn:
            try:
                while not stop.is_set() and conn.recv(65536):
                    for start in range(0, len(answer), 1 if every else len(answer)):
                        conn.sendall(answer[start:start + (1 if every else len(answer))])
                        time.sleep(every)
            except OSError:
                pass

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        stop.set()
        thread.join()
        listener.close()


@pytest.fixture
def trickler() -> Iterator[str]:
    """A server that sends its answers a byte every 50 ms."""
    with serving(0.05) as url:
        yield url


@pytest.fixture
def quick() -> Iterator[str]:
    """A server that answers at once."""
    with serving(0) as url:
        yield url


def session() -> requests.Session:
    made = requests.Session()
    made.mount("http://", DeadlineAdapter())
    return made


@pytest.mark.parametrize("stream", [False, True])
def test_a_trickled_answer_is_cut_at_the_deadline(trickler: str, stream: bool) -> None:
    with session() as client, deadline(0.3) as window:
        started = time.monotonic()
        with pytest.raises(requests.RequestException):
            client.get(trickler, timeout=10, stream=stream).content  # noqa: B018
        assert window.expired
        assert time.monotonic() - started < 1.5  # the answer alone would take 2 s (40 bytes)


def test_a_kept_alive_connection_is_not_cut_after_its_window(quick: str) -> None:
    with session() as client:
        with deadline(0.2) as first:
            assert client.get(quick, timeout=10).text == "ok"
        time.sleep(0.4)  # past the first deadline: its timer was cancelled with the window
        with deadline(5) as second:
            assert client.get(quick, timeout=10).text == "ok"
        assert not first.expired
        assert not second.expired


def test_an_inner_window_never_outlives_the_outer_one(trickler: str) -> None:
    with deadline(0.3) as outer, deadline(30) as inner:
        assert inner.at <= outer.at
        assert current_window() is inner
        with session() as client, pytest.raises(requests.RequestException):
            client.get(trickler, timeout=10)
        assert inner.timed_out()
    assert current_window() is None


@pytest.mark.parametrize(("text", "value"), [("", 30.0), (" 12.5 ", 12.5), ("3600", 3600.0),
                                             ("0.001", 0.001), ("1e1", 10.0)])
def test_a_deadline_setting_is_seconds(text: str, value: float) -> None:
    assert seconds_setting({"X": text}, "X", 30.0) == value


@pytest.mark.parametrize("text", ["0", "-1", "nan", "inf", "-inf", "3600.5", "ten", "10s", "1_0x"])
def test_a_bad_deadline_setting_is_refused(text: str) -> None:
    with pytest.raises(UsageError, match="X must be a number of seconds above 0 and at most 3600"):
        seconds_setting({"X": text}, "X", 30.0)
