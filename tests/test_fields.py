"""The account fields, declared once in the model: the plan document's schema and the change values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kfsync.model import AVATAR, COMPARED, FIELDS, INVITE_WX, NAME, NICKNAME, UPDATABLE, Values, label
from kfsync.plan import Action, Change

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "schemas" / "plan.schema.json")
                    .read_text(encoding="utf-8"))


def test_the_plan_schema_describes_exactly_the_declared_fields() -> None:
    assert set(SCHEMA["$defs"]["fields"]["properties"]) == set(FIELDS)


def test_the_compared_and_updatable_fields_come_from_the_declarations() -> None:
    assert UPDATABLE == (NICKNAME, NAME)
    assert [f.name for f in COMPARED] == ["nickname", "name", "avatar", "kf_wx", "id", "users",
                                          "departments"]
    assert AVATAR.picture
    assert not NICKNAME.picture


def test_a_change_keeps_its_values_typed_and_its_document_shape() -> None:
    change = Change(Action.INVITE, "alice@shop_cs", {"invite_wx": None, "invite_status": "expired"},
                    {INVITE_WX.name: "alice_wx"}, "invitation expired")
    assert isinstance(change.after, Values)
    assert change.after.of(INVITE_WX) == "alice_wx"
    assert change.after.of(NICKNAME) is None
    assert change.after == {"invite_wx": "alice_wx"}
    assert change.to_dict()["before"] == {"invite_wx": None, "invite_status": "expired"}
    assert Change.from_dict(change.to_dict()) == change


@pytest.mark.parametrize("value", [1, 2.5, True, ["a"], {"a": "b"}, b"bytes"])
def test_a_value_that_is_not_text_is_refused(value: object) -> None:
    with pytest.raises(TypeError, match="nickname must be a string or null"):
        Values({"nickname": value})


def test_a_name_no_field_declares_is_shown_as_it_is() -> None:
    assert label("nickname") == NICKNAME.label
    assert label("from_elsewhere") == "from_elsewhere"
    assert Values({"from_elsewhere": "x"}).of(NICKNAME) is None
