"""The one time rule: which zone times are shown in, and how they are written.

Every time kfsync shows or reads (plans, invitations, sessions, chat records,
the comments `import` writes) is in one zone: `--tz`, else `KFSYNC_TZ`, else
China Standard Time (Asia/Shanghai), the zone WeChat's own days and console
use.  People read `2026-11-04 12:00+08:00`; machine formats (JSON, JSONL, CSV)
get ISO 8601 with the offset, `2026-11-04T12:00:00+08:00`.  Both always carry
the offset, so no time is ever ambiguous.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from typing import Any

from kfsync.errors import UsageError

DEFAULT_ZONE = "Asia/Shanghai"
ZONE_VARIABLE = "KFSYNC_TZ"
#: China has had no daylight saving time since 1991: exact for any time WeChat records.
_CHINA_FIXED = dt.timezone(dt.timedelta(hours=8), "+08:00")

_chosen: str | None = None  #: --tz of the run under way, when given


def load_zone(name: str) -> dt.tzinfo:
    """The time zone `name` (an IANA name, or UTC); Asia/Shanghai works without tzdata too."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if name.upper() in ("UTC", "Z"):
        return dt.timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if name == DEFAULT_ZONE:
            return _CHINA_FIXED
        raise UsageError(
            f"unknown time zone {name!r}: use an IANA name such as {DEFAULT_ZONE} or "
            "Europe/Berlin, or UTC (if the name is right, this machine lacks the tz database: "
            "install the tzdata package)"
        ) from None


def choose_zone(name: str | None) -> None:
    """Show times in `name` for the rest of the run (None: back to KFSYNC_TZ or the default)."""
    global _chosen
    if name is not None:
        load_zone(name)  # refused here, before any work, if unknown
    _chosen = name


def zone_name() -> str:
    """The name of the zone times are shown in: --tz, else KFSYNC_TZ, else Asia/Shanghai."""
    return _chosen or os.environ.get(ZONE_VARIABLE, "").strip() or DEFAULT_ZONE


def display_zone() -> dt.tzinfo:
    name = zone_name()
    try:
        return load_zone(name)
    except UsageError as exc:
        where = "--tz" if _chosen else ZONE_VARIABLE
        raise UsageError(f"{where}: {exc}") from None


def human(timestamp: int, zone: dt.tzinfo | None = None) -> str:
    """`2026-11-04 12:00+08:00`; seconds only when there are some."""
    moment = dt.datetime.fromtimestamp(timestamp, zone or display_zone())
    return moment.isoformat(sep=" ", timespec="seconds" if moment.second else "minutes")


def machine(timestamp: int, zone: dt.tzinfo | None = None) -> str:
    """`2026-11-04T12:00:00+08:00`: ISO 8601 with an explicit offset, for JSON, JSONL and CSV."""
    return dt.datetime.fromtimestamp(timestamp, zone or display_zone()).isoformat()


#: The unix-time fields of WeChat's answers (and of the plan) that JSON documents repeat in ISO form.
TIME_FIELDS = frozenset({"invite_expire_time", "createtime", "latest_time", "expires", "time"})


def with_iso_times(document: Any) -> Any:
    """`document` with `<field>_iso` beside every unix-time field (0 and None mean "none")."""
    if isinstance(document, Mapping):
        out: dict[str, Any] = {}
        for key, value in document.items():
            out[key] = with_iso_times(value)
            if key in TIME_FIELDS and type(value) is int and value > 0:
                out[f"{key}_iso"] = machine(value)
        return out
    if isinstance(document, (list, tuple)):
        return [with_iso_times(item) for item in document]
    return document
