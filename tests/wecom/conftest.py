"""WeCom fixtures: one WeCom emulator per session, reset (clock frozen) before each test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from wecom_helpers import NO_WAIT, WeComFactory

from kfsync.providers.wecom.client import WeComClient
from kfsync.providers.wecom.emulator import DEFAULT_CORPID, DEFAULT_SECRET, WeComEmulator


@pytest.fixture(scope="session")
def wecom_server() -> Iterator[WeComEmulator]:
    with WeComEmulator() as emu:
        yield emu


@pytest.fixture
def wecom(wecom_server: WeComEmulator) -> WeComEmulator:
    wecom_server.admin.reset()
    wecom_server.admin.freeze_clock()
    return wecom_server


@pytest.fixture
def make_client(wecom: WeComEmulator) -> Iterator[WeComFactory]:
    """WeComClients on the emulator; keyword arguments override the defaults."""
    made: list[WeComClient] = []

    def make(**overrides: Any) -> WeComClient:
        settings: dict[str, Any] = {"corpid": DEFAULT_CORPID, "secret": DEFAULT_SECRET,
                                    "api_base": wecom.base_url, "retry": NO_WAIT}
        settings.update(overrides)
        made.append(WeComClient(**settings))
        return made[-1]

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: WeComFactory) -> WeComClient:
    return make_client()
