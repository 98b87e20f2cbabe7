"""The JSON Schema at run time: validation with precise messages, and the defaults it declares.

`schemas/kfsync.schema.json` is the single source of truth for the shape of
kfsync.yaml: allowed keys, types, enums, patterns, lengths and defaults.  This
module turns each jsonschema error into a `Problem` at the exact position of
the offending key or value, with a message that names the field and says what
to do (`did you mean ...` for misspelt keys and values).  Custom messages come
from the schema itself (`errorMessage`, `patternErrorMessage`, the same
keywords editors show).

One file is for an Official Account (`official_account:`) or for a WeCom corp
(`wecom:`): the schema's top-level `if`/`then`/`else` picks the shape of the
accounts and globs by the presence of `wecom`, and the defaults follow the same
choice.  A key of the other product is declared in each account's schema as
`not: {}` with a message saying so; such keys are never offered as suggestions.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from kfsync import __version__
from kfsync.config.positions import FieldPath, Positions
from kfsync.config.resources import schema_bytes
from kfsync.errors import Problem
from kfsync.textsafe import visible

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

    from kfsync.cache import SchemaVerdicts

Schema = Mapping[str, Any]

_TYPE_WORDS = {
    "object": "a mapping (key: value lines)",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}


def load_schema() -> dict[str, Any]:
    """The shipped schema, parsed (read afresh on every call; nothing is cached)."""
    schema: dict[str, Any] = json.loads(schema_bytes())
    return schema


def _ecma_pattern(
    validator: Any, pattern: str, instance: object, schema: Schema
) -> Iterator[ValidationError]:
    """`pattern` with ECMA-262's `$`: Python's also matches before a final newline."""
    if not isinstance(instance, str):
        return
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    if re.search(pattern, instance) is None:
        from jsonschema.exceptions import ValidationError

        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def show(value: object) -> str:
    """A value as a person would write it in YAML (long text cut short, controls escaped)."""
    if isinstance(value, str):
        cut = value if len(value) <= 60 else value[:57] + "…"
        return visible(json.dumps(cut, ensure_ascii=False))
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word.lower(), [c.lower() for c in choices], n=1, cutoff=0.6)
    return next((c for c in choices if close and c.lower() == close[0]), "")


#: what the file is for, named when the file says neither
_PRODUCTS = ("the file needs `official_account:` (for an Official Account's kf accounts) or `wecom:` "
             "(for a WeCom corp's accounts); add one")


def _refused(schema: Schema, node: object) -> bool:
    """Whether `node` (a property's schema) forbids the property outright (`not: {}`)."""
    while isinstance(node, Mapping) and "$ref" in node:
        node = schema.get("$defs", {}).get(node["$ref"].removeprefix("#/$defs/"))
    return isinstance(node, Mapping) and node.get("not") == {}


class _Reporter:
    """Collects Problems for one document's schema errors."""

    def __init__(self, positions: Positions, display: str, schema: Schema) -> None:
        self.positions = positions
        self.display = display
        self.schema = schema
        self.problems: list[Problem] = []
        self.suggested: set[tuple[FieldPath, str]] = set()  #: (mapping, key) named in a hint
        self.reported: set[tuple[FieldPath, str]] = set()  #: (mapping, key) reported missing

    def add(self, path: FieldPath, message: str, *, at_key: bool = False) -> None:
        self.problems.append(self.positions.problem(self.display, path, message, at_key=at_key))

    def unknown_keys(self, path: FieldPath, instance: Mapping[str, object], schema: Schema) -> None:
        properties = schema.get("properties", {})
        allowed = [name for name, sub in properties.items() if not _refused(self.schema, sub)]
        for key in instance:
            if key in allowed:
                continue
            guess = _suggest(key, allowed)
            if guess:
                self.suggested.add((path, guess))
                hint = f"did you mean `{guess}`?"
            else:
                hint = f"allowed here: {', '.join(allowed)}"
            self.add((*path, key), f"unknown key; {hint}", at_key=True)

    def missing(self, path: FieldPath, instance: Mapping[str, object], required: list[str]) -> None:
        # jsonschema reports each missing name as an error of its own, all with the same list.
        for name in required:
            if name in instance or (path, name) in self.suggested | self.reported:
                continue
            self.reported.add((path, name))
            if not path and name == "official_account":  # required only when `wecom` is absent
                if (path, "wecom") not in self.suggested:
                    self.add(path, _PRODUCTS, at_key=True)
                continue
            if len(path) == 2 and path[0] == "accounts" and name == "nickname":
                if (
                    instance.get("state", "present") != "present"
                    or (path, "state") in self.suggested
                ):
                    continue  # a misspelt state: absent, reported on its own
                self.add(
                    path, "needs a nickname (or `state: absent` to delete the account)", at_key=True
                )
            else:
                self.add(path, f"`{name}` is missing; add it", at_key=True)

    def wrong(self, error: ValidationError) -> None:
        """Any error that is about one value."""
        path = tuple(error.absolute_path)
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        value: Any = error.instance
        expected: Any = error.validator_value
        if "propertyNames" in error.absolute_schema_path:
            message = schema.get("patternErrorMessage", error.message)
            if error.validator in ("minLength", "maxLength") and isinstance(value, str):
                message += f"; this one has {len(value)}"
            self.add((*path, value), message, at_key=True)
            return
        keyword = error.validator
        got = f", got {show(value)}"
        if keyword == "pattern":
            message = schema.get("patternErrorMessage", "has the wrong form") + got
        elif "errorMessage" in schema:
            message = schema["errorMessage"] + (got if keyword in ("enum", "type") else "")
        elif keyword == "type":
            message = self._type_message(path, expected, value)
        elif keyword == "enum":
            choices = [str(choice) for choice in expected]
            guess = _suggest(str(value), choices)
            hint = f"; did you mean `{guess}`?" if guess else ""
            message = f"must be one of {', '.join(choices)}{got}{hint}"
        elif keyword in ("minLength", "maxLength"):
            low, high = schema.get("minLength", 0), schema.get("maxLength")
            if high is not None:
                message = f"must be {low} to {high} characters, got {len(value)}"
            elif low == 1:
                message = "must not be empty"
            else:
                message = f"must be at least {low} characters, got {len(value)}"
        elif keyword == "minimum":
            message = f"must be at least {expected}{got}"
        elif keyword == "maximum":
            message = f"must be at most {expected}{got}"
        elif keyword == "uniqueItems":
            repeat = next(i for i, item in enumerate(value) if item in value[:i])
            path, message = (*path, repeat), f"{show(value[repeat])} is listed twice; remove one"
        else:
            message = error.message
        # A key refused outright is placed on its key when its value spans lines of its own.
        self.add(path, message, at_key=keyword == "not" and isinstance(value, (dict, list)))

    def _type_message(self, path: FieldPath, expected: str | list[str], value: object) -> str:
        if not path:
            if value is None:
                return ("the file is empty; it needs version, official_account (or wecom) "
                        "and accounts")
            return ("the file must be a mapping with version, official_account (or wecom) "
                    "and accounts")
        types = [expected] if isinstance(expected, str) else expected
        wanted = " or ".join(_TYPE_WORDS.get(name, name) for name in types)
        message = f"must be {wanted}, got {show(value)}"
        plain = self.positions.plain.get(path)
        if expected == "string" and plain is not None:
            message += f"; write it in quotes: {visible(json.dumps(plain, ensure_ascii=False))}"
        return message


def schema_problems(
    data: object, positions: Positions, schema: Schema, display: str
) -> list[Problem]:
    """Every way `data` breaks the schema, as Problems at their positions."""
    from jsonschema import Draft202012Validator, validators

    validator_class = validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator, {"pattern": _ecma_pattern}
    )
    reporter = _Reporter(positions, display, schema)
    errors = validator_class(schema).iter_errors(data)
    product = isinstance(data, dict) and ("official_account" in data or "wecom" in data)
    # Unknown keys first, so that a misspelt required key is reported once, as a misspelling.
    for error in sorted(errors, key=lambda error: error.validator != "additionalProperties"):
        path = tuple(error.absolute_path)
        if error.absolute_schema_path[0] == "else" and not product and (
            ((), "wecom") in reporter.suggested
        ):
            continue  # an Official Account's shape, only because `wecom` is misspelt
        if error.validator == "additionalProperties" and isinstance(error.schema, Mapping):
            reporter.unknown_keys(path, error.instance, error.schema)
        elif error.validator == "required":
            reporter.missing(path, error.instance, error.validator_value)
        else:
            reporter.wrong(error)
    return reporter.problems


def schema_problems_memo(
    data: object, positions: Positions, schema: Schema, display: str,
    memo: SchemaVerdicts | None,
) -> list[Problem]:
    """`schema_problems`, remembering in `memo` the data found to have none.

    Validation is a function of the data and the schema alone, so the key is a
    digest of both (and of this kfsync's version, which owns the checks):
    unchanged data, however it is formatted, is not validated again.
    """
    key = _memo_key(data, schema) if memo is not None else None
    if memo is None or key is None:
        return schema_problems(data, positions, schema, display)
    if memo.known_valid(key):
        return []
    problems = schema_problems(data, positions, schema, display)
    if not problems:
        memo.remember_valid(key)
    return problems


def _memo_key(data: object, schema: Schema) -> str | None:
    def digest(value: object) -> str:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

    try:
        return f"kfsync-schema:{__version__}:sha256:{digest(schema)}:data:sha256:{digest(data)}"
    except (TypeError, ValueError):  # not JSON-like data: it is simply validated
        return None


def apply_defaults(schema: Schema, data: object) -> object:
    """A copy of `data` with the schema's `default`s filled in wherever a key is missing.

    An `if` that only requires keys (the top level's `wecom`) is decided here, and
    the chosen branch's properties are merged into the node's; any other `if`
    leaves its branches unread, so defaults must not be declared in them.
    """

    def resolve(node: Any) -> Any:
        while isinstance(node, Mapping) and "$ref" in node:
            target = schema["$defs"][node["$ref"].removeprefix("#/$defs/")]
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return node

    def merge(node: Mapping[str, Any], more: Mapping[str, Any]) -> Mapping[str, Any]:
        properties = dict(node.get("properties", {}))
        for name, sub in more.get("properties", {}).items():
            properties[name] = merge(resolve(properties.get(name, {})), resolve(sub))
        return {**node, **more, "properties": properties}

    def branch(node: Mapping[str, Any], value: dict[str, object]) -> Mapping[str, Any]:
        test = node.get("if")
        if not isinstance(test, Mapping) or set(test) != {"required"}:
            return node
        chosen = "then" if all(name in value for name in test["required"]) else "else"
        return merge(node, resolve(node.get(chosen, {})))

    def fill(node: Any, value: object) -> object:
        node = resolve(node)
        if not isinstance(node, Mapping):
            return value
        if isinstance(value, dict):
            node = branch(node, value)
            properties = node.get("properties", {})
            rest = node.get("additionalProperties")
            out = {name: fill(properties.get(name, rest), item) for name, item in value.items()}
            for name, sub in properties.items():
                sub = resolve(sub)
                if name not in out and isinstance(sub, Mapping) and "default" in sub:
                    out[name] = fill(sub, copy.deepcopy(sub["default"]))
            return out
        if isinstance(value, list):
            return [fill(node.get("items"), item) for item in value]
        return value

    return fill(schema, data)
