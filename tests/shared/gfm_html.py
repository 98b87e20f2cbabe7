"""GitHub Flavored Markdown rendered by cmark-gfm (GitHub's own parser), for checking Markdown output.

Raw HTML is kept (GitHub keeps it too, then sanitises it), so that tests see the
tags a comment really produces: its `<img>` tags with their attributes, and its
text as a reader sees it.
"""

from __future__ import annotations

from html.parser import HTMLParser

import cmarkgfm  # type: ignore[import-untyped]
from cmarkgfm.cmark import Options  # type: ignore[import-untyped]


def to_html(markdown: str) -> str:
    html: str = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    return html


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[dict[str, str | None]] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def read(markdown: str) -> _Reader:
    reader = _Reader()
    reader.feed(to_html(markdown))
    reader.close()
    return reader


def images(markdown: str) -> list[dict[str, str | None]]:
    """The attributes of every `<img>` the Markdown renders, in order."""
    return read(markdown).images


def text(markdown: str) -> str:
    """What a reader sees: the rendered text, entities decoded, word joiners removed."""
    return "".join(read(markdown).text).replace("\u2060", "")
