"""The accounts page: one self-contained HTML file a person opens in a browser.

Everything is inside the file: the style inline, each avatar a small JPEG as a
`data:` URI.  Its Content-Security-Policy allows exactly that style (by hash)
and `data:` pictures, and nothing else: no script, no frame, no form, no
request to any server.  Every user-derived string goes through `html.escape`
and `visible`, so a nickname shows as text, never as markup, and cannot
reorder its neighbours.  On a phone-wide screen each row becomes a card,
labelled by the column it comes from.  Nothing here reads files, the network
or the clock: the command hands in the rows and the time of the listing.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from kfsync.render.common import plural, visible

#: Width and height of an avatar on the page, in CSS pixels (thumbnails have twice as many).
AVATAR_PX = 48

#: The invitation states a row can be in, with how each is shown.
STATES = {
    "bound": "bound",
    "waiting": "invitation pending",
    "expired": "invitation expired",
    "rejected": "invitation rejected",
    "unbound": "not bound",
}

_STYLE = """
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px; font: 15px/1.5 -apple-system, "Segoe UI", "Noto Sans",
  "Noto Sans CJK SC", Helvetica, Arial, sans-serif; color: var(--ink); background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
p.meta { color: var(--muted); margin: 0 0 16px; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; color: var(--muted); padding-bottom: 8px; }
th, td { text-align: left; vertical-align: middle; padding: 8px 12px;
  border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
th { font-size: 13px; color: var(--muted); font-weight: 600; }
td:first-child { width: 1%; }
img.avatar, span.avatar { display: block; width: 48px; height: 48px; border-radius: 50%; }
span.avatar { background: #e6eaef; color: var(--muted); font-size: 22px; line-height: 48px;
  text-align: center; }
.nick { font-weight: 600; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  background: #f0f2f4; border-radius: 4px; padding: 1px 4px; unicode-bidi: isolate; }
.state { display: inline-block; border-radius: 999px; padding: 0 10px; font-size: 13px;
  font-weight: 600; white-space: nowrap; }
.bound { background: #dafbe1; color: #116329; }
.waiting { background: #fff8c5; color: #7d4e00; }
.expired { background: #eaeef2; color: #424a53; }
.rejected { background: #ffebe9; color: #a40e26; }
.unbound { background: #eaeef2; color: #424a53; }
.note { display: block; color: var(--muted); font-size: 13px; }
@media (max-width: 640px) {
  body { padding: 12px; }
  thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table, tbody, tr, td, caption { display: block; width: 100%; }
  td:first-child { width: 100%; }
  tr { border: 1px solid var(--line); border-radius: 8px; margin-bottom: 12px; padding: 8px; }
  td { border: 0; padding: 4px 8px; }
  td[data-label]::before { content: attr(data-label); display: block; font-size: 12px;
    color: var(--muted); }
  td:first-child::before { display: none; }
}
"""


@dataclass(frozen=True)
class Avatar:
    """An account's picture as the page shows it: a JPEG thumbnail, or why there is none."""

    jpeg: bytes | None = None
    note: str = ""  #: "no avatar", or why the picture could not be shown


@dataclass(frozen=True)
class AccountRow:
    """One account as the page lists it; `invitation` is already worded (with its time)."""

    kf_account: str
    nickname: str
    kf_id: str
    kf_wx: str
    state: str  #: a key of `STATES`
    invitation: str
    avatar: Avatar


def render_accounts_html(rows: Sequence[AccountRow], *, title: str, listed_at: str) -> str:
    """The whole page: a heading, what was counted, and one row per account."""
    counts = {state: sum(r.state == state for r in rows) for state in STATES}
    summary = ", ".join(
        f"{counts[state]} {words}" for state, words in STATES.items() if counts[state]
    )
    return _page(title, f"{plural(len(rows), 'account')}{': ' + summary if summary else ''}",
                 listed_at,
                 "Every kf account, with the WeChat user who works it and any invitation out.",
                 ("Avatar", "Nickname", "Account", "Bound to", "Invitation"),
                 [_row(r) for r in rows])


@dataclass(frozen=True)
class WeComAccountRow:
    """One WeCom 微信客服 account as the page lists it; servicers None when not read."""

    name: str
    open_kfid: str
    managed: bool
    users: tuple[str, ...] | None
    departments: tuple[str, ...] | None
    links: tuple[tuple[str, str], ...]  #: (scene, contact link)
    avatar: Avatar


def render_wecom_accounts_html(rows: Sequence[WeComAccountRow], *, title: str,
                               listed_at: str) -> str:
    """The page of a WeCom corp's accounts: who works each, and the links asked for."""
    managed = sum(r.managed for r in rows)
    summary = f"{plural(len(rows), 'account')}: {managed} managed by this app"
    return _page(title, summary, listed_at,
                 "Every 微信客服 account, with the members and departments who work it.",
                 ("Avatar", "Name", "Managed", "Servicers", "Contact links"),
                 [_wecom_row(r) for r in rows])


def _page(title: str, summary: str, listed_at: str, caption: str, headers: Sequence[str],
          rows: Sequence[str]) -> str:
    body = "\n".join(rows) or (
        f'<tr><td colspan="{len(headers)}">No kf accounts yet.</td></tr>'
    )
    heads = "".join(f'<th scope="col">{header}</th>' for header in headers)
    digest = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
    policy = (
        f"default-src 'none'; img-src data:; style-src 'sha256-{digest}'; "
        "base-uri 'none'; form-action 'none'"
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{policy}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{_text(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<main>
<h1>{_text(title)}</h1>
<p class="meta">{summary}.
Listed {_text(listed_at)}.</p>
<table>
<caption>{caption}</caption>
<thead>
<tr>{heads}</tr>
</thead>
<tbody>
{body}
</tbody>
</table>
</main>
</body>
</html>
"""


def _wecom_row(row: WeComAccountRow) -> str:
    note = f'<span class="note">{_text(row.avatar.note)}</span>' if row.avatar.note else ""
    if row.users is None or row.departments is None:
        servicers = '<span class="note">not read: the app does not manage it</span>'
    else:
        people = [f"<code>{_text(u)}</code>" for u in row.users]
        people += [f"<code>department {_text(d)}</code>" for d in row.departments]
        servicers = " ".join(people) or "—"
    links = "".join(f'<span class="note">{_text(scene)}</span><code>{_text(url)}</code>'
                    for scene, url in row.links) or "—"
    state = ('<span class="state bound">managed</span>' if row.managed
             else '<span class="state unbound">not managed</span>')
    cells = [
        ("Avatar", _avatar_of(row.name, row.avatar)),
        ("Name", f'<span class="nick">{_text(row.name) or "(no name)"}</span>{note}'
                 f'<span class="note">open_kfid {_text(row.open_kfid)}</span>'),
        ("Managed", state),
        ("Servicers", servicers),
        ("Contact links", links),
    ]
    tds = "".join(f'<td data-label="{label}">{content}</td>' for label, content in cells)
    return f"<tr>{tds}</tr>"


def _row(row: AccountRow) -> str:
    nickname = _text(row.nickname) or "(no nickname)"
    note = f'<span class="note">{_text(row.avatar.note)}</span>' if row.avatar.note else ""
    cells = [
        ("Avatar", _avatar(row)),
        ("Nickname", f'<span class="nick">{nickname}</span>{note}'),
        ("Account", f"<code>{_text(row.kf_account)}</code> <span class=\"note\">kf_id "
                    f"{_text(row.kf_id)}</span>"),
        ("Bound to", f"<code>{_text(row.kf_wx)}</code>" if row.kf_wx else "—"),
        ("Invitation", f'<span class="state {row.state}">{STATES[row.state]}</span>'
                       + (f'<span class="note">{_text(row.invitation)}</span>'
                          if row.invitation else "")),
    ]
    tds = "".join(f'<td data-label="{label}">{content}</td>' for label, content in cells)
    return f"<tr>{tds}</tr>"


def _avatar(row: AccountRow) -> str:
    return _avatar_of(row.nickname or row.kf_account, row.avatar)


def _avatar_of(name: str, avatar: Avatar) -> str:
    alt = _text(f"Avatar of {name}")
    if avatar.jpeg is not None:
        data = base64.b64encode(avatar.jpeg).decode("ascii")
        return (f'<img class="avatar" src="data:image/jpeg;base64,{data}" alt="{alt}" '
                f'width="{AVATAR_PX}" height="{AVATAR_PX}">')
    label = _text(avatar.note or "no avatar")
    return f'<span class="avatar" role="img" aria-label="{label}">?</span>'


def _text(value: str) -> str:
    """User-derived text as HTML: escaped, and with controls and bidi overrides visible."""
    return escape(visible(value), quote=True)
