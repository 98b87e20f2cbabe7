"""The README's Quick start: two commands, each in a virtualenv of its own, the second run by CI."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def quick_start_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.DOTALL)


def test_two_commands_each_installing_into_a_virtualenv() -> None:
    blocks = quick_start_blocks()
    assert len(blocks) == 2
    for block in blocks:
        (command,) = block.strip().splitlines()
        assert command.startswith("python3 -m venv .venv && .venv/bin/pip install ")
        # Never the system's pip (PEP 668 refuses it on Debian, Ubuntu and Homebrew).
        assert not re.search(r"(^|&& )pip3? ", command)
    assert blocks[0].strip().endswith(".venv/bin/kfsync demo")
    assert blocks[1].strip().endswith(".venv/bin/pytest")


def test_ci_runs_the_test_command_exactly_as_written() -> None:
    command = quick_start_blocks()[1].strip().splitlines()[-1]
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert command in lines
