"""`kfsync plan`: show what apply would do; never writes to WeChat."""

from __future__ import annotations

from pathlib import Path

import click

from kfsync.commands._options import allowed, config_option, reconcile_options, use_color
from kfsync.errors import ExitCode


@click.command("plan")
@config_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="How to show the plan.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also save the plan to FILE, for `kfsync apply FILE`.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when there are changes (0 when in sync).",
)
@reconcile_options
def command(
    config_path: Path,
    fmt: str,
    out: Path | None,
    detailed_exitcode: bool,
    allow_delete: str,
    no_color: bool,
    cache_dir: Path | None,
) -> ExitCode:
    """Compare kfsync.yaml with the live accounts and show the calls apply would make."""
    from kfsync.client import KfClient
    from kfsync.config import load_config
    from kfsync.live import PictureCache, default_cache_dir
    from kfsync.plan import check_safety
    from kfsync.planfile import save_plan
    from kfsync.reconcile import declare, read_and_plan
    from kfsync.render import render_plan

    config = load_config(config_path)
    declared = declare(config)
    cache = PictureCache(cache_dir or default_cache_dir())
    with KfClient() as client:
        prepared = read_and_plan(declared, client, cache=cache)
    click.echo(render_plan(prepared.plan, fmt, color=use_color(no_color)), nl=False)
    check_safety(prepared.plan, config.policy, allowed(allow_delete))
    if out is not None:
        save_plan(out, prepared)
        click.echo(f"Saved the plan to {out}; apply it with `kfsync apply {out}`.", err=True)
    if detailed_exitcode and not prepared.plan.empty:
        return ExitCode.CHANGES
    return ExitCode.OK
