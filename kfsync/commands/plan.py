"""`kfsync plan`: show what apply would do; never writes to WeChat."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kfsync.commands._options import (
    allowed,
    config_option,
    parallelism_option,
    reconcile_options,
    use_color,
)
from kfsync.errors import ExitCode

if TYPE_CHECKING:
    from kfsync.plan import Plan
    from kfsync.safety import SafetyError

log = logging.getLogger(__name__)


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
@parallelism_option
@reconcile_options
def command(
    config_path: Path,
    fmt: str,
    out: Path | None,
    detailed_exitcode: bool,
    parallelism: int,
    allow_delete: str,
    no_color: bool,
    cache_dir: Path | None,
) -> ExitCode:
    """Compare kfsync.yaml with the live accounts and show the calls apply would make."""
    from kfsync.live import PictureCache, default_cache_dir
    from kfsync.reconcile import declare, loading_and_reading, planned

    cache = PictureCache(cache_dir or default_cache_dir())
    # WeChat's round trips overlap the avatars' checks and what follows
    with loading_and_reading(config_path, cache, parallelism=parallelism) as (config, reading):
        declared = declare(config, cache)
        from kfsync.planfile import save_plan
        from kfsync.render import render_plan  # noqa: F401 - loaded while the live side is read
        from kfsync.safety import SafetyError, check_safety

        _, live = reading.result()
    prepared = planned(declared, live)
    refused: SafetyError | None = None
    try:
        check_safety(prepared.plan, config.policy, allowed(allow_delete))
    except SafetyError as exc:
        refused = exc
    click.echo(_with_refusal(prepared.plan, fmt, refused, use_color(no_color)), nl=False)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        _append_step_summary(Path(summary), _with_refusal(prepared.plan, "markdown", refused, False))
    if refused is not None:
        raise refused
    if out is not None:
        save_plan(out, prepared)
        click.echo(f"Saved the plan to {out}; apply it with `kfsync apply {out}`.", err=True)
    if detailed_exitcode and not prepared.plan.empty:
        return ExitCode.CHANGES
    return ExitCode.OK


def _with_refusal(plan: Plan, fmt: str, refused: SafetyError | None, color: bool) -> str:
    """The rendered plan; in Markdown, a refusal is stated where the reviewer reads it."""
    from kfsync.render import render_plan
    from kfsync.render.markdown import MAX_CHARS, md_escape, render_plan_markdown

    if refused is None or fmt != "markdown" or plan.refusals:  # refusals have their own section
        return render_plan(plan, fmt, color=color)
    note = f"\n> **Refused:** {md_escape(refused.message)}\n"
    return render_plan_markdown(plan, limit=MAX_CHARS - len(note)) + note


def _append_step_summary(path: Path, markdown: str) -> None:
    """GitHub Actions shows what steps append to $GITHUB_STEP_SUMMARY on the run's page."""
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(markdown)
    except OSError as exc:
        log.warning("could not write the step summary to %s: %s", path, exc.strerror)
