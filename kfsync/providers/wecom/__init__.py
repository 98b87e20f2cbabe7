"""The WeCom 微信客服 provider: its typed client, its errcodes and its emulator.

`WeComClient` is loaded on first use, so importing this package does not import `requests`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kfsync.providers.wecom.client import WeComClient

__all__ = ["WeComClient"]


def __getattr__(name: str) -> object:
    if name == "WeComClient":
        return importlib.import_module("kfsync.providers.wecom.client").WeComClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
