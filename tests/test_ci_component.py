"""The GitLab CI/CD component (templates/kfsync.yml) renders and runs, against the emulator.

The component is rendered with its inputs as GitLab renders it; its jobs' rules are evaluated for
each kind of pipeline, and their scripts run as a runner runs them (the `pip install` of the
component's own commit aside), with the variables GitLab would give each job.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET, Emulator
from kfsync.providers.wecom.emulator import DEFAULT_CORPID, WeComEmulator
from kfsync.providers.wecom.emulator import DEFAULT_SECRET as CORP_SECRET
from tests.helpers.comment_stand_ins import GitLabStandIn
from tests.helpers.gitlab_component import load, render
from tests.helpers.gitlab_job import expand, job_variables, merged, run, runs
from tests.helpers.wecom_ci import corp_folder, writes

ROOT = Path(__file__).resolve().parent.parent
COMPONENT = ROOT / "templates" / "kfsync.yml"
SHA = "a" * 40
NOTE_TOKEN = "glpat-projecttoken0123456789abcdef"
CONTEXT = {"sha": SHA}
CI = {
    "CI_SERVER_URL": "https://gitlab.example.com",
    "CI_DEFAULT_BRANCH": "main",
    "CI_PROJECT_ID": "7",
}
PIPELINES: dict[str, dict[str, str]] = {
    "merge request": {
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "7",
        "CI_MERGE_REQUEST_PROJECT_ID": "7",
    },
    "merge request from a fork": {
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "99",
        "CI_MERGE_REQUEST_PROJECT_ID": "7",
    },
    "push to main": {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main"},
    "push to a branch": {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "topic"},
    "schedule on main": {"CI_PIPELINE_SOURCE": "schedule", "CI_COMMIT_BRANCH": "main"},
}


def config(wechat_id: str, policy: str = "") -> str:
    return (
        f"version: 1\nofficial_account:\n  wechat_id: {wechat_id}\n{policy}"
        f"accounts:\n  alice:\n    nickname: Alice\n"
    )


def pipeline(**inputs: Any) -> dict[str, Any]:
    return render(COMPONENT, {"project": "group/kfsync", **inputs}, CONTEXT)


def matrix(job: dict[str, Any]) -> list[dict[str, str]]:
    """Every variable set of the job's parallel:matrix."""
    (entry,) = job["parallel"]["matrix"]
    ((name, values),) = entry.items()
    return [{name: value} for value in values]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("merge request", {"validate", "plan"}),
        ("merge request from a fork", {"validate", "fork-notice"}),
        ("push to main", {"apply"}),
        ("push to a branch", set()),
        ("schedule on main", {"drift"}),
    ],
)
def test_jobs_per_pipeline(kind: str, expected: set[str]) -> None:
    rendered = pipeline()
    names = [name for name in rendered if not name.startswith(".")]
    variables = CI | PIPELINES[kind]
    chosen = {
        n.removeprefix("kfsync-") for n in names if runs(merged(rendered, n), variables, {"kfsync.yaml"})
    }
    assert chosen == expected


def test_apply_runs_only_when_the_config_changed() -> None:
    apply = merged(pipeline(), "kfsync-apply")
    variables = CI | PIPELINES["push to main"]
    assert runs(apply, variables, {"avatars/alice.png"})
    assert not runs(apply, variables, {"README.md"})


def test_kfsync_is_installed_from_the_components_own_commit() -> None:
    rendered = pipeline()
    job = merged(rendered, "kfsync-plan")
    env = job_variables(job, CI, {"KFSYNC_ACCOUNT": "kfsync"})
    install = expand(job["before_script"][0], env)
    assert install == (
        f'python -m pip install --quiet "kfsync @ git+https://gitlab.example.com/group/kfsync.git@{SHA}"'
    )
    spec, _ = load(COMPONENT)
    assert spec["component"] == ["sha"]
    assert "$[[" not in yaml.safe_dump(rendered)


def test_inputs_reach_scripts_only_through_variables() -> None:
    _, body = load(COMPONENT)
    for name, job in body.items():
        for line in [*job.get("before_script", []), *job.get("script", [])]:
            assert "$[[" not in line, f"{name} interpolates into a script: {line}"


@pytest.mark.parametrize(
    ("inputs", "problem"),
    [
        ({"accounts": "shop_a"}, "accounts must be a array"),
        ({"comment": "yes"}, "comment must be one of"),
        ({"paths": "kfsync.yaml"}, "paths must be a array"),
        ({"colour": "red"}, "unknown inputs"),
    ],
)
def test_inputs_are_typed(inputs: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        pipeline(**inputs)
    with pytest.raises(ValueError, match="project is required"):
        render(COMPONENT, {}, CONTEXT)


class Project:
    """A GitLab project's checkout, and the variables its environments give each account."""

    def __init__(self, folder: Path, emulators: dict[str, Emulator] | dict[str, WeComEmulator],
                 credentials: dict[str, str] | None = None) -> None:
        self.folder = folder
        self.emulators = emulators
        self.credentials = credentials or {"KFSYNC_APPID": DEFAULT_APPID, "KFSYNC_APPSECRET": DEFAULT_SECRET}

    def job(
        self, rendered: dict[str, Any], name: str, account: str, kind: str
    ) -> tuple[dict[str, Any], dict[str, str]]:
        job = merged(rendered, name)
        assert {"KFSYNC_ACCOUNT": account} in matrix(job)
        env = job_variables(
            job, CI | PIPELINES[kind] | {"CI_PROJECT_DIR": str(self.folder)}, {"KFSYNC_ACCOUNT": account}
        )
        # What the environment-scoped CI/CD variables give this job.
        env |= {
            "PATH": _path(),
            "HOME": str(self.folder.parent),
            "NO_COLOR": "1",
            "KFSYNC_API_BASE": self.emulators[account].base_url,
            **self.credentials,
        }
        return job, env

    def run(self, rendered: dict[str, Any], name: str, account: str, kind: str) -> Any:
        job, env = self.job(rendered, name, account, kind)
        assert runs(job, env)
        return run(job, env, self.folder, skip=1)


def _path() -> str:
    import os
    import sys

    return f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"


@pytest.fixture
def project(tmp_path: Path, emulator: Emulator) -> Project:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "kfsync.yaml").write_text(config("shop_cs", "policy:\n  max_deletes: 0\n"), "utf-8")
    return Project(folder, {"kfsync": emulator})


def dotenv(folder: Path) -> dict[str, str]:
    lines = (folder / "kfsync.env").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines)


def test_plan_apply_drift(project: Project, emulator: Emulator) -> None:
    rendered = pipeline(comment="false")
    drift = project.run(rendered, "kfsync-drift", "kfsync", "schedule on main")
    assert drift.returncode == 2, drift.stderr
    planned = project.run(rendered, "kfsync-plan", "kfsync", "merge request")
    assert planned.returncode == 0, planned.stderr
    assert dotenv(project.folder) == {"KFSYNC_EXITCODE": "2", "KFSYNC_CHANGES": "true"}
    assert "1 to add" in (project.folder / "kfsync-plan-kfsync.md").read_text(encoding="utf-8")
    saved = json.loads((project.folder / "kfsync-plan-kfsync.json").read_text(encoding="utf-8"))
    assert [c["action"] for c in saved["changes"]] == ["add"]
    assert not [r for r in emulator.admin.requests() if "kfaccount" in r["path"]]
    applied = project.run(rendered, "kfsync-apply", "kfsync", "push to main")
    assert applied.returncode == 0, applied.stderr
    assert [a["kf_account"] for a in emulator.admin.state()["accounts"]] == ["alice@shop_cs"]
    assert project.run(rendered, "kfsync-drift", "kfsync", "schedule on main").returncode == 0
    assert project.run(rendered, "kfsync-plan", "kfsync", "merge request").returncode == 0
    assert dotenv(project.folder) == {"KFSYNC_EXITCODE": "0", "KFSYNC_CHANGES": "false"}
    assert project.run(rendered, "kfsync-validate", "kfsync", "merge request").returncode == 0


def test_refused_plan_fails_and_keeps_the_plan(project: Project, emulator: Emulator) -> None:
    emulator.admin.seed(accounts=[{"kf_account": "zoe@shop_cs", "kf_nick": "Zoe"}])
    policy = "policy:\n  max_deletes: 0\n  unmanaged: delete\n"
    (project.folder / "kfsync.yaml").write_text(config("shop_cs", policy), "utf-8")
    planned = project.run(pipeline(comment="false"), "kfsync-plan", "kfsync", "merge request")
    assert planned.returncode == 3
    assert dotenv(project.folder) == {"KFSYNC_EXITCODE": "3", "KFSYNC_CHANGES": "true"}
    assert (project.folder / "kfsync-plan-kfsync.md").stat().st_size > 0
    rendered = pipeline(comment="false", args="--allow-delete zoe")
    assert project.run(rendered, "kfsync-apply", "kfsync", "push to main").returncode == 0
    assert [a["kf_account"] for a in emulator.admin.state()["accounts"]] == ["alice@shop_cs"]


def test_plan_without_credentials_is_a_warning(project: Project, emulator: Emulator) -> None:
    rendered = pipeline(comment="false")
    job, env = project.job(rendered, "kfsync-plan", "kfsync", "merge request")
    del env["KFSYNC_APPID"], env["KFSYNC_APPSECRET"]
    env["CI_ENVIRONMENT_NAME"] = expand(job["environment"]["name"], env)
    done = run(job, env, project.folder, skip=1)
    assert done.returncode == 78
    assert job["allow_failure"] == {"exit_codes": [78]}
    assert "no KFSYNC_APPID is scoped to the environment kfsync-plan/kfsync" in done.stdout
    assert emulator.admin.requests() == []


def test_plan_posts_one_note_per_account(project: Project) -> None:
    api = GitLabStandIn()
    api.tokens[NOTE_TOKEN] = 77
    try:
        rendered = pipeline()  # comment: "true", the default
        job, env = project.job(rendered, "kfsync-plan", "kfsync", "merge request")
        env |= {
            "GITLAB_CI": "true",
            "CI_MERGE_REQUEST_IID": "5",
            "CI_COMMIT_SHA": "f" * 40,
            "CI_API_V4_URL": api.base_url,
            "KFSYNC_GITLAB_TOKEN": NOTE_TOKEN,  # scoped to the plan environment
        }
        for _ in range(2):  # the second run updates the note in place
            done = run(job, env, project.folder, skip=1)
            assert done.returncode == 0, done.stderr
            assert NOTE_TOKEN not in done.stdout + done.stderr
        (note,) = api.of(CI["CI_PROJECT_ID"], 5)
        assert note["body"].startswith("<!-- kfsync:shop_cs -->")
    finally:
        api.close()


@pytest.mark.parametrize("hostile", ["$(touch pwned)", "`touch pwned`", "x; touch pwned", "${IFS}*"])
def test_args_and_config_stay_data(project: Project, hostile: str) -> None:
    for inputs in ({"args": hostile}, {"config": hostile}):
        done = project.run(pipeline(comment="false", **inputs), "kfsync-plan", "kfsync", "merge request")
        assert done.returncode not in (0, 2)
        assert not list(project.folder.rglob("pwned"))


def test_one_job_note_and_lock_per_account(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    with Emulator(wechat_id="shop_a") as shop_a, Emulator(wechat_id="shop_b") as shop_b:
        for wechat_id in ("shop_a", "shop_b"):
            (folder / "accounts" / wechat_id).mkdir(parents=True)
            (folder / "accounts" / wechat_id / "kfsync.yaml").write_text(config(wechat_id), "utf-8")
        project = Project(folder, {"shop_a": shop_a, "shop_b": shop_b})
        rendered = pipeline(
            comment="false",
            accounts=["shop_a", "shop_b"],
            **{"working-directory": "accounts/$KFSYNC_ACCOUNT", "paths": ["accounts/**/*"]},
        )
        groups, environments = set(), set()
        for account in ("shop_a", "shop_b"):
            planned = project.run(rendered, "kfsync-plan", account, "merge request")
            assert planned.returncode == 0, planned.stderr
            notes = folder / f"kfsync-plan-{account}.md"
            assert f"kfsync:{account}" in notes.read_text(encoding="utf-8")  # one note per account
            job, env = project.job(rendered, "kfsync-apply", account, "push to main")
            groups.add(expand(job["resource_group"], env))
            environments.add(expand(job["environment"]["name"], env))
            plan_job, plan_env = project.job(rendered, "kfsync-plan", account, "merge request")
            environments.add(expand(plan_job["environment"]["name"], plan_env))
            assert project.run(rendered, "kfsync-apply", account, "push to main").returncode == 0
        assert groups == {"kfsync-shop_a", "kfsync-shop_b"}
        assert environments == {"kfsync/shop_a", "kfsync/shop_b", "kfsync-plan/shop_a", "kfsync-plan/shop_b"}
        assert [a["kf_account"] for a in shop_a.admin.state()["accounts"]] == ["alice@shop_a"]
        assert [a["kf_account"] for a in shop_b.admin.state()["accounts"]] == ["alice@shop_b"]


def test_plan_job_names_its_artifacts_and_environments() -> None:
    plan = merged(pipeline(), "kfsync-plan")
    assert plan["environment"] == {"name": "kfsync-plan/$KFSYNC_ACCOUNT", "action": "prepare"}
    assert plan["artifacts"]["when"] == "always"
    assert plan["artifacts"]["reports"] == {"dotenv": "kfsync.env"}
    apply = merged(pipeline(), "kfsync-apply")
    assert apply["resource_group"] == merged(pipeline(), "kfsync-drift")["resource_group"]
    assert re.fullmatch(r"kfsync-\$KFSYNC_ACCOUNT", apply["resource_group"])


@pytest.fixture
def corp(tmp_path: Path, wecom_server: WeComEmulator) -> Project:
    """A project whose kfsync.yaml is a WeCom corp's, the corp's variables scoped to its environments."""
    folder = tmp_path / "project"
    corp_folder(folder, wecom_server)
    credentials = {"KFSYNC_CORPID": DEFAULT_CORPID, "KFSYNC_CORPSECRET": CORP_SECRET}
    return Project(folder, {"kfsync": wecom_server}, credentials)


def test_wecom_plan_apply_drift(corp: Project, wecom_server: WeComEmulator) -> None:
    rendered = pipeline(comment="false")
    drift = corp.run(rendered, "kfsync-drift", "kfsync", "schedule on main")
    assert drift.returncode == 2, drift.stdout + drift.stderr
    planned = corp.run(rendered, "kfsync-plan", "kfsync", "merge request")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert dotenv(corp.folder) == {"KFSYNC_EXITCODE": "2", "KFSYNC_CHANGES": "true"}
    assert "zhangsan" in (corp.folder / "kfsync-plan-kfsync.md").read_text(encoding="utf-8")
    saved = json.loads((corp.folder / "kfsync-plan-kfsync.json").read_text(encoding="utf-8"))
    assert sorted(c["action"] for c in saved["changes"]) == ["add", "servicers", "update"]
    assert writes(wecom_server) == []  # plan and drift never write
    applied = corp.run(rendered, "kfsync-apply", "kfsync", "push to main")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert sorted(a["name"] for a in wecom_server.admin.state()["accounts"]) == ["Front desk", "售前咨询"]
    assert corp.run(rendered, "kfsync-drift", "kfsync", "schedule on main").returncode == 0
    assert corp.run(rendered, "kfsync-plan", "kfsync", "merge request").returncode == 0
    assert dotenv(corp.folder) == {"KFSYNC_EXITCODE": "0", "KFSYNC_CHANGES": "false"}
    for done in (drift, planned, applied):
        assert CORP_SECRET not in done.stdout + done.stderr


@pytest.mark.parametrize("left", ["", "KFSYNC_APPID"], ids=["nothing", "only-the-official-accounts"])
def test_wecom_plan_without_the_corps_variables_is_a_warning_naming_them(
    corp: Project, wecom_server: WeComEmulator, left: str
) -> None:
    job, env = corp.job(pipeline(comment="false"), "kfsync-plan", "kfsync", "merge request")
    del env["KFSYNC_CORPID"], env["KFSYNC_CORPSECRET"]
    if left:  # an Official Account's variables do not serve a WeCom file
        env |= {"KFSYNC_APPID": DEFAULT_APPID, "KFSYNC_APPSECRET": DEFAULT_SECRET}
    env["CI_ENVIRONMENT_NAME"] = expand(job["environment"]["name"], env)
    done = run(job, env, corp.folder, skip=1)
    assert done.returncode == 78
    assert "no KFSYNC_CORPID is scoped to the environment kfsync-plan/kfsync" in done.stdout
    assert "KFSYNC_CORPID and KFSYNC_CORPSECRET, as it is for a WeCom corp" in done.stdout
    assert "KFSYNC_APPSECRET" not in done.stdout
    assert wecom_server.admin.requests() == []


def test_plan_of_an_unreadable_file_names_both_pairs(project: Project) -> None:
    job, env = project.job(pipeline(comment="false", config="missing.yaml"), "kfsync-plan", "kfsync",
                           "merge request")
    del env["KFSYNC_APPID"], env["KFSYNC_APPSECRET"]
    env["CI_ENVIRONMENT_NAME"] = expand(job["environment"]["name"], env)
    done = run(job, env, project.folder, skip=1)
    assert done.returncode == 78
    assert "no KFSYNC_APPID or KFSYNC_CORPID is scoped" in done.stdout
    assert "or KFSYNC_CORPID and KFSYNC_CORPSECRET for a WeCom corp" in done.stdout


def test_wecom_fork_merge_request_gets_the_notice_without_variables(corp: Project) -> None:
    rendered = pipeline()
    variables = CI | PIPELINES["merge request from a fork"]
    assert not runs(merged(rendered, "kfsync-plan"), variables)
    notice = merged(rendered, "kfsync-fork-notice")
    assert runs(notice, variables)
    env = {"PATH": _path(), "HOME": str(corp.folder.parent), **variables}  # forks get no variables
    done = run(notice, env, corp.folder)
    assert done.returncode == 0, done.stderr
    assert "kfsync plan skipped - merge requests from forks get no CI/CD variables" in done.stdout


def test_wecom_plan_posts_one_note_under_the_corps_marker(corp: Project) -> None:
    api = GitLabStandIn()
    api.tokens[NOTE_TOKEN] = 77
    try:
        job, env = corp.job(pipeline(), "kfsync-plan", "kfsync", "merge request")
        env |= {
            "GITLAB_CI": "true",
            "CI_MERGE_REQUEST_IID": "5",
            "CI_COMMIT_SHA": "f" * 40,
            "CI_API_V4_URL": api.base_url,
            "KFSYNC_GITLAB_TOKEN": NOTE_TOKEN,
        }
        done = run(job, env, corp.folder, skip=1)
        assert done.returncode == 0, done.stdout + done.stderr
        (note,) = api.of(CI["CI_PROJECT_ID"], 5)
        assert note["body"].startswith(f"<!-- kfsync:{DEFAULT_CORPID} -->")
        for secret in (NOTE_TOKEN, CORP_SECRET):
            assert secret not in note["body"] + done.stdout + done.stderr
    finally:
        api.close()
