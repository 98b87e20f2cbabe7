"""`plan --comment` at the command line: find the request, post the plan or the failure, say so on stderr."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kfsync.errors import KfsyncError
from kfsync.redact import redact

if TYPE_CHECKING:
    from kfsync.comment import Commenting
    from kfsync.render.thumbnails import PictureUrl
    from kfsync.safety import SafetyError


def start_commenting(config_path: Path) -> Commenting | None:
    """The comment of this CI job's pull or merge request, or None (said in one line) outside one."""
    from kfsync.comment import NOT_IN_REQUEST, start

    commenting = start(config_path)
    if commenting is None:
        click.echo(NOT_IN_REQUEST, err=True)
    return commenting


@contextmanager
def failures_commented(commenting: Commenting | None) -> Iterator[None]:
    """A failure inside, before the plan was posted, is said in the comment, then raised as it was."""
    if commenting is None:
        yield
        return
    try:
        yield
    except Exception as exc:
        if not commenting.posted:
            _comment_failure(commenting, exc)
        raise
    finally:
        commenting.close()


def comment_plan(commenting: Commenting, wechat_id: str, refused: SafetyError | None,
                 markdown: Callable[[PictureUrl | None], str]) -> None:
    """Post the plan; when posting fails on a refused plan, say so and keep the refusal's exit code."""
    try:
        click.echo(commenting.planned(wechat_id, markdown), err=True)
    except KfsyncError as exc:
        if refused is None:
            raise
        _error_line(str(exc))


def _comment_failure(commenting: Commenting, exc: Exception) -> None:
    """Say in the comment that the plan failed; the run keeps its own error and exit code."""
    if isinstance(exc, KfsyncError):
        error = str(exc)
    else:
        error = f"internal error: {type(exc).__name__}; rerun with --debug and report it"
    try:
        click.echo(commenting.failed(redact(error)), err=True)
    except KfsyncError as comment_error:
        _error_line(str(comment_error))


def _error_line(message: str) -> None:
    click.echo(f"kfsync: error: {redact(message)}", err=True)
