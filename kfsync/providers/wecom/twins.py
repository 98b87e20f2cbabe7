"""Twins: the accounts two racing applies both added, where the corp allows duplicate names.

Two applies of one file that both planned an add both make it, when WeCom
allows two accounts of one name.  A twin of an account this run added has its
name, is managed, and was not live at the run's first reading: another apply
made it meanwhile.  Of an account and its twins the smallest open_kfid is kept
and the others deleted.  Every apply that sees the twins agrees on which one
stays, and whichever of two racing applies made its add last sees both (its
reading comes after both adds): so one account is left, whatever the timing.

The apply whose own account is deleted gives the one kept the servicers the
file declares (the apply that made it may not have got that far), so that its
verification finds the account as declared.  Where duplicates are forbidden the
second add is refused with 95006 instead, and nothing here is needed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from kfsync.errors import KfsyncError, WeChatError
from kfsync.providers.wecom.live import GONE

if TYPE_CHECKING:
    from kfsync.config import Config
    from kfsync.model import LiveAccount
    from kfsync.providers.wecom.client import WeComClient

log = logging.getLogger(__name__)


def settle_twins(client: WeComClient, accounts: Sequence[LiveAccount], added: Mapping[str, str],
                 first_seen: frozenset[str], config: Config | None) -> tuple[dict[str, str], bool]:
    """Delete the twins among `accounts` of those this run `added` (name -> open_kfid) but one.

    Returns the account of each name that is now the one (name -> open_kfid)
    where it is not the one this run added, and whether anything was changed
    (then `accounts` are out of date).  A delete refused otherwise than with
    GONE is logged and left to the plan, which refuses two accounts of one name.
    """
    now: dict[str, str] = {}
    changed = False
    for name, ours in sorted(added.items()):
        if config is not None and config.policy.is_protected(name):
            continue  # never deleted, not even a twin: the plan refuses two of one name instead
        twins = sorted(a.kf_id for a in accounts if a.kf_id and a.kf_account == name
                       and a.manage_privilege is not False
                       and (a.kf_id == ours or a.kf_id not in first_seen))
        if ours not in twins:  # a racing apply kept its own and deleted ours
            if len(twins) == 1:
                now[name] = twins[0]
            continue
        if len(twins) < 2:
            continue
        changed = True
        kept, *others = twins
        deleted = [open_kfid for open_kfid in others if _deleted(client, name, open_kfid)]
        log.warning("%s: another apply added it too; kept %s, deleted %s", name, kept,
                    ", ".join(deleted) or "none")
        if kept != ours:
            now[name] = kept
            _declared_servicers(client, name, kept, config)
    return now, changed


def _deleted(client: WeComClient, name: str, open_kfid: str) -> bool:
    try:
        client.delete_account(open_kfid)
    except KfsyncError as error:
        if isinstance(error, WeChatError) and error.errcode == GONE:
            return True
        log.warning("%s: could not delete %s, made by an apply racing this one: %s", name,
                    open_kfid, error)
        return False
    return True


def _declared_servicers(client: WeComClient, name: str, open_kfid: str,
                        config: Config | None) -> None:
    """Add the servicers the file declares to the twin kept; what it has already is "ignored".

    A failed item is the plan's to show: this apply's own servicers change met it too.
    """
    entry = config.account(name) if config is not None else None
    users = entry.servicer_users or () if entry is not None else ()
    departments = entry.servicer_departments or () if entry is not None else ()
    if users or departments:
        client.add_servicers(open_kfid, users, [int(d) for d in departments if d.isdigit()])
