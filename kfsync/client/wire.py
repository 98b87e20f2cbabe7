"""Typed access to one decoded JSON object from WeChat, with errors that name the field.

`Fields` is how each provider's results read wire JSON: every accessor checks
the type, so a wrong type becomes one `WireFormatError` naming the field path
(`kf_list[2].kf_id`), which the transport turns into a `TransportError` naming
the endpoint.  Nothing else in kfsync touches wire dicts.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TypeVar

from kfsync.errors import UsageError

#: The latest unix time any output can show: 9999-12-31T23:59:59Z.
MAX_TIME = 253_402_300_799
_DIGITS = re.compile(r"\s*-?[0-9]{1,20}\s*")


class WireFormatError(ValueError):
    """A decoded answer does not have the shape kfsync expects."""


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array",
            dict: "object"}.get(type(value), type(value).__name__)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


class Fields:
    """One JSON object, read field by field with type checks."""

    def __init__(self, data: object, where: str = "", index: int | None = None) -> None:
        self._where = where
        self._index = index  #: the item's place in the array `where`, if it is one
        if not isinstance(data, Mapping):
            what = self._here() or "the answer"
            raise WireFormatError(f"{what} must be a JSON object, got {_kind(data)}")
        self._data: Mapping[str, object] = data

    @property
    def data(self) -> Mapping[str, object]:
        """The object itself, for a reader that checks the types on its own."""
        return self._data

    def _here(self) -> str:
        """Where this object is (built only for an error: arrays can have many thousand items)."""
        return self._where if self._index is None else f"{self._where}[{self._index}]"

    @property
    def where(self) -> str:
        """Where this object sits in the answer, e.g. `result_list[2]` ("" for the answer)."""
        return self._where or "the answer"

    def _path(self, key: str) -> str:
        here = self._here()
        return f"{here}.{key}" if here else key

    def _fail(self, key: str, expected: str) -> WireFormatError:
        got = _kind(self._data[key]) if key in self._data else "nothing"
        return WireFormatError(f"field {self._path(key)} must be {expected}, got {got}")

    def text(self, key: str, default: str | None = None, *, limit: int | None = None) -> str:
        """A string; with `limit`, one of at most that many characters."""
        value = self._data.get(key)
        if value is None and default is not None:
            return default
        if not isinstance(value, str):
            raise self._fail(key, "a string")
        if limit is not None and len(value) > limit:
            raise WireFormatError(f"field {self._path(key)} must be at most {limit} characters, "
                                  f"got {len(value)}")
        return value

    def opt_text(self, key: str, *, limit: int | None = None) -> str | None:
        """A string, or None when the field is missing, null or ""."""
        if self._data.get(key) in (None, ""):
            return None
        return self.text(key, limit=limit)

    def opt_flag(self, key: str) -> bool | None:
        """A boolean (true/false, or 0/1), or None when missing."""
        value = self._data.get(key)
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise self._fail(key, "true or false")

    def opt_real(self, key: str) -> float | None:
        """A finite number (whole or not), or None when missing."""
        value = self._data.get(key)
        if value is None:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        raise self._fail(key, "a number")

    def opt_object(self, key: str) -> Fields | None:
        """A nested object, or None when missing."""
        if self._data.get(key) is None:
            return None
        return Fields(self._data[key], self._path(key))

    def raw(self) -> Mapping[str, object]:
        """The object as decoded (for payloads whose shape varies by type, such as messages)."""
        return self._data

    def texts(self, key: str, *, limit: int | None = None) -> tuple[str, ...]:
        """An array of strings (missing: empty)."""
        value = self._data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self._fail(key, "an array of strings")
        if limit is not None and any(len(item) > limit for item in value):
            raise WireFormatError(f"field {self._path(key)} holds a string longer than {limit}")
        return tuple(value)

    def number(self, key: str, default: int | None = None) -> int:
        value = self.opt_number(key)
        if value is None:
            if default is None:
                raise self._fail(key, "a number")
            return default
        return value

    def opt_number(self, key: str) -> int | None:
        """A whole number (a JSON number, or a string of digits), or None when missing."""
        value = self._data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            try:
                return int(value)
            except ValueError:  # digits int() refuses: "²", or thousands of them
                pass
        raise self._fail(key, "a whole number")

    def time(self, key: str, default: int | None = None) -> int:
        """A unix time in seconds, from 1970 to the year 9999 (a whole float is taken too)."""
        value = self._data.get(key)
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        if isinstance(value, str) and _DIGITS.fullmatch(value):
            value = int(value)
        if value is None and default is not None:
            return default
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TIME:
            return value
        raise self._fail(key, "a unix time (seconds from 1970 to 9999)")

    def opt_time(self, key: str) -> tuple[int | None, str | None]:
        """A unix time, or None when missing; a value that is no time is None and a warning."""
        if self._data.get(key) in (None, ""):
            return None, None
        try:
            return self.time(key), None
        except WireFormatError as exc:
            return None, f"{exc}: {_shown(self._data[key])}"

    def ident(self, key: str) -> str:
        """An id WeChat sends as a number or as a string, normalised to a string."""
        value = self._data.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and value:
            return value
        raise self._fail(key, "a number or a non-empty string")

    def objects(self, key: str, *, optional: bool = False) -> Iterator[Fields]:
        """The items of an array of objects; a missing array is empty only if `optional`."""
        value = self._data.get(key)
        if value is None and optional:
            return
        if not isinstance(value, list):
            raise self._fail(key, "an array")
        path = self._path(key)
        for index, item in enumerate(value):
            yield Fields(item, path, index)


_JPEG = b"\xff\xd8\xff"
_PNG = b"\x89PNG\r\n\x1a\n"


def media_part(image: str | os.PathLike[str] | bytes) -> tuple[str, bytes, str]:
    """The multipart `media` part: file name, content, content type."""
    if isinstance(image, bytes):
        name, data = "avatar.jpg", image
        if data.startswith(_PNG):
            name = "avatar.png"
    else:
        path = Path(image)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read avatar picture {path}: {exc.strerror}") from None
        name = path.name
    if data.startswith(_JPEG):
        kind = "image/jpeg"
    elif data.startswith(_PNG):
        kind = "image/png"
    else:
        kind = "application/octet-stream"
    return name, data, kind


_W = TypeVar("_W", bound="_Wire")


class _Wire:
    """`from_dict` for every result: wrap the object in `Fields`, then read it."""

    __slots__ = ()  # so that a result with slots (MsgRecord, by the hundred thousand) has no dict

    @classmethod
    def from_dict(cls: type[_W], data: object) -> _W:
        return cls.from_fields(Fields(data))

    @classmethod
    def from_fields(cls: type[_W], f: Fields) -> _W:
        raise NotImplementedError
