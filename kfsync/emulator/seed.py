"""Reading an admin seed payload: typed access to each item, with its place for messages.

Every provider's seed parser builds on these: a problem is an `AdminError`
(HTTP 400) naming the item, e.g. `accounts[2].kf_nick: must be a non-empty string`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kfsync.emulator.exceptions import AdminError


class _Item:
    """Typed access to one seed item, with its position for messages."""

    def __init__(self, where: str, item: object, keys: set[str]) -> None:
        if not isinstance(item, dict):
            raise AdminError(f"{where}: must be an object")
        unknown = sorted(set(item) - keys)
        if unknown:
            raise AdminError(f"{where}: unknown field(s) {', '.join(unknown)}")
        self.where = where
        self.item: dict[str, Any] = item

    def fail(self, key: str, problem: str) -> AdminError:
        return AdminError(f"{self.where}.{key}: {problem}")

    def text(self, key: str) -> str:
        value = self.item.get(key)
        if not isinstance(value, str) or not value:
            raise self.fail(key, "must be a non-empty string")
        return value

    def optional_text(self, key: str) -> str | None:
        return self.text(key) if key in self.item else None

    def integer(self, key: str, default: int | None = None) -> int:
        """An int >= 0, required unless a default is given; digit strings are accepted too
        (getkflist documents some numbers as strings)."""
        if key not in self.item and default is None:
            raise self.fail(key, "is required")
        value = self.item.get(key, default)
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(key, "must be an integer >= 0")
        return value


def _items(payload: dict[str, Any], key: str, keys: set[str]) -> Iterator[_Item]:
    values = payload.get(key, [])
    if not isinstance(values, list):
        raise AdminError(f"{key}: must be a list")
    for index, item in enumerate(values):
        yield _Item(f"{key}[{index}]", item, keys)
