"""Options that several commands share, declared once."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def config_option(func: F) -> F:
    return click.option(
        "-c",
        "--config",
        "config_path",
        default="kfsync.yaml",
        show_default=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="The configuration file.",
    )(func)


def parallelism_option(func: F) -> F:
    """--parallelism: calls made at once (apply), and live pictures downloaded at once."""
    from kfsync.apply import DEFAULT_PARALLELISM

    return click.option(
        "--parallelism",
        type=click.IntRange(1, 32),
        default=DEFAULT_PARALLELISM,
        show_default=True,
        help="How many calls to make, and live pictures to download, at once.",
    )(func)


def reconcile_options(func: F) -> F:
    """--allow-delete, --no-color and --cache-dir, for plan and apply."""
    func = click.option(
        "--allow-delete",
        default="",
        metavar="A,B",
        help="Prefixes that may be deleted (or rebound) beyond policy.max_deletes; each must be named.",
    )(func)
    func = click.option("--no-color", is_flag=True, help="Never colour the output.")(func)
    return click.option(
        "--cache-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Where live picture fingerprints are cached (default: the user cache directory).",
    )(func)


def allowed(value: str) -> frozenset[str]:
    return frozenset(part.strip() for part in value.split(",") if part.strip())


def use_color(no_color: bool, stream: Any = None) -> bool:
    """Colour only on a terminal, and never with NO_COLOR or --no-color."""
    if no_color or os.environ.get("NO_COLOR"):
        return False
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())
