"""The pure parts of saved plans: comparing a file's plan with the plan made now, the seal,
and the strict JSON reading of a plan file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from kfsync.errors import KfsyncError
from kfsync.model import LiveAccount, describe_drift
from kfsync.plan import Action, Change, Plan
from kfsync.planfile import MAX_PLAN_DEPTH, differences, parse_plan_file
from kfsync.seal import CONTEXT, canonical, seal, seal_key, sealed_by

SUFFIX = "@shop_cs"


def change(action: Action, prefix: str, after: dict[str, Any] | None = None, **fields: Any) -> Change:
    return Change(action, prefix + SUFFIX, fields.pop("before", None), after, fields.pop("reason", "r"),
                  **fields)


NOW = Plan("shop_cs", (
    change(Action.DELETE, "zed", before={"nickname": "Zed"}),
    change(Action.ADD, "amy", {"nickname": "Amy"}),
    change(Action.INVITE, "amy", {"invite_wx": "amy_wx"}, depends_on=("add:amy@shop_cs",)),
), unmanaged=("yan@shop_cs",))


@pytest.mark.parametrize(
    ("saved", "found"),
    [
        (NOW, []),
        (replace(NOW, changes=NOW.changes[::-1]), []),  # order does not matter
        (replace(NOW, warnings=("another warning",), pending_invites=()), []),  # shown as they are now
        (replace(NOW, changes=(*NOW.changes, change(Action.DELETE, "boss"))),
         ["it adds delete:boss@shop_cs"]),
        (replace(NOW, changes=NOW.changes[1:]), ["it leaves out delete:zed@shop_cs"]),
        (replace(NOW, changes=(NOW.changes[0], NOW.changes[1],
                               change(Action.INVITE, "amy", {"invite_wx": "thief_wx"}))),
         ["invite:amy@shop_cs differs in after, depends_on"]),
        (replace(NOW, changes=(replace(NOW.changes[0], rebind=True, reason="x"), *NOW.changes[1:])),
         ["delete:zed@shop_cs differs in reason, rebind"]),
        (replace(NOW, unmanaged=()), ["its unmanaged accounts differ"]),
        (replace(NOW, refusals=("gone",)), ["its refusals differ"]),
        (replace(NOW, wechat_id="other"), ['it is for other, not shop_cs']),
    ],
    ids=["equal", "reordered", "notes-only", "an-extra-delete", "a-delete-left-out", "invite-retargeted",
         "delete-rebind-flag", "unmanaged", "refusals", "official-account"],
)
def test_differences(saved: Plan, found: list[str]) -> None:
    assert differences(saved, NOW) == found


def test_differences_come_in_apply_order() -> None:
    saved = Plan("shop_cs", (change(Action.INVITE, "bo", {"invite_wx": "x"}), change(Action.ADD, "bo", {})),
                 unmanaged=NOW.unmanaged)
    assert differences(saved, NOW) == [
        "it leaves out delete:zed@shop_cs", "it leaves out add:amy@shop_cs", "it adds add:bo@shop_cs",
        "it leaves out invite:amy@shop_cs", "it adds invite:bo@shop_cs"]


DOCUMENT: dict[str, Any] = {"format_version": 1, "changes": [{"id": "x"}],
                            "saved": {"created": "2024-01-01T00:00:00+00:00", "allow_delete": ["a@b"]}}


def test_the_seal_key_is_derived_never_the_secret_and_prefers_kfsync_plan_key() -> None:
    from_secret = seal_key({"KFSYNC_APPSECRET": "s3cret"})
    assert from_secret is not None
    assert from_secret.variable == "KFSYNC_APPSECRET"
    assert b"s3cret" not in from_secret.key
    assert "s3cret" not in repr(from_secret)
    assert len(from_secret.key) == 32
    both = seal_key({"KFSYNC_APPSECRET": "s3cret", "KFSYNC_PLAN_KEY": "other"})
    assert both is not None
    assert both.variable == "KFSYNC_PLAN_KEY"
    assert both.key != from_secret.key
    assert seal_key({}) is None
    assert seal_key({"KFSYNC_APPSECRET": ""}) is None
    assert CONTEXT == b"kfsync plan seal v1"


def test_the_seal_covers_everything_but_itself() -> None:
    key = seal_key({"KFSYNC_APPSECRET": "s3cret"})
    assert key is not None
    made = seal(DOCUMENT, key)
    assert made.startswith("hmac-sha256:")
    assert len(made) == len("hmac-sha256:") + 64
    sealed = {**DOCUMENT, "saved": {**DOCUMENT["saved"], "seal": made}}
    assert sealed_by(sealed, key, made)
    assert canonical(sealed) == canonical(DOCUMENT)
    for edit in ({**DOCUMENT, "format_version": 2},
                 {**DOCUMENT, "changes": [{"id": "y"}]},
                 {**DOCUMENT, "saved": {**DOCUMENT["saved"], "allow_delete": ["a@b", "c@b"]}},
                 {**DOCUMENT, "extra": None}):
        assert not sealed_by(edit, key, made)
    other = seal_key({"KFSYNC_APPSECRET": "s3cret2"})
    assert other is not None
    assert not sealed_by(DOCUMENT, other, made)
    assert not sealed_by(DOCUMENT, key, "hmac-sha256:" + "0" * 64)
    assert not sealed_by(DOCUMENT, key, "\udcff")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * MAX_PLAN_DEPTH + "]" * MAX_PLAN_DEPTH, None),
        ("[" * (MAX_PLAN_DEPTH + 1) + "]" * (MAX_PLAN_DEPTH + 1), "nested more than 16 levels deep"),
        ('{"a":' * 200_000 + "0" + "}" * 200_000, "nested more than 16 levels deep"),
        ("[" * 200_000, "nested more than 16 levels deep"),
        ('{"a": 1, "a": 2}', "invalid JSON: the key 'a' appears twice in one object"),
        ('{"a": [{"b": 1, "b": 1}]}', "invalid JSON: the key 'b' appears twice in one object"),
        ('{"a": Infinity}', "invalid JSON: Infinity is not a JSON number"),
        ('{"a": -Infinity}', "invalid JSON: -Infinity is not a JSON number"),
        ("{", "invalid JSON: Expecting property name"),
        ('{"a": ' + "9" * 5000 + "}", "invalid JSON: Exceeds the limit"),
    ],
    ids=["at-the-limit", "one-over", "objects-200k", "unclosed-200k", "duplicate-key", "duplicate-nested",
         "infinity", "minus-infinity", "truncated", "a-5000-digit-number"],
)
def test_parse_plan_file(text: str, message: str | None) -> None:
    if message is None:
        assert parse_plan_file(Path("p.json"), text.encode()) is not None
        return
    with pytest.raises(KfsyncError) as caught:
        parse_plan_file(Path("p.json"), text.encode())
    assert str(caught.value).startswith("p.json: not a saved kfsync plan (")
    assert message in str(caught.value)


@pytest.mark.parametrize("raw", [b"\xff{}", b'{"a": "\xc3"}', "{}".encode("utf-16")])
def test_a_plan_file_is_strict_utf8(raw: bytes) -> None:
    with pytest.raises(KfsyncError, match="not UTF-8: byte 0x"):
        parse_plan_file(Path("p.json"), raw)


def test_the_plan_document_carries_the_kinds_of_change_of_its_product() -> None:
    """A saved plan shows the same summary line as the plan it was made from."""
    from kfsync.plan import Action, Plan
    from kfsync.planfile.document import PlanFormatError, plan_document, plan_from_json

    kinds = (Action.DELETE, Action.ADD, Action.UPDATE, Action.SERVICERS)
    plan = Plan("ww0123456789abcdef", (), actions=kinds)
    document = plan_document(plan)
    assert document["actions"] == ["delete", "add", "update", "servicers"]
    assert plan_from_json(document) == plan
    assert "actions" not in plan_document(Plan("shop_cs", ()))  # not said: as before
    assert plan_from_json(plan_document(Plan("shop_cs", ()))).actions is None
    document["actions"] = ["add", "rename"]
    with pytest.raises(PlanFormatError, match=r"actions\[1\]: unknown action 'rename'"):
        plan_from_json(document)


# --------------------------------------------------------------------------- drift


def wecom(name: str, open_kfid: str) -> LiveAccount:
    return LiveAccount(name, name, kf_id=open_kfid)


@pytest.mark.parametrize(("before", "after", "said"), [
    ([LiveAccount("bob@shop_cs", "Bobby", kf_id="1")], [LiveAccount("bob@shop_cs", "Robert", kf_id="2")],
     ["bob@shop_cs: kf_id 1 → 2, nickname Bobby → Robert"]),  # made again: the same to people
    ([wecom("售前咨询", "wkA")], [wecom("售前", "wkA")],
     ["售前咨询 (wkA): kf_account 售前咨询 → 售前, nickname 售前咨询 → 售前"]),  # a WeCom rename
    ([wecom("Dup", "wkA"), wecom("Dup", "wkB")], [wecom("Dup", "wkA"), wecom("Dupe", "wkB")],
     ["Dup (wkB): kf_account Dup → Dupe, nickname Dup → Dupe"]),  # namesakes told apart by id
    ([wecom("Old", "wkA")], [wecom("New", "wkB")],
     ["1 account added in the console (New)", "1 account deleted in the console (Old)"]),
    ([wecom("Same", "wkA")], [wecom("Same", "wkA")], []),
], ids=["made-again", "renamed", "namesakes", "replaced", "same"])
def test_drift_pairs_accounts_by_kf_account_then_by_id(
        before: list[LiveAccount], after: list[LiveAccount], said: list[str]) -> None:
    assert describe_drift(before, after) == said
