"""`Emulator`: the Official Account's kf API emulator, served over HTTP.

Usable as `with Emulator() as emu:`, on a free loopback port; see
`kfsync.emulator.server.Served` for the serving itself.
"""

from __future__ import annotations

import os
from pathlib import Path

from kfsync.emulator.server import Served
from kfsync.providers.wechat_mp.emulator.admin import EmulatorAdmin
from kfsync.providers.wechat_mp.emulator.app import EmulatorApp
from kfsync.providers.wechat_mp.emulator.config import (
    DEFAULT_APPID,
    DEFAULT_INVITE_LIFETIME,
    DEFAULT_MAX_ACCOUNTS,
    DEFAULT_SECRET,
    DEFAULT_WECHAT_ID,
    EmulatorConfig,
)


class Emulator(Served):
    """The WeChat kf API emulator, served over HTTP on `base_url`; a context manager."""

    app: EmulatorApp

    def __init__(
        self,
        appid: str = DEFAULT_APPID,
        secret: str = DEFAULT_SECRET,
        wechat_id: str = DEFAULT_WECHAT_ID,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_ms: int = 0,
        strict: bool = False,
        state_file: str | os.PathLike[str] | None = None,
        invite_lifetime: int = DEFAULT_INVITE_LIFETIME,
        msgid_mode: str = "next",
        max_accounts: int = DEFAULT_MAX_ACCOUNTS,
        connection_latency_ms: int = 0,
    ) -> None:
        self.config = EmulatorConfig(appid, secret, wechat_id, latency_ms, strict,
                                     invite_lifetime, msgid_mode, max_accounts,
                                     connection_latency_ms)
        super().__init__(EmulatorApp(self.config, Path(state_file) if state_file else None),
                         host, port)

    def __repr__(self) -> str:
        where = self._server.base_url if self._server else "not started"
        return f"Emulator({where}, {self.config!r})"

    @property
    def admin(self) -> EmulatorAdmin:
        return EmulatorAdmin(self.base_url)
