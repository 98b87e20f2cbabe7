"""Fixtures of the operations-command tests (test_ops_*): the CLI, run in-process, against an emulator.

Names start with `ops_` so that other command tests can add fixtures here without clashes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from kfsync.cli import main
from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET, Emulator
from kfsync.render.table import display_width

#: Runs `kfsync ARGV...` and answers (exit code, stdout, stderr).
OpsRun = Callable[..., tuple[int, str, str]]
#: Checks that a rendered table's lines hold these cells, lined up by display width.
OpsAligned = Callable[[str, Sequence[Sequence[str]], frozenset[int]], None]


@pytest.fixture
def ops_connect(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[Emulator], Emulator]:
    """Point the CLI's credentials at an emulator, from an empty working folder."""
    monkeypatch.chdir(tmp_path)
    for name in ("KFSYNC_ACCESS_TOKEN", "KFSYNC_TOKEN_MODE"):
        monkeypatch.delenv(name, raising=False)

    def connect(emu: Emulator) -> Emulator:
        monkeypatch.setenv("KFSYNC_APPID", DEFAULT_APPID)
        monkeypatch.setenv("KFSYNC_APPSECRET", DEFAULT_SECRET)
        monkeypatch.setenv("KFSYNC_API_BASE", emu.base_url)
        return emu

    return connect


@pytest.fixture
def ops_env(emulator: Emulator, ops_connect: Callable[[Emulator], Emulator]) -> Emulator:
    """The shared emulator, reset, with the CLI's credentials pointed at it."""
    return ops_connect(emulator)


@pytest.fixture
def ops_run(capsys: pytest.CaptureFixture[str]) -> OpsRun:
    """Run the CLI in-process; no secret may ever reach its output."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        captured = capsys.readouterr()
        assert DEFAULT_SECRET not in captured.out + captured.err
        return code, captured.out, captured.err

    return run


@pytest.fixture
def ops_fails(ops_run: OpsRun) -> Callable[..., str]:
    """Run a command that must fail with one line on stderr and nothing on stdout; its message."""

    def fails(*argv: str) -> str:
        code, out, err = ops_run(*argv)
        assert (code, out) == (1, ""), err
        assert err.startswith("kfsync: error: "), err
        assert err.count("\n") == 1, err
        assert "Traceback" not in err
        return err.removeprefix("kfsync: error: ").rstrip("\n")

    return fails


def _spans(line: str, values: Sequence[str]) -> list[tuple[int, int]]:
    """Display columns (start, end) of each value, found left to right in `line`."""
    found, position = [], 0
    for value in values:
        position = line.index(value, position)
        start = display_width(line[:position])
        found.append((start, start + display_width(value)))
        position += len(value)
    return found


@pytest.fixture
def ops_aligned() -> OpsAligned:
    """Left-aligned columns start, right-aligned ones (`right`, by index) end, at one column."""

    def check(text: str, rows: Sequence[Sequence[str]], right: frozenset[int]) -> None:
        lines = text.splitlines()
        assert len(lines) == len(rows), text
        found = [_spans(line, values) for line, values in zip(lines, rows, strict=True)]
        for column in range(len(rows[0])):
            edge = 1 if column in right else 0
            assert len({spans[column][edge] for spans in found}) == 1, (column, text)
        assert all(line == line.rstrip() for line in lines)

    return check
