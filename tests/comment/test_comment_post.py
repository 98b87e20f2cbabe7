"""Which comment is kfsync's, the failure comment and the cut: pure functions, no HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfsync.comment import wechat_id_in
from kfsync.comment.platform import Comment
from kfsync.comment.post import CUT_NOTE, UNKNOWN_MARKER, choose, cut_to_fit, failure_body, marker_of
from kfsync.render.common import visible
from tests.helpers.gfm import read, text

SHOP = "<!-- kfsync:shop_cs -->"
OTHER = "<!-- kfsync:other -->"


@pytest.mark.parametrize(("body", "expected"), [
    (SHOP + "\n**Plan**", SHOP),
    ("\n  " + SHOP + "  \nx", SHOP),
    (UNKNOWN_MARKER + "\nfailed", UNKNOWN_MARKER),
    ("text\n" + SHOP, None),  # only on the first line
    ("<!-- kfsync:shop cs -->", None),
    ("<!--kfsync:shop_cs-->", None),
    ("", None),
])
def test_marker_of(body: str, expected: str | None) -> None:
    assert marker_of(body) == expected


def own(*bodies: str) -> list[Comment]:
    return [Comment(index + 1, body, "bot") for index, body in enumerate(bodies)]


def test_choose_the_comment_with_the_same_marker_first() -> None:
    comments = own(OTHER + "\n", UNKNOWN_MARKER + "\n", SHOP + "\n", SHOP + "\nsecond")
    assert choose(comments, SHOP) == comments[2]


def test_a_known_id_takes_over_the_comment_of_an_unknown_one() -> None:
    comments = own(OTHER + "\n", UNKNOWN_MARKER + "\n")
    assert choose(comments, SHOP) == comments[1]
    assert choose(own(OTHER + "\n"), SHOP) is None


def test_an_unknown_id_updates_the_only_comment_or_its_own() -> None:
    assert choose(own(SHOP + "\n"), UNKNOWN_MARKER) == own(SHOP + "\n")[0]
    assert choose(own(SHOP + "\n", OTHER + "\n"), UNKNOWN_MARKER) is None
    both = own(SHOP + "\n", OTHER + "\n", UNKNOWN_MARKER + "\n")
    assert choose(both, UNKNOWN_MARKER) == both[2]


HOSTILE_ERRORS = [
    "kfsync.yaml:3:5: accounts.<img src=x onerror=alert(1)>.nickname: bad",
    "WeChat errcode 40001 from /x: **bold** [link](https://evil.example) @everyone #1",
    "line one\nline two\r\n> quote\n# heading",
    "--> <!-- </details> <details><summary>x",
    "| a | b |\n|---|---|",
    "```\ncode\n```",
    "\u202eevil\u0000\x1b[31m",
    "x" * 5000,
]


@pytest.mark.parametrize("error", HOSTILE_ERRORS)
def test_the_failure_comment_is_inert_markdown(error: str) -> None:
    body = failure_body("shop_cs", error)
    assert body.startswith(SHOP + "\n**The plan failed**")
    page = read(body)
    assert set(page.elements) <= {"p", "strong", "blockquote", "code"}
    assert not page.links
    shown = text(body)
    assert "The plan failed (shop_cs)" in shown
    assert visible(error)[:100] in shown  # controls written visibly, nothing else changed
    assert len(body) < 2000 * 12


def test_a_long_error_is_kept_past_the_field_limit() -> None:
    error = "WeChat errcode 40164 from /cgi-bin/stable_token: invalid ip 203.0.113.9 " + "y" * 300
    assert error.replace(" ", "") in text(failure_body("shop_cs", error)).replace(" ", "")


def test_a_failure_without_a_wechat_id_has_the_unknown_marker() -> None:
    body = failure_body(None, "kfsync.yaml: not valid YAML")
    assert body.startswith(UNKNOWN_MARKER + "\n**The plan failed**;")


def test_cut_to_fit_leaves_a_short_body_alone() -> None:
    assert cut_to_fit("abc\n", 10) == "abc\n"


@pytest.mark.parametrize("limit", [300, 512, 1000, 4096])
def test_cut_to_fit_cuts_at_a_line_closes_details_and_says_so(limit: int) -> None:
    rows = "\n".join(f"| `+` | add | agent{i} | nickname | declared |" for i in range(200))
    body = f"{SHOP}\n**Plan**\n\n<details>\n<summary>Changes</summary>\n\n{rows}\n\n</details>\n"
    cut = cut_to_fit(body, limit)
    assert len(cut) <= limit
    assert cut.endswith(CUT_NOTE + "\n")
    assert cut.count("<details>") == cut.count("</details>") == 1
    kept = cut.split("\n")
    assert all(line in body.split("\n") for line in kept[:-3])  # whole lines only


def write(folder: Path, text_: str) -> Path:
    path = folder / "kfsync.yaml"
    path.write_text(text_, encoding="utf-8")
    return path


@pytest.mark.parametrize(("content", "expected"), [
    ("version: 1\nofficial_account: {wechat_id: shop_cs}\naccounts: {alice: {nickname: [1]}}\n", "shop_cs"),
    ("version: 1\nofficial_account: {wechat_id: shop_cs}\nunknown_key: true\n", "shop_cs"),
    ("version: 1\nofficial_account: [\n", None),
    ("official_account: {wechat_id: 'shop -->x'}\n", None),
    ("official_account: {wechat_id: 12}\n", None),
    ("- a list\n", None),
    ("", None),
])
def test_wechat_id_in_an_unloadable_config(tmp_path: Path, content: str, expected: str | None) -> None:
    assert wechat_id_in(write(tmp_path, content)) == expected


def test_wechat_id_in_a_missing_config(tmp_path: Path) -> None:
    assert wechat_id_in(tmp_path / "missing.yaml") is None
