"""Reliability fixtures (made visible by conftest.py): in-process CLI runs against the shared emulator.

Retries never really sleep; `sent_tokens` (recording every access token sent)
and the restoring of the `kfsync` logger come from tests/conftest.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from kfsync.client import RetryPolicy
from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET, Emulator

#: Attempts per call in the chaos tests: a call faulted that many times in a row (0.2**10) never happens.
PATIENT_ATTEMPTS = 10








@pytest.fixture
def patient_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Like `retry_sleeps` (tests/conftest.py), with PATIENT_ATTEMPTS attempts per call."""
    monkeypatch.setattr("kfsync.client.api.RetryPolicy",
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
    home = tmp_path / "home"
    home.mkdir()
    for variable in ("KFSYNC_ACCESS_TOKEN", "KFSYNC_TOKEN_MODE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("KFSYNC_APPID", DEFAULT_APPID)
    monkeypatch.setenv("KFSYNC_APPSECRET", DEFAULT_SECRET)
    monkeypatch.setenv("KFSYNC_API_BASE", emulator.base_url)
    monkeypatch.setenv("KFSYNC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("NO_COLOR", "1")
    folder = tmp_path / "shop"
    folder.mkdir()
    return Workspace(folder, tmp_path / "cache", emulator)
