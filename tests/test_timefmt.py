"""The one time rule: the zone (--tz, KFSYNC_TZ, Asia/Shanghai) and the two ways times are written."""

from __future__ import annotations

import datetime as dt

import pytest

from kfsync import timefmt
from kfsync.errors import UsageError

MAY_1_NOON_UTC = 1714564800


@pytest.fixture(autouse=True)
def _no_zone_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KFSYNC_TZ", raising=False)
    timefmt.choose_zone(None)


def test_the_default_is_china_standard_time() -> None:
    assert timefmt.zone_name() == "Asia/Shanghai"
    assert timefmt.human(MAY_1_NOON_UTC) == "2024-05-01 20:00+08:00"
    assert timefmt.machine(MAY_1_NOON_UTC) == "2024-05-01T20:00:00+08:00"


def test_kfsync_tz_then_tz_choose_the_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KFSYNC_TZ", "UTC")
    assert timefmt.human(MAY_1_NOON_UTC) == "2024-05-01 12:00+00:00"
    timefmt.choose_zone("Europe/Berlin")  # --tz wins over KFSYNC_TZ
    assert timefmt.machine(MAY_1_NOON_UTC) == "2024-05-01T14:00:00+02:00"
    timefmt.choose_zone(None)
    assert timefmt.zone_name() == "UTC"


def test_seconds_are_shown_only_when_there_are_some() -> None:
    assert timefmt.human(MAY_1_NOON_UTC + 7, dt.timezone.utc) == "2024-05-01 12:00:07+00:00"


@pytest.mark.parametrize("name", ["Mars/Olympus", "../../etc/passwd", "", "Asia/Shanghai\x00"])
def test_an_unknown_zone_is_one_clean_error(name: str) -> None:
    with pytest.raises(UsageError, match="unknown time zone"):
        timefmt.choose_zone(name)


def test_an_unknown_kfsync_tz_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KFSYNC_TZ", "Nowhere/Land")
    with pytest.raises(UsageError, match=r"^KFSYNC_TZ: unknown time zone 'Nowhere/Land'"):
        timefmt.display_zone()
