"""The emulator listens on loopback only, unless told otherwise with --host, and then it warns.

tests/emulator/test_emu_command.py checks the warning for `--host 0.0.0.0`
and `is_loopback`; its URL check cannot tell loopback from 0.0.0.0 (both
print 127.0.0.1), so here the kernel's table of listening sockets says where
the emulator really listens.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from kfsync.emulator import Emulator

TCP_TABLE = Path("/proc/net/tcp")
LOOPBACK = "0100007F"  #: 127.0.0.1 as /proc/net/tcp writes it
LISTEN = "0A"

pytestmark = pytest.mark.skipif(not TCP_TABLE.exists(), reason="needs Linux's /proc/net/tcp")


def listening_addresses(port: int) -> set[str]:
    """The IPv4 addresses (in /proc/net/tcp's hex) that listen on `port`."""
    found = set()
    for row in TCP_TABLE.read_text().splitlines()[1:]:
        local, state = row.split()[1], row.split()[3]
        address, hex_port = local.split(":")
        if int(hex_port, 16) == port and state == LISTEN:
            found.add(address)
    return found


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


@contextmanager
def serving(*args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    with subprocess.Popen([sys.executable, "-m", "kfsync", "emulator", *args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            yield proc.stdout.readline().strip(), proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=10)


def test_the_python_emulator_listens_on_loopback_only(emulator: Emulator) -> None:
    assert listening_addresses(port_of(emulator.base_url)) == {LOOPBACK}


def test_the_command_listens_on_loopback_only_and_says_nothing() -> None:
    with serving() as (url, proc):
        assert listening_addresses(port_of(url)) == {LOOPBACK}
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert "warning" not in err


def test_an_explicit_loopback_host_does_not_warn() -> None:
    with serving("--host", "127.0.0.2") as (url, proc):
        assert url.startswith("http://127.0.0.2:")
        assert listening_addresses(port_of(url)) == {"0200007F"}
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert "warning" not in err


def test_every_address_warns_before_serving() -> None:
    with serving("--host", "0.0.0.0") as (url, proc):
        assert listening_addresses(port_of(url)) == {"00000000"}
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert err.splitlines()[0] == ("kfsync: warning: listening on 0.0.0.0, not loopback: anyone "
                                   "who can reach it can use the emulator")
