"""Security-test fixtures: a shop on the emulator, a stand-in, opens.

The CLI's client never really sleeps between retries here, and the `kfsync`
logger the CLI points at the captured stderr is put back after each test.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kfsync.emulator import Emulator
from tests.helpers.cli_run import point_cli_at
from tests.helpers.security import (
    OPENS,
    POLICY,
    TOKEN_ANSWER,
    TOKEN_PATH,
    OpenLog,
    Shop,
    StandIn,
    body,
    seeded,
    serving,
)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that makes this process look up a name other than loopback."""
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        assert name in {"127.0.0.1", "127.0.0.2", "localhost", "::1"}, f"a test looked up {name}"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)






@pytest.fixture
def shop(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         capsys: pytest.CaptureFixture[str]) -> Shop:
    """An empty shop folder, the environment pointed at the (reset) emulator."""
    point_cli_at(monkeypatch, emulator.base_url, tmp_path)
    folder = tmp_path / "shop"
    folder.mkdir()
    return Shop(folder, emulator, capsys)


@pytest.fixture(scope="module")
def stand_in_server() -> Iterator[StandIn]:
    with serving() as server:
        yield server


@pytest.fixture
def stand_in(stand_in_server: StandIn) -> StandIn:
    """The module's stand-in server, with only its token route and no hits."""
    stand_in_server.routes.clear()
    stand_in_server.routes[TOKEN_PATH] = body(TOKEN_ANSWER)
    with stand_in_server.lock:
        stand_in_server.hits.clear()
        stand_in_server.headers.clear()
    return stand_in_server


@pytest.fixture
def second_stand_in() -> Iterator[StandIn]:
    """Another stand-in, on another port, for redirects from one to the other."""
    with serving() as server:
        yield server


@pytest.fixture
def opens() -> Iterator[OpenLog]:
    """Every file the process opens during the test."""
    OPENS.paths.clear()
    OPENS.recording = True
    yield OPENS
    OPENS.recording = False


@pytest.fixture
def reviewed(shop: Shop, tmp_path: Path) -> Path:
    """A shop with one rename pending, protected, ignored and unmanaged accounts; its plan saved."""
    shop.write_config({"alice": {"nickname": "Alice"}, "boss": {"nickname": "Boss", "wechat": "boss_wx1"},
                       "bob": {"nickname": "Bob", "wechat": "bob_wx1"}}, policy=POLICY)
    shop.seed(seeded("alice", "Old"), seeded("boss", "Boss", kf_wx="boss_wx1"),
              seeded("bob", "Bob", kf_wx="bob_wx1"), seeded("temp1", "Temp"), seeded("zed", "Zed"))
    saved = tmp_path / "plan.json"
    result = shop.plan("--out", saved)
    assert result.code == 0, result.text
    return saved


@pytest.fixture
def deleting(shop: Shop) -> None:
    """Two tombstones over max_deletes=1: the plan needs --allow-delete yan,zed."""
    shop.write_config({"bob": {"nickname": "Bob"}, "yan": {"state": "absent"},
                       "zed": {"state": "absent"}}, policy={"max_deletes": 1})
    shop.seed(seeded("bob", "Bob"), seeded("yan", "Yan"), seeded("zed", "Zed"))
