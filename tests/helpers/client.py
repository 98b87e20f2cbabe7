"""Helpers for the client tests: names, pictures, request-log queries, seeding."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from PIL import Image

from kfsync.emulator import DEFAULT_WECHAT_ID, Emulator
from kfsync.providers.wechat_mp.client import KfClient, RetryPolicy

NO_WAIT = RetryPolicy(sleep=lambda _: None)
ClientFactory = Callable[..., KfClient]


def kf(prefix: str) -> str:
    """A full kf account on the emulated Official Account."""
    return f"{prefix}@{DEFAULT_WECHAT_ID}"


def jpeg(size: tuple[int, int] = (32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def calls_to(emulator: Emulator, path: str) -> list[dict[str, Any]]:
    """The request-log entries for one WeChat path."""
    return [entry for entry in emulator.admin.requests() if entry["path"] == path]


def seed_serving(emulator: Emulator, *prefixes: str) -> None:
    """Accounts that are bound to a WeChat user and online, so they can hold sessions."""
    emulator.admin.seed(accounts=[
        {"kf_account": kf(prefix), "kf_nick": prefix.title(), "kf_wx": f"{prefix}_wechat",
         "status": 1} for prefix in prefixes])

