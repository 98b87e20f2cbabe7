"""Run a composite GitHub Action's shell steps here, as a runner would, for the tests.

The steps that `uses:` another action (setup-python, cache, upload-artifact) are not run: the
test gives their outputs. Every `run:` step gets its `env:` and `working-directory:` evaluated
with the small part of GitHub's expression language the action uses (context paths, string
literals, `==`, `!=`, `&&`, `||`, `!`, `format()` and `hashFiles()` left as text), its own
`$GITHUB_OUTPUT` file, and runs as `bash --noprofile --norc -eo pipefail`, like `shell: bash`.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
TOKEN = re.compile(r"\s*(?:('(?:[^']|'')*')|(==|!=|&&|\|\||!|\(|\)|,)|([A-Za-z_][\w.-]*))")


def _tokens(source: str) -> list[str]:
    found: list[str] = []
    position = 0
    source = source.strip()
    while position < len(source):
        match = TOKEN.match(source, position)
        if not match or match.end() == position:
            raise ValueError(f"cannot read the expression {source!r} at {position}")
        found.append(match.group(0).strip())
        position = match.end()
    return found


class _Parser:
    """`a || b`, `a && b`, `a == b`, `!a`, `'text'`, `true`, `false`, `context.path`, `f(x, y)`."""

    def __init__(self, source: str, context: Mapping[str, Any]) -> None:
        self.items = _tokens(source)
        self.context = context
        self.at = 0

    def parse(self) -> Any:
        value = self._or()
        if self.at != len(self.items):
            raise ValueError(f"unexpected {self.items[self.at]!r}")
        return value

    def _peek(self) -> str | None:
        return self.items[self.at] if self.at < len(self.items) else None

    def _take(self) -> str:
        self.at += 1
        return self.items[self.at - 1]

    def _or(self) -> Any:
        return self._chain("||", self._and)

    def _and(self) -> Any:
        return self._chain("&&", self._compare)

    def _chain(self, operator: str, operand: Callable[[], Any]) -> Any:
        """`a OP b OP c`, left to right; like GitHub, `||` and `&&` give an operand, not a bool."""
        value = operand()
        while self._peek() == operator:
            self._take()
            right = operand()
            value = (value or right) if operator == "||" else (value and right)
        return value

    def _compare(self) -> Any:
        value = self._unary()
        while self._peek() in ("==", "!="):
            operator = self._take()
            right = self._unary()
            same = str(value).lower() == str(right).lower()  # GitHub compares strings ignoring case
            value = same if operator == "==" else not same
        return value

    def _unary(self) -> Any:
        if self._peek() == "!":
            self._take()
            return not self._unary()
        if self._peek() == "(":
            self._take()
            value = self._or()
            self._take()
            return value
        item = self._take()
        if item.startswith("'"):
            return item[1:-1].replace("''", "'")
        if item in ("true", "false"):
            return item == "true"
        if self._peek() == "(":
            self._take()
            arguments = []
            while self._peek() != ")":
                arguments.append(self._or())
                if self._peek() == ",":
                    self._take()
            self._take()
            return _call(item, arguments)
        return _lookup(self.context, item)


def _call(name: str, arguments: list[Any]) -> Any:
    if name == "format":
        template, *values = arguments
        return re.sub(r"\{(\d+)\}", lambda m: str(values[int(m.group(1))]), template)
    if name == "hashFiles":
        return "hash(" + ",".join(map(str, arguments)) + ")"
    raise ValueError(f"function {name} is not emulated")


def _lookup(context: Mapping[str, Any], path: str) -> Any:
    node: Any = context
    for part in path.split("."):
        node = node.get(part, "") if isinstance(node, Mapping) else ""
    return node


def evaluate(text: str, context: Mapping[str, Any]) -> str:
    """`text` with every `${{ … }}` replaced by its value, as GitHub renders it into a string."""

    def one(match: re.Match[str]) -> str:
        value = _Parser(match.group(1), context).parse()
        if isinstance(value, bool):
            return "true" if value else "false"
        return "" if value is None else str(value)

    return EXPRESSION.sub(one, text)


@dataclass
class StepRun:
    """One shell step: its exit status, what it printed and the outputs it wrote."""

    id: str
    code: int
    out: str
    err: str
    outputs: dict[str, str] = field(default_factory=dict)


def read_outputs(path: Path) -> dict[str, str]:
    """`name=value` lines (the only form the action writes) of a `$GITHUB_OUTPUT` file."""
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, _, value = line.partition("=")
        found[name] = value
    return found


def run_composite(
    action: Path,
    *,
    inputs: Mapping[str, str],
    github: Mapping[str, Any],
    runner_temp: Path,
    workspace: Path,
    env: Mapping[str, str],
    given_outputs: Mapping[str, Mapping[str, str]],
) -> list[StepRun]:
    """Run the action's shell steps in order, stopping at the first that fails, as GitHub does."""
    document = yaml.safe_load(action.read_text(encoding="utf-8"))
    declared = document["inputs"]
    values = {name: inputs.get(name, spec.get("default", "")) for name, spec in declared.items()}
    steps: dict[str, dict[str, Any]] = {k: {"outputs": dict(v)} for k, v in given_outputs.items()}
    context = {
        "inputs": values,
        "github": github,
        "runner": {"temp": str(runner_temp), "os": "Linux"},
        "steps": steps,
    }
    runs: list[StepRun] = []
    for number, step in enumerate(document["runs"]["steps"]):
        step_id = step.get("id", f"step{number}")
        if "run" not in step or step_id in given_outputs:
            continue
        if "if" in step and not _Parser(step["if"], context).parse():
            continue
        output = runner_temp / f"output-{number}"
        output.write_text("", encoding="utf-8")
        step_env = {**env, "GITHUB_OUTPUT": str(output), "RUNNER_TEMP": str(runner_temp)}
        step_env |= {name: evaluate(str(value), context) for name, value in step.get("env", {}).items()}
        folder = workspace / evaluate(step.get("working-directory", "."), context)
        script = runner_temp / f"step-{number}.sh"
        script.write_text(step["run"], encoding="utf-8")
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=folder,
            env=step_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        outputs = read_outputs(output)
        steps[step_id] = {"outputs": outputs}
        runs.append(StepRun(step_id, done.returncode, done.stdout, done.stderr, outputs))
        if done.returncode != 0:
            break
    return runs


def base_env(home: Path) -> dict[str, str]:
    """A runner-like environment: PATH and the locale from here, nothing else of this process."""
    keep = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")
    return {name: os.environ[name] for name in keep if name in os.environ} | {"HOME": str(home)}
