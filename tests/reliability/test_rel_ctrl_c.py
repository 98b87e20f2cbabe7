"""Ctrl-C during `kfsync apply`, with real signals: nothing new after the first, no wait after the second.

`kfsync apply` runs in a subprocess against a small WeChat stand-in on
127.0.0.1 that holds each add until the test lets it answer, so that the
signals land while a call is under way.  After the first SIGINT nothing more
is sent: not the other changes, not a retry, not a token refresh, not a
re-read or repeat of a change whose answer was lost (reported "maybe made").
A second SIGINT stops the waiting at once, and the report still comes.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kfsync.errors import ExitCode
from tests.helpers.reliability import (
    ADD_PATH,
    LIST_PATH,
    TOKEN_PATH,
    Proc,
    cli_env,
    kf,
    kfsync_argv,
    write_shop,
)
from tests.helpers.reliability import wanted_accounts as accounts

#: How the held add ends once released: how its answer is lost, or what WeChat refuses with.
ENDINGS = {
    "dropped": None,
    "busy": {"errcode": -1, "errmsg": "system error"},
    "minute-quota": {"errcode": 45011, "errmsg": "api minute-quota reach limit"},
    "token-expired": {"errcode": 42001, "errmsg": "access_token expired"},
    "gateway": 502,
}


class HeldAdds(ThreadingHTTPServer):
    """A WeChat stand-in whose adds wait for `release`, then end as `ending` says."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.ending: object = None
        self.hits: list[str] = []
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def count(self, path: str) -> int:
        with self.lock:
            return self.hits.count(path)


class _Handler(BaseHTTPRequestHandler):
    server: HeldAdds
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        path = self.path.split("?")[0]
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.hits.append(path)
        if path == TOKEN_PATH:
            self._json({"access_token": "held-adds-token-0123456789", "expires_in": 7200})
        elif path == LIST_PATH:
            self._json({"kf_list": []})
        elif path == ADD_PATH:
            self.server.arrived.set()
            self.server.release.wait(60)
            ending = self.server.ending
            if isinstance(ending, int):
                self._answer(ending, b"<html>bad gateway</html>", "text/html")
            elif isinstance(ending, dict):
                self._json(ending)
            else:
                self.close_connection = True  # the answer is lost: no status line at all
        else:
            self._json({"errcode": 0, "errmsg": "ok"})

    do_GET = do_POST

    def _json(self, body: dict[str, Any]) -> None:
        self._answer(200, json.dumps(body).encode(), "application/json")

    def _answer(self, status: int, data: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def held() -> Iterator[HeldAdds]:
    server = HeldAdds()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()


def start_apply(held: HeldAdds, tmp_path: Path, *args: str) -> Proc:
    """`kfsync apply` of three adds, one call at a time, once the first add reached the stand-in."""
    config = write_shop(tmp_path / "shop", accounts(3))
    config.write_text(config.read_text(encoding="utf-8").replace("    avatar: avatars/", "    # "),
                      encoding="utf-8")  # adds and invites only: no picture to normalise
    proc = Proc(kfsync_argv("apply", "-c", config, "--auto-approve", "--parallelism", "1", *args),
                env=cli_env(held.url, tmp_path / "home"))
    assert held.arrived.wait(60), proc.text
    return proc


def outcomes(proc: Proc, fmt: str) -> dict[str, tuple[str, str]]:
    """(status, message) by change id, from the report."""
    if fmt == "json":
        document = json.loads("".join(proc.out))
        assert document["interrupted"] is True
        return {o["id"]: (o["status"], o["message"] or "") for o in document["outcomes"]}
    found = {}
    for line in proc.out:
        for action in ("add", "invite"):
            for account in (kf(f"agent{i:03d}") for i in range(3)):
                if line.strip().startswith(f"{action} {account} "):
                    found[f"{action}:{account}"] = ("failed" if "failed" in line else
                                                    "skipped" if "skipped" in line else "done",
                                                    line)
    return found


@pytest.mark.parametrize("ending", sorted(ENDINGS))
def test_after_the_first_ctrl_c_nothing_more_is_sent(
        held: HeldAdds, tmp_path: Path, ending: str) -> None:
    held.ending = ENDINGS[ending]
    with start_apply(held, tmp_path, "--format", "json") as proc:
        proc.process.send_signal(signal.SIGINT)
        time.sleep(0.3)  # the applier takes the interruption while the add is still held
        held.release.set()
        assert proc.finish(60) == ExitCode.INTERRUPTED, proc.text
        found = outcomes(proc, "json")
    first = f"add:{kf('agent000')}"
    status, message = found[first]
    assert status == "failed"
    if ending == "dropped":
        assert message.startswith("maybe made: its answer was lost"), message
    else:
        assert "maybe made" not in message  # WeChat refused it: not made, and not retried
    assert held.count(ADD_PATH) == 1  # no retry, no repeat, no other add
    assert held.count(LIST_PATH) == 1  # the plan's read only: no re-read after Ctrl-C
    assert held.count(TOKEN_PATH) == 1  # no token refresh either
    others = {k: v for k, v in found.items() if k != first}
    assert len(others) == 5
    assert all(v == ("skipped", "interrupted by Ctrl-C") for v in others.values()), others
    assert proc.err[-1].startswith("kfsync: interrupted"), proc.text


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_second_ctrl_c_stops_waiting_at_once_and_still_reports(
        held: HeldAdds, tmp_path: Path, fmt: str) -> None:
    with start_apply(held, tmp_path, "--format", fmt) as proc:
        proc.process.send_signal(signal.SIGINT)
        time.sleep(0.3)
        second = time.monotonic()
        proc.process.send_signal(signal.SIGINT)
        assert proc.wait_for(lambda: proc.process.poll() is not None or (bool(proc.err)
                             and proc.err[-1].startswith("kfsync: interrupted")), timeout=10)
        reported = time.monotonic() - second
        assert proc.finish(10) == ExitCode.INTERRUPTED, proc.text
        ended = time.monotonic() - second
        found = outcomes(proc, fmt)
    # The add is still held by the stand-in: nobody waited for it.
    assert not held.release.is_set()
    assert reported < 2.0, f"the report came {reported:.2f} s after the second Ctrl-C"
    assert ended < 3.0, f"the process ended {ended:.2f} s after the second Ctrl-C"
    status, message = found[f"add:{kf('agent000')}"]
    assert status == "failed"
    assert "maybe made" in message
    assert sum(1 for s, _ in found.values() if s == "skipped") == 5
    assert held.count(ADD_PATH) == 1
    assert "Traceback" not in proc.text
