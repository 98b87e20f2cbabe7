"""Reliability fixtures (made visible by conftest.py): in-process CLI runs against the shared emulator.

Retries never really sleep; `sent_tokens` (recording every access token sent)
and the restoring of the `kfsync` logger come from tests/conftest.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_run import point_cli_at

from kfsync.emulator import Emulator
from kfsync.providers.wechat_mp.client import RetryPolicy

#: Attempts per call in the chaos tests: a call faulted that many times in a row (0.2**10) never happens.
PATIENT_ATTEMPTS = 10








@pytest.fixture
def patient_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Like `retry_sleeps` (tests/conftest.py), with PATIENT_ATTEMPTS attempts per call."""
    monkeypatch.setattr("kfsync.providers.wechat_mp.client.api.RetryPolicy",
                        lambda: RetryPolicy(attempts=PATIENT_ATTEMPTS, sleep=lambda _: None))


@dataclass(frozen=True)
class Workspace:
    """A folder for the config, a cache directory, and the emulator the environment points at."""

    folder: Path
    cache: Path
    emulator: Emulator


@pytest.fixture
def workspace(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """The environment pointed at the (reset, clock-frozen) shared emulator, with a private cache."""
    point_cli_at(monkeypatch, emulator.base_url, tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    folder = tmp_path / "shop"
    folder.mkdir()
    return Workspace(folder, tmp_path / "cache", emulator)
