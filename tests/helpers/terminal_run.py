"""The real CLI in a subprocess, with stdout and/or stderr on a pseudo-terminal, as a user sees it.

What the process draws on the terminal is read back byte for byte from the
pty's master side; the streams not on the terminal go to files and are read
when the process ends.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

#: Variables of the test runner's own that would change what the CLI shows.
_DROPPED = ("NO_COLOR", "FORCE_COLOR", "KFSYNC_TZ", "GITHUB_STEP_SUMMARY", "KFSYNC_ACCESS_TOKEN",
            "KFSYNC_TOKEN_MODE", "COLUMNS", "LINES")


@dataclass(frozen=True)
class TerminalRun:
    """One run: its exit status, what it drew on the terminal, and the streams that were not on it."""

    code: int
    terminal: str
    out: str
    err: str


def run_on_terminal(
    *args: str | os.PathLike[str],
    env: Mapping[str, str],
    cwd: Path,
    on_terminal: Iterable[str] = ("stdout", "stderr"),
    timeout: float = 60.0,
) -> TerminalRun:
    """`python -m kfsync ARGS` with the streams named in `on_terminal` on one pty."""
    wanted = set(on_terminal)
    environment = {k: v for k, v in os.environ.items() if k not in _DROPPED}
    environment.update({"TERM": "xterm", "PYTHONUNBUFFERED": "1", **env})
    master, slave = pty.openpty()
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "kfsync", *(os.fspath(a) for a in args)],
            stdin=subprocess.DEVNULL,
            stdout=slave if "stdout" in wanted else out_file,
            stderr=slave if "stderr" in wanted else err_file,
            env=environment,
            cwd=cwd,
            close_fds=True,
        )
        os.close(slave)
        drawn = bytearray()
        deadline = time.monotonic() + timeout
        try:
            while True:
                if time.monotonic() > deadline:
                    process.kill()
                    raise TimeoutError(f"kfsync {' '.join(map(str, args))} did not end in {timeout} s")
                ready, _, _ = select.select([master], [], [], 0.1)
                if ready:
                    try:
                        chunk = os.read(master, 65536)
                    except OSError:  # EIO: every writer of the terminal has gone
                        break
                    if not chunk:
                        break
                    drawn.extend(chunk)
                elif process.poll() is not None and not wanted:
                    break
            code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
        finally:
            os.close(master)
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    return TerminalRun(code, drawn.decode("utf-8", "replace"), out.decode("utf-8", "replace"),
                       err.decode("utf-8", "replace"))
