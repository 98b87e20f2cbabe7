"""`kfsync emulator`: serve the local WeChat kf API emulator until SIGINT or SIGTERM.

`--provider wecom` serves the WeCom 微信客服 API instead of the Official Account's
(the options that name an Official Account then play no part).

The first line on stdout is the base URL (`http://127.0.0.1:PORT`), so that a
script can start it with `--port 0` and read where it listens.  stderr gets the
environment lines that point the CLI at it, ready to paste into a shell.
`--seed FILE` starts it with the accounts, bindings, records and waiting
customers of a YAML or JSON file (the admin seed body).
"""

from __future__ import annotations

import shlex
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, NamedTuple

import click

from kfsync.client.config import is_loopback
from kfsync.commands._globals import note, settings
from kfsync.errors import ExitCode, UsageError
from kfsync.providers.wechat_mp.emulator.config import (
    DEFAULT_APPID,
    DEFAULT_INVITE_LIFETIME,
    DEFAULT_MAX_ACCOUNTS,
    DEFAULT_SECRET,
    DEFAULT_WECHAT_ID,
    MSGID_MODES,
)

if TYPE_CHECKING:
    from kfsync.emulator.server import Served


@click.command("emulator")
@click.option("--provider", type=click.Choice(("wechat_mp", "wecom")), default="wechat_mp",
              show_default=True, help="Which API to serve: the Official Account's, or WeCom's.")
@click.option("--corpid", default=None,
              help="WeCom: the corp ID gettoken accepts (default: ww5f1e0e1a7e0cafe0).")
@click.option("--switch", "switches", multiple=True, metavar="NAME=VALUE",
              help="WeCom: an uncertain behaviour, e.g. get_list=first_page, "
                   "duplicate_names=false, unmanaged_errcode=95004 (repeatable).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback exposes the emulator.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port to listen on; 0 picks a free one.")
@click.option("--appid", default=DEFAULT_APPID, show_default=True,
              help="AppID the token endpoints accept.")
@click.option("--secret", default=None,
              help=f"AppSecret (WeCom: corp secret) the token endpoints accept [default: "
                   f"{DEFAULT_SECRET}; WeCom: the WeCom emulator's].")
@click.option("--wechat-id", default=DEFAULT_WECHAT_ID, show_default=True,
              help="The Official Account's WeChat ID: the suffix of every kf account.")
@click.option("--latency-ms", type=click.IntRange(min=0), default=0, show_default=True,
              help="Delay added to every WeChat-side request.")
@click.option("--connection-latency-ms", type=click.IntRange(min=0), default=0, show_default=True,
              help="Delay added once to the first WeChat-side answer on each new connection, "
                   "counted from when it was opened: the handshakes of HTTPS (2 × latency is "
                   "typical).")
@click.option("--state", "state_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Keep the state in FILE: loaded at start, rewritten after every change.")
@click.option("--strict", is_flag=True,
              help="Also reject %40 in query kf_account (61452) and \\uXXXX escapes in JSON "
                   "(40033), and send kf_id as a string.")
@click.option("--invite-lifetime", type=click.IntRange(min=1), default=DEFAULT_INVITE_LIFETIME,
              show_default=True, help="Seconds an invitation waits before it expires.")
@click.option("--msgid-mode", type=click.Choice(MSGID_MODES), default="next", show_default=True,
              help="getmsglist answers the next msgid to request, or the last one returned.")
@click.option("--max-accounts", type=click.IntRange(min=0), default=DEFAULT_MAX_ACCOUNTS,
              show_default=True, help="Most kf accounts the Official Account may have.")
@click.option("--seed", "seed_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Start with the accounts, bindings, records and waiting customers of this "
                   "YAML or JSON file (the body of POST /_emulator/seed; WeCom: its seed).")
def command(provider: str, corpid: str | None, switches: tuple[str, ...], host: str, port: int,
            appid: str, secret: str | None, wechat_id: str, latency_ms: int,
            connection_latency_ms: int, state_file: Path | None, strict: bool,
            invite_lifetime: int, msgid_mode: str, max_accounts: int,
            seed_file: Path | None) -> ExitCode:
    """Serve a local emulator of the WeChat kf API (or WeCom's) until interrupted."""
    from kfsync.emulator import Emulator
    from kfsync.emulator.seedfile import read_seed, seed_from_file

    if provider != "wecom" and (corpid or switches):
        raise UsageError("--corpid and --switch are for --provider wecom")
    if seed_file is not None:
        read_seed(seed_file)  # a broken file is refused before the port is taken

    if not is_loopback(host):
        click.echo(f"kfsync: warning: listening on {host}, not loopback: anyone who can reach "
                   "it can use the emulator", err=True)
    emulator: Served
    if provider == "wecom":
        emulator, who = _wecom(corpid, secret, switches, host, port, latency_ms,
                               connection_latency_ms, state_file)
    else:
        secret = secret or DEFAULT_SECRET
        emulator = Emulator(appid=appid, secret=secret, wechat_id=wechat_id,
                            host=host, port=port, latency_ms=latency_ms, strict=strict,
                            state_file=state_file, invite_lifetime=invite_lifetime,
                            msgid_mode=msgid_mode, max_accounts=max_accounts,
                            connection_latency_ms=connection_latency_ms)
        who = Identity(appid, secret)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            emulator.start()
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        with emulator:
            seeded = seed_from_file(emulator.app, seed_file) if seed_file is not None else None
            click.echo(emulator.base_url)
            sys.stdout.flush()
            if not settings().quiet:
                click.echo(environment_lines(emulator.base_url, who, seeded), err=True, nl=False)
            while not stop.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    note("kfsync: emulator stopped")
    return ExitCode.OK


class Identity(NamedTuple):
    """The credentials the emulator accepts, and the variables that carry them."""

    id: str
    secret: str
    id_variable: str = "KFSYNC_APPID"
    secret_variable: str = "KFSYNC_APPSECRET"
    default_secret: str = DEFAULT_SECRET


def _wecom(corpid: str | None, secret: str | None, switches: tuple[str, ...], host: str,
           port: int, latency_ms: int, connection_latency_ms: int,
           state_file: Path | None) -> tuple[Served, Identity]:
    from kfsync.providers.wecom.emulator import DEFAULT_CORPID, Switches, WeComEmulator
    from kfsync.providers.wecom.emulator.config import DEFAULT_SECRET as WECOM_SECRET

    try:
        chosen = Switches.parse(switches)
    except ValueError as exc:
        raise UsageError(f"--switch: {exc}") from exc
    corpid, secret = corpid or DEFAULT_CORPID, secret or WECOM_SECRET
    emulator = WeComEmulator(corpid=corpid, secret=secret, host=host, port=port,
                             latency_ms=latency_ms, state_file=state_file, switches=chosen,
                             connection_latency_ms=connection_latency_ms)
    return emulator, Identity(corpid, secret, "KFSYNC_CORPID", "KFSYNC_CORPSECRET", WECOM_SECRET)


def environment_lines(base_url: str, who: Identity, seeded: dict[str, int] | None) -> str:
    """What to paste into a shell so that kfsync talks to this emulator (its own credentials).

    Every line is a shell comment or command, so all of it can be pasted at once.  The
    default secret is public (it is in the README and --help); one given with --secret
    is a secret like any other and is never printed.
    """
    lines = [f"# kfsync emulator listening on {base_url}"]
    if seeded is not None:
        nouns = {"waitcase": "waiting customer"}
        lines.append("# seeded with " + ", ".join(
            f"{n} {nouns.get(what, what.removesuffix('s'))}{'' if n == 1 else 's'}"
            for what, n in seeded.items()))
    lines += [
        "# To point kfsync at it, paste these lines into a POSIX shell; stop it with Ctrl-C.",
        f"export KFSYNC_API_BASE={shlex.quote(base_url)}",
        f"export {who.id_variable}={shlex.quote(who.id)}",
        f"export {who.secret_variable}={shlex.quote(who.secret)}"
        if who.secret == who.default_secret else
        f"# export {who.secret_variable}=…  (the secret given with --secret; not shown)",
        "unset KFSYNC_ACCESS_TOKEN KFSYNC_TOKEN_MODE",
    ]
    return "\n".join(lines) + "\n"
