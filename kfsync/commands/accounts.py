"""`kfsync accounts`: the live kf accounts, with who works each and any invitation out.

As a table or JSON, or as one self-contained HTML page (`--format html -o FILE`)
with each account's avatar, downloaded with the same caps as `plan` and
embedded as a small thumbnail.  A WeCom corp's accounts (`--provider wecom`)
are listed by `kfsync.commands._accounts_wecom`, in the same three forms.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kfsync.client.config import PICTURE_DEADLINE
from kfsync.commands._globals import note
from kfsync.commands._ops import show, table_time
from kfsync.commands._options import chosen_provider, format_option, provider_option
from kfsync.errors import ExitCode, UsageError
from kfsync.providers.wechat_mp.client.results import KfAccount
from kfsync.render.table import TABLE_FORMATS, Table, cells, render_listing
from kfsync.timefmt import with_iso_times

if TYPE_CHECKING:
    from kfsync.downloads import PictureBytes
    from kfsync.render.html import AccountRow, Avatar

HEADERS = ("ACCOUNT", "NICKNAME", "KF_ID", "BOUND TO", "INVITATION", "AVATAR")


def invitation_text(account: KfAccount) -> str:
    """`waiting for bob_wx until 2026-11-04 12:00+08:00`, `rejected by bob_wx`, `expired (bob_wx)`."""
    who = account.invite_wx or "?"
    if account.invite_status == "waiting":
        until = table_time(account.invite_expire_time)
        return f"waiting for {who} until {until}" if until else f"waiting for {who}"
    if account.invite_status == "rejected":
        return f"rejected by {who}"
    if account.invite_status == "expired":
        return f"expired ({who})"
    return f"sent to {who}" if account.invite_wx else ""


def accounts_table(accounts: tuple[KfAccount, ...]) -> Table:
    return Table(
        headers=HEADERS,
        rows=tuple(
            cells(a.kf_account, a.nickname, a.kf_id, a.kf_wx, invitation_text(a),
                  "yes" if a.headimgurl else "no")
            for a in accounts
        ),
        right=frozenset({HEADERS.index("KF_ID")}),
    )


def invitation_state(account: KfAccount) -> str:
    """Which of `kfsync.render.html.STATES` the account is in: bound, or its invitation's state."""
    if account.kf_wx:
        return "bound"
    if account.invite_wx and account.invite_status in ("expired", "rejected"):
        return account.invite_status
    return "waiting" if account.invite_wx else "unbound"


def invitation_note(account: KfAccount) -> str:
    """`to bob_wx, until 2026-11-04 12:00+08:00`: who was invited and when the invitation ends."""
    if not account.invite_wx:
        return ""
    until = table_time(account.invite_expire_time)
    ended = account.invite_status in ("expired", "rejected")
    return f"to {account.invite_wx}" + (f", {'ended' if ended else 'until'} {until}" if until else "")


#: Pixels a side of the avatar thumbnails: twice the page's 48 CSS pixels, for sharp screens.
THUMBNAIL_SIDE = 96


def avatars(accounts: tuple[KfAccount, ...], *,
            deadline: float = PICTURE_DEADLINE) -> dict[str, Avatar]:
    """Each account's avatar as a thumbnail, or why it cannot be shown, by kf_account.

    Each download has `deadline` seconds in all (the client's `KFSYNC_PICTURE_DEADLINE`).
    """
    return thumbnails({a.kf_account: a.headimgurl for a in accounts}, deadline=deadline)


def thumbnails(urls: Mapping[str, str | None], *,
               deadline: float = PICTURE_DEADLINE) -> dict[str, Avatar]:
    """The picture at each URL as a thumbnail, or why it cannot be shown, by the same keys."""
    from kfsync.downloads import process_pictures
    from kfsync.render.html import Avatar

    shown = process_pictures((url for url in urls.values() if url), _thumbnail, deadline=deadline)
    return {key: shown.get(url or "", Avatar(note="no avatar")) for key, url in urls.items()}


def _thumbnail(_url: str, download: PictureBytes) -> Avatar:
    from kfsync.avatars import thumbnail
    from kfsync.errors import AvatarError
    from kfsync.render.html import Avatar

    if download.data is None:
        return Avatar(note=f"avatar not downloaded: {download.error}")
    try:
        return Avatar(thumbnail(download.data, THUMBNAIL_SIDE))
    except AvatarError as exc:
        return Avatar(note=f"avatar not shown: {exc}")


def page_rows(accounts: tuple[KfAccount, ...], shown: dict[str, Avatar]) -> list[AccountRow]:
    from kfsync.render.html import AccountRow

    return [
        AccountRow(a.kf_account, a.nickname, a.kf_id, a.kf_wx or "", invitation_state(a),
                   invitation_note(a), shown[a.kf_account])
        for a in accounts
    ]


def render_page(accounts: tuple[KfAccount, ...], *, deadline: float = PICTURE_DEADLINE) -> str:
    """The accounts as one HTML page, avatars downloaded (each within `deadline` s) and embedded."""
    from kfsync.render.html import render_accounts_html

    wechat_ids = sorted({a.kf_account.partition("@")[2] for a in accounts} - {""})
    title = "kf accounts" + (f" of {', '.join(wechat_ids)}" if wechat_ids else "")
    return render_accounts_html(page_rows(accounts, avatars(accounts, deadline=deadline)), title=title,
                                listed_at=table_time(int(time.time())))


@click.command("accounts")
@provider_option
@format_option(
    (*TABLE_FORMATS, "html"),
    "An aligned table for people (`table` is an alias), JSON for scripts, or one "
    "self-contained HTML page with the avatars.",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE instead of standard output.",
)
@click.option(
    "--scene",
    "scenes",
    multiple=True,
    metavar="SCENE",
    help="WeCom: also show each managed account's contact link for SCENE (repeatable). Each "
         "SCENE is a call to kf/add_contact_way, which makes the link or returns the one made "
         "before.",
)
def command(provider: str | None, fmt: str, out: Path | None, scenes: tuple[str, ...]) -> ExitCode:
    """List the live kf accounts: nickname, id, the WeChat user bound, invitation, avatar.

    For WeCom (--provider wecom): name, open_kfid, whether this app manages it,
    its servicers (members and departments) and avatar, and with --scene its
    contact links.
    """
    from kfsync.providers.wechat_mp.client import KfClient

    _check_out(out)
    if chosen_provider(provider) == "wecom":
        return _wecom(fmt, out, scenes)
    if scenes:
        raise UsageError("--scene is for WeCom (--provider wecom): an Official Account's kf "
                         "accounts have no contact links")
    with KfClient() as client:
        accounts = tuple(sorted(client.list_accounts(), key=lambda a: a.kf_account))
        deadline = client.config.picture_deadline
    document = with_iso_times({"accounts": [a.to_dict() for a in accounts]})
    if out is None and fmt != "html":
        show(fmt, accounts_table(accounts), document,
             empty="No kf accounts yet (create them with `kfsync apply`).")
        return ExitCode.OK
    text = (render_page(accounts, deadline=deadline) if fmt == "html"
            else render_listing(fmt, accounts_table(accounts), document))
    return _emit(text, out, len(accounts))


def _check_out(out: Path | None) -> None:
    """Refused before any call: never a FIFO, a device or a link."""
    from kfsync.files import check_regular_or_new

    try:
        if out is not None:
            check_regular_or_new(out)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None


def _emit(text: str, out: Path | None, count: int) -> ExitCode:
    """`text` to standard output, or atomically to `out`."""
    from kfsync.files import write_atomic

    if out is None:
        click.echo(text, nl=False)
        return ExitCode.OK
    try:
        write_atomic(out, text, regular_only=True)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    note(f"Wrote {count} accounts to {out}.")
    return ExitCode.OK


def _wecom(fmt: str, out: Path | None, scenes: tuple[str, ...]) -> ExitCode:
    from kfsync.commands import _accounts_wecom as wecom
    from kfsync.providers.wecom.client import WeComClient
    from kfsync.providers.wecom.importer import no_account_message

    wanted = wecom.checked_scenes(scenes)
    with WeComClient() as client:
        listed = wecom.read_listed(client, wanted)
        corp_id = client.config.corpid
        deadline = client.config.picture_deadline
    if not any(item.managed for item in listed):
        note(no_account_message())
    table = wecom.accounts_table(listed, wanted)
    document = wecom.document(corp_id, listed)
    if out is None and fmt != "html":
        if table.rows or fmt != "text":  # no rows: the note above said why
            show(fmt, table, document)
        return ExitCode.OK
    text = (wecom.render_page(corp_id, listed, deadline=deadline) if fmt == "html"
            else render_listing(fmt, table, document))
    return _emit(text, out, len(listed))
