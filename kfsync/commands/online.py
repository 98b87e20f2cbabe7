"""`kfsync online`: the agents online now, how they are connected, and the sessions they serve."""

from __future__ import annotations

import click

from kfsync.commands._ops import format_option, show
from kfsync.errors import ExitCode
from kfsync.providers.wechat_mp.client.results import OnlineKf
from kfsync.render.table import Table, cells

HEADERS = ("ACCOUNT", "KF_ID", "STATUS", "ACCEPTED")

#: getonlinekflist `status` (reference §2.4): current docs know 0 and 1 (web), the
#: legacy 多客服 docs 1 = PC, 2 = mobile, 3 = both; 1 reads the same either way.
STATUS_MEANINGS = {
    0: "offline",
    1: "web online",
    2: "mobile (legacy)",
    3: "PC and mobile (legacy)",
}


def status_text(status: int) -> str:
    """`1 web online`: the code and what it means."""
    return f"{status} {STATUS_MEANINGS.get(status, 'unknown')}"


def online_table(agents: tuple[OnlineKf, ...]) -> Table:
    return Table(
        headers=HEADERS,
        rows=tuple(cells(a.kf_account, a.kf_id, status_text(a.status), a.accepted_case)
                   for a in agents),
        right=frozenset({HEADERS.index("KF_ID"), HEADERS.index("ACCEPTED")}),
    )


@click.command("online")
@format_option
def command(fmt: str) -> ExitCode:
    """List the agents online now, their status and how many sessions each serves."""
    from kfsync.providers.wechat_mp.client import KfClient

    with KfClient() as client:
        agents = tuple(sorted(client.list_online(), key=lambda a: a.kf_account))
    document = {
        "online": [{**a.to_dict(), "status_text": STATUS_MEANINGS.get(a.status, "unknown")}
                   for a in agents],
    }
    show(fmt, online_table(agents), document,
         empty="No agent is online (an agent is listed while logged in to the web kf tool).")
    return ExitCode.OK
