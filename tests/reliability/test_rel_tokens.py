"""Token wars: another server of the same Official Account fetches classic tokens while we apply.

`stable` tokens never notice; a `classic` token superseded mid-run costs one
refresh, not a failure.  The other server is played by plain HTTP requests to
/cgi-bin/token, made between the apply's own calls (a spy on the transport
decides when), so that the interleaving is the same on every run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests

from kfsync.client.transport import Call, Transport
from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET, Emulator
from tests.helpers.cli_run import run_main
from tests.helpers.reliability import CLASSIC_TOKEN_PATH, TOKEN_PATH, Workspace, wanted_accounts, write_shop

ACCOUNTS = 20
TOKEN_ERRORS = (40001, 40014, 42001)


def other_server_fetches(emulator: Emulator) -> None:
    """Another server's classic token fetch: it supersedes every classic token issued before."""
    answer = requests.get(emulator.base_url + CLASSIC_TOKEN_PATH, timeout=10, params={
        "grant_type": "client_credential", "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET}).json()
    assert "access_token" in answer, answer


def before_each_call(monkeypatch: pytest.MonkeyPatch, hook: Callable[[Call], None]) -> None:
    """Run `hook` before each request this process's clients send."""
    send: Callable[[Transport, Call, str | None], dict[str, object]] = Transport._send

    def hooked(self: Transport, call: Call, token: str | None) -> dict[str, object]:
        hook(call)
        return send(self, call, token)

    monkeypatch.setattr(Transport, "_send", hooked)


def ours(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The apply's requests: everything but the other server's classic token fetches."""
    return [e for e in entries if e["path"] != CLASSIC_TOKEN_PATH]


def test_stable_tokens_ignore_a_server_fetching_classic_tokens_all_the_time(
        workspace: Workspace, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    emulator = workspace.emulator
    config = write_shop(workspace.folder, wanted_accounts(ACCOUNTS))
    lock = threading.Lock()
    fetched = [0]

    def token_war(call: Call) -> None:
        with lock:  # between any two of our calls: a classic fetch, and time goes by
            other_server_fetches(emulator)
            emulator.admin.advance_clock(20)
            fetched[0] += 1

    before_each_call(monkeypatch, token_war)
    applied = run_main(capsys, "apply", "-c", config, "--auto-approve")

    assert applied.code == 0, applied.text
    entries = emulator.admin.requests()
    mine = ours(entries)
    assert [e for e in mine if e["errcode"] in TOKEN_ERRORS] == []
    assert sum(e["path"] == TOKEN_PATH for e in mine) == 1  # one stable token, all run long
    assert len(entries) - len(mine) == fetched[0] >= 3 * ACCOUNTS


def test_stable_tokens_ignore_a_token_war_in_another_thread(
        workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    emulator = workspace.emulator
    config = write_shop(workspace.folder, wanted_accounts(ACCOUNTS))
    stop = threading.Event()
    started = threading.Event()
    fetched = [0]

    def token_war() -> None:
        # Bounded, so that the clock stays within our stable token's lifetime however slow the apply.
        while not stop.is_set() and fetched[0] < 300:
            other_server_fetches(emulator)
            emulator.admin.advance_clock(10)
            fetched[0] += 1
            started.set()

    war = threading.Thread(target=token_war, name="token-war")
    war.start()
    try:
        started.wait(timeout=30)
        applied = run_main(capsys, "apply", "-c", config, "--auto-approve", "--parallelism", "8")
    finally:
        stop.set()
        war.join(timeout=60)
    assert applied.code == 0, applied.text
    mine = ours(emulator.admin.requests())
    assert [e for e in mine if e["errcode"] in TOKEN_ERRORS] == []
    assert sum(e["path"] == TOKEN_PATH for e in mine) == 1
    assert fetched[0] >= 1


@pytest.mark.parametrize("parallelism", [1, 4])
def test_a_superseded_classic_token_costs_one_refresh(
        workspace: Workspace, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, parallelism: int) -> None:
    emulator = workspace.emulator
    config = write_shop(workspace.folder, wanted_accounts(ACCOUNTS))
    monkeypatch.setenv("KFSYNC_TOKEN_MODE", "classic")
    lock = threading.Lock()
    writes = [0]

    def supersede_once(call: Call) -> None:
        with lock:
            if "/kfaccount/" in call.path:
                writes[0] += 1
                if writes[0] == ACCOUNTS + 5:  # mid-run: twice, then past the overlap
                    other_server_fetches(emulator)
                    other_server_fetches(emulator)
                    emulator.admin.advance_clock(301)

    before_each_call(monkeypatch, supersede_once)
    applied = run_main(capsys, "apply", "-c", config, "--auto-approve", "--parallelism",
                       str(parallelism))

    assert applied.code == 0, applied.text
    entries = emulator.admin.requests()
    fetches = [e["seq"] for e in entries if e["path"] == CLASSIC_TOKEN_PATH]
    assert len(fetches) == 2 + 2  # ours at the start, the other server's two, and our one refresh
    refused = [e for e in entries if e["errcode"] in TOKEN_ERRORS]
    assert refused, "the supersession was not noticed"
    assert {e["errcode"] for e in refused} == {40001}
    # Refused: the calls in flight with the old token when the other server superseded it.
    assert all(e["seq"] > fetches[2] for e in refused), (fetches, refused)
    assert len(refused) <= parallelism
