"""The end-to-end helpers for WeCom: a corp folder, `python -m kfsync` runs, the emulator's log.

A `Corp` writes a kfsync.yaml with `wecom:` and its avatar pictures into a
temporary folder, and runs the real CLI as a subprocess with KFSYNC_CORPID,
KFSYNC_CORPSECRET and KFSYNC_API_BASE pointing at the WeCom emulator.  The
emulator serves from this process, so `spy_tokens` can note every access token
it hands out; after every run the corp checks that neither one of them nor the
corp secret reached stdout or stderr, and that no traceback did.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from kfsync.providers.wecom.emulator import DEFAULT_CORPID, DEFAULT_SECRET, WeComEmulator
from kfsync.providers.wecom.emulator.models import WeComBackend
from tests.helpers.cli_run import Run
from tests.helpers.e2e import ConfigFolder

ROOT = Path(__file__).resolve().parents[2]
ADD = "/cgi-bin/kf/account/add"
UPDATE = "/cgi-bin/kf/account/update"
DELETE = "/cgi-bin/kf/account/del"
SERVICER_ADD = "/cgi-bin/kf/servicer/add"
SERVICER_DEL = "/cgi-bin/kf/servicer/del"
UPLOAD = "/cgi-bin/media/upload"
LINK = "/cgi-bin/kf/add_contact_way"
#: Every call that changes the corp (a contact link is made, so it counts).
WRITES = frozenset({ADD, UPDATE, DELETE, SERVICER_ADD, SERVICER_DEL, UPLOAD, LINK})
#: Calls that only read.
READS = frozenset({"/cgi-bin/gettoken", "/cgi-bin/kf/account/list", "/cgi-bin/kf/servicer/list"})
#: Variables of the caller's environment that would change what the CLI does.
_OUTSIDE = ("KFSYNC_", "GITHUB_", "GITLAB_", "CI", "NO_COLOR")


class Corp(ConfigFolder):
    """A WeCom corp's folder, applied by `python -m kfsync` in a subprocess to the emulator."""

    WRITE_PATHS = WRITES
    APPLY_ARGS = ("--auto-approve",)

    def __init__(self, folder: Path, emulator: WeComEmulator) -> None:
        self.tokens: set[str] = set()  #: every access token the emulator handed out meanwhile
        super().__init__(folder, emulator.admin, DEFAULT_SECRET, self.tokens)
        self.emulator = emulator
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(_OUTSIDE)}
        self.env.update(
            PYTHONPATH=str(ROOT), KFSYNC_CORPID=DEFAULT_CORPID, KFSYNC_CORPSECRET=DEFAULT_SECRET,
            KFSYNC_API_BASE=emulator.base_url, KFSYNC_CACHE_DIR=str(folder / "cache"),
            HOME=str(folder / "home"), XDG_CACHE_HOME=str(folder / "home" / ".cache"),
            KFSYNC_TZ="UTC",
        )

    def write_config(self, accounts: dict[str, dict[str, Any]], *,
                     policy: dict[str, Any] | None = None, path: Path | None = None) -> Path:
        return self._write_document({"wecom": {"corp_id": DEFAULT_CORPID}}, accounts, policy, path)

    def live(self) -> dict[str, dict[str, Any]]:
        """The emulator's accounts by open_kfid."""
        return {a["open_kfid"]: a for a in self.admin.state()["accounts"]}

    def named(self, name: str) -> dict[str, Any]:
        [found] = [a for a in self.live().values() if a["name"] == name]
        return found

    def run(self, *args: str | os.PathLike[str]) -> Run:
        """`python -m kfsync ARGS` in the folder; asserts no secret and no traceback came out."""
        done = subprocess.run([sys.executable, "-m", "kfsync", *(os.fspath(a) for a in args)],
                              cwd=self.folder, env=self.env, capture_output=True, text=True,
                              encoding="utf-8", timeout=120, check=False)
        run = Run(done.returncode, done.stdout, done.stderr)
        self.assert_no_secret(run.text)
        assert "Traceback" not in run.text, run.text
        return run


def spy_tokens(monkeypatch: pytest.MonkeyPatch, tokens: set[str]) -> None:
    """Note in `tokens` every access token the emulator hands out (until the test ends)."""
    issue = WeComBackend.issue_token

    def spy(backend: WeComBackend) -> tuple[str, int]:
        token, lifetime = issue(backend)
        tokens.add(token)
        return token, lifetime

    monkeypatch.setattr(WeComBackend, "issue_token", spy)


def servicers(account: dict[str, Any]) -> tuple[list[str], list[int]]:
    """An emulator account's servicers: sorted userids, sorted department ids."""
    found = account["servicers"]
    return (sorted(s["userid"] for s in found if s["userid"] is not None),
            sorted(s["department_id"] for s in found if s["department_id"] is not None))


def mentions(entries: Iterable[dict[str, Any]], open_kfid: str) -> list[dict[str, Any]]:
    """The logged requests whose query or body names `open_kfid`."""
    return [e for e in entries if open_kfid in repr((e["query"], e["body"]))]
