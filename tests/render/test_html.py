"""The accounts page, as a document: escaping, what it may load, accessibility (no browser here).

tests/commands/test_ops_accounts_html.py opens the page in headless Chromium.
"""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

import pytest

from kfsync.render.common import visible
from kfsync.render.html import STATES, AccountRow, Avatar, render_accounts_html

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "</td></tr></table><script>alert(1)</script>",
    '" onmouseover="alert(1)',
    "' autofocus onfocus='x",
    "&amp; &lt;b&gt;",
    "<!-- x -->",
    "\u202eevil\u202c",
    "line\nbreak\r\x00",
    "😀 小美 @all #1",
    "javascript:alert(1)",
]
JPEG = b"\xff\xd8\xff\xe0 not really a jpeg"


class Page(HTMLParser):
    """The elements (with attributes) and the text of each element kind."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.texts: dict[str, list[str]] = {}
        self._open: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag not in ("img", "meta", "br"):
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open:
            self.texts.setdefault(self._open[-1], []).append(data)

    def tags(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.elements if tag == name]


def _row(name: str, state: str = "unbound", avatar: Avatar | None = None) -> AccountRow:
    return AccountRow(f"{name}@shop_cs", name, "1001", name if state == "bound" else "", state,
                      f"to {name}, until 2026-11-04 12:00+08:00" if state != "bound" else "",
                      avatar or Avatar(JPEG))


def _page(rows: list[AccountRow]) -> str:
    return render_accounts_html(rows, title="kf accounts of shop_cs", listed_at="2026-11-01 09:00+08:00")


def test_hostile_strings_are_text_everywhere() -> None:
    html = _page([_row(text, state) for text in HOSTILE for state in ("bound", "waiting")])
    page = Page(html)
    assert {tag for tag, _ in page.elements} <= {
        "html", "head", "meta", "title", "style", "body", "main", "h1", "p", "table", "caption",
        "thead", "tbody", "tr", "th", "td", "img", "span", "code"}
    assert len(page.tags("img")) == 2 * len(HOSTILE)
    for image in page.tags("img"):
        assert set(image) == {"class", "src", "alt", "width", "height"}
        assert (image["src"] or "").startswith("data:image/jpeg;base64,")
    nicknames = page.texts["span"]
    codes = page.texts["code"]
    for text in HOSTILE:
        assert visible(text) in nicknames
        assert f"{visible(text)}@shop_cs" in codes
        assert f"Avatar of {visible(text)}" in [i["alt"] for i in page.tags("img")]
    assert not re.search("[\u202e\x00\r]", html)


def test_the_policy_allows_the_page_s_own_style_and_pictures_and_nothing_else() -> None:
    html = _page([_row("alice", "bound")])
    page = Page(html)
    (policy,) = [m["content"] for m in page.tags("meta")
                 if m.get("http-equiv") == "Content-Security-Policy"]
    (style,) = page.texts["style"]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert policy == (f"default-src 'none'; img-src data:; style-src 'sha256-{digest}'; "
                      "base-uri 'none'; form-action 'none'")
    assert not re.search(r"https?:|//|url\(|@import", html)  # nothing to fetch from anywhere


def test_accessible_headers_and_labels() -> None:
    page = Page(_page([_row("alice", "bound")]))
    assert [h.get("scope") for h in page.tags("th")] == ["col"] * 5
    assert [td.get("data-label") for td in page.tags("td")] == [
        "Avatar", "Nickname", "Account", "Bound to", "Invitation"]
    assert page.tags("html")[0]["lang"] == "en"
    assert any(m.get("name") == "viewport" for m in page.tags("meta"))


@pytest.mark.parametrize("note", ["no avatar", "avatar not downloaded: HTTP 404 <b>"])
def test_a_missing_picture_is_a_placeholder_with_its_note(note: str) -> None:
    page = Page(_page([_row("alice", avatar=Avatar(note=note))]))
    assert not page.tags("img")
    (placeholder,) = [s for s in page.tags("span") if s.get("role") == "img"]
    assert placeholder["aria-label"] == note
    assert note in page.texts["span"]


def test_states_and_counts() -> None:
    rows = [_row(state, state) for state in STATES] + [_row("again", "waiting")]
    page = Page(_page(rows))
    assert [s["class"] for s in page.tags("span") if (s.get("class") or "").startswith("state")] \
        == [f"state {state}" for state in STATES] + ["state waiting"]
    (meta,) = [t for t in page.texts["p"] if "accounts" in t]
    assert meta.startswith("6 accounts: 1 bound, 2 invitation pending, 1 invitation expired, "
                           "1 invitation rejected, 1 not bound.")


def test_no_accounts() -> None:
    page = Page(_page([]))
    assert "No kf accounts yet." in page.texts["td"]
    assert "0 accounts." in "".join(page.texts["p"])
