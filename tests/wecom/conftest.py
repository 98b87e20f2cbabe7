"""WeCom fixtures: one WeCom emulator per session, reset (clock frozen) before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kfsync.providers.wecom.client import WeComClient
from kfsync.providers.wecom.emulator import DEFAULT_CORPID, DEFAULT_SECRET, WeComEmulator
from tests.helpers.factories import closing_factory
from tests.helpers.wecom import NO_WAIT, WeComFactory


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
    yield from closing_factory(WeComClient, corpid=DEFAULT_CORPID, secret=DEFAULT_SECRET,
                               api_base=wecom.base_url, retry=NO_WAIT)


@pytest.fixture
def client(make_client: WeComFactory) -> WeComClient:
    return make_client()
