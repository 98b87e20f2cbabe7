"""WeCom fixtures: one WeCom emulator per session, reset (clock frozen) before each test.

For the command tests, `corp` is that emulator with the CLI's credentials pointed at
it from an empty folder, and `run` runs the CLI (see `tests.helpers.wecom_cli`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kfsync.providers.wecom.client import WeComClient
from kfsync.providers.wecom.emulator import DEFAULT_CORPID, DEFAULT_SECRET, WeComEmulator
from tests.helpers.factories import closing_factory
from tests.helpers.wecom import NO_WAIT, WeComFactory
from tests.helpers.wecom_cli import point_at, runner


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


@pytest.fixture
def corp(wecom: WeComEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> WeComEmulator:
    return point_at(wecom, monkeypatch, tmp_path)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Any:
    return runner(capsys)
