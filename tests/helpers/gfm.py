"""Markdown as GitHub renders it (cmark-gfm, GitHub's own renderer), and what the HTML holds.

`render` uses the extensions and options GitHub uses for comments: tables,
autolinks, strikethrough, the tag filter and task lists, raw HTML passed
through (GitHub sanitizes after rendering) and footnotes.  `Rendered` is what
a reviewer sees and copies: the elements, the text of each code span, the
text outside code spans (where GitHub finds mentions, issue references and
emoji), the links and the HTML comments.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options

OPTIONS = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_GITHUB_PRE_LANG | Options.CMARK_OPT_FOOTNOTES

#: Elements the plan comment is made of; anything else came from a user-derived string.
PLAN_ELEMENTS = frozenset({
    "p", "ul", "li", "strong", "code", "h3", "blockquote", "details", "summary",
    "table", "thead", "tbody", "tr", "th", "td", "a",
})
#: What GitHub turns into a mention, an issue or commit link, an emoji or a link, in prose.
ACTIVE_PROSE = re.compile(
    r"@[A-Za-z0-9]|#\d|\bGH-\d|https?:|www\.|:[a-z_+-][a-z0-9_+-]*:|\b[0-9a-f]{7,40}\b", re.IGNORECASE
)


def render(markdown: str) -> str:
    """The HTML GitHub makes of `markdown`, before its sanitizer."""
    html: str = cmarkgfm.github_flavored_markdown_to_html(markdown, options=OPTIONS)
    return html


class Rendered(HTMLParser):
    """The parts of rendered HTML a check needs; feed it with `Rendered.of(markdown)`."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[str] = []
        self.codes: list[str] = []  #: the text of each code span, as copied
        self.prose: list[str] = []  #: text outside code spans
        self.links: list[str] = []
        self.images: list[dict[str, str | None]] = []  #: the attributes of each `<img>`
        self.comments: list[str] = []
        self.rows: list[int] = []  #: cells in each table row
        self.data: list[str] = []  #: all the text, in order
        self._in_code = 0

    @classmethod
    def of(cls, markdown: str) -> Rendered:
        parsed = cls()
        parsed.feed(render(markdown))
        parsed.close()
        return parsed

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(tag)
        if tag == "code":
            self._in_code += 1
            self.codes.append("")
        elif tag == "a":
            self.links.append(dict(attrs).get("href") or "")
        elif tag == "img":
            self.images.append(dict(attrs))
        elif tag == "tr":
            self.rows.append(0)
        elif tag in ("td", "th"):
            self.rows[-1] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "code":
            self._in_code -= 1

    def handle_data(self, data: str) -> None:
        self.data.append(data)
        if self._in_code:
            self.codes[-1] += data
        else:
            self.prose.append(data)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)

    @property
    def text(self) -> str:
        """The whole rendered text, as a reader selecting all of it copies it."""
        return "".join(self.data)


def read(markdown: str) -> Rendered:
    return Rendered.of(markdown)


def images(markdown: str) -> list[dict[str, str | None]]:
    """The attributes of every `<img>` the Markdown renders, in order."""
    return Rendered.of(markdown).images


def text(markdown: str) -> str:
    """What a reader sees and copies: the rendered text, entities decoded."""
    return Rendered.of(markdown).text


def assert_inert_comment(markdown: str, *, links: tuple[str, ...] = ()) -> Rendered:
    """Rendered as GitHub does, the comment holds only its own elements and nothing active.

    No element a user-derived string could have made, no link but `links`, one
    comment (the marker), at most one `<details>`, five cells in each table
    row, and nothing in the prose GitHub would turn into a mention, an issue
    reference, a commit link, an emoji or an autolink.
    """
    rendered = Rendered.of(markdown)
    assert set(rendered.elements) <= PLAN_ELEMENTS, set(rendered.elements) - PLAN_ELEMENTS
    assert rendered.links == [link for link in rendered.links if link in links], rendered.links
    assert len(rendered.comments) == 1, rendered.comments
    assert rendered.comments[0].startswith(" kfsync:")
    assert rendered.elements.count("details") <= 1
    assert rendered.elements.count("summary") == rendered.elements.count("details")
    assert set(rendered.rows) <= {5}, rendered.rows
    prose = "".join(rendered.prose)
    assert not ACTIVE_PROSE.search(prose), ACTIVE_PROSE.search(prose)
    return rendered
