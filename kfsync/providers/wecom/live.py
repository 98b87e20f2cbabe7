"""The live side of a WeCom corp, read into the model: accounts, servicers, in one place.

`read_accounts` is what the provider plans against and what `kfsync import` and
`kfsync accounts` show, so all three read the same way: every page of
`kf/account/list`, then the servicers of each account the app manages, fetched
`parallelism` at a time (one call per account, and they are independent).
An account the app does not manage (`manage_privilege: false`) is listed, but
its servicers are not asked for: WeCom may refuse, and kfsync never changes it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from kfsync.errors import WeChatError
from kfsync.model import LiveAccount

if TYPE_CHECKING:
    from kfsync.providers.wecom.client import WeComClient
    from kfsync.providers.wecom.results import Servicer, WeComAccount

GONE = 95004  #: open_kfid not exist


def managed(account: WeComAccount) -> bool:
    """Whether this app may change the account (a component app's list says nothing: it may)."""
    return account.manage_privilege is not False


def live_account(account: WeComAccount, servicers: tuple[Servicer, ...] | None) -> LiveAccount:
    """The model's account from the wire: named by its name, identified by its open_kfid."""
    users = departments = None
    if servicers is not None:
        users = tuple(sorted({s.userid for s in servicers if s.userid is not None}))
        departments = tuple(sorted({str(s.department_id) for s in servicers
                                    if s.department_id is not None}, key=_department_order))
    return LiveAccount(
        kf_account=account.name,
        nickname=account.name,
        headimgurl=account.avatar or None,
        kf_id=account.open_kfid,
        manage_privilege=account.manage_privilege,
        servicer_users=users,
        servicer_departments=departments,
    )


def _department_order(department: str) -> tuple[int, str]:
    """Department ids are numbers written as text: 2 before 10."""
    return (int(department), department) if department.isdigit() else (1 << 62, department)


def read_accounts(client: WeComClient, *, parallelism: int = 8) -> tuple[LiveAccount, ...]:
    """Every live account with, for those the app manages, its servicers; in list order.

    An account deleted between the list and its servicers (95004) is not live.
    """
    accounts = client.list_accounts()
    ours = [a for a in accounts if managed(a)]
    servicers: dict[str, tuple[Servicer, ...] | None] = {}
    if ours:
        with ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(ours))),
                                thread_name_prefix="kfsync-servicers") as pool:
            for account, found in zip(ours, pool.map(
                    lambda a: _servicers_unless_gone(client, a.open_kfid), ours), strict=True):
                servicers[account.open_kfid] = found
    return tuple(live_account(a, servicers.get(a.open_kfid)) for a in accounts
                 if not managed(a) or servicers[a.open_kfid] is not None)


def _servicers_unless_gone(client: WeComClient, open_kfid: str) -> tuple[Servicer, ...] | None:
    """The account's servicers, or None if it was deleted since it was listed."""
    try:
        return client.list_servicers(open_kfid)
    except WeChatError as error:
        if error.errcode == GONE:
            return None
        raise
