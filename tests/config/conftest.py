"""Fixtures shared by the config tests."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

import pytest


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


@pytest.fixture
def claimed_png() -> Callable[[int, int], bytes]:
    """A PNG that only claims a size: enough for Pillow to open it and count its pixels."""
    return _png_header_only
