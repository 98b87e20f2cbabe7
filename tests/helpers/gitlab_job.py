"""Run a job of a rendered GitLab pipeline here, as a GitLab runner would, for the tests.

`extends:` is merged (hashes deep, everything else replaced), `rules:` are evaluated with the
part of GitLab's expression language the component uses (`$VAR`, `==`, `!=` against a string
or another variable, `&&`, `||`), variables are expanded (`$VAR`, `${VAR}`), and the job's
`before_script` and `script` run in one bash with `set -eo pipefail`, line by line, as the
runner runs them.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
CONDITION = re.compile(r'^\s*\$(\w+)\s*(?:(==|!=)\s*(?:"([^"]*)"|\$(\w+)))?\s*$')


def merged(pipeline: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The job `name` with what it extends merged in, as GitLab merges `extends:`."""
    job = dict(pipeline[name])
    parents = job.pop("extends", [])
    base: dict[str, Any] = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        base = _deep_merge(base, merged(pipeline, parent))
    return _deep_merge(base, job)


def _deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = _deep_merge(result[key], value)
        else:
            result[key] = value
    return result


def expand(text: str, variables: Mapping[str, str]) -> str:
    """`$VAR` and `${VAR}` replaced by their values; unknown variables become empty, as in GitLab."""
    return VARIABLE.sub(lambda m: variables.get(m.group(1) or m.group(2), ""), text)


def condition(expression: str, variables: Mapping[str, str]) -> bool:
    """One `rules:if` expression: `||` of `&&` of comparisons (no parentheses in the component)."""
    return any(
        all(_compare(part, variables) for part in alternative.split("&&"))
        for alternative in expression.split("||")
    )


def _compare(part: str, variables: Mapping[str, str]) -> bool:
    match = CONDITION.match(part)
    if not match:
        raise ValueError(f"expression not emulated: {part!r}")
    name, operator, literal, other = match.groups()
    left = variables.get(name)
    if operator is None:
        return bool(left)
    right = literal if literal is not None else variables.get(other)
    return (left == right) if operator == "==" else (left != right)


def runs(job: Mapping[str, Any], variables: Mapping[str, str], changed: set[str] | None = None) -> bool:
    """Whether the job's `rules:` put it in a pipeline with these variables (and changed files)."""
    for rule in job.get("rules", []):
        if "if" in rule and not condition(rule["if"], variables):
            continue
        if "changes" in rule and changed is not None and not _any_changed(rule["changes"], changed):
            continue
        return bool(rule.get("when", "on_success") != "never")
    return False


def _any_changed(patterns: list[str], changed: set[str]) -> bool:
    from fnmatch import fnmatch

    return any(fnmatch(path, pattern.replace("**/*", "*")) for pattern in patterns for path in changed)


def job_variables(job: Mapping[str, Any], ci: Mapping[str, str], matrix: Mapping[str, str]) -> dict[str, str]:
    """The job's environment: CI's own variables, the matrix entry, then the job's, expanded."""
    values = {**ci, **matrix}
    for name, value in job.get("variables", {}).items():
        values[name] = expand(str(value), values)
    return values


def run(
    job: Mapping[str, Any], env: Mapping[str, str], cwd: Path, *, skip: int = 0
) -> subprocess.CompletedProcess[str]:
    """`before_script` (less its first `skip` lines) and `script`, as the runner runs them."""
    lines = [*job.get("before_script", [])[skip:], *job["script"]]
    script = "set -eo pipefail\n" + "\n".join(lines) + "\n"
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
