"""The CI files (action, release workflow, recipes, component, pre-commit hook) are valid, pinned
and least-privileged, and agree with the code they drive."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kfsync import cli
from kfsync.client.config import ClientConfig
from kfsync.providers.wecom.config import WeComConfig
from tests.helpers.gitlab_component import render

ROOT = Path(__file__).resolve().parent.parent
CI = ROOT / "examples" / "ci"
ACTION = ROOT / "action.yml"
RELEASE = ROOT / ".github" / "workflows" / "release.yml"
OWN_CI = ROOT / ".github" / "workflows" / "ci.yml"
RECIPES = sorted(CI.glob("github-actions*.yml"))
WORKFLOWS = [*RECIPES, RELEASE, OWN_CI]
GITHUB_FILES = [ACTION, *WORKFLOWS]
GITLAB_RECIPES = sorted(CI.glob("gitlab-ci*.yml"))
PINNED = re.compile(r"^\s*(?:- )?uses: ([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # v\d+\.\d+\.\d+\s*$", re.M)


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} is part of the test extra"
    return found


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def _on(workflow: dict[Any, Any]) -> Any:
    return workflow[True]  # `on:` parses as True in YAML 1.1


def _jobs() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path in WORKFLOWS:
        for name, job in _load(path)["jobs"].items():
            yield path.name, name, job


def _steps() -> Iterator[tuple[str, dict[str, Any]]]:
    for file, name, job in _jobs():
        for step in job.get("steps", []):
            yield f"{file}:{name}", step
    for step in _load(ACTION)["runs"]["steps"]:
        yield "action.yml", step


@pytest.mark.parametrize(
    ("paths", "schema"),
    [
        (WORKFLOWS, "vendor.github-workflows"),
        ([ACTION], "vendor.github-actions"),
        (GITLAB_RECIPES, "vendor.gitlab-ci"),
    ],
    ids=["github-workflows", "github-action", "gitlab-ci"],
)
def test_files_pass_their_platform_schema(paths: list[Path], schema: str) -> None:
    result = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", schema, *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_rendered_component_passes_gitlabs_schema(tmp_path: Path) -> None:
    import json

    rendered = tmp_path / "pipeline.json"
    inputs = {"project": "group/kfsync", "accounts": ["shop_a", "shop_b"]}
    rendered.write_text(json.dumps(render(ROOT / "templates" / "kfsync.yml", inputs, {"sha": "0" * 40})))
    result = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(rendered)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_tool("zizmor"), "--offline", "--no-progress", "--format", "plain", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_zizmor_finds_nothing() -> None:
    result = _zizmor(*GITHUB_FILES, ROOT / ".pre-commit-hooks.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("old", "new", "audit"),
    [
        (
            "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1",
            "actions/checkout@v7",
            "unpinned-uses",
        ),
        ("        with:\n          persist-credentials: false\n", "", "artipacked"),
        ("drift::the live", "drift::${{ github.head_ref }} the live", "template-injection"),
    ],
)
def test_zizmor_would_catch_a_regression(tmp_path: Path, old: str, new: str, audit: str) -> None:
    text = (CI / "github-actions.yml").read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / "github-actions.yml"
    broken.write_text(text.replace(old, new), encoding="utf-8")
    result = _zizmor(broken)
    assert result.returncode != 0
    assert audit in result.stdout


IGNORE = re.compile(r"# zizmor: ignore\[[a-z-]+(?:,[a-z-]+)*\] -- \S.{9,}$")


@pytest.mark.parametrize(
    ("line", "valid"),
    [
        ("run: x # zizmor: ignore[template-injection] -- the value is a number we computed", True),
        ("run: x # zizmor: ignore[template-injection]", False),
        ("run: x # zizmor: ignore[template-injection] -- ok", False),
    ],
)
def test_an_ignore_is_one_line_with_a_reason(line: str, valid: bool) -> None:
    assert bool(IGNORE.search(line)) is valid
    files = [*GITHUB_FILES, *GITLAB_RECIPES, *sorted((ROOT / "templates").glob("*.yml"))]
    for path in files:
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "zizmor:" in text:
                assert IGNORE.search(text), f"{path.name}:{number}: an ignore needs `-- reason`"


def test_every_action_is_pinned_to_a_commit_with_its_version() -> None:
    for path in GITHUB_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if "uses:" in line and not line.lstrip().startswith("#"):
                assert PINNED.match(line), f"{path.name}: {line.strip()}"


def test_recipes_and_action_use_the_same_pins() -> None:
    pins: dict[str, set[str]] = {}
    for path in GITHUB_FILES:
        for match in PINNED.finditer(path.read_text(encoding="utf-8")):
            pins.setdefault(match.group(1), set()).add(match.group(0).split("@")[1].strip())
    assert all(len(found) == 1 for found in pins.values()), pins
    assert {"actions/checkout", "actions/setup-python", "actions/cache"} <= set(pins)


def test_every_checkout_drops_its_credentials() -> None:
    checkouts = [
        (where, s) for where, s in _steps() if str(s.get("uses", "")).startswith("actions/checkout@")
    ]
    assert checkouts
    for where, step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False, where


# The most each job may hold; the workflows grant nothing at the top.
ALLOWED = {
    "validate": {"contents": "read"},
    "fork-notice": {},
    "plan": {"contents": "read", "pull-requests": "write"},
    "apply": {"contents": "read"},
    "drift": {"contents": "read"},
    "build": {"contents": "read"},
    "publish": {"contents": "read", "id-token": "write"},
    "attest": {"contents": "read", "id-token": "write", "attestations": "write"},
    "run": {"contents": "read"},
}


def test_permissions_are_the_least_each_job_needs() -> None:
    for path in WORKFLOWS:
        assert _load(path)["permissions"] == {}, path.name
    for file, name, job in _jobs():
        assert job["permissions"] == ALLOWED[name], f"{file}:{name}"


def test_no_script_interpolates_an_expression() -> None:
    """Expressions reach scripts through env: only, never rendered into the script itself."""
    for where, step in _steps():
        assert "${{" not in step.get("run", ""), where


def test_forks_get_a_notice_and_a_skipped_plan() -> None:
    same = "github.event.pull_request.head.repo.full_name == github.repository"
    fork = "github.event.pull_request.head.repo.full_name != github.repository"
    for path in RECIPES:
        workflow = _load(path)
        assert "pull_request_target" not in _on(workflow)
        jobs = workflow["jobs"]
        assert same in jobs["plan"]["if"], path.name
        assert fork in jobs["fork-notice"]["if"], path.name
        assert "::notice title=kfsync plan skipped::" in jobs["fork-notice"]["steps"][0]["run"]
        assert "secrets." not in yaml.safe_dump(jobs["fork-notice"])


#: What each product's client reads from the environment, by the file's top-level key.
CREDENTIALS = {
    "official_account": ("KFSYNC_APPID", "KFSYNC_APPSECRET"),
    "wecom": ("KFSYNC_CORPID", "KFSYNC_CORPSECRET"),
}


def test_the_credential_names_are_those_the_clients_read() -> None:
    appid, appsecret = CREDENTIALS["official_account"]
    mp = ClientConfig.resolve(environ={appid: "wx1", appsecret: "s" * 32})
    assert (mp.appid, mp.secret) == ("wx1", "s" * 32)
    corpid, corpsecret = CREDENTIALS["wecom"]
    wecom = WeComConfig.resolve(environ={corpid: "ww1", corpsecret: "c" * 43})
    assert (wecom.corpid, wecom.secret) == ("ww1", "c" * 43)


def test_every_kfsync_step_passes_both_products_credentials() -> None:
    """A recipe works as copied for either product: the file says which pair kfsync reads."""
    expected = {name: f"${{{{ secrets.{name} }}}}" for pair in CREDENTIALS.values() for name in pair}
    live = [
        (where, step)
        for where, step in _steps()
        if str(step.get("uses", "")).startswith("your-org/kfsync@") and step["with"]["command"] != "validate"
    ]
    assert len(live) == 3 * len(RECIPES)  # plan, apply and drift in each
    for where, step in live:
        assert step["env"] == expected, where


@pytest.mark.parametrize("path", [*RECIPES, *GITLAB_RECIPES], ids=lambda p: p.name)
def test_recipes_tell_a_wecom_user_what_to_set(path: Path) -> None:
    header = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#"))
    for name in (*CREDENTIALS["official_account"], *CREDENTIALS["wecom"]):
        assert name in header, f"{path.name} does not name {name}"
    assert "WeCom corp" in header


def test_one_apply_per_account_at_a_time() -> None:
    expected = {
        "github-actions.yml": "kfsync-apply-shop_cs",
        "github-actions-many.yml": "kfsync-apply-${{ matrix.account }}",
    }
    for path in RECIPES:
        jobs = _load(path)["jobs"]
        for name in ("apply", "drift"):
            assert jobs[name]["concurrency"] == {"group": expected[path.name], "cancel-in-progress": False}
        assert "${{ github.event.pull_request.number }}" in jobs["plan"]["concurrency"]["group"]


def test_many_accounts_run_one_job_per_account() -> None:
    jobs = _load(CI / "github-actions-many.yml")["jobs"]
    for name in ("validate", "plan", "apply", "drift"):
        assert jobs[name]["strategy"]["matrix"]["account"] == ["shop_a", "shop_b"], name
        assert jobs[name]["strategy"]["fail-fast"] is False
    assert jobs["plan"]["environment"] == {"name": "kfsync-plan-${{ matrix.account }}", "deployment": False}
    assert jobs["apply"]["environment"] == "kfsync-${{ matrix.account }}"
    gitlab = _load(CI / "gitlab-ci-many.yml")["include"][0]["inputs"]
    assert gitlab["accounts"] == ["shop_a", "shop_b"]


def test_the_nightly_drift_check_is_kept() -> None:
    for path in RECIPES:
        workflow = _load(path)
        assert _on(workflow)["schedule"], path.name
        drift = workflow["jobs"]["drift"]
        assert drift["steps"][-1]["if"] == "steps.drift.outputs.changes == 'true'"


def test_action_interface_is_the_documented_one() -> None:
    action = _load(ACTION)
    assert set(action["inputs"]) == {
        "command",
        "config",
        "working-directory",
        "comment",
        "args",
        "python-version",
    }
    assert set(action["outputs"]) == {"exitcode", "changes"}
    assert action["runs"]["using"] == "composite"
    install = next(s for s in action["runs"]["steps"] if s.get("id") == "install")
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    for command in ("plan", "apply", "validate"):
        assert command in cli.COMMANDS


def test_recipes_install_nothing_from_a_package_index() -> None:
    for path in [*RECIPES, *GITLAB_RECIPES, ROOT / "templates" / "kfsync.yml"]:
        text = path.read_text(encoding="utf-8")
        assert "kfsync==" not in text, path.name
        assert not re.search(r"pip install [\"']?kfsync\b", text), path.name


def test_release_publishes_with_trusted_publishing_then_attests() -> None:
    jobs = _load(RELEASE)["jobs"]
    assert list(jobs) == ["build", "publish", "attest"]
    assert jobs["publish"]["needs"] == "build"
    assert jobs["attest"]["needs"] == "publish"
    assert jobs["publish"]["environment"]["name"] == "pypi"
    assert "TWINE_PASSWORD" not in RELEASE.read_text(encoding="utf-8")
    assert "--require-hashes" in RELEASE.read_text(encoding="utf-8")


def test_release_tools_are_pinned_by_hash() -> None:
    lock = (ROOT / "requirements" / "release.txt").read_text(encoding="utf-8")
    pinned = re.findall(r"^([a-z0-9-]+)==\S+", lock, re.M)
    assert {"build", "twine", "hatchling"} <= set(pinned)
    for block in re.split(r"\n(?=[a-z])", lock.split("\n", 2)[2]):
        if "==" in block:
            assert "--hash=sha256:" in block, block.splitlines()[0]


def test_pre_commit_hook_runs_validate() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = hooks
    assert hook["id"] == "kfsync-validate"
    assert hook["entry"].split()[:2] == ["kfsync", "validate"]
    assert hook["pass_filenames"] is False


@pytest.mark.parametrize(
    ("path", "matches"),
    [
        ("kfsync.yaml", True),
        ("ops/kfsync.yml", True),
        ("avatars/alice.png", True),
        ("README.md", False),
        ("notkfsync.yaml.bak", False),
    ],
)
def test_pre_commit_hook_files_pattern(path: str, matches: bool) -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert bool(re.search(hooks[0]["files"], path)) is matches
