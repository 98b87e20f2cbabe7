"""Helpers for `plan --comment` tests: a checkout in CI (`Ci`), its variables and tokens.

`github` and `gitlab` each give a `Ci`: a repository checkout in tmp_path with
a kfsync.yaml in a subfolder, the emulator as WeChat, the environment a pull
request workflow (or a merge request pipeline) sets, pointed at a fresh
stand-in of the platform's API.  `Ci.plan` runs `kfsync plan --comment`
in-process and checks that no token (the platform's, WeChat's, the app
secret) reached stdout or stderr.  Retries never really sleep: their delays
are recorded in `Ci.sleeps`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from PIL import Image

from kfsync.emulator import DEFAULT_SECRET, DEFAULT_WECHAT_ID, Emulator
from kfsync.providers.wechat_mp.client import RetryPolicy
from kfsync.providers.wecom.emulator import DEFAULT_CORPID, WeComEmulator
from kfsync.providers.wecom.emulator import DEFAULT_SECRET as CORP_SECRET
from tests.helpers.cli_run import Run, point_cli_at, run_main
from tests.helpers.comment_stand_ins import StandIn

GITHUB_TOKEN = "ghs_workflowtoken0123456789abcdefABCDEF"
GITLAB_TOKEN = "glpat-projecttoken0123456789abcdef"
REPOSITORY = "octo/shop"
NUMBER = 7
HEAD = "0123456789abcdef0123456789abcdef01234567"
PROJECT = "42"
IID = 5
GITLAB_USER = 77
SERVER = "https://github.example"
CI_VARIABLES = (
    "GITHUB_ACTIONS", "GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_REPOSITORY", "GITHUB_API_URL",
    "GITHUB_SERVER_URL", "GITHUB_WORKSPACE", "GITHUB_TOKEN", "GITLAB_CI", "CI_MERGE_REQUEST_IID",
    "CI_API_V4_URL", "CI_PROJECT_ID", "CI_COMMIT_SHA", "KFSYNC_GITLAB_TOKEN",
)


def picture(angle: int) -> bytes:
    """A small PNG whose perceptual hash differs with `angle` (a rotated gradient)."""
    image = Image.linear_gradient("L").resize((96, 96)).rotate(angle).convert("RGB")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


class Ci:
    """A checkout with kfsync.yaml under `accounts/`, in a CI job for one pull or merge request."""

    #: What the file is for, before its policy and accounts: the key that names the provider.
    HEADER: ClassVar[Mapping[str, Any]] = {"official_account": {"wechat_id": DEFAULT_WECHAT_ID}}

    def __init__(self, root: Path, emulator: Emulator | WeComEmulator, stand_in: StandIn, token: str,
                 capsys: pytest.CaptureFixture[str], sent_tokens: set[str], sleeps: list[float]) -> None:
        self.root = root
        self.folder = root / "accounts"
        self.folder.mkdir()
        self.config = self.folder / "kfsync.yaml"
        self.emulator = emulator
        self.stand_in = stand_in
        self.token = token
        self.capsys = capsys
        self.sent_tokens = sent_tokens
        self.sleeps = sleeps

    def write_config(self, accounts: dict[str, dict[str, Any]], *,
                     policy: dict[str, Any] | None = None) -> None:
        document: dict[str, Any] = {"version": 1, **self.HEADER}
        if policy is not None:
            document["policy"] = policy
        document["accounts"] = accounts
        self.config.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")

    def avatar(self, name: str, angle: int) -> str:
        """Write an avatar picture under the config's folder; its path as the config names it."""
        path = self.folder / "avatars" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(picture(angle))
        return f"avatars/{name}"

    def seed(self, *accounts: dict[str, Any]) -> None:
        self.emulator.admin.seed(accounts=list(accounts))

    def plan(self, *args: str, debug: bool = False) -> Run:
        """`kfsync [-vv --debug] plan -c accounts/kfsync.yaml --comment ARGS`; no secret may be printed."""
        logs = ("-vv", "--debug") if debug else ()
        run = run_main(self.capsys, *logs, "plan", "-c", self.config, "--comment", *args)
        self.assert_no_secret(run.text)
        return run

    def assert_no_secret(self, text: str) -> None:
        for secret in {self.token, DEFAULT_SECRET, *self.sent_tokens}:
            assert secret not in text

    def token_requests(self) -> int:
        """How many requests to the stand-in carried the token."""
        return sum(1 for r in self.stand_in.requests if self.token in json.dumps(r.headers))


class WeComCi(Ci):
    """The same checkout and CI job for a WeCom corp: a `wecom:` file, the corp's credentials."""

    HEADER: ClassVar[Mapping[str, Any]] = {"wecom": {"corp_id": DEFAULT_CORPID}}

    @property
    def corp(self) -> WeComEmulator:
        assert isinstance(self.emulator, WeComEmulator)
        return self.emulator

    def assert_no_secret(self, text: str) -> None:
        super().assert_no_secret(text)
        assert CORP_SECRET not in text


def as_corp(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's credentials (set by `in_ci`) become the WeCom emulator corp's."""
    monkeypatch.delenv("KFSYNC_APPID")
    monkeypatch.delenv("KFSYNC_APPSECRET")
    monkeypatch.setenv("KFSYNC_CORPID", DEFAULT_CORPID)
    monkeypatch.setenv("KFSYNC_CORPSECRET", CORP_SECRET)


def in_ci(monkeypatch: pytest.MonkeyPatch, emulator: Emulator | WeComEmulator, tmp_path: Path,
           variables: dict[str, str]) -> tuple[Path, list[float]]:
    """The CLI pointed at the emulator, in a CI job with `variables`; the checkout, the retry delays."""
    point_cli_at(monkeypatch, emulator.base_url, tmp_path)
    for variable in CI_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    root = tmp_path / "checkout"
    root.mkdir()
    for variable, value in {**variables, "GITHUB_WORKSPACE": str(root)}.items():
        monkeypatch.setenv(variable, value)
    sleeps: list[float] = []
    monkeypatch.setattr("kfsync.comment.rest.RetryPolicy",
                        lambda **kw: RetryPolicy(**kw, sleep=sleeps.append))
    return root, sleeps
