"""Reliability fixtures: in-process CLI runs against the shared emulator.

Retries never really sleep; `sent_tokens` (recording every access token sent)
and the restoring of the `kfsync` logger come from tests/conftest.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kfsync.emulator import Emulator
from kfsync.providers.wechat_mp.client import RetryPolicy
from tests.helpers.cli_run import point_cli_at
from tests.helpers.reliability import PATIENT_ATTEMPTS, Workspace


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
