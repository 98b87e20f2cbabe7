"""The composite action (action.yml) runs: its shell steps, against the emulator on loopback.

The steps that use other actions (setup-python, cache, upload-artifact) are GitHub's; the install
step is replaced by this test's own kfsync. Everything else runs as the runner runs it, with the
env and working-directory the action declares, a real $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET, Emulator
from kfsync.providers.wecom.emulator import DEFAULT_CORPID, WeComEmulator
from kfsync.providers.wecom.emulator import DEFAULT_SECRET as CORP_SECRET
from tests.helpers.comment_stand_ins import GitHubStandIn
from tests.helpers.github_action import StepRun, base_env, run_composite
from tests.helpers.wecom_ci import corp_folder, writes
from tests.helpers.wecom_e2e import spy_tokens

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
BIN = str(Path(sys.executable).parent)
REPOSITORY = "shop/kf-config"
JOB_TOKEN = "ghs_job_token_for_the_comment0123456789"

CONFIG = """\
version: 1
official_account:
  wechat_id: shop_cs
policy:
  max_deletes: 0
accounts:
  alice:
    nickname: Alice
"""


@dataclass
class Job:
    """A workspace with a config, a runner's temp folder, and the environment the job gives."""

    workspace: Path
    temp: Path
    env: dict[str, str]

    def run(self, head_repository: str = REPOSITORY, **inputs: str) -> list[StepRun]:
        github = {
            "action_path": str(ROOT),
            "token": JOB_TOKEN,
            "event": {"pull_request": {"head": {"repo": {"full_name": head_repository}}}},
        }
        return run_composite(
            ACTION,
            inputs=inputs,
            github=github,
            runner_temp=self.temp,
            workspace=self.workspace,
            env=self.env,
            given_outputs={"python": {"python-path": sys.executable}, "install": {"bin": BIN}},
        )

    @property
    def summary(self) -> str:
        return Path(self.env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")


@pytest.fixture
def job(tmp_path: Path, emulator: Emulator) -> Job:
    workspace = tmp_path / "workspace"
    (workspace / "accounts" / "shop_cs").mkdir(parents=True)
    (workspace / "accounts" / "shop_cs" / "kfsync.yaml").write_text(CONFIG, encoding="utf-8")
    (workspace / "kfsync.yaml").write_text(CONFIG, encoding="utf-8")
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    summary = tmp_path / "summary.md"
    summary.write_text("", encoding="utf-8")
    env = base_env(tmp_path) | {
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_STEP_SUMMARY": str(summary),
        "KFSYNC_API_BASE": emulator.base_url,
        "KFSYNC_APPID": DEFAULT_APPID,
        "KFSYNC_APPSECRET": DEFAULT_SECRET,
        "NO_COLOR": "1",
    }
    return Job(workspace, temp, env)


def last(runs: list[StepRun]) -> StepRun:
    assert runs, "no shell step ran"
    return runs[-1]


def test_plan_with_changes_passes_and_says_so(job: Job, emulator: Emulator) -> None:
    run = last(job.run(command="plan", comment="false"))
    assert (run.id, run.code) == ("run", 0), run.err
    assert run.outputs["exitcode"] == "2"
    assert run.outputs["changes"] == "true"
    plan = (Path(run.outputs["plan-dir"]) / "plan.md").read_text(encoding="utf-8")
    assert "1 to add" in plan
    saved = json.loads((Path(run.outputs["plan-dir"]) / "plan.json").read_text(encoding="utf-8"))
    assert [c["action"] for c in saved["changes"]] == ["add"]
    assert "1 to add" in job.summary  # kfsync writes the step summary itself
    assert DEFAULT_SECRET not in run.out + run.err + plan + job.summary
    assert not [r for r in emulator.admin.requests() if "kfaccount" in r["path"]]  # plan never writes


def test_apply_then_plan_in_sync(job: Job, emulator: Emulator) -> None:
    applied = last(job.run(command="apply"))
    assert (applied.code, applied.outputs) == (0, {"exitcode": "0", "changes": "true"}), applied.err
    assert [a["kf_account"] for a in emulator.admin.state()["accounts"]] == ["alice@shop_cs"]
    again = last(job.run(command="apply"))
    assert again.outputs == {"exitcode": "0", "changes": "false"}
    planned = last(job.run(command="plan", comment="false"))
    assert (planned.code, planned.outputs["exitcode"], planned.outputs["changes"]) == (0, "0", "false")


def test_refused_plan_fails_the_step_with_its_outputs(job: Job, emulator: Emulator) -> None:
    emulator.admin.seed(accounts=[{"kf_account": "zoe@shop_cs", "kf_nick": "Zoe"}])
    config = job.workspace / "kfsync.yaml"
    config.write_text(CONFIG.replace("max_deletes: 0", "max_deletes: 0\n  unmanaged: delete"), "utf-8")
    run = last(job.run(command="plan", comment="false"))
    assert run.code == 3
    assert (run.outputs["exitcode"], run.outputs["changes"]) == ("3", "true")
    assert "::error title=kfsync::kfsync refused this plan" in run.out


def test_config_in_a_folder_and_its_cache_id(job: Job) -> None:
    runs = job.run(command="plan", comment="false", config="accounts/shop_cs/kfsync.yaml")
    where = next(r for r in runs if r.id == "where")
    assert where.outputs == {
        "config": "accounts/shop_cs/kfsync.yaml",
        "dir": "accounts/shop_cs",
        "id": "accounts_shop_cs",
    }
    assert last(runs).outputs["exitcode"] == "2"
    moved = job.run(command="validate", **{"working-directory": "accounts/shop_cs"})
    assert next(r for r in moved if r.id == "where").outputs["id"] == "accounts_shop_cs"
    assert last(moved).outputs == {"exitcode": "0", "changes": "false"}
    broken = job.workspace / "accounts" / "shop_cs" / "kfsync.yaml"
    broken.write_text(CONFIG.replace("nickname: Alice", "nickname: 7"), "utf-8")
    annotated = last(job.run(command="validate", **{"working-directory": "accounts/shop_cs"}))
    assert annotated.code == 1
    assert "::error file=accounts/shop_cs/kfsync.yaml,line=" in annotated.out  # as the repository names it


def test_validate_reports_annotations_and_fails(job: Job) -> None:
    (job.workspace / "kfsync.yaml").write_text(CONFIG.replace("nickname: Alice", "nickname: 7"), "utf-8")
    run = last(job.run(command="validate"))
    assert run.code == 1
    assert run.outputs == {"exitcode": "1", "changes": "false"}
    assert "::error file=kfsync.yaml,line=" in run.out


def assert_fork_skipped(job: Job) -> None:
    """Plan and apply in a fork's pull request pass with a notice, in the log and the summary."""
    for command in ("plan", "apply"):
        run = last(job.run(head_repository="someone/kf-config", command=command))
        assert run.code == 0, run.err
        assert run.outputs == {"exitcode": "", "changes": "false"}
        assert f"::notice title=kfsync {command} skipped::" in run.out
        assert "fork gets no secrets" in job.summary


def test_fork_pull_request_gets_a_notice_and_passes(job: Job, emulator: Emulator) -> None:
    del job.env["KFSYNC_APPID"], job.env["KFSYNC_APPSECRET"]  # GitHub gives forks no secrets
    assert_fork_skipped(job)
    assert emulator.admin.requests() == []


def test_missing_secrets_in_the_repository_itself_is_a_clear_error(job: Job) -> None:
    del job.env["KFSYNC_APPID"], job.env["KFSYNC_APPSECRET"]
    run = last(job.run(command="plan", comment="false"))
    assert run.code == 1
    assert "::error title=kfsync::KFSYNC_APPID is not set" in run.out
    assert run.outputs == {"exitcode": "1", "changes": "false"}


@pytest.mark.parametrize(
    "hostile",
    [
        "$(touch pwned)",
        "`touch pwned`",
        "x; touch pwned",
        "x && touch pwned #",
        "x\ntouch pwned",
        "${IFS}touch${IFS}pwned",
    ],
)
@pytest.mark.parametrize("name", ["args", "config", "command", "working-directory"])
def test_inputs_are_data_never_shell(job: Job, name: str, hostile: str) -> None:
    if name == "working-directory":
        (job.workspace / hostile).mkdir(parents=True, exist_ok=True)
        (job.workspace / hostile / "kfsync.yaml").write_text(CONFIG, "utf-8")
    runs = job.run(**{"command": "validate", "comment": "false", name: hostile})
    assert not list(job.workspace.rglob("pwned")), f"{name} ran as shell"
    if name in ("args", "command"):
        assert last(runs).code != 0  # an unknown argument or command is refused


@pytest.mark.parametrize("value", ["x\nid=evil", "a\rb", "tab\there"])
@pytest.mark.parametrize("name", ["config", "working-directory"])
def test_paths_on_more_than_one_line_are_refused(job: Job, name: str, value: str) -> None:
    if name == "working-directory":
        (job.workspace / value).mkdir()
    runs = job.run(**{"command": "plan", name: value})
    assert [r.id for r in runs] == ["where"]
    assert runs[0].code == 1
    assert runs[0].outputs == {}  # nothing reaches the outputs of the step
    assert "must be paths on one line" in runs[0].out


@pytest.mark.parametrize("value", ["plan ", "PLAN", "apply --auto-approve", "", "destroy"])
def test_unknown_command_input_is_refused(job: Job, emulator: Emulator, value: str) -> None:
    run = last(job.run(command=value))
    assert run.code == 1
    assert "the input command must be plan, apply or validate" in run.out
    assert emulator.admin.requests() == []


def test_args_are_passed_split_on_spaces(job: Job, emulator: Emulator) -> None:
    emulator.admin.seed(accounts=[{"kf_account": "zoe@shop_cs", "kf_nick": "Zoe"}])
    config = job.workspace / "kfsync.yaml"
    config.write_text(CONFIG.replace("max_deletes: 0", "max_deletes: 0\n  unmanaged: delete"), "utf-8")
    run = last(job.run(command="apply", args="--allow-delete zoe  --parallelism 2"))
    assert run.code == 0, run.out + run.err
    assert [a["kf_account"] for a in emulator.admin.state()["accounts"]] == ["alice@shop_cs"]


@pytest.fixture
def github_api() -> Iterator[GitHubStandIn]:
    stand_in = GitHubStandIn()
    stand_in.accept_workflow_token(JOB_TOKEN)
    yield stand_in
    stand_in.close()


def in_pull_request(job: Job, api: GitHubStandIn, tmp_path: Path) -> None:
    """The variables GitHub sets in a `pull_request` workflow run for pull request #7."""
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": 7, "pull_request": {"number": 7, "head": {"sha": "f" * 40}}}))
    job.env |= {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_API_URL": api.base_url,
        "GITHUB_SERVER_URL": "https://github.example",
    }


def test_plan_comments_once_per_account_with_the_job_token(
    job: Job, github_api: GitHubStandIn, tmp_path: Path
) -> None:
    in_pull_request(job, github_api, tmp_path)
    for _ in range(2):  # the second run updates the comment in place
        run = last(job.run(command="plan"))
        assert (run.code, run.outputs["exitcode"], run.outputs["changes"]) == (0, "2", "true"), run.err
        assert JOB_TOKEN not in run.out + run.err
    (comment,) = github_api.of(REPOSITORY, 7)
    assert comment["body"].startswith("<!-- kfsync:shop_cs -->")
    assert "1 to add" in comment["body"]
    assert all(r.headers.get("Authorization") == f"Bearer {JOB_TOKEN}" for r in github_api.requests)


def test_comment_false_never_calls_the_platform(job: Job, github_api: GitHubStandIn, tmp_path: Path) -> None:
    in_pull_request(job, github_api, tmp_path)
    run = last(job.run(command="plan", comment="false"))
    assert run.outputs["exitcode"] == "2", run.err
    assert github_api.requests == []


def test_a_failed_plan_still_updates_the_comment(job: Job, github_api: GitHubStandIn, tmp_path: Path) -> None:
    in_pull_request(job, github_api, tmp_path)
    job.env["KFSYNC_APPSECRET"] = "0" * 32  # WeChat refuses it
    run = last(job.run(command="plan"))
    assert run.code == 1
    assert run.outputs["exitcode"] == "1"
    (comment,) = github_api.of(REPOSITORY, 7)
    assert "The plan failed" in comment["body"]
    assert "0" * 32 not in comment["body"] + run.out + run.err


# A WeCom corp's file: the same action, KFSYNC_CORPID and KFSYNC_CORPSECRET instead.
@pytest.fixture
def corp(job: Job, wecom_server: WeComEmulator, monkeypatch: pytest.MonkeyPatch) -> tuple[Job, set[str]]:
    """The job with a WeCom file and the corp's secrets instead; every access token handed out."""
    corp_folder(job.workspace, wecom_server, scenes=["website"])
    tokens: set[str] = set()
    spy_tokens(monkeypatch, tokens)
    del job.env["KFSYNC_APPID"], job.env["KFSYNC_APPSECRET"]
    job.env |= {
        "KFSYNC_CORPID": DEFAULT_CORPID,
        "KFSYNC_CORPSECRET": CORP_SECRET,
        "KFSYNC_API_BASE": wecom_server.base_url,
    }
    return job, tokens


def test_wecom_plan_with_the_corps_secrets(corp: tuple[Job, set[str]], wecom_server: WeComEmulator) -> None:
    job, tokens = corp
    run = last(job.run(command="plan", comment="false"))
    assert (run.id, run.code) == ("run", 0), run.out + run.err
    assert (run.outputs["exitcode"], run.outputs["changes"]) == ("2", "true")
    plan = (Path(run.outputs["plan-dir"]) / "plan.md").read_text(encoding="utf-8")
    assert "售前咨询" in plan
    assert "zhangsan" in plan
    saved = json.loads((Path(run.outputs["plan-dir"]) / "plan.json").read_text(encoding="utf-8"))
    assert sorted((c["action"], c["account"]) for c in saved["changes"]) == [
        ("add", "售前咨询"), ("servicers", "售前咨询"), ("update", "Front desk")  # the file's avatar
    ]
    assert tokens  # it did read the corp
    for secret in (CORP_SECRET, *tokens):
        assert secret not in run.out + run.err + plan + job.summary
    assert writes(wecom_server) == []  # plan never writes


def test_wecom_apply_then_plan_in_sync(corp: tuple[Job, set[str]], wecom_server: WeComEmulator) -> None:
    job, _ = corp
    applied = last(job.run(command="apply"))
    assert applied.code == 0, applied.out + applied.err
    assert applied.outputs == {"exitcode": "0", "changes": "true"}
    names = sorted(a["name"] for a in wecom_server.admin.state()["accounts"])
    assert names == ["Front desk", "售前咨询"]
    planned = last(job.run(command="plan", comment="false"))
    assert (planned.code, planned.outputs["exitcode"], planned.outputs["changes"]) == (0, "0", "false")


@pytest.mark.parametrize("left", ["", "KFSYNC_APPID"], ids=["nothing", "only-the-official-accounts"])
def test_wecom_file_without_the_corps_secrets_names_them(
    corp: tuple[Job, set[str]], wecom_server: WeComEmulator, left: str
) -> None:
    job, _ = corp
    del job.env["KFSYNC_CORPID"], job.env["KFSYNC_CORPSECRET"]
    if left:  # the repository's Official Account secrets do not serve a WeCom file
        job.env |= {"KFSYNC_APPID": DEFAULT_APPID, "KFSYNC_APPSECRET": DEFAULT_SECRET}
    for command in ("plan", "apply"):
        run = last(job.run(command=command, comment="false"))
        assert run.code == 1
        assert run.outputs == {"exitcode": "1", "changes": "false"}
        assert "::error title=kfsync::KFSYNC_CORPID is not set: this file is for a WeCom corp" in run.out
        assert "secrets KFSYNC_CORPID and KFSYNC_CORPSECRET" in run.out
        assert "KFSYNC_APPSECRET" not in run.out
    assert wecom_server.admin.requests() == []


def test_wecom_static_token_is_enough(corp: tuple[Job, set[str]], wecom_server: WeComEmulator) -> None:
    job, _ = corp
    answer = requests.get(f"{wecom_server.base_url}/cgi-bin/gettoken",
                          params={"corpid": DEFAULT_CORPID, "corpsecret": CORP_SECRET}, timeout=10)
    token = answer.json()["access_token"]  # what the team's own token service would hand out
    del job.env["KFSYNC_CORPID"], job.env["KFSYNC_CORPSECRET"]
    job.env |= {"KFSYNC_TOKEN_MODE": "static", "KFSYNC_ACCESS_TOKEN": token}
    run = last(job.run(command="plan", comment="false"))
    assert (run.code, run.outputs["exitcode"]) == (0, "2"), run.out + run.err
    assert token not in run.out + run.err


def test_wecom_fork_pull_request_gets_a_notice_and_passes(
    corp: tuple[Job, set[str]], wecom_server: WeComEmulator
) -> None:
    job, _ = corp
    del job.env["KFSYNC_CORPID"], job.env["KFSYNC_CORPSECRET"]  # GitHub gives forks no secrets
    assert_fork_skipped(job)
    assert wecom_server.admin.requests() == []


def test_an_unreadable_file_names_both_pairs(job: Job) -> None:
    del job.env["KFSYNC_APPID"], job.env["KFSYNC_APPSECRET"]
    run = last(job.run(command="plan", comment="false", config="missing.yaml"))
    assert run.code == 1
    assert "::error title=kfsync::neither KFSYNC_APPID nor KFSYNC_CORPID is set" in run.out
    assert "KFSYNC_APPID and KFSYNC_APPSECRET (an Official Account)" in run.out
    assert "KFSYNC_CORPID and KFSYNC_CORPSECRET (a WeCom corp)" in run.out


def test_an_unreadable_file_with_some_credentials_lets_kfsync_say_what_is_wrong(job: Job) -> None:
    run = last(job.run(command="plan", comment="false", config="missing.yaml"))
    assert run.code == 1
    assert "missing.yaml: no such file" in run.err
    assert "is not set" not in run.out


def test_wecom_plan_comments_with_the_corps_marker(
    corp: tuple[Job, set[str]], github_api: GitHubStandIn, tmp_path: Path
) -> None:
    job, tokens = corp
    in_pull_request(job, github_api, tmp_path)
    for _ in range(2):  # the second run updates the comment in place
        run = last(job.run(command="plan"))
        assert (run.code, run.outputs["exitcode"]) == (0, "2"), run.out + run.err
    (comment,) = github_api.of(REPOSITORY, 7)
    body = comment["body"]
    assert body.startswith(f"<!-- kfsync:{DEFAULT_CORPID} -->")
    assert "zhangsan" in body
    for secret in (CORP_SECRET, JOB_TOKEN, *tokens):
        assert secret not in body + run.out + run.err
