"""Small pictures of an avatar change in the Markdown plan: the live picture beside the new one.

The renderer knows no code host.  Whoever can show pictures hands it a
`PictureUrl`: a function from an avatar path, as the plan shows it, to the URL
of that picture (GitHub: the file at the pull request's head commit; GitLab: an
upload), or None when it cannot be shown.  The live picture's URL comes from
WeChat's answer and is shown only when it is https://.

Every URL is treated as hostile: only `https://` URLs and root-relative paths
(`/uploads/...`) pass, every character outside a small safe set is
percent-encoded (quotes, `<`, `>`, `|`, backticks, spaces, brackets, controls),
and the result is HTML-escaped into a double-quoted attribute.  So neither a
path in the config nor an answer from WeChat can close the tag, break a table
cell, or become Markdown.  Without a `PictureUrl`, or when neither picture can
be shown, the change keeps its text alone.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from urllib.parse import quote, urlsplit

from kfsync.model import AVATAR
from kfsync.plan import Change

#: From an avatar path as the plan shows it (relative to the config's folder) to its picture URL.
PictureUrl = Callable[[str], str | None]

#: Width and height of a thumbnail, in CSS pixels.
THUMBNAIL_PX = 64
#: Characters kept as they are in a URL; every other one is percent-encoded.
_SAFE = ":/?=&%-._~,+;"


def thumbnails(change: Change, pictures: PictureUrl | None) -> str:
    """`<br>` and the live and new pictures of an avatar change, or "" when none can be shown."""
    # An avatar is set by its own change (Official Account) or with the account (WeCom).
    if pictures is None or not change.after or AVATAR.name not in change.after:
        return ""
    live = change.before.of(AVATAR) if change.before is not None else None
    new = change.after.of(AVATAR)
    shown = []
    if isinstance(live, str) and (src := safe_src(live, relative=False)):
        shown.append(_img(src, "live avatar"))
    if isinstance(new, str) and (src := safe_src(pictures(new) or "", relative=True)):
        shown.append(_img(src, "new avatar"))
    return "<br>" + " → ".join(shown) if shown else ""


def safe_src(url: str, *, relative: bool) -> str | None:
    """`url` made safe for a double-quoted `src`, or None: only https:// (or, if `relative`, /path)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return None
    if parts.scheme == "https" and parts.hostname and "@" not in parts.netloc:
        pass
    elif not (relative and url.startswith("/") and not url.startswith("//") and not parts.scheme):
        return None
    return html.escape(quote(url, safe=_SAFE), quote=True)


def _img(src: str, alt: str) -> str:
    return f'<img src="{src}" width="{THUMBNAIL_PX}" height="{THUMBNAIL_PX}" alt="{alt}">'
