"""Connections: opened ahead for parallel calls, and shared with picture downloads.

The emulator's `connection_latency_ms` makes the first answer on a new connection
wait for its handshakes; a connection opened ahead, and used after that time, does not.
"""

from __future__ import annotations

import base64
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from kfsync.cache import Cache
from kfsync.downloads import fetch_pictures
from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET, Emulator
from kfsync.providers.wechat_mp.client import KfClient
from tests.helpers.client import jpeg, kf

HANDSHAKE = 0.5  #: seconds the emulator charges a new connection


@pytest.fixture
def slow_to_connect() -> Iterator[Emulator]:
    # Calls take long enough to overlap, and a handshake takes longer than any call.
    with Emulator(latency_ms=100, connection_latency_ms=int(HANDSHAKE * 1000)) as emu:
        yield emu


def _client(emulator: Emulator) -> KfClient:
    return KfClient(appid=DEFAULT_APPID, secret=DEFAULT_SECRET, api_base=emulator.base_url)


def _slowest_of(calls: int, client: KfClient) -> float:
    def timed(_: int) -> float:
        started = time.monotonic()
        client.list_accounts()
        return time.monotonic() - started

    with ThreadPoolExecutor(calls) as pool:
        return max(pool.map(timed, range(calls)))


def test_connections_opened_ahead_spare_parallel_calls_the_handshake(
        slow_to_connect: Emulator) -> None:
    with _client(slow_to_connect) as client:
        client.list_accounts()  # the token and one connection
        client.preconnect(3)
        time.sleep(HANDSHAKE + 0.1)
        assert _slowest_of(4, client) < HANDSHAKE


def test_without_them_parallel_calls_wait_for_new_connections(slow_to_connect: Emulator) -> None:
    with _client(slow_to_connect) as client:
        client.list_accounts()
        assert _slowest_of(4, client) >= HANDSHAKE


def test_preconnect_of_nothing_and_through_a_closed_client_is_harmless(emulator: Emulator) -> None:
    client = _client(emulator)
    client.preconnect(0)
    client.close()
    client.preconnect(2)  # the pool is closed: nothing is opened, nothing raised
    time.sleep(0.05)


def test_picture_downloads_reuse_the_clients_connections(slow_to_connect: Emulator) -> None:
    picture = base64.b64encode(jpeg((64, 64))).decode("ascii")
    slow_to_connect.admin.seed(accounts=[{"kf_account": kf(f"p{i}"), "kf_nick": "n",
                                          "headimg_base64": picture} for i in range(3)])
    with _client(slow_to_connect) as client:
        urls = [a.headimgurl or "" for a in client.list_accounts()]
        client.preconnect(2)
        time.sleep(HANDSHAKE + 0.1)
        started = time.monotonic()
        pictures = fetch_pictures(urls, Cache(None).live, workers=3, adapter=client.adapter)
        elapsed = time.monotonic() - started
    assert len(pictures) == 3
    assert all(p.phash for p in pictures.values())
    assert elapsed < HANDSHAKE


def test_connections_opened_and_waited_for_are_there_for_the_first_call(
        slow_to_connect: Emulator) -> None:
    with _client(slow_to_connect) as client:
        client.preconnect(4, wait=True)
        time.sleep(HANDSHAKE + 0.1)
        assert _slowest_of(4, client) < HANDSHAKE  # the token and the calls: no new connection
    assert slow_to_connect.admin.state()["connections"] == 4 + 1  # and the admin call's own


def test_waiting_for_connections_to_a_closed_port_ends_at_once() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once the socket is closed
    client = KfClient(appid=DEFAULT_APPID, secret=DEFAULT_SECRET, api_base=f"http://127.0.0.1:{port}")
    started = time.monotonic()
    client.preconnect(3, wait=True)
    assert time.monotonic() - started < 5
    client.close()
