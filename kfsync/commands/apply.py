"""`kfsync apply`: make the calls a plan lists, then verify that nothing is left."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kfsync.commands._globals import use_color
from kfsync.commands._options import (
    allowed,
    config_option,
    format_option,
    parallelism_option,
    reconcile_options,
)
from kfsync.commands._progress import shown
from kfsync.errors import ExitCode, UsageError
from kfsync.redact import redact
from kfsync.textsafe import visible

if TYPE_CHECKING:
    from kfsync.apply import ApplyResult
    from kfsync.avatars import AvatarPrint
    from kfsync.engine import Applied
    from kfsync.plan import Plan


def _interactive() -> bool:
    return sys.stdin.isatty()


def _confirmed() -> bool:
    answer: str = click.prompt(
        "Do you want to make these changes? Only 'yes' will be accepted",
        default="",
        show_default=False,
        err=True,
    )
    return answer.strip() == "yes"


def _report(result: ApplyResult, fmt: str, verify: Plan | None, color: bool,
            applied: Applied | None = None) -> None:
    """Print the report of an apply; whatever goes wrong in rendering it, it is never lost.

    Calls were made: should the asked-for format fail, the report comes as
    text, and failing that as one plain line per change.  With `applied`, the
    outputs it reported (or why it could not) are in the report too.
    """
    from kfsync.render import render_apply

    outputs = applied.outputs if applied is not None else ()
    error = applied.outputs_error if applied is not None else None
    error = redact(error) if error else None
    try:
        click.echo(render_apply(result, fmt, verify=verify, color=color, outputs=outputs,
                                outputs_error=error), nl=False)
        return
    except Exception as exc:  # any failure: the report of calls made must still be printed
        why = visible(redact(f"{type(exc).__name__}: {exc}"))
        click.echo(f"kfsync: error: the {fmt} report could not be written ({why}); "
                   "here it is as plain text", err=True)
    try:
        text = render_apply(result, "text", verify=verify, color=False, outputs=outputs,
                            outputs_error=error)
    except Exception:
        text = "".join(f"{o.status} {visible(o.change.id)}: {visible(o.message or o.note or '')}\n"
                       for o in result.outcomes)
    click.echo(text, nl=False)


@click.command("apply")
@click.argument("plan_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@config_option
@click.option("--auto-approve", is_flag=True, help="Apply without asking for `yes`.")
@parallelism_option
@format_option(("text", "json"), "How to report the result.")
@reconcile_options
def command(
    plan_file: Path | None,
    config_path: Path,
    auto_approve: bool,
    parallelism: int,
    fmt: str,
    allow_delete: str,
    cache_dir: Path | None,
) -> ExitCode:
    """Apply kfsync.yaml (or a saved PLAN_FILE) to the live accounts."""
    from kfsync.apply import ApplyResult, Outcome
    from kfsync.cache import Cache, default_cache_dir
    from kfsync.config import load_config
    from kfsync.engine import Engine
    from kfsync.planfile import check_seal, load_plan
    from kfsync.providers import open_provider
    from kfsync.render import progress_line, render_apply, render_plan

    color = use_color()
    err_color = use_color(sys.stderr)
    saved = load_plan(plan_file) if plan_file is not None else None
    if saved is not None:
        check_seal(saved)
    if saved is None and not auto_approve and not _interactive():
        raise UsageError(
            "no terminal to confirm on: pass --auto-approve, or apply a reviewed plan file "
            "(`kfsync plan --out plan.json`, then `kfsync apply plan.json`)"
        )
    cache = Cache(cache_dir or default_cache_dir())
    prints: dict[Path, AvatarPrint] = {}  #: the loader's fingerprints, for the engine
    with shown("Checking avatars", "files") as advance:
        config = load_config(config_path, cache=cache, progress=advance, prints=prints)
    pictures = shown("Comparing live pictures", "pictures")
    engine = Engine(config, lambda: open_provider(config, cache=cache, parallelism=parallelism,
                                                  connections=parallelism),
                    cache=cache, prints=prints)
    with pictures as advance, engine.start(progress=advance):  # round trips overlap the declaring
        # A saved file is applied only if it is exactly the plan made now.
        prepared = engine.plan(allowed(allow_delete), saved=saved)
        if fmt == "text":
            click.echo(render_plan(prepared.plan, "text", color=color), nl=False)
        # Before the in-sync exit: a plan may break a rule (a protected rebind) yet change nothing.
        if prepared.refused is not None:
            raise prepared.refused
        if prepared.plan.empty:
            if not prepared.plan.outputs:
                if fmt == "json":
                    click.echo(render_apply(ApplyResult(()), "json", verify=prepared.plan),
                               nl=False)
                return ExitCode.OK
            reported = engine.in_sync(prepared)  # nothing to change, but the outputs to report
            # The text plan above said it is in sync already; JSON says it as its verification.
            _report(reported.result, fmt, prepared.plan if fmt == "json" else None, color,
                    reported)
            return ExitCode.OK if reported.succeeded else ExitCode.INCOMPLETE
        if saved is None and not auto_approve and not _confirmed():
            click.echo("Apply cancelled.", err=True)
            return ExitCode.ERROR

        def progress(index: int, total: int, outcome: Outcome) -> None:
            click.echo(progress_line(index, total, outcome, err_color), err=True)

        applied = engine.apply(prepared, parallelism=parallelism, progress=progress)
    if applied.result.interrupted:
        _report(applied.result, fmt, None, color)
        click.echo("kfsync: interrupted; run `kfsync plan` to see what is left", err=True)
        return ExitCode.INTERRUPTED
    if applied.verify_error is not None:
        why = visible(redact(applied.verify_error))
        click.echo(f"Not verified: the live accounts could not be read again: {why}", err=True)
    verify = applied.verify.plan if applied.verify is not None else None
    _report(applied.result, fmt, verify, color, applied)
    return ExitCode.OK if applied.succeeded else ExitCode.INCOMPLETE
