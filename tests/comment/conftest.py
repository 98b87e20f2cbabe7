"""The `plan --comment` fixtures: a checkout in CI (`github`, `gitlab`, `wecom_github` for a WeCom
corp) and the stand-ins of their APIs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from kfsync.emulator import Emulator
from kfsync.providers.wecom.emulator import WeComEmulator
from tests.helpers.comment import (
    GITHUB_TOKEN,
    GITLAB_TOKEN,
    GITLAB_USER,
    HEAD,
    IID,
    NUMBER,
    PROJECT,
    REPOSITORY,
    SERVER,
    Ci,
    WeComCi,
    as_corp,
    in_ci,
)
from tests.helpers.comment_stand_ins import GitHubStandIn, GitLabStandIn


@pytest.fixture
def github_api() -> Iterator[GitHubStandIn]:
    stand_in = GitHubStandIn()
    stand_in.accept_workflow_token(GITHUB_TOKEN)
    yield stand_in
    stand_in.close()


@pytest.fixture
def gitlab_api() -> Iterator[GitLabStandIn]:
    stand_in = GitLabStandIn()
    stand_in.tokens[GITLAB_TOKEN] = GITLAB_USER
    yield stand_in
    stand_in.close()


def _pull_request(monkeypatch: pytest.MonkeyPatch, emulator: Emulator | WeComEmulator,
                  github_api: GitHubStandIn, tmp_path: Path) -> tuple[Path, list[float]]:
    """A `pull_request` workflow run for pull request #7 of octo/shop: the checkout, the retry delays."""
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "synchronize", "number": NUMBER,
                                 "pull_request": {"number": NUMBER, "head": {"sha": HEAD}}}))
    return in_ci(monkeypatch, emulator, tmp_path, {
        "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_API_URL": github_api.base_url,
        "GITHUB_SERVER_URL": SERVER, "GITHUB_TOKEN": GITHUB_TOKEN,
    })


@pytest.fixture
def github(emulator: Emulator, github_api: GitHubStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           capsys: pytest.CaptureFixture[str], sent_tokens: set[str]) -> Ci:
    """A `pull_request` workflow run for pull request #7 of octo/shop."""
    root, sleeps = _pull_request(monkeypatch, emulator, github_api, tmp_path)
    return Ci(root, emulator, github_api, GITHUB_TOKEN, capsys, sent_tokens, sleeps)


@pytest.fixture
def wecom_github(wecom_server: WeComEmulator, github_api: GitHubStandIn, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                 sent_tokens: set[str]) -> WeComCi:
    """The same pull request, for a WeCom corp's file, against the WeCom emulator (reset)."""
    wecom_server.admin.reset()
    root, sleeps = _pull_request(monkeypatch, wecom_server, github_api, tmp_path)
    as_corp(monkeypatch)
    return WeComCi(root, wecom_server, github_api, GITHUB_TOKEN, capsys, sent_tokens, sleeps)


@pytest.fixture
def gitlab(emulator: Emulator, gitlab_api: GitLabStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           capsys: pytest.CaptureFixture[str], sent_tokens: set[str]) -> Ci:
    """A merge request pipeline for merge request !5 of project 42."""
    root, sleeps = in_ci(monkeypatch, emulator, tmp_path, {
        "GITLAB_CI": "true", "CI_MERGE_REQUEST_IID": str(IID), "CI_PROJECT_ID": PROJECT,
        "CI_API_V4_URL": gitlab_api.base_url, "KFSYNC_GITLAB_TOKEN": GITLAB_TOKEN, "CI_COMMIT_SHA": HEAD,
    })
    return Ci(root, emulator, gitlab_api, GITLAB_TOKEN, capsys, sent_tokens, sleeps)
