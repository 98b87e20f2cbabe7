"""One run of the CLI in this process, for the test helpers of every folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Run:
    """One CLI run: its exit status and what it printed."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run_main(capsys: Any, *args: str | os.PathLike[str]) -> Run:
    """`kfsync ARGS` in this process (`capsys` is pytest's fixture), to the end."""
    from kfsync.cli import main

    capsys.readouterr()
    code = main([os.fspath(a) for a in args])
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)
