"""`kfsync plan --comment` on a GitLab merge request, against the emulator and a stand-in of GitLab."""

from __future__ import annotations

import pytest

from kfsync.avatars import load_avatar
from kfsync.emulator import DEFAULT_WECHAT_ID
from tests.helpers.comment import GITLAB_TOKEN, GITLAB_USER, HEAD, IID, PROJECT, Ci
from tests.helpers.comment_stand_ins import GitLabStandIn
from tests.helpers.gfm import images, text

MARKER = f"<!-- kfsync:{DEFAULT_WECHAT_ID} -->"
NOTES = rf"/projects/{PROJECT}/merge_requests/{IID}/notes"


def bodies(ci: Ci) -> list[str]:
    assert isinstance(ci.stand_in, GitLabStandIn)
    return [str(n["body"]) for n in ci.stand_in.of(PROJECT, IID)]


def test_first_run_posts_a_note_and_the_next_updates_it(gitlab: Ci, gitlab_api: GitLabStandIn) -> None:
    gitlab.write_config({"alice": {"nickname": "Alice"}})
    run = gitlab.plan()
    assert run.code == 0, run.text
    assert f"--comment: commented on merge request !{IID}" in run.err
    [body] = bodies(gitlab)
    assert body.startswith(MARKER + "\n**Plan: 1 to add")
    assert f"Planned for commit {HEAD[:12]}." in body
    gitlab.seed({"kf_account": "alice@shop_cs", "kf_nick": "Alice"})
    run = gitlab.plan()
    assert "updated kfsync's comment on merge request !5" in run.err
    [body] = bodies(gitlab)
    assert "No changes." in body
    assert len(gitlab_api.calls("PUT", NOTES + r"/\d+")) == 1
    sent = gitlab_api.calls("GET", "/user")[0].headers
    assert sent["PRIVATE-TOKEN"] == GITLAB_TOKEN
    assert "Authorization" not in sent


def test_paging_past_100_notes_follows_x_next_page(gitlab: Ci, gitlab_api: GitLabStandIn) -> None:
    for index in range(120):
        gitlab_api.add_note(PROJECT, IID, f"note {index}", 3)
    gitlab_api.add_note(PROJECT, IID, "merged main into this branch", 3, system=True)
    own = gitlab_api.add_note(PROJECT, IID, MARKER + "\nold", GITLAB_USER)
    for index in range(90):
        gitlab_api.add_note(PROJECT, IID, f"later {index}", 3)
    gitlab.write_config({"alice": {"nickname": "Alice"}})
    assert gitlab.plan().code == 0
    assert "Plan: 1 to add" in gitlab_api.notes[own]["body"]
    assert [r.query["page"] for r in gitlab_api.calls("GET", NOTES)] == ["1", "2", "3"]
    assert len(bodies(gitlab)) == 212


def test_a_spoofed_marker_by_another_user_is_never_edited(gitlab: Ci, gitlab_api: GitLabStandIn) -> None:
    spoof = gitlab_api.add_note(PROJECT, IID, MARKER + "\nlooks fine", 3)
    system = gitlab_api.add_note(PROJECT, IID, MARKER + "\nsystem", GITLAB_USER, system=True)
    gitlab.write_config({"alice": {"nickname": "Alice"}})
    assert gitlab.plan().code == 0
    assert gitlab_api.notes[spoof]["body"] == MARKER + "\nlooks fine"
    assert gitlab_api.notes[system]["body"] == MARKER + "\nsystem"
    assert not gitlab_api.calls("PUT", r".*")
    assert len(bodies(gitlab)) == 3


def test_a_failed_run_updates_the_note(gitlab: Ci) -> None:
    gitlab.write_config({"alice": {"nickname": "Alice"}})
    assert gitlab.plan().code == 0
    gitlab.emulator.admin.fault("/cgi-bin/customservice/getkflist", 10, errcode=40164)
    run = gitlab.plan()
    assert run.code == 1
    [body] = bodies(gitlab)
    assert "The plan failed (shop_cs)" in text(body)
    assert "WeChat errcode 40164" in text(body)


@pytest.mark.parametrize(("status", "says"), [
    (401, "set KFSYNC_GITLAB_TOKEN to a valid token"),
    (403, "needs the `api` scope"),
    (404, "check CI_PROJECT_ID and CI_MERGE_REQUEST_IID"),
])
def test_refusals_name_what_to_fix(gitlab: Ci, gitlab_api: GitLabStandIn, status: int, says: str) -> None:
    gitlab_api.fault("/notes", status, times=5, body={"message": f"{status} refused"})
    gitlab.write_config({"alice": {"nickname": "Alice"}})
    run = gitlab.plan()
    assert run.code == 1
    assert says in run.err
    assert "Traceback" not in run.text


def test_missing_token_names_the_variable(gitlab: Ci, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KFSYNC_GITLAB_TOKEN")
    gitlab.write_config({"alice": {"nickname": "Alice"}})
    run = gitlab.plan()
    assert run.code == 1
    assert "KFSYNC_GITLAB_TOKEN is not set" in run.err
    assert "`api` scope" in run.err


def test_a_branch_pipeline_plans_without_a_comment(gitlab: Ci, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI_MERGE_REQUEST_IID")
    gitlab.write_config({"alice": {"nickname": "Alice"}})
    run = gitlab.plan()
    assert run.code == 0
    assert run.err.splitlines()[0] == "--comment: not in a pull request; planning without a comment"
    assert not gitlab.stand_in.requests


def test_transient_errors_are_retried(gitlab: Ci, gitlab_api: GitLabStandIn) -> None:
    gitlab_api.fault("/notes", 500, times=1, method="PUT")
    gitlab_api.fault("/user", 429, times=1, headers={"Retry-After": "2"})
    gitlab_api.add_note(PROJECT, IID, MARKER + "\nold", GITLAB_USER)
    gitlab.write_config({"alice": {"nickname": "Alice"}})
    assert gitlab.plan().code == 0
    assert "Plan: 1 to add" in bodies(gitlab)[0]
    assert len(gitlab.sleeps) == 2
    assert max(gitlab.sleeps) >= 2


def test_avatar_pictures_are_uploaded_once_and_shown(gitlab: Ci, gitlab_api: GitLabStandIn) -> None:
    gitlab.write_config({"alice": {"nickname": "Alice", "avatar": gitlab.avatar("alice.png", 20)},
                         "bob": {"nickname": "Bob", "avatar": gitlab.avatar("alice.png", 20)}})
    assert gitlab.plan().code == 0
    [(name, data)] = gitlab_api.uploads  # one picture, two accounts
    assert data == load_avatar(gitlab.folder / "avatars" / "alice.png")  # what apply would upload
    [body] = bodies(gitlab)
    shown = images(body)
    assert [i["src"] for i in shown] == [f"/uploads/{1:032x}/{name}"] * 2
    assert all(i["width"] == "64" and i["alt"] == "new avatar" for i in shown)
    assert gitlab.plan().code == 0  # the next run finds the upload in its own note
    assert len(gitlab_api.uploads) == 1
    assert images(bodies(gitlab)[0]) == shown


def test_a_failed_upload_keeps_the_text(gitlab: Ci, gitlab_api: GitLabStandIn) -> None:
    gitlab_api.fault("/uploads", 413, body={"message": "413 Request Entity Too Large"})
    gitlab.write_config({"alice": {"nickname": "Alice", "avatar": gitlab.avatar("alice.png", 20)}})
    run = gitlab.plan()
    assert run.code == 0
    assert "no thumbnail for alice.png" in run.err
    [body] = bodies(gitlab)
    assert not images(body)
    assert "avatars/alice.png" in text(body)


def test_the_token_reaches_only_the_api(gitlab: Ci, gitlab_api: GitLabStandIn) -> None:
    gitlab.write_config({"alice": {"nickname": "Alice", "avatar": gitlab.avatar("alice.png", 20)}})
    run = gitlab.plan("--format", "markdown", debug=True)
    for shown in (run.text, *bodies(gitlab)):
        assert GITLAB_TOKEN not in shown
    assert gitlab.token_requests() == len(gitlab_api.requests) > 0
