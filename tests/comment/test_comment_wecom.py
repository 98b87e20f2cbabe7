"""`kfsync plan --comment` for a WeCom corp's file, against the WeCom emulator and a stand-in of GitHub.

The comment is the corp's (marked with its corp_id), shows the servicers and the contact links
apply will report, and carries neither the corp secret nor an access token.
"""

from __future__ import annotations

from kfsync.providers.wecom.emulator import DEFAULT_CORPID
from tests.helpers.comment import GITHUB_TOKEN, HEAD, NUMBER, REPOSITORY, WeComCi
from tests.helpers.comment_stand_ins import WORKFLOW_BOT, GitHubStandIn
from tests.helpers.gfm import text
from tests.helpers.wecom import bootstrap, people

MARKER = f"<!-- kfsync:{DEFAULT_CORPID} -->"


def corp_file(ci: WeComCi) -> None:
    avatar = ci.avatar("desk.png", 0)
    ci.write_config({
        "Front desk": {"avatar": avatar, "servicers": {"users": ["lisi"]}},
        "售前咨询": {"avatar": avatar, "servicers": {"users": ["zhangsan"], "departments": [2]},
                    "scenes": ["website"]},
    })


def test_the_plan_comment_is_the_corps(wecom_github: WeComCi, github_api: GitHubStandIn) -> None:
    bootstrap(wecom_github.corp, users=people("zhangsan", "lisi"))
    corp_file(wecom_github)
    run = wecom_github.plan("--detailed-exitcode")
    assert run.code == 2, run.text
    assert f"--comment: commented on pull request #{NUMBER}" in run.err
    [posted] = github_api.of(REPOSITORY, NUMBER)
    assert posted["user"] == {"login": WORKFLOW_BOT, "type": "User"}
    body = str(posted["body"])
    assert body.startswith(MARKER + "\n**Plan: 1 to add")
    shown = text(body)
    assert "zhangsan" in shown
    assert "lisi" in shown
    assert "department 2" in shown
    assert "Outputs" in shown
    assert "售前咨询: contact_link website = (known after apply)" in shown
    assert f"Planned for commit {HEAD[:12]}." in body
    assert wecom_github.sent_tokens  # the corp was read, with tokens that must not show
    wecom_github.assert_no_secret(body)


def test_the_next_run_updates_it_in_place_and_leaves_an_official_accounts_alone(
        wecom_github: WeComCi, github_api: GitHubStandIn) -> None:
    other = github_api.add_comment(REPOSITORY, NUMBER, "<!-- kfsync:shop_cs -->\nits plan", WORKFLOW_BOT)
    bootstrap(wecom_github.corp, users=people("zhangsan", "lisi"))
    corp_file(wecom_github)
    for _ in range(2):
        assert wecom_github.plan().code == 0
    comments = github_api.of(REPOSITORY, NUMBER)
    assert len(comments) == 2
    assert github_api.comments[other]["body"] == "<!-- kfsync:shop_cs -->\nits plan"
    assert len(github_api.calls("PATCH", r"/repos/.*/issues/comments/\d+")) == 1
    assert wecom_github.token_requests() == len(github_api.requests)  # every call with the job's token
    assert all(GITHUB_TOKEN not in str(c["body"]) for c in comments)
