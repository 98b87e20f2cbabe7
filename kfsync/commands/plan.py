"""`kfsync plan`: show what apply would do; never writes to WeChat."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kfsync.commands._comment import comment_plan, failures_commented, start_commenting
from kfsync.commands._globals import note, use_color
from kfsync.commands._options import (
    allowed,
    config_option,
    format_option,
    parallelism_option,
    reconcile_options,
)
from kfsync.commands._progress import shown
from kfsync.errors import ExitCode

if TYPE_CHECKING:
    from kfsync.avatars import AvatarPrint
    from kfsync.comment import Commenting
    from kfsync.plan import Plan
    from kfsync.render.thumbnails import PictureUrl
    from kfsync.safety import SafetyError

log = logging.getLogger(__name__)


@click.command("plan")
@config_option
@format_option(("text", "json", "markdown"), "How to show the plan.")
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),  # kfsync refuses anything but a regular file or a new path
    help="Also save the plan to FILE, for `kfsync apply FILE`.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when there are changes (0 when in sync).",
)
@click.option(
    "--comment",
    is_flag=True,
    help="Also post the Markdown plan as the pull or merge request's comment, or update it "
    "(GitHub Actions, GitLab CI).",
)
@parallelism_option
@reconcile_options
def command(
    config_path: Path,
    fmt: str,
    out: Path | None,
    detailed_exitcode: bool,
    comment: bool,
    parallelism: int,
    allow_delete: str,
    cache_dir: Path | None,
) -> ExitCode:
    """Compare kfsync.yaml with the live accounts and show the calls apply would make."""
    commenting = start_commenting(config_path) if comment else None
    with failures_commented(commenting):
        return _plan(config_path, fmt, out, detailed_exitcode, parallelism, allow_delete, cache_dir,
                     commenting)


def _plan(
    config_path: Path,
    fmt: str,
    out: Path | None,
    detailed_exitcode: bool,
    parallelism: int,
    allow_delete: str,
    cache_dir: Path | None,
    commenting: Commenting | None,
) -> ExitCode:
    from kfsync.cache import Cache, default_cache_dir
    from kfsync.config import load_config
    from kfsync.engine import Engine
    from kfsync.providers import open_provider

    if out is not None:
        from kfsync.planfile import check_target

        check_target(out)
    cache = Cache(cache_dir or default_cache_dir())
    prints: dict[Path, AvatarPrint] = {}  #: the loader's fingerprints, for the engine
    with shown("Checking avatars", "files") as advance:
        config = load_config(config_path, cache=cache, progress=advance, prints=prints)
    if commenting is not None:
        commenting.wechat_id = config.scope
    pictures = shown("Comparing live pictures", "pictures")
    engine = Engine(config, lambda: open_provider(config, cache=cache, parallelism=parallelism),
                    cache=cache, prints=prints)
    with pictures as advance, engine.start(progress=advance):  # round trips overlap what follows
        from kfsync.planfile import save_plan
        from kfsync.render import render_plan  # noqa: F401 - loaded while the live side is read

        prepared = engine.plan(allowed(allow_delete))
    refused = prepared.refused
    click.echo(_with_refusal(prepared.plan, fmt, refused, use_color()), nl=False)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        from kfsync.commands._fullplan import STEP_SUMMARY_CHARS

        whole = _with_refusal(prepared.plan, "markdown", refused, False, limit=STEP_SUMMARY_CHARS)
        _append_step_summary(Path(summary), whole)
    if refused is None and out is not None:
        for warning in save_plan(out, prepared, allowed(allow_delete)):
            click.echo(warning, err=True)
        note(f"Saved the plan to {out}; apply it with `kfsync apply {out}`.")
    if commenting is not None:
        comment_plan(commenting, prepared.plan.wechat_id, refused,
                     lambda pictures: _with_refusal(prepared.plan, "markdown", refused, False,
                                                    pictures=pictures))
    if refused is not None:
        raise refused
    if detailed_exitcode and not prepared.plan.empty:
        return ExitCode.CHANGES
    return ExitCode.OK


def _with_refusal(
    plan: Plan,
    fmt: str,
    refused: SafetyError | None,
    color: bool,
    *,
    limit: int | None = None,
    pictures: PictureUrl | None = None,
) -> str:
    """The rendered plan; in Markdown, a refusal is stated at the top, where the reviewer reads it."""
    from kfsync.commands._fullplan import full_plan_location
    from kfsync.render import render_plan
    from kfsync.render.markdown import MAX_CHARS, render_plan_markdown

    if fmt != "markdown":
        return render_plan(plan, fmt, color=color)
    return render_plan_markdown(
        plan,
        limit=limit or MAX_CHARS,
        refused=refused.reason if refused is not None else "",
        full_plan=full_plan_location(os.environ),
        pictures=pictures,
    )


def _append_step_summary(path: Path, markdown: str) -> None:
    """GitHub Actions shows what steps append to $GITHUB_STEP_SUMMARY on the run's page."""
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(markdown)
    except OSError as exc:
        log.warning("could not write the step summary to %s: %s", path, exc.strerror)
