"""Helpers for the WeCom tests: pictures, request-log queries, a client factory type, seeds."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from PIL import Image

from kfsync.client.transport import RetryPolicy
from kfsync.providers.wecom.client import WeComClient
from kfsync.providers.wecom.emulator import WeComEmulator

NO_WAIT = RetryPolicy(sleep=lambda _: None)
WeComFactory = Callable[..., WeComClient]
LIST = "/cgi-bin/kf/account/list"
GETTOKEN = "/cgi-bin/gettoken"


def picture(kind: str = "JPEG", size: tuple[int, int] = (48, 48), color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, kind)
    return out.getvalue()


def calls_to(emulator: WeComEmulator, path: str) -> list[dict[str, Any]]:
    return [entry for entry in emulator.admin.requests() if entry["path"] == path]


def people(*userids: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"userid": userid, **extra} for userid in userids]


def bootstrap(emulator: WeComEmulator, *, name: str = "Front desk",
              **seed: Any) -> str:
    """One account the app manages (the console step every corp needs); its open_kfid."""
    emulator.admin.seed(accounts=[{"open_kfid": "wkBootstrap0001", "name": name,
                                   "manage_privilege": True}], **seed)
    return "wkBootstrap0001"
