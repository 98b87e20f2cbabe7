"""What the operations commands (accounts, online, session, records) share.

The `--format text|json` option, how a unix time is shown in a table (the
time rule of `kfsync.timefmt`), and how a bare account prefix is completed
from kfsync.yaml.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from kfsync.commands import _options as options
from kfsync.commands._globals import note
from kfsync.errors import KfsyncError, UsageError
from kfsync.render.table import TABLE_FORMATS, Table, render_listing
from kfsync.timefmt import human, with_iso_times

F = TypeVar("F", bound=Callable[..., Any])

def format_option(func: F) -> F:
    return options.format_option(
        TABLE_FORMATS, "An aligned table for people (`table` is an alias), or JSON for scripts."
    )(func)


def show(fmt: str, table: Table, document: Mapping[str, object], *, empty: str = "") -> None:
    """Print the listing; an empty table prints nothing on stdout, and `empty` on stderr."""
    if fmt == "text" and not table.rows:
        note(empty)
        return
    click.echo(render_listing(fmt, table, with_iso_times(document)), nl=False)


def table_time(timestamp: int | None) -> str:
    """A unix time as `2026-11-04 12:00+08:00`, in the zone of the time rule; "" for none or 0."""
    if not timestamp:
        return ""
    return human(timestamp)


def full_account(value: str, config_path: Path) -> str:
    """`value` if it is a full kf account; a bare prefix is completed from the config's wechat_id."""
    if "@" in value:
        return value
    example = f"{value}@<the Official Account's WeChat ID>"
    if not config_path.is_file():
        raise UsageError(f"give the full kf account, e.g. {example} ({config_path} was not found "
                         f"to complete the prefix {value!r})")
    from kfsync.config import load_config

    try:
        config = load_config(config_path, check_avatars=False)
    except KfsyncError as exc:
        raise UsageError(f"give the full kf account, e.g. {example} ({config_path} could not "
                         f"complete the prefix {value!r}: {exc})") from None
    return config.kf_account(value)
