"""The plan document: a `Plan` as JSON data and back, the one encoding of plans.

`plan_document` writes it (`kfsync plan --format json` prints it; a saved plan
file is one, with its `saved` staleness record); `plan_from_json` is its only
reader and checks the version and the shape once, here at the boundary, so
that nothing deeper handles raw dicts.  The document is versioned
(`format_version`) and described by `schemas/plan.schema.json`.  Renderers
print it; they do not define it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kfsync import __version__
from kfsync.errors import KfsyncError
from kfsync.model import FIELDS, INVITE_WX, Values
from kfsync.plan import Action, Change, Output, PendingInvite, Plan

FORMAT_VERSION = 1
_ACTIONS = ", ".join(a.value for a in Action)


class PlanFormatError(KfsyncError):
    """A plan document is malformed, or of a format version this kfsync cannot read."""


# --------------------------------------------------------------------------- writing


def plan_document(plan: Plan, *, saved: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The plan document; `saved` is the saved-plan writer's staleness record, if any."""
    doc: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "kfsync_version": __version__,
        "wechat_id": plan.wechat_id,
        "changes": [c.to_dict() for c in plan.changes],
        "summary": plan.summary(),
        "unmanaged": list(plan.unmanaged),
        "pending_invites": [p.to_dict() for p in plan.pending_invites],
        "warnings": list(plan.warnings),
        "refusals": list(plan.refusals),
    }
    if plan.outputs:
        doc["outputs"] = [o.to_dict() for o in plan.outputs]
    if plan.actions is not None:
        doc["actions"] = [a.value for a in plan.actions]
    if saved is not None:
        doc["saved"] = dict(saved)
    return doc


# --------------------------------------------------------------------------- reading


def plan_from_json(doc: Any) -> Plan:
    """The plan a plan document (as parsed by `json.loads`) describes.

    Raises `PlanFormatError` naming the first problem: a missing or unknown
    `format_version`, a missing field, a wrong type, an unknown action, or a
    summary that is missing or does not match the changes.
    """
    root = _object(doc, "")
    if "format_version" not in root:
        raise PlanFormatError("not a kfsync plan document: it has no format_version")
    version = root["format_version"]
    if type(version) is not int or version != FORMAT_VERSION:
        raise PlanFormatError(
            f"plan document format_version {_short(version)} is not supported: this kfsync "
            f"({__version__}) reads format_version {FORMAT_VERSION}; create the plan again"
        )
    _string(root, "kfsync_version", "")
    changes = tuple(_change(item, f"changes[{i}]") for i, item in _items(root, "changes"))
    _unique_ids(changes)
    plan = Plan(
        wechat_id=_string(root, "wechat_id", ""),
        changes=changes,
        unmanaged=_strings(root, "unmanaged"),
        pending_invites=tuple(
            _pending(item, f"pending_invites[{i}]") for i, item in _items(root, "pending_invites")
        ),
        warnings=_strings(root, "warnings"),
        refusals=_strings(root, "refusals"),
        outputs=tuple(_output(item, f"outputs[{i}]") for i, item in _items(root, "outputs"))
        if "outputs" in root else (),
        actions=_actions(root) if "actions" in root else None,
    )
    if _get(root, "summary", "") != plan.summary():
        raise _fail("summary", "does not match the changes")
    if "saved" in root:
        _object(root["saved"], "saved")
    return plan


def _actions(root: Mapping[str, Any]) -> tuple[Action, ...]:
    found = []
    for i, name in enumerate(_strings(root, "actions")):
        try:
            found.append(Action(name))
        except ValueError:
            raise _fail(f"actions[{i}]", f"unknown action {_short(name)} (one of {_ACTIONS})") from None
    return tuple(found)


def _fail(where: str, problem: str) -> PlanFormatError:
    return PlanFormatError("plan document: " + (f"{where}: {problem}" if where else problem))


def _short(value: object, limit: int = 60) -> str:
    """A value from the document for a message: its repr (escaped), cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    names: dict[type, str] = {dict: "an object", list: "an array", str: "a string"}
    return names.get(type(value), type(value).__name__)


def _path(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(where, f"expected an object, got {_kind(value)}")
    return value


def _get(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise _fail(where, f"missing {key}")
    return obj[key]


def _string(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = _get(obj, key, where)
    if not isinstance(value, str):
        raise _fail(_path(where, key), f"expected a string, got {_kind(value)}")
    return value


def _items(obj: Mapping[str, Any], key: str) -> enumerate[Any]:
    value = _get(obj, key, "")
    if not isinstance(value, list):
        raise _fail(key, f"expected an array, got {_kind(value)}")
    return enumerate(value)


def _strings(obj: Mapping[str, Any], key: str) -> tuple[str, ...]:
    items = []
    for i, item in _items(obj, key):
        if not isinstance(item, str):
            raise _fail(f"{key}[{i}]", f"expected a string, got {_kind(item)}")
        items.append(item)
    return tuple(items)


def _change(value: Any, where: str) -> Change:
    item = _object(value, where)
    action = _string(item, "action", where)
    if action not in {a.value for a in Action}:
        raise _fail(f"{where}.action", f"{_short(action)} is not one of {_ACTIONS}")
    depends = _get(item, "depends_on", where)
    if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
        raise _fail(f"{where}.depends_on", "expected an array of change ids")
    rebind = _get(item, "rebind", where)
    if not isinstance(rebind, bool):
        raise _fail(f"{where}.rebind", f"expected a boolean, got {_kind(rebind)}")
    change = Change(
        action=Action(action),
        account=_string(item, "account", where),
        before=_fields(_get(item, "before", where), f"{where}.before"),
        after=_fields(_get(item, "after", where), f"{where}.after"),
        reason=_string(item, "reason", where),
        depends_on=tuple(depends),
        rebind=rebind,
    )
    if "id" in item and item["id"] != change.id:
        raise _fail(f"{where}.id", f"{_short(item['id'])} does not match {_short(change.id)}")
    return change


def _fields(value: Any, where: str) -> Mapping[str, Any] | None:
    if value is None:
        return None
    fields = _object(value, where)
    for key, field in fields.items():
        try:
            Values({key: field})
        except TypeError:
            plain = key.isascii() and key.isidentifier() and len(key) <= 40
            step = f".{key}" if plain else f"[{_short(key)}]"
            listed = FIELDS[key].type is tuple if key in FIELDS else isinstance(field, list)
            wanted = "an array of strings" if listed else "a string"
            raise _fail(where + step, f"expected {wanted} or null, got {_kind(field)}") from None
    return dict(fields)


def _output(value: Any, where: str) -> Output:
    item = _object(value, where)
    found = _get(item, "value", where)
    if found is not None and not isinstance(found, str):
        raise _fail(f"{where}.value", f"expected a string or null, got {_kind(found)}")
    return Output(_string(item, "account", where), _string(item, "kind", where),
                  _string(item, "key", where), found)


def _unique_ids(changes: tuple[Change, ...]) -> None:
    seen: set[str] = set()
    for change in changes:
        if change.id in seen:
            raise _fail("changes", f"{_short(change.id)} appears twice")
        seen.add(change.id)


def _pending(value: Any, where: str) -> PendingInvite:
    item = _object(value, where)
    expires = _get(item, "expires", where)
    if type(expires) is not int:
        raise _fail(f"{where}.expires", f"expected a unix time (an integer), got {_kind(expires)}")
    return PendingInvite(
        account=_string(item, "account", where),
        invite_wx=_string(item, INVITE_WX.name, where),
        expires=expires,
    )
