"""Avatar thumbnails in the Markdown plan, rendered by cmark-gfm: the right pictures, and nothing injected."""

from __future__ import annotations

import pytest

from kfsync.plan import Action, Change, Plan
from kfsync.render.markdown import render_plan_markdown
from kfsync.render.thumbnails import safe_src, thumbnails
from tests.helpers.gfm import images, read, text

LIVE = "https://mmbiz.qpic.cn/mmbiz_jpg/abc/0?wx_fmt=jpeg&tp=webp"
RAW = "https://github.example/octo/shop/raw/0123456789abcdef0123456789abcdef01234567/"


def avatar_change(account: str, live: str | None, path: str) -> Change:
    return Change(Action.SET_AVATAR, account, {"avatar": live}, {"avatar": path},
                  "live avatar is a different picture" if live else "no live avatar")


def plan_of(*changes: Change) -> Plan:
    return Plan(wechat_id="shop_cs", changes=tuple(sorted(changes, key=lambda c: c.sort_key)))


def raw(path: str) -> str | None:
    return RAW + path


def test_the_live_picture_is_shown_beside_the_new_one() -> None:
    markdown = render_plan_markdown(plan_of(avatar_change("alice@shop_cs", LIVE, "avatars/alice.png")),
                                    pictures=raw)
    assert images(markdown) == [
        {"src": LIVE, "width": "64", "height": "64", "alt": "live avatar"},
        {"src": RAW + "avatars/alice.png", "width": "64", "height": "64", "alt": "new avatar"},
    ]
    row = next(line for line in markdown.splitlines() if "alice" in line)
    assert row.startswith("| ")
    assert row.count(" | ") == 4
    assert "avatars/alice.png" in text(markdown)  # the text stays


def test_without_a_picture_hook_the_plan_keeps_its_text() -> None:
    markdown = render_plan_markdown(plan_of(avatar_change("alice@shop_cs", LIVE, "avatars/alice.png")))
    assert not images(markdown)
    assert "<img" not in markdown


@pytest.mark.parametrize("live", [
    "http://mmbiz.qpic.cn/mmbiz_jpg/abc/0",  # not https
    "file:///etc/passwd",
    "javascript:alert(1)",
    "data:image/png;base64,AAAA",
    "//evil.example/x.png",
    "https://user@evil.example/x.png",
    "https://host:port/x.png",
    "",
])
def test_a_live_url_that_is_not_plain_https_is_left_out(live: str) -> None:
    markdown = render_plan_markdown(plan_of(avatar_change("alice@shop_cs", live, "a.png")), pictures=raw)
    assert [i["alt"] for i in images(markdown)] == ["new avatar"]


HOSTILE = [
    '" onerror="alert(1)',
    "a.png\" /><script>alert(1)</script>",
    "a|b|c.png",
    "a`b`.png",
    "a\nb.png",
    "x<img src=x onerror=alert(1)>.png",
    "](javascript:alert(1)).png",
    "a\u202eb.png",
    "@admin #1 a.png",
    "a&amp;b%22.png",
    "<!-- -->.png",
]


@pytest.mark.parametrize("path", HOSTILE)
def test_a_hostile_path_or_url_cannot_inject(path: str) -> None:
    changes = (avatar_change("alice@shop_cs", "https://cdn.example/" + path, path),
               avatar_change("bob@shop_cs", None, path))
    markdown = render_plan_markdown(plan_of(*changes), pictures=raw)
    page = read(markdown)
    assert set(page.elements) <= {"p", "strong", "details", "summary", "table", "thead", "tr", "th", "tbody",
                              "td", "code", "br", "img", "h3", "ul", "li"}
    assert len(page.images) == 3
    for image in page.images:
        assert set(image) == {"src", "width", "height", "alt"}
        src = str(image["src"])
        assert src.startswith(("https://cdn.example/", RAW))
        assert not set(src) & set(" \"'<>`|\n\u202e")
    rows = [line for line in markdown.splitlines() if line.startswith("| `")]
    assert len(rows) == 2
    assert all(row.count(" | ") == 4 for row in rows)


@pytest.mark.parametrize(("url", "relative", "expected"), [
    ("/uploads/0123/avatar.jpg", True, "/uploads/0123/avatar.jpg"),
    ("/uploads/0123/avatar.jpg", False, None),
    ("//evil.example/a.jpg", True, None),
    ("uploads/a.jpg", True, None),
    ("https://cdn.example/a b.jpg?x=1&y=2", False, "https://cdn.example/a%20b.jpg?x=1&amp;y=2"),
    ("HTTPS://cdn.example/a.jpg", False, "HTTPS://cdn.example/a.jpg"),
    ("https://cdn.example:99999/a.jpg", False, None),
])
def test_safe_src(url: str, relative: bool, expected: str | None) -> None:
    assert safe_src(url, relative=relative) == expected


def test_a_hook_that_cannot_show_a_picture_keeps_the_text_alone() -> None:
    change = avatar_change("alice@shop_cs", "http://insecure.example/a.jpg", "a.png")
    assert thumbnails(change, lambda path: None) == ""
    assert thumbnails(Change(Action.ADD, "alice@shop_cs", None, {"nickname": "A"}, "x"), raw) == ""


def test_a_rebind_shows_the_new_picture_in_the_destructive_section() -> None:
    account = "dave@shop_cs"
    changes = (
        Change(Action.DELETE, account, {"nickname": "Dave", "kf_wx": "wx_old"}, None, "rebind", rebind=True),
        Change(Action.ADD, account, None, {"nickname": "Dave"}, "rebind", (f"delete:{account}",), True),
        Change(Action.SET_AVATAR, account, None, {"avatar": "d.png"}, "rebind", (f"add:{account}",), True),
    )
    markdown = render_plan_markdown(plan_of(*changes), pictures=raw)
    assert [i["src"] for i in images(markdown)] == [RAW + "d.png"]
