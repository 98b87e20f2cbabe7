"""`kfsync accounts --provider wecom`: a WeCom corp's 微信客服 accounts, who works each, their links.

Read with `kfsync.providers.wecom.live.read_accounts`, as plan and import read
them.  Servicers are read only for the accounts the app manages.  Each
`--scene` asks WeCom for the account's contact link of that scene
(kf/add_contact_way: it makes the link, or hands back the one it made; the
API cannot list them), for managed accounts only.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kfsync.commands._ops import table_time
from kfsync.errors import UsageError
from kfsync.model import LiveAccount
from kfsync.render.table import Table, cells

if TYPE_CHECKING:
    from kfsync.providers.wecom.client import WeComClient
    from kfsync.render.html import Avatar

HEADERS = ("NAME", "ID", "MANAGED", "USERS", "DEPARTMENTS", "AVATAR")
#: Servicers a table cell names before it counts the rest (JSON lists them all).
SHOWN = 5
NOT_READ = "not read"  #: the servicers of an account the app does not manage
_SCENE = re.compile(r"[0-9A-Za-z_-]{1,32}")


def checked_scenes(scenes: Sequence[str]) -> tuple[str, ...]:
    """The scenes asked for, each once, in the order given; UsageError for a malformed one."""
    for scene in scenes:
        if not _SCENE.fullmatch(scene):
            raise UsageError(f"--scene {scene!r}: a scene is 1 to 32 of 0-9 a-z A-Z _ -")
    return tuple(dict.fromkeys(scenes))


@dataclass(frozen=True)
class Listed:
    """One live account and its contact link of each scene asked for (managed accounts only)."""

    account: LiveAccount
    links: tuple[tuple[str, str], ...] = ()

    @property
    def managed(self) -> bool:
        return self.account.manage_privilege is not False

    def to_dict(self) -> dict[str, object]:
        a = self.account
        servicers = None
        if a.servicer_users is not None and a.servicer_departments is not None:
            servicers = {"users": list(a.servicer_users),
                         "departments": [int(d) for d in a.servicer_departments]}
        return {"name": a.kf_account, "id": a.kf_id, "managed": self.managed,
                "servicers": servicers, "avatar": a.headimgurl, "links": dict(self.links)}


def read_listed(client: WeComClient, scenes: Sequence[str], *,
                parallelism: int = 8) -> tuple[Listed, ...]:
    """Every live account by name, with the links of `scenes`, asked `parallelism` at a time."""
    from kfsync.providers.wecom.live import read_accounts

    accounts = sorted(read_accounts(client, parallelism=parallelism),
                      key=lambda a: (a.kf_account, a.kf_id or ""))
    wanted = [(a, scene) for a in accounts if a.manage_privilege is not False for scene in scenes]
    urls: dict[tuple[str, str], str] = {}
    if wanted:
        with ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(wanted))),
                                thread_name_prefix="kfsync-links") as pool:
            found = pool.map(lambda pair: client.add_contact_way(str(pair[0].kf_id), pair[1]).url,
                             wanted)
            urls = {(str(a.kf_id), scene): url
                    for (a, scene), url in zip(wanted, found, strict=True)}
    return tuple(Listed(a, tuple((s, urls[(str(a.kf_id), s)]) for s in scenes
                                 if (str(a.kf_id), s) in urls)) for a in accounts)


def _few(names: Sequence[str] | None) -> str:
    if names is None:
        return NOT_READ
    shown = ", ".join(names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def accounts_table(listed: Sequence[Listed], scenes: Sequence[str]) -> Table:
    """One row an account; a `LINK <scene>` column per scene asked for."""
    rows = []
    for item in listed:
        a = item.account
        links = dict(item.links)
        rows.append(cells(a.kf_account, a.kf_id, "yes" if item.managed else "no",
                          _few(a.servicer_users), _few(a.servicer_departments),
                          "yes" if a.headimgurl else "no", *(links.get(s) for s in scenes)))
    return Table(headers=(*HEADERS, *(f"LINK {scene}" for scene in scenes)), rows=tuple(rows))


def document(corp_id: str | None, listed: Sequence[Listed]) -> dict[str, object]:
    return {"corp_id": corp_id, "accounts": [item.to_dict() for item in listed]}


def render_page(corp_id: str | None, listed: Sequence[Listed], *, deadline: float) -> str:
    """The accounts as one HTML page, avatars downloaded (each within `deadline` s) and embedded."""
    from kfsync.commands.accounts import thumbnails
    from kfsync.render.html import WeComAccountRow, render_wecom_accounts_html

    shown: Mapping[str, Avatar] = thumbnails(
        {str(item.account.kf_id): item.account.headimgurl for item in listed}, deadline=deadline)
    rows = [WeComAccountRow(item.account.kf_account, str(item.account.kf_id), item.managed,
                            item.account.servicer_users, item.account.servicer_departments,
                            item.links, shown[str(item.account.kf_id)])
            for item in listed]
    title = "微信客服 accounts" + (f" of {corp_id}" if corp_id else "")
    return render_wecom_accounts_html(rows, title=title, listed_at=table_time(int(time.time())))
