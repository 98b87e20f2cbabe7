"""Shared fixtures: one emulator per test session on loopback, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kfsync.emulator import Emulator


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture
def emulator(emulator_server: Emulator) -> Emulator:
    """The session's emulator, reset to an empty state, its clock frozen (it moves only when advanced)."""
    emulator_server.admin.reset()
    emulator_server.admin.freeze_clock()
    return emulator_server
