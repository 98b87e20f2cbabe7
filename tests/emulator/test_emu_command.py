"""`kfsync emulator` as a subprocess: URL on the first line, options, signals, warnings, errors."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from kfsync.client.config import is_loopback
from kfsync.emulator import Emulator
from tests.helpers.emu_wire import OK, Wx


@contextmanager
def running(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The command started in the background, with the URL it printed first."""
    with subprocess.Popen([sys.executable, "-m", "kfsync", "emulator", *args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            yield proc, proc.stdout.readline().strip()
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.communicate(timeout=10)


def stop(proc: subprocess.Popen[str], sig: signal.Signals) -> tuple[int, str]:
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=10)
    return proc.returncode, err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_prints_the_url_first_and_stops_cleanly_on_signals(sig: signal.Signals) -> None:
    with running() as (proc, url):
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        assert Wx(url).add("alice") == OK
        code, err = stop(proc, sig)
        assert code == 0
        assert "emulator stopped" in err
        assert "warning" not in err


def test_options_reach_the_emulator(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with running("--appid", "wxabc", "--secret", "s" * 32, "--wechat-id", "other_cs",
                 "--strict", "--max-accounts", "1", "--msgid-mode", "last",
                 "--invite-lifetime", "60", "--latency-ms", "1", "--connection-latency-ms", "2",
                 "--state", str(state),
                 "--port", "0", "--host", "127.0.0.1") as (proc, url):
        wx = Wx(url)
        assert wx.fetch_token()["errcode"] == 40013
        token = wx.fetch_token(appid="wxabc", secret="s" * 32)["access_token"]
        add = "/customservice/kfaccount/add"
        assert wx.post(add, {"kf_account": "a@other_cs", "nickname": "n"}, token=token) == OK
        assert wx.post(add, {"kf_account": "b@other_cs", "nickname": "n"},
                       token=token)["errcode"] == 65405
        item = wx.get("/cgi-bin/customservice/getkflist", token=token)["kf_list"][0]
        assert item["kf_id"] == "1001"  # strict
        config = Wx(url).response("GET", "/_emulator/state", token=None).json()["config"]
        assert (config["msgid_mode"], config["invite_lifetime"], config["latency_ms"],
                config["connection_latency_ms"]) == ("last", 60, 1, 2)
        assert stop(proc, signal.SIGTERM)[0] == 0
    assert "a@other_cs" in json.loads(state.read_text())["state"]["accounts"][0]["kf_account"]


def test_warns_when_listening_beyond_loopback() -> None:
    with running("--host", "0.0.0.0") as (proc, url):
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        code, err = stop(proc, signal.SIGTERM)
    assert code == 0
    assert "warning: listening on 0.0.0.0, not loopback" in err


def test_a_busy_port_is_one_line_error(emulator: Emulator) -> None:
    port = emulator.base_url.rsplit(":", 1)[1]
    result = subprocess.run([sys.executable, "-m", "kfsync", "emulator", "--port", port],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"kfsync: error: cannot listen on 127.0.0.1:{port}")
    assert len(result.stderr.splitlines()) == 1


def test_a_damaged_state_file_is_one_line_error(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{")
    result = subprocess.run([sys.executable, "-m", "kfsync", "emulator", "--state", str(state)],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"kfsync: error: state file {state} is not an emulator state file")


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("192.168.1.5", False), ("::", False), ("example.com", False),
])
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
