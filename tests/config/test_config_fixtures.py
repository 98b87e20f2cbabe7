"""One fixture file per failure mode; each names its exact problems in `# expect:` header lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfsync.config import load_config
from kfsync.errors import ConfigError, Problem

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(FIXTURES.glob("*.yaml"))


def expected(path: Path) -> list[str]:
    lines = path.read_text("utf-8").splitlines()
    found = [line.removeprefix("# expect: ") for line in lines if line.startswith("# expect: ")]
    assert found, f"{path.name} has no '# expect:' line"
    return [] if found == ["valid"] else found


def problems(path: Path) -> list[str]:
    found: tuple[Problem, ...] = ()
    try:
        load_config(path)
    except ConfigError as exc:
        found = exc.problems
    assert all(problem.file == str(path) for problem in found)
    return [f"{p.line}:{p.column}: {p.message}" for p in found]


def test_there_is_a_fixture_for_every_failure_mode() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_fixture(path: Path) -> None:
    assert problems(path) == expected(path)


def test_the_exception_message_is_the_first_problem_and_a_count() -> None:
    path = FIXTURES / "many_problems.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    first = caught.value.problems[0]
    assert str(caught.value) == f"{path}:{first.line}:{first.column}: {first.message} (and 3 more)"
    assert first.field == "policy.max_delete"
