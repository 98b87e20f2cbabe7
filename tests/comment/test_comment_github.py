"""`kfsync plan --comment` on a GitHub pull request, against the emulator and a stand-in of GitHub."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kfsync.emulator import DEFAULT_WECHAT_ID
from tests.helpers.comment import GITHUB_TOKEN, HEAD, NUMBER, REPOSITORY, SERVER, Ci
from tests.helpers.comment_stand_ins import DROP, WORKFLOW_BOT, GitHubStandIn
from tests.helpers.gfm import images, text

MARKER = f"<!-- kfsync:{DEFAULT_WECHAT_ID} -->"


def comments(ci: Ci) -> list[dict[str, object]]:
    assert isinstance(ci.stand_in, GitHubStandIn)
    return ci.stand_in.of(REPOSITORY, NUMBER)


def bodies(ci: Ci) -> list[str]:
    return [str(c["body"]) for c in comments(ci)]


def test_first_run_posts_the_plan_as_a_comment(github: Ci) -> None:
    github.write_config({"alice": {"nickname": "Alice"}})
    run = github.plan("--detailed-exitcode")
    assert run.code == 2, run.text
    assert "Plan: 1 to add" in run.out  # the usual text plan on stdout
    assert f"--comment: commented on pull request #{NUMBER}" in run.err
    [posted] = comments(github)
    assert posted["user"] == {"login": WORKFLOW_BOT, "type": "User"}
    body = str(posted["body"])
    assert body.startswith(MARKER + "\n**Plan: 1 to add")
    assert f"Planned for commit {HEAD[:12]}." in body


def test_next_run_updates_the_comment_in_place_and_a_clean_plan_says_so(github: Ci) -> None:
    github.write_config({"alice": {"nickname": "Alice"}})
    assert github.plan().code == 0
    run_main_apply = github.emulator.admin
    run_main_apply.seed(accounts=[{"kf_account": "alice@shop_cs", "kf_nick": "Alice"}])
    run = github.plan()
    assert run.code == 0, run.text
    assert "updated kfsync's comment on pull request #7" in run.err
    [body] = bodies(github)
    assert "No changes. The live accounts match the configuration." in body
    assert len(github.stand_in.calls("POST", r"/repos/.*/comments")) == 1
    assert len(github.stand_in.calls("PATCH", r"/repos/.*/issues/comments/\d+")) == 1


def test_paging_past_100_comments_finds_kfsyncs_comment(github: Ci, github_api: GitHubStandIn) -> None:
    for index in range(150):
        github_api.add_comment(REPOSITORY, NUMBER, f"looks good {index}", "reviewer")
    own = github_api.add_comment(REPOSITORY, NUMBER, MARKER + "\nold plan", WORKFLOW_BOT)
    for index in range(60):
        github_api.add_comment(REPOSITORY, NUMBER, f"more {index}", "reviewer")
    github.write_config({"alice": {"nickname": "Alice"}})
    assert github.plan().code == 0
    assert "Plan: 1 to add" in github_api.comments[own]["body"]
    assert len(comments(github)) == 211  # updated, not posted again
    pages = github_api.calls("GET", r"/repos/.*/comments")
    assert [r.query.get("page") for r in pages] == [None, "2", "3"]  # 211 comments: every page, once
    assert all(r.query["per_page"] == "100" for r in pages)


def test_a_spoofed_marker_by_someone_else_is_never_edited(github: Ci, github_api: GitHubStandIn) -> None:
    spoof = github_api.add_comment(REPOSITORY, NUMBER, MARKER + "\nall fine, merge it", "mallory")
    github.write_config({"alice": {"nickname": "Alice"}})
    assert github.plan().code == 0
    assert github_api.comments[spoof]["body"] == MARKER + "\nall fine, merge it"
    assert not github_api.calls("PATCH", r".*")
    assert [c["user"]["login"] for c in comments(github)] == ["mallory", WORKFLOW_BOT]  # type: ignore[index]


@pytest.mark.parametrize(("token", "login", "integration"), [
    ("ghp_personal0123456789", "shopbot", False),  # GET /user says who it is
    ("ghs_apptoken0123456789", "shop-app[bot]", True),  # a GitHub App's: KFSYNC_GITHUB_AUTHOR says
], ids=["personal-token", "github-app-token"])
def test_another_token_finds_its_own_comment_not_the_workflows(
        github: Ci, github_api: GitHubStandIn, monkeypatch: pytest.MonkeyPatch,
        token: str, login: str, integration: bool) -> None:
    github_api.tokens[token] = login
    if integration:
        github_api.integrations.add(token)
        monkeypatch.setenv("KFSYNC_GITHUB_AUTHOR", login)
    monkeypatch.setenv("GITHUB_TOKEN", token)
    github.token = token
    bot = github_api.add_comment(REPOSITORY, NUMBER, MARKER + "\nby the workflow", WORKFLOW_BOT)
    mine = github_api.add_comment(REPOSITORY, NUMBER, MARKER + "\nby " + login, login)
    github.write_config({"alice": {"nickname": "Alice"}})
    assert github.plan().code == 0
    assert github_api.comments[bot]["body"] == MARKER + "\nby the workflow"
    assert "Plan: 1 to add" in github_api.comments[mine]["body"]


def test_another_official_accounts_comment_is_left_alone(github: Ci, github_api: GitHubStandIn) -> None:
    other = github_api.add_comment(REPOSITORY, NUMBER, "<!-- kfsync:other_oa -->\nits plan", WORKFLOW_BOT)
    github.write_config({"alice": {"nickname": "Alice"}})
    assert github.plan().code == 0
    assert github_api.comments[other]["body"] == "<!-- kfsync:other_oa -->\nits plan"
    assert len(comments(github)) == 2


def test_a_refused_plan_says_so_at_the_top(github: Ci) -> None:
    github.write_config({"bob": {"nickname": "Bob"}, "yan": {"state": "absent"}, "zed": {"state": "absent"}},
                        policy={"max_deletes": 1})
    github.seed(*({"kf_account": f"{p}@shop_cs", "kf_nick": p} for p in ("bob", "yan", "zed")))
    run = github.plan()
    assert run.code == 3, run.text
    [body] = bodies(github)
    assert body.startswith(MARKER + "\n")
    shown = text(body)
    assert shown.index("Refused. kfsync will not apply this plan:") < shown.index(
        "the plan deletes 2 accounts") < shown.index("Destructive changes")
    assert shown.lower().count("refused") == 1


@pytest.mark.parametrize(("setup", "expected"), [
    ("invalid-config", "accounts.alice.nickname"),
    ("wechat-error", "WeChat errcode 40164"),
    ("bad-credentials", "KFSYNC_APPSECRET is not set"),
], ids=["invalid-config", "wechat-error", "bad-credentials"])
def test_a_failed_run_updates_the_comment_to_say_so(github: Ci, github_api: GitHubStandIn,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     setup: str, expected: str) -> None:
    github.write_config({"alice": {"nickname": "Alice"}})
    assert github.plan().code == 0
    if setup == "invalid-config":
        github.write_config({"alice": {"nickname": "x" * 40}})
    elif setup == "wechat-error":
        github.emulator.admin.fault("/cgi-bin/customservice/getkflist", 10, errcode=40164)
    else:
        monkeypatch.delenv("KFSYNC_APPSECRET")
    run = github.plan()
    assert run.code == 1, run.text
    [body] = bodies(github)  # the same comment, updated
    assert body.startswith(MARKER + "\n**The plan failed**")
    assert "The plan failed (shop_cs)" in text(body)
    assert expected in text(body)
    assert "Plan: 1 to add" not in body
    assert run.err.rstrip().splitlines()[-1].startswith("kfsync: error: ")


def test_a_config_without_a_readable_wechat_id_updates_the_one_comment_kfsync_owns(github: Ci) -> None:
    github.write_config({"alice": {"nickname": "Alice"}})
    assert github.plan().code == 0
    github.config.write_text("version: 1\nofficial_account: [\n", encoding="utf-8")
    run = github.plan()
    assert run.code == 1
    [body] = bodies(github)
    assert body.startswith(MARKER + "\n**The plan failed**")  # its marker kept


def test_a_failure_with_no_comment_yet_is_taken_over_once_the_config_is_mended(github: Ci) -> None:
    github.config.write_text("version: 1\nofficial_account: [\n", encoding="utf-8")
    assert github.plan().code == 1
    [body] = bodies(github)
    assert body.startswith("<!-- kfsync:? -->\n**The plan failed**;")
    github.write_config({"alice": {"nickname": "Alice"}})
    assert github.plan().code == 0
    [body] = bodies(github)
    assert body.startswith(MARKER + "\n**Plan: 1 to add")


def test_when_the_failure_comment_cannot_be_posted_both_errors_show_and_the_exit_code_stays(
        github: Ci, github_api: GitHubStandIn) -> None:
    github.write_config({"alice": {"nickname": "x" * 40}})
    github_api.fault("/comments", 403, times=1, method="POST",
                     body={"message": "Resource not accessible by integration"})
    run = github.plan()
    assert run.code == 1
    errors = [line for line in run.err.splitlines() if line.startswith("kfsync: error:")]
    assert len(errors) == 2
    assert "pull-requests: write" in errors[0]
    assert "nickname" in errors[1]


def test_a_refused_plan_whose_comment_fails_keeps_exit_3(github: Ci, github_api: GitHubStandIn) -> None:
    github.write_config({"yan": {"state": "absent"}, "zed": {"state": "absent"}}, policy={"max_deletes": 1})
    github.seed(*({"kf_account": f"{p}@shop_cs", "kf_nick": p} for p in ("yan", "zed")))
    github_api.fault("/comments", 500, times=10, method="POST", body={"message": "Server Error"})
    run = github.plan()
    assert run.code == 3
    errors = [line for line in run.err.splitlines() if line.startswith("kfsync: error:")]
    assert "HTTP 500" in errors[0]
    assert "refused" in errors[1]


@pytest.mark.parametrize("event", ["push", "schedule", "workflow_dispatch"])
def test_outside_a_pull_request_it_says_so_and_plans(github: Ci, monkeypatch: pytest.MonkeyPatch,
                                                     event: str) -> None:
    monkeypatch.setenv("GITHUB_EVENT_NAME", event)
    github.write_config({"alice": {"nickname": "Alice"}})
    run = github.plan("--detailed-exitcode")
    assert run.code == 2
    assert run.err.splitlines()[0] == "--comment: not in a pull request; planning without a comment"
    assert "Plan: 1 to add" in run.out  # the usual text plan on stdout
    assert not github.stand_in.requests


def test_pull_request_target_is_a_pull_request_too(github: Ci, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request_target")
    github.write_config({"alice": {"nickname": "Alice"}})
    assert github.plan().code == 0
    assert len(bodies(github)) == 1


def test_missing_token_is_one_clean_error_before_planning(github: Ci,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    github.write_config({"alice": {"nickname": "Alice"}})
    run = github.plan()
    assert run.code == 1
    assert run.err.count("\n") == 1
    assert "GITHUB_TOKEN is not set" in run.err
    assert "pull-requests: write" in run.err
    assert not github.emulator.admin.requests()  # nothing planned


@pytest.mark.parametrize(("status", "message", "says"), [
    (401, "Bad credentials", "set GITHUB_TOKEN to a valid token"),
    (403, "Resource not accessible by integration", "permissions: pull-requests: write"),
    (404, "Not Found", "check GITHUB_REPOSITORY"),
])
def test_refusals_name_what_to_fix(github: Ci, github_api: GitHubStandIn, status: int, message: str,
                                   says: str) -> None:
    github_api.fault("/comments", status, times=5, body={"message": message})
    github.write_config({"alice": {"nickname": "Alice"}})
    run = github.plan()
    assert run.code == 1
    [error] = [line for line in run.err.splitlines() if line.startswith("kfsync: error:")]
    assert f"HTTP {status}: {message}" in error
    assert says in error
    assert "Traceback" not in run.text


def test_a_revoked_token_is_a_clean_error(github: Ci, github_api: GitHubStandIn) -> None:
    github_api.tokens.clear()
    github.write_config({"alice": {"nickname": "Alice"}})
    run = github.plan()
    assert run.code == 1
    assert "GitHub refused GITHUB_TOKEN (HTTP 401: Bad credentials)" in run.err


def test_an_unreachable_api_is_a_clean_error(github: Ci, monkeypatch: pytest.MonkeyPatch) -> None:
    github.stand_in.close()
    github.write_config({"alice": {"nickname": "Alice"}})
    run = github.plan()
    assert run.code == 1
    assert "cannot reach GitHub at http://127.0.0.1:" in run.err
    assert "check GITHUB_API_URL" in run.err
    assert len(github.sleeps) == 3  # retried, with a bound


def test_server_errors_are_retried_with_a_bound(github: Ci, github_api: GitHubStandIn) -> None:
    github_api.fault("/comments", 502, times=2, method="GET", headers={"Retry-After": "3"})
    github.write_config({"alice": {"nickname": "Alice"}})
    assert github.plan().code == 0
    assert len(bodies(github)) == 1
    assert len(github.sleeps) == 2
    assert min(github.sleeps) >= 3
    github_api.fault("/comments", 503, times=10, method="GET")
    run = github.plan()
    assert run.code == 1
    assert "HTTP 503" in run.err
    assert len(github.sleeps) == 2 + 3


def test_secondary_rate_limit_waits_as_asked(github: Ci, github_api: GitHubStandIn) -> None:
    github_api.fault("/comments", 403, method="POST", headers={"Retry-After": "7"},
                     body={"message": "You have exceeded a secondary rate limit. Please wait a few minutes."})
    github.write_config({"alice": {"nickname": "Alice"}})
    assert github.plan().code == 0
    assert github.sleeps
    assert github.sleeps[0] >= 7
    assert len(bodies(github)) == 1


def test_rate_limit_reset_is_honoured_and_a_long_one_is_not_waited_for(
        github: Ci, github_api: GitHubStandIn) -> None:
    import time

    github_api.fault("/comments", 403, method="GET",
                     headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 20)},
                     body={"message": "API rate limit exceeded"})
    github.write_config({"alice": {"nickname": "Alice"}})
    assert github.plan().code == 0
    assert 15 <= github.sleeps[0] <= 21
    github_api.fault("/comments", 403, method="GET",
                     headers={"x-ratelimit-remaining": "0",
                              "x-ratelimit-reset": str(int(time.time()) + 3000)},
                     body={"message": "API rate limit exceeded"})
    run = github.plan()
    assert run.code == 1
    assert "rate-limits this token for" in run.err
    assert len(github.sleeps) == 1


def test_a_next_link_to_another_host_is_not_followed_with_the_token(github: Ci,
                                                                    github_api: GitHubStandIn) -> None:
    elsewhere = GitHubStandIn()
    try:
        github_api.fault("/comments", 200, method="GET", body=[],
                         headers={"Link": f'<{elsewhere.base_url}/steal?page=2>; rel="next"'})
        github.write_config({"alice": {"nickname": "Alice"}})
        run = github.plan()
        assert run.code == 1
        assert "pointed to a page outside" in run.err
        assert not elsewhere.requests
    finally:
        elsewhere.close()


@pytest.mark.parametrize("api", ["http://api.github.example", "https://x@api.github.example",
                                 "ftp://127.0.0.1/"])
def test_an_api_url_that_could_leak_the_token_is_refused(github: Ci, monkeypatch: pytest.MonkeyPatch,
                                                         api: str) -> None:
    monkeypatch.setenv("GITHUB_API_URL", api)
    github.write_config({"alice": {"nickname": "Alice"}})
    run = github.plan()
    assert run.code == 1
    assert "GITHUB_API_URL" in run.err
    assert "is refused" in run.err


@pytest.mark.parametrize("payload", ["", "{not json", json.dumps({"pull_request": {}}), json.dumps([1])])
def test_a_bad_event_payload_is_a_clean_error(github: Ci, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              payload: str) -> None:
    event = tmp_path / "bad-event.json"
    event.write_text(payload)
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    github.write_config({"alice": {"nickname": "Alice"}})
    run = github.plan()
    assert run.code == 1
    assert "GITHUB_EVENT_PATH" in run.err
    assert "Traceback" not in run.text


def test_the_token_never_reaches_output_comments_or_another_host(github: Ci,
                                                                github_api: GitHubStandIn) -> None:
    github.write_config({"alice": {"nickname": GITHUB_TOKEN}})  # too long a nickname: a failure
    run = github.plan(debug=True)
    assert run.code == 1
    github.write_config({"alice": {"nickname": "Alice", "avatar": github.avatar("a.png", 10)}})
    again = github.plan("--format", "markdown", debug=True)
    assert again.code == 0
    assert "DEBUG kfsync.comment.rest: GitHub PATCH" in again.err
    for shown in (run.text, again.text, *bodies(github)):
        assert GITHUB_TOKEN not in shown
    assert github.token_requests() == len(github_api.requests) > 0  # each went to the API, none elsewhere


def test_an_avatar_change_shows_the_picture_at_the_head_commit(github: Ci) -> None:
    github.write_config({"alice": {"nickname": "Alice", "avatar": github.avatar("al ice#1.png", 30)}})
    assert github.plan().code == 0
    [body] = bodies(github)
    src = f"{SERVER}/{REPOSITORY}/raw/{HEAD}/accounts/avatars/al%20ice%231.png"
    assert images(body) == [{"src": src, "width": "64", "height": "64", "alt": "new avatar"}]
    assert "avatars/al ice#1.png" in text(body)  # the text stays too


def test_no_thumbnails_without_the_head_commit(github: Ci, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    event = tmp_path / "no-head.json"
    event.write_text(json.dumps({"pull_request": {"number": NUMBER}}))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    github.write_config({"alice": {"nickname": "Alice", "avatar": github.avatar("a.png", 30)}})
    assert github.plan().code == 0
    [body] = bodies(github)
    assert not images(body)
    assert "avatars/a.png" in text(body)


def test_a_comment_too_long_for_github_is_cut_and_says_so(github: Ci,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kfsync.comment.github.GitHub.limit", 3000)
    github.write_config({f"agent{i:03d}": {"nickname": f"Agent {i}"} for i in range(90)})
    assert github.plan().code == 0
    [body] = bodies(github)
    assert len(body) <= 3000
    assert "run `kfsync plan` for the full plan" in body
    assert GITHUB_TOKEN not in body


def test_a_lost_answer_is_retried_for_reads_but_a_comment_is_not_posted_twice(
        github: Ci, github_api: GitHubStandIn) -> None:
    github_api.fault("/comments", DROP, method="GET")
    github.write_config({"alice": {"nickname": "Alice"}})
    assert github.plan().code == 0
    assert len(github.sleeps) == 1
    github_api.comments.clear()
    github_api.fault("/comments", DROP, method="POST")
    run = github.plan()
    assert run.code == 1
    assert "no answer from GitHub" in run.err
    assert "it may have been done" in run.err
    assert len(github_api.calls("POST", r"/repos/.*/comments")) == 2  # one per run, never resent


def test_an_internal_error_is_said_in_the_comment_and_keeps_its_exit_code(
        github: Ci, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("kfsync.engine.plan", broken)
    github.write_config({"alice": {"nickname": "Alice"}})
    run = github.plan()
    assert run.code == 70
    [body] = bodies(github)
    assert "internal error: RuntimeError; rerun with --debug and report it" in text(body)


def test_out_still_saves_the_plan_and_markdown_on_stdout_has_no_footer(github: Ci, tmp_path: Path) -> None:
    github.write_config({"alice": {"nickname": "Alice"}})
    saved = tmp_path / "plan.json"
    run = github.plan("--out", str(saved), "--format", "markdown")
    assert run.code == 0
    assert json.loads(saved.read_text())["changes"]
    assert run.out.startswith(MARKER)
    assert "Planned for commit" not in run.out
    [body] = bodies(github)
    assert body.startswith(run.out)
