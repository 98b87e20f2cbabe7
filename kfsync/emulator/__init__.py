"""The generic machinery of kfsync's API emulators, in the style of moto.

`server` (HTTP/1.1 with keep-alive), `app` (lock, latency, faults, request log,
persistence), `control` and `admin` (the admin API under /_emulator/ and its
client), `faults`, `clock`, `requestlog`, `statefile`, `wire` (one request and
its answer) and `exceptions`.  Each provider's emulator builds on them, e.g.
`kfsync.providers.wechat_mp.emulator`; nothing here imports a provider.

`Emulator`, `EmulatorAdmin` and the `DEFAULT_*` settings of the Official
Account's emulator are re-exported here, loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kfsync.providers.wechat_mp.emulator import (
        DEFAULT_APPID,
        DEFAULT_SECRET,
        DEFAULT_WECHAT_ID,
        Emulator,
        EmulatorAdmin,
    )

__all__ = ["DEFAULT_APPID", "DEFAULT_SECRET", "DEFAULT_WECHAT_ID", "Emulator", "EmulatorAdmin"]


def __getattr__(name: str) -> object:
    if name in __all__:
        return getattr(importlib.import_module("kfsync.providers.wechat_mp.emulator"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
