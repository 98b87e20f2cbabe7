"""The JSON plan and apply documents: round trip, schema, and refusing what cannot be read."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

from kfsync import __version__
from kfsync.apply import ApplyResult
from kfsync.plan import Plan
from kfsync.planfile.document import FORMAT_VERSION, PlanFormatError, plan_document, plan_from_json
from kfsync.render import render_apply, render_plan

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "plan.schema.json"
SAVED = {
    "kfsync_version": __version__,
    "config_digest": "sha256:" + "0" * 64,
    "avatar_digests": {"alice": "sha256:" + "1" * 64},
    "live_fingerprint": "sha256:" + "2" * 64,
    "created": "2024-05-01T12:00:00Z",
}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


def _validator(schema: dict[str, Any], pointer: str = "") -> jsonschema.Draft202012Validator:
    resource: Resource[Any] = Resource.from_contents(schema)
    registry: Registry[Any] = Registry().with_resource(schema["$id"], resource)
    return jsonschema.Draft202012Validator(
        {"$ref": f"{schema['$id']}#{pointer}"},
        registry=registry,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


def test_schema_is_valid_draft_2020_12(schema: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_schema_property_is_described(schema: dict[str, Any]) -> None:
    undescribed: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                if "description" not in sub and "$ref" not in sub:
                    undescribed.append(f"{path}/{name}")
            for key, sub in node.items():
                walk(sub, f"{path}/{key}")
        elif isinstance(node, list):
            for index, sub in enumerate(node):
                walk(sub, f"{path}/{index}")

    walk(schema, "")
    assert undescribed == []


@pytest.mark.parametrize("saved", [None, SAVED])
def test_round_trip(sample_plan: Plan, saved: dict[str, Any] | None) -> None:
    text = render_plan(sample_plan, "json", color=False, saved=saved)
    doc = json.loads(text)
    assert doc["format_version"] == FORMAT_VERSION
    assert doc["kfsync_version"] == __version__
    assert doc.get("saved") == saved
    assert plan_from_json(doc) == sample_plan


def test_document_shape(sample_plan: Plan) -> None:
    doc = plan_document(sample_plan)
    assert list(doc) == [
        "format_version", "kfsync_version", "wechat_id", "changes", "summary",
        "unmanaged", "pending_invites", "warnings", "refusals",
    ]
    assert doc["summary"] == sample_plan.summary()
    assert [c["id"] for c in doc["changes"]] == [c.id for c in sample_plan.changes]
    assert doc["pending_invites"] == [
        {"account": "fay@shop_cs", "invite_wx": "wx_fay", "expires": 1714564800}
    ]


def test_json_keeps_cjk_readable(sample_plan: Plan) -> None:
    assert '"小明"' in render_plan(sample_plan, "json", color=False)


@pytest.mark.parametrize("saved", [None, SAVED, {}])
def test_documents_match_the_schema(
    schema: dict[str, Any], sample_plan: Plan, empty_plan: Plan, saved: dict[str, Any] | None
) -> None:
    validator = _validator(schema)
    for plan in (sample_plan, empty_plan):
        validator.validate(json.loads(render_plan(plan, "json", color=False, saved=saved)))


@pytest.mark.parametrize("verify", ["none", "empty", "sample"])
def test_apply_document_matches_the_schema(
    schema: dict[str, Any],
    incomplete_result: ApplyResult,
    sample_plan: Plan,
    verify: str,
) -> None:
    plans = {"none": None, "empty": Plan("shop_cs", ()), "sample": sample_plan}
    doc = json.loads(render_apply(incomplete_result, "json", verify=plans[verify]))
    _validator(schema, "/$defs/apply_document").validate(doc)
    assert doc["format_version"] == 1
    assert doc["complete"] is False
    assert doc["stopped"] == "stopped after WeChat quota error 45009"
    assert doc["counts"] == incomplete_result.counts()
    assert len(doc["outcomes"]) == len(incomplete_result.outcomes)
    if plans[verify] is not None:
        assert plan_from_json(doc["verify"]) == plans[verify]
    else:
        assert doc["verify"] is None


# --------------------------------------------------------------------------- refusing

Edit = Callable[[dict[str, Any]], object]


@pytest.mark.parametrize(
    ("version", "message"),
    [
        (2, "format_version 2 is not supported: this kfsync .* reads format_version 1"),
        (0, "format_version 0 is not supported"),
        ("1", "format_version '1' is not supported"),
        (True, "format_version True is not supported"),
        (None, "format_version None is not supported"),
    ],
)
def test_wrong_format_version(sample_plan: Plan, version: object, message: str) -> None:
    doc = plan_document(sample_plan)
    doc["format_version"] = version
    with pytest.raises(PlanFormatError, match=message):
        plan_from_json(doc)


def test_missing_format_version(sample_plan: Plan) -> None:
    doc = plan_document(sample_plan)
    del doc["format_version"]
    with pytest.raises(PlanFormatError, match="not a kfsync plan document: it has no format_"):
        plan_from_json(doc)


def _parent(doc: dict[str, Any], path: str) -> tuple[Any, Any]:
    """The container holding `path` (`a/0/b`), and the key of `path` in it."""
    *parents, last = path.split("/")
    node: Any = doc
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    return node, int(last) if last.isdigit() else last


def _set(path: str, value: object) -> Edit:
    def edit(doc: dict[str, Any]) -> None:
        node, key = _parent(doc, path)
        node[key] = value

    return edit


def _delete(path: str) -> Edit:
    def edit(doc: dict[str, Any]) -> None:
        node, key = _parent(doc, path)
        del node[key]

    return edit


def _duplicate_first_change(doc: dict[str, Any]) -> None:
    doc["changes"].append(copy.deepcopy(doc["changes"][0]))


# (edit, message, also invalid by the schema)
MALFORMED: list[tuple[str, Edit, str, bool]] = [
    ("no changes", _delete("changes"), "plan document: missing changes", True),
    ("changes object", _set("changes", {}), "changes: expected an array, got an object", True),
    ("change not object", _set("changes/0", "x"), r"changes\[0\]: expected an object, got a string",
     True),
    ("unknown action", _set("changes/0/action", "rename"),
     r"changes\[0\].action: 'rename' is not one of delete, add, update, set_avatar, servicers, invite", True),
    ("no reason", _delete("changes/1/reason"), r"changes\[1\]: missing reason", True),
    ("account number", _set("changes/1/account", 7),
     r"changes\[1\].account: expected a string, got a number", True),
    ("before list", _set("changes/0/before", []),
     r"changes\[0\].before: expected an object, got an array", True),
    ("field number", _set("changes/0/before/nickname", 3),
     r"changes\[0\].before.nickname: expected a string or null, got a number", True),
    ("hostile field name", _set("changes/0/before/\u202e::error::" + "k" * 500, 3),
     r"changes\[0\].before\['\\u202e::error::k{43}…\]: expected a string or null", True),
    ("huge action", _set("changes/0/action", "x" * 100_000),
     r"changes\[0\].action: 'x{58}… is not one of", True),
    ("depends_on str", _set("changes/3/depends_on", "add:x"),
     r"changes\[3\].depends_on: expected an array of change ids", True),
    ("rebind str", _set("changes/0/rebind", "yes"),
     r"changes\[0\].rebind: expected a boolean", True),
    ("wrong id", _set("changes/0/id", "add:someone"),
     r"changes\[0\].id: 'add:someone' does not match", False),
    ("duplicate", _duplicate_first_change, "changes: 'delete:carol@shop_cs' appears twice", False),
    ("summary", _set("summary/add", 9), "summary: does not match the changes", False),
    ("no summary", _delete("summary"), "plan document: missing summary", True),
    ("unmanaged", _set("unmanaged/0", None), r"unmanaged\[0\]: expected a string, got null", True),
    ("expires", _set("pending_invites/0/expires", "soon"),
     r"pending_invites\[0\].expires: expected a unix time \(an integer\), got a string", True),
    ("no wechat_id", _delete("wechat_id"), "plan document: missing wechat_id", True),
    ("saved", _set("saved", []), "saved: expected an object, got an array", True),
]


@pytest.mark.parametrize(
    ("edit", "message", "schema_rejects"),
    [pytest.param(edit, message, rejects, id=name) for name, edit, message, rejects in MALFORMED],
)
def test_malformed_documents(
    schema: dict[str, Any], sample_plan: Plan, edit: Edit, message: str, schema_rejects: bool
) -> None:
    doc = plan_document(sample_plan)
    edit(doc)
    with pytest.raises(PlanFormatError, match=message):
        plan_from_json(doc)
    assert (not _validator(schema).is_valid(doc)) is schema_rejects


@pytest.mark.parametrize("doc", [[], "plan", None, 1])
def test_document_must_be_an_object(doc: object) -> None:
    with pytest.raises(PlanFormatError, match="plan document: expected an object"):
        plan_from_json(doc)
