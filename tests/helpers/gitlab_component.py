"""Render a GitLab CI/CD component with its inputs, as GitLab does when a pipeline includes it.

GitLab reads the `spec:` header, fills in the defaults, checks the types, and replaces every
`$[[ inputs.NAME ]]` and `$[[ component.FIELD ]]`: a value that is only an interpolation takes
the input's own type (an array stays an array), one inside a longer string is text. The result
is an ordinary pipeline, which the tests check against GitLab's schema and whose job scripts
they run. `python gitlab_component.py FILE [NAME=VALUE ...]` prints it as JSON.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

INTERPOLATION = re.compile(r"\$\[\[\s*(inputs|component)\.([A-Za-z0-9_-]+)\s*\]\]")
TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "array": list,
    "boolean": bool,
    "number": (int, float),
}


def load(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The component's `spec` and its body, unrendered."""
    header, body = yaml.safe_load_all(path.read_text(encoding="utf-8"))
    return header["spec"], body


def resolve_inputs(spec: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Defaults filled in and types checked, as GitLab does; unknown or missing inputs fail."""
    declared = spec.get("inputs", {})
    unknown = set(given) - set(declared)
    if unknown:
        raise ValueError(f"unknown inputs: {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, rule in declared.items():
        if name in given:
            value = given[name]
        elif "default" in rule:
            value = rule["default"]
        else:
            raise ValueError(f"input {name} is required")
        expected = TYPES[rule.get("type", "string")]
        if not isinstance(value, expected):
            raise ValueError(f"input {name} must be a {rule.get('type', 'string')}")
        if "options" in rule and value not in rule["options"]:
            raise ValueError(f"input {name} must be one of {rule['options']}")
        values[name] = value
    return values


def render(path: Path, given: dict[str, Any], component: dict[str, str]) -> dict[str, Any]:
    """The pipeline the component becomes with these inputs and this component context."""
    spec, body = load(path)
    inputs = resolve_inputs(spec, given)
    allowed = set(spec.get("component", []))

    def value(kind: str, name: str) -> Any:
        if kind == "inputs":
            return inputs[name]
        if name not in allowed:
            raise ValueError(f"component.{name} is used but not declared in spec:component")
        return component[name]

    def text(match: re.Match[str]) -> str:
        found = value(match.group(1), match.group(2))
        return str(found).lower() if isinstance(found, bool) else str(found)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {walk(key): walk(item) for key, item in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, str):
            whole = INTERPOLATION.fullmatch(node.strip())
            if whole:
                return value(whole.group(1), whole.group(2))
            return INTERPOLATION.sub(text, node)
        return node

    rendered: dict[str, Any] = walk(body)
    return rendered


if __name__ == "__main__":
    pairs = dict(arg.split("=", 1) for arg in sys.argv[2:])
    context = {"sha": "0" * 40, "version": "0.0.0", "name": "kfsync", "reference": "0.0.0"}
    print(json.dumps(render(Path(sys.argv[1]), pairs, context), indent=2))
