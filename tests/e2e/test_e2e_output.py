"""What plan and apply print: progress, summary, JSON and Markdown, colour, and never a secret."""

from __future__ import annotations

import base64
import json
import re
import sys
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from kfsync.config.resources import data_path
from tests.helpers.e2e import (
    ANSI,
    LIST_PATH,
    PICTURE_PREFIX,
    TOKEN_PATH,
    Shop,
    json_out,
    only_paths,
    picture,
    progress_lines,
    seeded,
)

PROGRESS = re.compile(r"\[(\d+)/(\d+)\] (add|update|delete|set_avatar|invite) \w+@shop_cs … ok \(\d+ ms\)")


def drifted(shop: Shop) -> None:
    """Something of every kind to do, pictures to compare, and notes for the reviewer."""
    shop.write_config(
        {
            "alice": {"nickname": "Alice", "avatar": shop.avatar("alice.png", "stripes"),
                      "wechat": "alice_wx"},
            "bob": {"nickname": "Bob", "avatar": shop.avatar("bob.png", "checker")},
            "carol": {"state": "absent"},
            "dora": {"nickname": "Dora", "wechat": "dora_new"},
        },
        policy={"max_deletes": 2},
    )
    shop.seed(
        seeded("bob", "Bobby", headimg_base64=base64.b64encode(picture("frame", "JPEG")).decode()),
        seeded("carol", "Carol"),
        seeded("dora", "Dora", kf_wx="dora_old"),
        seeded("zed", "Zed"),
    )


def validator(definition: str | None = None) -> Draft202012Validator:
    """A validator for the plan schema, or for one of its `$defs`."""
    schema = json.loads(data_path("schemas", "plan.schema.json").read_text(encoding="utf-8"))
    if definition is None:
        return Draft202012Validator(schema)
    registry: Registry[Any] = Registry().with_resource(schema["$id"], Resource.from_contents(schema))
    return Draft202012Validator({"$ref": f"{schema['$id']}#/$defs/{definition}"}, registry=registry)


def test_progress_lines_and_summary(shop: Shop) -> None:
    drifted(shop)
    applied = shop.apply("--auto-approve")
    assert applied.code == 0, applied.text
    lines = progress_lines(applied.err)
    assert len(lines) == 9
    for index, line in enumerate(lines, start=1):
        match = PROGRESS.fullmatch(line)
        assert match, line
        assert match.group(1, 2) == (str(index), "9")
    assert progress_lines(applied.out) == []  # progress is a diagnostic: stderr only
    assert applied.out.rstrip().splitlines()[-1] == (
        "Apply complete: 2 added, 1 updated, 2 deleted, 2 invited, 2 avatars set")


def test_plan_json_validates_against_the_schema(shop: Shop) -> None:
    drifted(shop)
    result = shop.plan("--format", "json")
    assert result.code == 0, result.text
    document = json_out(result)
    validator().validate(document)
    assert document["summary"] == {"add": 2, "change": 1, "delete": 2, "invite": 2, "avatar": 2,
                                   "rebind": 1}
    assert document["unmanaged"] == ["zed@shop_cs"]
    saved = shop.folder / "plan.json"
    assert shop.plan("--out", saved).code == 0
    validator().validate(json.loads(saved.read_text(encoding="utf-8")))


def test_apply_json_validates_against_the_schema(shop: Shop) -> None:
    drifted(shop)
    applied = shop.apply("--auto-approve", "--format", "json")
    assert applied.code == 0, applied.text
    document = json_out(applied)
    validator("apply_document").validate(document)
    assert document["complete"] is True
    assert document["verify"]["changes"] == []
    assert len(progress_lines(applied.err)) == 9  # progress stays on stderr

    in_sync = shop.apply("--auto-approve", "--format", "json")
    assert in_sync.code == 0, in_sync.text
    validator("apply_document").validate(json_out(in_sync))


def test_plan_markdown_starts_with_the_marker(shop: Shop) -> None:
    drifted(shop)
    result = shop.plan("--format", "markdown")
    assert result.code == 0, result.text
    assert result.out.splitlines()[0] == "<!-- kfsync:shop_cs -->"
    assert "Plan: 2 to add, 1 to change, 2 to delete, 2 to invite, 2 avatars (1 rebind)" in result.out

#: A colour or style code (SGR), as opposed to the cursor's codes.
COLOUR = re.compile("\x1b\\[[0-9;]*m")


def as_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the captured stdout and stderr say they are a terminal, so colour would be used.

    Called from the test body: pytest swaps its capture streams between setup and call.
    """
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)


def test_plan_colour_on_a_terminal_only_without_no_color(
        shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    drifted(shop)
    as_terminal(monkeypatch)
    assert ANSI.search(shop.plan().out), "the control case: a terminal gets colour"
    assert not ANSI.search(shop.plan("--no-color").out)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not ANSI.search(shop.plan().out)


@pytest.mark.parametrize("how", ["terminal", "--no-color", "NO_COLOR"])
def test_apply_colour_on_a_terminal_only_without_no_color(
        shop: Shop, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    drifted(shop)
    as_terminal(monkeypatch)
    if how == "NO_COLOR":
        monkeypatch.setenv("NO_COLOR", "1")
    applied = shop.apply("--auto-approve", *([how] if how.startswith("--") else []))
    assert applied.code == 0, applied.text
    coloured = how == "terminal"  # the control case
    assert bool(ANSI.search(applied.out)) is coloured
    # The progress lines; the progress bars' cursor hiding and showing is no colour.
    assert bool(COLOUR.search(applied.err)) is coloured


def test_debug_logs_carry_no_secret(shop: Shop) -> None:
    drifted(shop)
    for args in (("-vv", "plan"), ("--debug", "apply", "--auto-approve")):
        result = shop.run(*args, "-c", shop.config)
        assert result.code == 0, result.text
        assert "getkflist" in result.err  # the debug request lines are there, and redacted
    assert shop.secrets


def test_plan_never_writes(shop: Shop) -> None:
    drifted(shop)
    for fmt in ("text", "json", "markdown"):
        assert shop.plan("--format", fmt, "--detailed-exitcode").code == 2
    entries = shop.requests()
    assert only_paths(entries) <= {TOKEN_PATH, LIST_PATH, PICTURE_PREFIX}
    assert {e["method"] for e in entries if e["path"] != TOKEN_PATH} == {"GET"}
    assert shop.picture_downloads() == 1

