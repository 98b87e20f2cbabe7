"""`kfsync demo`: the whole workflow, end to end, against an emulator in this process.

It copies the example config to a temporary folder, starts the emulator,
seeds it with a live state that has drifted from the example (an extra
account, a changed nickname, a missing avatar, an expired invitation and a
tombstoned account still live), then shows `plan`, runs `apply` and shows the
second `plan`.  Nothing is written outside the temporary folder.
"""

from __future__ import annotations

import base64
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kfsync.commands._globals import bold, use_color
from kfsync.errors import ExitCode

if TYPE_CHECKING:
    from kfsync.avatars import AvatarPrint

#: What a user does next, after the demo: printed at its end.
NEXT_STEPS = """\
Next steps with your own Official Account:
  1. Import the live accounts:   KFSYNC_APPID=… KFSYNC_APPSECRET=… kfsync import
     (writes kfsync.yaml and avatars/; `kfsync plan` right after shows no changes)
  2. Change kfsync.yaml, then:   kfsync plan
  3. Wire CI to plan on every pull request and apply on merge: copy
     examples/ci/github-actions.yml or examples/ci/gitlab-ci.yml from kfsync's repository
"""


def drifted_live(wechat_id: str, uploads: dict[str, bytes], now: int) -> list[dict[str, Any]]:
    """Live accounts as a console user might have left them, for the example config."""

    def picture(prefix: str) -> dict[str, str]:
        return {"headimg_base64": base64.b64encode(uploads[f"{prefix}@{wechat_id}"]).decode()}

    return [
        {"kf_account": f"alice@{wechat_id}", "kf_nick": "小美", **picture("alice"),
         "invite_wx": "alice_wx2024", "invite_status": "expired", "invite_expire_time": now - 3600},
        {"kf_account": f"bob@{wechat_id}", "kf_nick": "Bobby", **picture("bob")},
        {"kf_account": f"carol@{wechat_id}", "kf_nick": "Carol", "kf_wx": "carol_wx"},
        {"kf_account": f"chen@{wechat_id}", "kf_nick": "陈师傅·售后", "kf_wx": "chen-tea88"},
        {"kf_account": f"dora@{wechat_id}", "kf_nick": "Dora (EN)", **picture("dora"),
         "kf_wx": "dora_2024"},
        {"kf_account": f"zoe@{wechat_id}", "kf_nick": "Zoe (console)", **picture("bob")},
    ]


@click.command("demo")
def command() -> ExitCode:
    """Plan, apply and plan again against an embedded emulator: no network, no credentials."""
    from kfsync.cache import Cache
    from kfsync.config import load_config
    from kfsync.config.resources import data_path
    from kfsync.engine import Engine, declare
    from kfsync.providers.base import DEFAULT_PARALLELISM
    from kfsync.providers.wechat_mp.client import KfClient, RetryPolicy
    from kfsync.providers.wechat_mp.emulator import Emulator
    from kfsync.providers.wechat_mp.provider import WechatMpProvider
    from kfsync.render import apply_summary, progress_line, render_plan

    color = use_color()
    with tempfile.TemporaryDirectory(prefix="kfsync-demo-") as tmp:
        folder = Path(tmp) / "shop"
        shutil.copytree(data_path("examples"), folder)
        prints: dict[Path, AvatarPrint] = {}
        config = load_config(folder / "kfsync.yaml", prints=prints)
        declared = declare(config, prints=prints)
        cache = Cache(Path(tmp) / "cache")
        wechat_id = config.scope
        with Emulator(wechat_id=wechat_id) as emulator:
            now = emulator.admin.now()
            emulator.admin.seed(accounts=drifted_live(wechat_id, dict(declared.uploads), now))
            click.echo(bold(f"# Emulator at {emulator.base_url}, seeded with drifted accounts"))
            click.echo("# Config: a temporary copy of examples/kfsync.yaml, deleted at the end\n")
            client = KfClient(
                appid=emulator.config.appid,
                secret=emulator.config.secret,
                api_base=emulator.base_url,
                token_mode="stable",
                retry=RetryPolicy(base_delay=0.05, max_delay=0.2),
            )
            with Engine(config, lambda: WechatMpProvider(client, cache=cache), cache=cache,
                        now=now) as engine:
                click.echo(bold("$ kfsync plan"))
                prepared = engine.plan(declared=declared)
                click.echo(render_plan(prepared.plan, "text", color=color), nl=False)
                click.echo("\n" + bold("$ kfsync apply --auto-approve"))
                applied = engine.apply(
                    prepared,
                    parallelism=DEFAULT_PARALLELISM,
                    progress=lambda i, n, o: click.echo(progress_line(i, n, o, color)),
                )
                click.echo(apply_summary(applied.result))
                click.echo("\n" + bold("$ kfsync plan"))
                if applied.verify is None:
                    click.echo(f"Not verified: {applied.verify_error}")
                else:
                    click.echo(render_plan(applied.verify.plan, "text", color=color), nl=False)
    click.echo("\n" + NEXT_STEPS, nl=False)
    sys.stdout.flush()
    return ExitCode.OK if applied.converged else ExitCode.INCOMPLETE
