"""kfsync's one comment per Official Account: which one it is, what it says, and posting it.

kfsync owns the comment whose first line is its marker, `<!-- kfsync:WECHAT_ID -->`
(see `kfsync.render.markdown.marker`), and whose author is the token's own
identity.  A comment by anyone else that carries the marker is never edited:
kfsync posts its own beside it.

When a run fails before the Official Account's WeChat ID is known (a config
that cannot be read), the failure goes to a comment with the marker
`<!-- kfsync:? -->`, which no WeChat ID can produce, unless kfsync owns exactly
one marked comment on the request (the usual one-account repository): then that
one is updated, keeping its marker.  The next run that knows its WeChat ID and
finds no comment of its own with that marker takes the `?` comment over, so no
failure is left standing once the config is mended.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from kfsync.comment.platform import Comment, Platform
from kfsync.render.markdown import full_plan_pointer, marker
from kfsync.render.mdescape import md_code, md_text

UNKNOWN_MARKER = "<!-- kfsync:? -->"
_MARKER = re.compile(r"<!-- kfsync:[A-Za-z0-9_.?-]+ -->")
#: The longest error shown in a failure comment, in characters before escaping.
MAX_ERROR = 2000
CUT_NOTE = "… the plan is too long for one comment and was cut here; " + full_plan_pointer(None)


def marker_of(body: str) -> str | None:
    """The kfsync marker on the first line of `body`, or None."""
    first = body.lstrip().split("\n", 1)[0].strip()
    return first if _MARKER.fullmatch(first) else None


def ours(platform: Platform, identity: str) -> list[Comment]:
    """kfsync's comments on the request: marked, and written by `identity`, oldest first."""
    return [c for c in platform.comments() if c.author == identity and marker_of(c.body)]


def choose(own: Sequence[Comment], wanted: str) -> Comment | None:
    """Which of kfsync's comments a body with the marker `wanted` replaces (see the module docstring)."""
    exact = [c for c in own if marker_of(c.body) == wanted]
    if exact:
        return exact[0]
    if wanted != UNKNOWN_MARKER:
        return next((c for c in own if marker_of(c.body) == UNKNOWN_MARKER), None)
    return own[0] if len(own) == 1 else None


def publish(platform: Platform, wanted: str, render: Callable[[Comment | None], str]) -> tuple[Comment, bool]:
    """Create or update kfsync's comment with `render(the comment it replaces)`; True if updated."""
    own = ours(platform, platform.me())
    found = choose(own, wanted)
    body = render(found)
    kept = marker_of(found.body) if found is not None else None
    if kept and kept != wanted and wanted == UNKNOWN_MARKER:
        body = body.replace(wanted, kept, 1)  # the one comment of a one-account repository
    end = footer(platform.commit)
    body = cut_to_fit(body, platform.limit - len(end)) + end
    if found is None:
        return platform.create(body), False
    return platform.update(found, body), True


def failure_body(wechat_id: str | None, error: str) -> str:
    """The comment of a failed run: it failed, and kfsync's one-line error, inert in Markdown."""
    escaped = md_text(error, longest=MAX_ERROR)
    head = marker(wechat_id) if wechat_id else UNKNOWN_MARKER
    about = f" ({md_code(wechat_id)})" if wechat_id else ""
    return (f"{head}\n**The plan failed**{about}; nothing is known about the changes.\n\n"
            f"> kfsync: error: {escaped}\n\n"
            "The job's log has the details. This comment shows the plan again once a run succeeds.\n")


def footer(commit: str | None) -> str:
    return f"\n<sub>Planned for commit {commit[:12]}.</sub>\n" if commit else ""


def cut_to_fit(body: str, limit: int) -> str:
    """`body` within `limit` characters: cut at a line, a `<details>` left open closed, and said so."""
    if len(body) <= limit:
        return body
    room = limit - len(CUT_NOTE) - len("\n</details>\n\n\n")
    kept = body[:max(0, room)].rsplit("\n", 1)[0]
    if kept.count("<details>") > kept.count("</details>"):
        kept += "\n</details>"
    return f"{kept}\n\n{CUT_NOTE}\n"
