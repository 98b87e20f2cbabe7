"""Shared fixtures: one emulator per test session on loopback, reset before each test.

`wecom_server` is the WeCom emulator, one per session as well; each test resets it to the corp it needs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kfsync import redact
from kfsync.client.transport import Call, Transport
from kfsync.emulator import Emulator
from kfsync.providers.wechat_mp.client import RetryPolicy
from kfsync.providers.wecom.emulator import WeComEmulator


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture(scope="session")
def wecom_server() -> Iterator[WeComEmulator]:
    with WeComEmulator() as server:
        yield server


@pytest.fixture
def emulator(emulator_server: Emulator) -> Emulator:
    """The session's emulator, reset to an empty state, its clock frozen (it moves only when advanced)."""
    emulator_server.admin.reset()
    emulator_server.admin.freeze_clock()
    return emulator_server


@pytest.fixture(autouse=True)
def _kfsync_logger() -> Iterator[None]:
    """The CLI points the `kfsync` logger at the captured stderr; put it back afterwards."""
    logger = logging.getLogger("kfsync")
    saved: tuple[Any, ...] = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved


@pytest.fixture(autouse=True)
def _registered_secrets() -> Iterator[None]:
    """Secrets a test registers (a plan key such as "other") are not masked in the next test's text."""
    with redact._lock:
        saved = set(redact._secrets)
    yield
    with redact._lock:
        redact._secrets.clear()
        redact._secrets.update(saved)


@pytest.fixture
def sent_tokens(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Every access token any client in this process sends during the test (for leak checks)."""
    tokens: set[str] = set()
    send: Callable[[Transport, Call, str | None], dict[str, object]] = Transport._send

    def spy(self: Transport, call: Call, token: str | None) -> dict[str, object]:
        if token:
            tokens.add(token)
        return send(self, call, token)

    monkeypatch.setattr(Transport, "_send", spy)
    return tokens


@pytest.fixture
def retry_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The CLI's clients (the Official Account's and WeCom's) retry as usual but never sleep;
    returns the delays they skipped."""
    sleeps: list[float] = []
    for client in ("kfsync.providers.wechat_mp.client.api", "kfsync.providers.wecom.client"):
        monkeypatch.setattr(f"{client}.RetryPolicy", lambda: RetryPolicy(sleep=sleeps.append))
    return sleeps


#: The folders whose tests run the CLI's own client, which must retry as usual but never sleep.
_NEVER_SLEEP = frozenset({"e2e", "reliability", "security"})


@pytest.fixture(autouse=True)
def _retries_never_sleep(request: pytest.FixtureRequest) -> None:
    """In the CLI-running folders, the client retries as usual but never sleeps (`retry_sleeps`)."""
    if request.path.parent.name in _NEVER_SLEEP:
        request.getfixturevalue("retry_sleeps")
