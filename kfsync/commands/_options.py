"""Options that several commands share, declared once."""

from __future__ import annotations

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
    from kfsync.providers.base import DEFAULT_PARALLELISM

    return click.option(
        "--parallelism",
        type=click.IntRange(1, 32),
        default=DEFAULT_PARALLELISM,
        show_default=True,
        help="How many calls to make, and live pictures to download, at once.",
    )(func)


def reconcile_options(func: F) -> F:
    """--allow-delete and --cache-dir, for plan and apply."""
    func = click.option(
        "--allow-delete",
        default="",
        metavar="A,B",
        help="Prefixes that may be deleted (or rebound) beyond policy.max_deletes; each must be named.",
    )(func)
    return click.option(
        "--cache-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Where live picture fingerprints are cached (default: the user cache directory).",
    )(func)


def allowed(value: str) -> frozenset[str]:
    return frozenset(part.strip() for part in value.split(",") if part.strip())


#: Old format names still accepted: `table` was the human format of the listing commands.
FORMAT_ALIASES = {"table": "text"}


class FormatChoice(click.Choice):  # type: ignore[type-arg]
    """`--format`'s names, and the aliases of the ones renamed (shown: the names only)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and value.lower() in FORMAT_ALIASES:
            alias = FORMAT_ALIASES[value.lower()]
            if alias in self.choices:
                value = alias
        return super().convert(value, param, ctx)


def format_option(choices: tuple[str, ...], help_text: str, *, dest: str = "fmt") -> Callable[[F], F]:
    """`--format` with `choices`, the first being the default."""
    return click.option("--format", dest, type=FormatChoice(choices), default=choices[0],
                        show_default=True, help=help_text)
