"""What the operations commands (accounts, online, session, records) share.

The `--format table|json` option, time zones (with a fallback when the
machine has no tz database), how a unix time is shown in a table, and how a
bare account prefix is completed from kfsync.yaml.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from kfsync.errors import KfsyncError, UsageError
from kfsync.render.table import TABLE_FORMATS, Table, render_listing

F = TypeVar("F", bound=Callable[..., Any])

#: WeChat's days are China Standard Time days; tables show times there.
CHINA = "Asia/Shanghai"
_CHINA_FIXED = dt.timezone(dt.timedelta(hours=8), "+08:00")


def format_option(func: F) -> F:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(TABLE_FORMATS),
        default="table",
        show_default=True,
        help="An aligned table for people, or JSON for scripts.",
    )(func)


def show(fmt: str, table: Table, document: Mapping[str, object], *, empty: str = "") -> None:
    """Print the listing; an empty table prints nothing on stdout, and `empty` on stderr."""
    if fmt == "table" and not table.rows:
        click.echo(empty, err=True)
        return
    click.echo(render_listing(fmt, table, document), nl=False)


def load_zone(name: str) -> dt.tzinfo:
    """The time zone `name`; Asia/Shanghai falls back to a fixed +08:00 without tzdata.

    China has had no daylight saving time since 1991, so the fixed offset is exact
    for any time WeChat records.
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if name == CHINA:
            return _CHINA_FIXED
        raise UsageError(
            f"unknown time zone {name!r}: use an IANA name such as {CHINA} (if the name is right, "
            "this machine lacks the tz database: install the tzdata package)"
        ) from None


def table_time(timestamp: int | None) -> str:
    """A unix time as `2026-11-04 12:00+08:00` (China Standard Time); "" for none or 0."""
    if not timestamp:
        return ""
    moment = dt.datetime.fromtimestamp(timestamp, load_zone(CHINA))
    return moment.isoformat(sep=" ", timespec="minutes")


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
