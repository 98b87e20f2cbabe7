"""The CI recipes and the pre-commit hook are valid, and agree with the code they drive."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kfsync import cli
from kfsync.render.markdown import marker

ROOT = Path(__file__).resolve().parent.parent
CI = ROOT / "examples" / "ci"


def _check_jsonschema() -> str:
    found = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    found = found or shutil.which("check-jsonschema")
    assert found, "check-jsonschema is part of the test extra"
    return found


@pytest.mark.parametrize(
    ("recipe", "schema"),
    [("github-actions.yml", "vendor.github-workflows"), ("gitlab-ci.yml", "vendor.gitlab-ci")],
)
def test_recipe_passes_its_platform_schema(recipe: str, schema: str) -> None:
    result = subprocess.run(
        [_check_jsonschema(), "--builtin-schema", schema, str(CI / recipe)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("recipe", ["github-actions.yml", "gitlab-ci.yml"])
def test_recipe_uses_the_markdown_marker_and_real_commands(recipe: str) -> None:
    text = (CI / recipe).read_text(encoding="utf-8")
    assert marker("shop_cs") in text
    for command in ("validate", "plan", "apply"):
        assert f"kfsync {command}" in text
        assert command in cli.COMMANDS
    assert "--detailed-exitcode" in text
    assert "--format markdown" in text


def test_github_apply_job_never_races() -> None:
    workflow = yaml.safe_load((CI / "github-actions.yml").read_text(encoding="utf-8"))
    apply = workflow["jobs"]["apply"]
    assert apply["concurrency"]["group"] == "kfsync-apply-shop_cs"
    assert apply["concurrency"]["cancel-in-progress"] is False
    assert "pull_request_target" not in workflow[True]  # `on:` parses as True in YAML 1.1


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
    import re

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert bool(re.search(hooks[0]["files"], path)) is matches
