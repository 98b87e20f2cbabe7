"""Every way talking to the platform can fail ends in one clean line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.comment import Ci
from tests.helpers.comment_stand_ins import GitHubStandIn, GitLabStandIn


def failed(ci: Ci) -> str:
    """Plan with --comment, expecting exit 1; the error lines."""
    ci.write_config({"alice": {"nickname": "Alice"}})
    run = ci.plan()
    assert run.code == 1, run.text
    assert "Traceback" not in run.text
    lines = [line for line in run.err.splitlines() if line.startswith("kfsync: error:")]
    assert lines, run.err
    return "\n".join(lines)


def test_an_answer_that_is_not_json(github: Ci, github_api: GitHubStandIn) -> None:
    github_api.fault("/comments", 200, method="GET", body=b"<html>proxy login</html>")
    assert "the answer from GitHub is not JSON" in failed(github)


def test_an_answer_that_is_not_a_list(github: Ci, github_api: GitHubStandIn) -> None:
    github_api.fault("/comments", 200, method="GET", body={"comments": []})
    assert "the answer is not a list" in failed(github)


def test_a_redirect_is_not_followed_with_the_token(github: Ci, github_api: GitHubStandIn) -> None:
    github_api.fault("/comments", 302, method="GET", headers={"Location": "https://elsewhere.example/x"})
    assert "answered with a redirect" in failed(github)
    assert len(github_api.calls("GET", r"/repos/.*/comments")) == 1


def test_another_refusal_quotes_the_platform(github: Ci, github_api: GitHubStandIn) -> None:
    github_api.fault("/comments", 422, method="POST", body={"message": "Validation Failed"})
    assert "GitHub refused it (HTTP 422: Validation Failed)" in failed(github)


def test_an_answer_too_large_is_refused(github: Ci, monkeypatch: pytest.MonkeyPatch,
                                        github_api: GitHubStandIn) -> None:
    monkeypatch.setattr("kfsync.comment.rest.MAX_BODY", 10)
    github_api.add_comment("octo/shop", 7, "a comment longer than ten bytes", "someone")
    assert "the answer is larger than" in failed(github)


def test_an_answer_past_the_deadline_is_given_up(github: Ci, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kfsync.comment.rest.DEADLINE", -1.0)
    assert "the answer took more than" in failed(github)
    assert len(github.sleeps) == 3  # a read: tried again, within the bound


@pytest.mark.parametrize(("platform", "variable", "value", "says"), [
    ("github", "GITHUB_REPOSITORY", "not a repository", "is not OWNER/NAME"),
    ("github", "GITHUB_EVENT_PATH", "/nonexistent/event.json", "cannot read GITHUB_EVENT_PATH"),
    ("github", "GITHUB_SERVER_URL", "http://github.example", "GITHUB_SERVER_URL"),
    ("gitlab", "CI_MERGE_REQUEST_IID", "5; rm", "is not a number"),
    ("gitlab", "CI_PROJECT_ID", "", "CI_PROJECT_ID is not set"),
    ("gitlab", "CI_API_V4_URL", "http://gitlab.example/api/v4", "CI_API_V4_URL"),
])
def test_a_bad_ci_variable(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, platform: str,
                           variable: str, value: str, says: str) -> None:
    ci: Ci = request.getfixturevalue(platform)
    monkeypatch.setenv(variable, value)
    assert says in failed(ci)
    assert not ci.stand_in.requests


def test_a_gitlab_user_without_an_id(gitlab: Ci, gitlab_api: GitLabStandIn) -> None:
    gitlab_api.fault("/user", 200, body={"username": "who"})
    assert "the answer has no user id" in failed(gitlab)


def test_an_upload_answer_without_its_url_keeps_the_text(gitlab: Ci, gitlab_api: GitLabStandIn) -> None:
    gitlab_api.fault("/uploads", 201, body={"url": "javascript:alert(1)"})
    gitlab.write_config({"alice": {"nickname": "Alice", "avatar": gitlab.avatar("a.png", 40)}})
    run = gitlab.plan()
    assert run.code == 0
    assert "GitLab's answer has no upload URL" in run.err
    assert "<img" not in gitlab_api.of("42", 5)[0]["body"]


def test_an_avatar_that_cannot_be_read_for_an_upload_keeps_the_text(
        gitlab: Ci, gitlab_api: GitLabStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    from kfsync.errors import AvatarError

    def unreadable(path: Path) -> bytes:
        raise AvatarError(f"cannot read {path}: Permission denied")

    monkeypatch.setattr("kfsync.avatars.load_avatar", unreadable)
    gitlab.write_config({"alice": {"nickname": "Alice", "avatar": gitlab.avatar("a.png", 40)}})
    run = gitlab.plan()
    assert run.code == 0
    assert "no thumbnail for a.png" in run.err
    assert not gitlab_api.uploads
