"""`kfsync validate` and `kfsync schema`, through `kfsync.cli.main` as a user runs them."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from kfsync.cli import main
from kfsync.commands.validate import github_annotation
from kfsync.errors import Problem

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "kfsync.yaml"
BROKEN = Path(__file__).parent / "fixtures" / "many_problems.yaml"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def expected_problems(path: Path) -> list[str]:
    lines = path.read_text("utf-8").splitlines()
    return [f"{path}:{line.removeprefix('# expect: ')}" for line in lines if "# expect: " in line]


def test_validate_text_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "validate", "-c", str(EXAMPLE)) == (
        0,
        f"{EXAMPLE}: valid (5 accounts, 1 absent)\n",
        "",
    )


def test_validate_text_invalid(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", "--config", str(BROKEN))
    assert code == 1
    assert out.splitlines() == expected_problems(BROKEN)
    assert err == f"{BROKEN}: invalid, 4 problems\n"


def test_validate_reads_kfsync_yaml_by_default(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(EXAMPLE.parent, tmp_path / "shop")
    monkeypatch.chdir(tmp_path / "shop")
    assert run(capsys, "validate") == (0, "kfsync.yaml: valid (5 accounts, 1 absent)\n", "")


def test_validate_json_valid(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", "-c", str(EXAMPLE), "--format", "json")
    assert code == 0
    assert json.loads(out) == {
        "file": str(EXAMPLE),
        "valid": True,
        "accounts": 5,
        "absent": 1,
        "problems": [],
    }
    assert err == f"{EXAMPLE}: valid (5 accounts, 1 absent)\n"


def test_validate_json_invalid(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", "-c", str(BROKEN), "--format", "json")
    assert code == 1
    document = json.loads(out)
    assert document["valid"] is False
    assert document["problems"][0] == {
        "file": str(BROKEN),
        "line": 11,
        "column": 3,
        "field": "policy.max_delete",
        "message": "policy.max_delete: unknown key; did you mean `max_deletes`?",
    }
    shown = [f"{p['file']}:{p['line']}:{p['column']}: {p['message']}" for p in document["problems"]]
    assert shown == expected_problems(BROKEN)
    assert err == f"{BROKEN}: invalid, 4 problems\n"


def test_validate_github_valid(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", "-c", str(EXAMPLE), "--format", "github")
    assert (code, out) == (0, "")
    assert err == f"{EXAMPLE}: valid (5 accounts, 1 absent)\n"


def test_validate_github_invalid(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", "-c", str(BROKEN), "--format", "github")
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 4
    assert lines[0] == (
        f"::error file={BROKEN},line=11,col=3,title=kfsync validate::"
        "policy.max_delete: unknown key; did you mean `max_deletes`?"
    )
    assert err == f"{BROKEN}: invalid, 4 problems\n"


def test_github_annotations_escape_workflow_command_characters() -> None:
    problem = Problem("a,b:c%.yaml", 3, 4, "100% wrong\r\nsecond line: a, b")
    assert github_annotation(problem) == (
        "::error file=a%2Cb%3Ac%25.yaml,line=3,col=4,title=kfsync validate::"
        "100%25 wrong%0D%0Asecond line: a, b"
    )


def test_validate_one_problem_is_singular(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "kfsync.yaml"
    path.write_text("version: 1\n", "utf-8")
    code, out, err = run(capsys, "validate", "-c", str(path))
    assert code == 1
    assert out.count("\n") == 2  # official_account and accounts are missing
    path.write_text("", "utf-8")
    code, out, err = run(capsys, "validate", "-c", str(path))
    assert (code, err) == (1, f"{path}: invalid, 1 problem\n")


@pytest.mark.parametrize("output", ["text", "json", "github"])
def test_validate_missing_file_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, output: str
) -> None:
    path = tmp_path / "nope.yaml"
    code, out, err = run(capsys, "validate", "-c", str(path), "--format", output)
    assert (code, out) == (1, "")
    assert err == (
        f"kfsync: error: {path}: no such file; create it (see examples/kfsync.yaml) "
        "or pass -c FILE\n"
    )


def test_validate_a_directory_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(capsys, "validate", "-c", str(tmp_path))
    assert (code, out) == (1, "")
    assert err.startswith("kfsync: error: ")
    assert str(tmp_path) in err
    assert err.count("\n") == 1


def test_validate_unknown_format_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", "--format", "xml")
    assert (code, out) == (1, "")
    assert err.startswith("kfsync: error: ")
    assert "xml" in err


def test_validate_needs_no_credentials(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("KFSYNC_APPID", "KFSYNC_APPSECRET", "KFSYNC_ACCESS_TOKEN", "KFSYNC_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    assert run(capsys, "validate", "-c", str(EXAMPLE))[0] == 0


def test_schema_prints_the_shipped_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "schema")
    assert (code, err) == (0, "")
    assert out == (ROOT / "schemas" / "kfsync.schema.json").read_text("utf-8")
    assert json.loads(out)["title"] == "kfsync.yaml"


DUPLICATES = Path(__file__).parent / "fixtures" / "duplicates_and_sixteen_more.yaml"


@pytest.mark.parametrize("output", ["text", "json", "github"])
def test_validate_reports_duplicate_keys_with_every_other_problem_at_once(
        capsys: pytest.CaptureFixture[str], output: str) -> None:
    code, out, err = run(capsys, "validate", "-c", str(DUPLICATES), "--format", output)
    assert code == 1
    wanted = expected_problems(DUPLICATES)
    assert len(wanted) == 18
    assert sum("duplicate key" in line for line in wanted) == 2
    if output == "json":
        shown = [f"{p['file']}:{p['line']}:{p['column']}: {p['message']}"
                 for p in json.loads(out)["problems"]]
    elif output == "github":
        annotation = re.compile(r"::error file=(.+?),line=(\d+),col=(\d+),title=kfsync validate::(.*)")
        found = [annotation.fullmatch(line) for line in out.splitlines()]
        shown = [f"{m[1]}:{m[2]}:{m[3]}: {m[4]}" if m else "" for m in found]
    else:
        shown = out.splitlines()
    assert shown == wanted
    assert err == f"{DUPLICATES}: invalid, 18 problems\n"
