"""`kfsync session create|close|get|list|waiting`: customer sessions, refusals explained.

WeChat's session refusals are turned into one line that names the account or
customer and says what to do (e.g. 65415: "alice@shop_cs is not online: its
agent must log in to the web kf tool"); the errcode is kept at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kfsync.commands._globals import note
from kfsync.commands._ops import format_option, full_account, show, table_time
from kfsync.commands._options import config_option
from kfsync.errors import ApiError, ExitCode, KfsyncError, WeChatError
from kfsync.render.table import Table, cells, render_json

if TYPE_CHECKING:
    from kfsync.providers.wechat_mp.client import KfClient

#: errcode -> what went wrong and what to do, with {account} and {openid} filled in.
EXPLAINED = {
    65401: "{account} does not exist: declare it in kfsync.yaml and run `kfsync apply`, or "
           "check the name with `kfsync accounts`",
    65402: "{account} is not bound to a WeChat user: invite one (`wechat:` in kfsync.yaml, then "
           "`kfsync apply`) and have them accept in WeChat",
    65413: "{openid} has no open session: there is nothing to close",
    65414: "{openid} is being served by another kf account: `kfsync session get {openid}` "
           "shows which; that session must be closed first",
    65415: "{account} is not online: its agent must log in to the web kf tool",
    40003: "invalid openid {openid!r}: it must be the openid of a follower of this Official "
           "Account",
}


@contextmanager
def explained(client: KfClient, *, account: str = "", openid: str = "") -> Iterator[None]:
    """Turn the session refusals WeChat explains poorly into one line saying what to do."""
    try:
        yield
    except WeChatError as exc:
        template = EXPLAINED.get(exc.errcode)
        if template is None:
            raise
        message = template.format(account=account or exc.account or "the kf account",
                                  openid=openid or "the customer")
        if exc.errcode == 65414 and openid:
            message = _served_by(client, openid) or message
        raise ApiError(f"{message} [WeChat errcode {exc.errcode}]",
                       endpoint=exc.endpoint) from None


def _served_by(client: KfClient, openid: str) -> str | None:
    """For 65414: name the agent serving the customer, if WeChat will say (best effort)."""
    try:
        other = client.get_session(openid).kf_account
    except KfsyncError:
        return None
    if not other:
        return None
    return (f"{openid} is being served by {other}: close that session first with "
            f"`kfsync session close {other} {openid}`")


@click.group("session")
def command() -> None:
    """Create, close and inspect customer sessions."""


def _client() -> KfClient:
    from kfsync.providers.wechat_mp.client import KfClient

    return KfClient()


_openid_argument = click.argument("openid")


def _change_command(name: str, verb: str, doc: str) -> click.Command:
    """`session create` and `session close`: the same arguments, one call each."""

    @command.command(name, help=doc)
    @click.argument("kf_account")
    @_openid_argument
    @click.option("--text",
                  help="A note shown to the agent (legacy 多客服 client only; current docs omit it).")
    @format_option
    @config_option
    def change(kf_account: str, openid: str, text: str | None, fmt: str,
               config_path: Path) -> ExitCode:
        account = full_account(kf_account, config_path)
        with _client() as client, explained(client, account=account, openid=openid):
            if name == "create":
                client.create_session(account, openid, text)
            else:
                client.close_session(account, openid, text)
        if fmt == "json":
            click.echo(render_json({"session": verb, "kf_account": account, "openid": openid}),
                       nl=False)
        else:
            click.echo(f"Session {verb}: {account} and {openid}.")
        return ExitCode.OK

    return change


create = _change_command(
    "create", "created",
    "Have KF_ACCOUNT serve the customer OPENID.  A bare prefix is completed from -c.")
close = _change_command(
    "close", "closed",
    "End the session between KF_ACCOUNT and the customer OPENID.  A bare prefix is completed "
    "from -c.")


@command.command("get")
@_openid_argument
@format_option
def get(openid: str, fmt: str) -> ExitCode:
    """Show who serves the customer OPENID, and since when."""
    with _client() as client, explained(client, openid=openid):
        found = client.get_session(openid)
    table = Table(("OPENID", "SERVED BY", "SINCE"),
                  (cells(openid, found.kf_account, table_time(found.createtime)),))
    show(fmt, table, {"openid": openid, "kf_account": found.kf_account,
                      "createtime": found.createtime})
    return ExitCode.OK


@command.command("list")
@click.argument("kf_account")
@format_option
@config_option
def list_(kf_account: str, fmt: str, config_path: Path) -> ExitCode:
    """List the customers KF_ACCOUNT serves now.  A bare prefix is completed from -c."""
    account = full_account(kf_account, config_path)
    with _client() as client, explained(client, account=account):
        sessions = client.list_sessions(account)
    table = Table(("OPENID", "SINCE"),
                  tuple(cells(s.openid, table_time(s.createtime)) for s in sessions))
    show(fmt, table, {"kf_account": account, "sessions": [s.to_dict() for s in sessions]},
         empty=f"{account} serves no customer now.")
    return ExitCode.OK


@command.command("waiting")
@format_option
def waiting(fmt: str) -> ExitCode:
    """List the customers waiting to be served, earliest first (WeChat lists at most 100)."""
    with _client() as client:
        found = client.list_waiting()
    table = Table(("OPENID", "LATEST MESSAGE"),
                  tuple(cells(c.openid, table_time(c.latest_time)) for c in found.cases))
    show(fmt, table, found.to_dict(), empty="No customer is waiting.")
    if fmt == "text" and found.count > len(found.cases):
        note(f"{found.count} customers are waiting; WeChat lists the first {len(found.cases)}.")
    return ExitCode.OK
