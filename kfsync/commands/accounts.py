"""`kfsync accounts`: the live kf accounts, with who works each and any invitation out."""

from __future__ import annotations

import click

from kfsync.commands._ops import format_option, show, table_time
from kfsync.errors import ExitCode
from kfsync.providers.wechat_mp.client.results import KfAccount
from kfsync.render.table import Table, cells

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


@click.command("accounts")
@format_option
def command(fmt: str) -> ExitCode:
    """List the live kf accounts: nickname, id, the WeChat user bound, invitation, avatar."""
    from kfsync.providers.wechat_mp.client import KfClient

    with KfClient() as client:
        accounts = tuple(sorted(client.list_accounts(), key=lambda a: a.kf_account))
    show(fmt, accounts_table(accounts), {"accounts": [a.to_dict() for a in accounts]},
         empty="No kf accounts yet (create them with `kfsync apply`).")
    return ExitCode.OK
