"""Client fixtures: a KfClient on the shared emulator that never really sleeps between retries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET, Emulator
from kfsync.providers.wechat_mp.client import KfClient
from tests.helpers.client import NO_WAIT, ClientFactory
from tests.helpers.factories import closing_factory


@pytest.fixture
def make_client(emulator: Emulator) -> Iterator[ClientFactory]:
    """KfClients on the shared emulator; keyword arguments override the defaults."""
    yield from closing_factory(KfClient, appid=DEFAULT_APPID, secret=DEFAULT_SECRET,
                               api_base=emulator.base_url, retry=NO_WAIT)


@pytest.fixture
def client(make_client: ClientFactory) -> KfClient:
    return make_client()


@pytest.fixture(scope="session")
def strict_emulator_server() -> Iterator[Emulator]:
    with Emulator(strict=True) as emu:
        yield emu


@pytest.fixture
def strict_emulator(strict_emulator_server: Emulator) -> Emulator:
    """An emulator that rejects %40 in queries and \\u escapes, and sends kf_id as a string."""
    strict_emulator_server.admin.reset()
    return strict_emulator_server
