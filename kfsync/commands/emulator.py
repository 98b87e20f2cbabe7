"""`kfsync emulator`: serve the local WeChat kf API emulator until SIGINT or SIGTERM.

The first line on stdout is the base URL (`http://127.0.0.1:PORT`), so that a
script can start it with `--port 0` and read where it listens.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from kfsync.client.config import is_loopback
from kfsync.emulator.config import (
    DEFAULT_APPID,
    DEFAULT_INVITE_LIFETIME,
    DEFAULT_MAX_ACCOUNTS,
    DEFAULT_SECRET,
    DEFAULT_WECHAT_ID,
    MSGID_MODES,
)
from kfsync.errors import ExitCode, UsageError


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback exposes the emulator.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port to listen on; 0 picks a free one.")
@click.option("--appid", default=DEFAULT_APPID, show_default=True,
              help="AppID the token endpoints accept.")
@click.option("--secret", default=DEFAULT_SECRET, show_default=True,
              help="AppSecret the token endpoints accept.")
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
def command(host: str, port: int, appid: str, secret: str, wechat_id: str, latency_ms: int,
            connection_latency_ms: int, state_file: Path | None, strict: bool,
            invite_lifetime: int, msgid_mode: str, max_accounts: int) -> ExitCode:
    """Serve a local emulator of the WeChat kf API until interrupted."""
    from kfsync.emulator import Emulator

    if not is_loopback(host):
        click.echo(f"kfsync: warning: listening on {host}, not loopback: anyone who can reach "
                   "it can use the emulator", err=True)
    emulator = Emulator(appid=appid, secret=secret, wechat_id=wechat_id, host=host, port=port,
                        latency_ms=latency_ms, strict=strict, state_file=state_file,
                        invite_lifetime=invite_lifetime, msgid_mode=msgid_mode,
                        max_accounts=max_accounts,
                        connection_latency_ms=connection_latency_ms)
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
            click.echo(emulator.base_url)
            sys.stdout.flush()
            while not stop.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("kfsync: emulator stopped", err=True)
    return ExitCode.OK
