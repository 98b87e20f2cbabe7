"""Reliability fixtures: in-process CLI runs against the shared emulators (WeChat's, WeCom's).

Retries never really sleep; `sent_tokens` (recording every access token sent)
and the restoring of the `kfsync` logger come from tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kfsync.emulator import Emulator
from kfsync.providers.wechat_mp.client import RetryPolicy
from kfsync.providers.wecom.client import WeComClient
from kfsync.providers.wecom.emulator import DEFAULT_CORPID, DEFAULT_SECRET, WeComEmulator
from tests.helpers.cli_run import point_cli_at
from tests.helpers.rel_wecom import WeComWorkspace, seed_corp
from tests.helpers.reliability import PATIENT_ATTEMPTS, Workspace
from tests.helpers.wecom import NO_WAIT
from tests.helpers.wecom_cli import point_at


@pytest.fixture
def patient_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Like `retry_sleeps` (tests/conftest.py), with PATIENT_ATTEMPTS attempts per call."""
    monkeypatch.setattr("kfsync.providers.wechat_mp.client.api.RetryPolicy",
                        lambda: RetryPolicy(attempts=PATIENT_ATTEMPTS, sleep=lambda _: None))


@pytest.fixture
def workspace(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """The environment pointed at the (reset, clock-frozen) shared emulator, with a private cache."""
    point_cli_at(monkeypatch, emulator.base_url, tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    folder = tmp_path / "shop"
    folder.mkdir()
    return Workspace(folder, tmp_path / "cache", emulator)


@pytest.fixture
def wecom_workspace(wecom_server: WeComEmulator, tmp_path: Path,
                    monkeypatch: pytest.MonkeyPatch) -> WeComWorkspace:
    """The CLI's WeCom credentials pointed at the (reset, clock-frozen) shared WeCom emulator,
    whose corp is seeded (`seed_corp`), from an empty folder with a private cache."""
    wecom_server.admin.reset()
    wecom_server.admin.freeze_clock()
    seed_corp(wecom_server.admin)
    point_at(wecom_server, monkeypatch, tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    folder = tmp_path / "shop"
    folder.mkdir()
    return WeComWorkspace(folder, wecom_server)


@pytest.fixture
def wecom_client(wecom_workspace: WeComWorkspace) -> Iterator[WeComClient]:
    """A client of the workspace's corp that retries as usual without sleeping (for in-process applies)."""
    with WeComClient(corpid=DEFAULT_CORPID, secret=DEFAULT_SECRET,
                     api_base=wecom_workspace.emulator.base_url, retry=NO_WAIT) as made:
        yield made
