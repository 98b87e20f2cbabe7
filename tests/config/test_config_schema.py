"""The JSON Schema: well formed, fully described, strict, and the source of the defaults."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from kfsync.config import DesiredAccount, Policy, load_config
from kfsync.config.resources import data_path, schema_bytes
from kfsync.config.schema import apply_defaults, load_schema, schema_problems, show
from kfsync.config.yamlsafe import parse

ROOT = Path(__file__).parents[2]
SCHEMA_FILE = ROOT / "schemas" / "kfsync.schema.json"


def subschemas(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from subschemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from subschemas(value)


def test_the_schema_is_valid_draft_2020_12() -> None:
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_the_loader_reads_the_repository_schema_byte_for_byte() -> None:
    assert schema_bytes() == SCHEMA_FILE.read_bytes()
    assert (
        data_path("examples", "kfsync.yaml").read_bytes()
        == (ROOT / "examples" / "kfsync.yaml").read_bytes()
    )


def test_every_property_is_described_and_every_object_is_closed() -> None:
    schema = load_schema()
    for node in subschemas(schema):
        for name, sub in node.get("properties", {}).items():
            target = schema["$defs"][sub["$ref"].split("/")[-1]] if "$ref" in sub else {}
            assert sub.get("description") or target.get("description"), name
        if "properties" in node and node.get("type") == "object":
            assert node.get("additionalProperties") is False


def test_every_enum_says_what_each_value_means() -> None:
    enums = [node for node in subschemas(load_schema()) if "enum" in node]
    assert len(enums) == 3
    for node in enums:
        assert len(node["enumDescriptions"]) == len(node["enum"])
        assert len(node.get("markdownEnumDescriptions", node["enum"])) == len(node["enum"])


def test_every_pattern_has_a_message() -> None:
    for node in subschemas(load_schema()):
        if "pattern" in node:
            assert node.get("patternErrorMessage"), node["pattern"]


def test_defaults_come_from_the_schema() -> None:
    schema = load_schema()
    policy = schema["properties"]["policy"]["properties"]
    filled = apply_defaults(schema, {"accounts": {"a": {"nickname": "A"}}})
    assert filled == {
        "accounts": {"a": {"nickname": "A", "state": "present"}},
        "policy": {name: sub["default"] for name, sub in policy.items()},
    }
    config = load_config(ROOT / "examples" / "minimal.yaml")
    assert config.policy.to_dict() == {name: sub["default"] for name, sub in policy.items()}
    # The model's constructor defaults, for tests, must say the same.
    assert Policy().to_dict() == config.policy.to_dict()
    state = schema["$defs"]["account"]["properties"]["state"]["default"]
    assert DesiredAccount("a").state == state


def test_defaults_leave_given_values_and_wrong_types_alone() -> None:
    schema = load_schema()
    assert apply_defaults(schema, {"policy": {"max_deletes": 5}})["policy"]["max_deletes"] == 5  # type: ignore[index]
    assert apply_defaults(schema, {"policy": "none", "accounts": []}) == {
        "policy": "none",
        "accounts": [],
    }
    assert apply_defaults(schema, None) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [("wechat_id", "shop_cs\n"), ("appid", "wx0123456789abcdef\n")],
)
def test_patterns_anchor_at_the_very_end_as_in_editors(field: str, value: str) -> None:
    """Python's `$` also matches before a final newline; ECMA-262's (editors') does not."""
    document = {"version": 1, "official_account": {"wechat_id": "shop_cs"}, "accounts": {}}
    document["official_account"][field] = value  # type: ignore[index]
    data, positions = parse(json.dumps(document), "f.yaml")
    [problem] = schema_problems(data, positions, load_schema(), "f.yaml")
    assert problem.field == f"official_account.{field}"


def test_values_are_shown_as_written_and_long_text_is_cut_short() -> None:
    assert [show("ab"), show(True), show(None), show(2), show([1]), show({})] == [
        '"ab"',
        "true",
        "nothing",
        "2",
        "a list",
        "a mapping",
    ]
    assert show("x" * 100) == '"' + "x" * 57 + '…"'
