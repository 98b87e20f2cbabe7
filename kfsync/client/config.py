"""Where the client's credentials, token mode and API base come from.

Constructor arguments win over the environment (`KFSYNC_APPID`,
`KFSYNC_APPSECRET`, `KFSYNC_ACCESS_TOKEN`, `KFSYNC_TOKEN_MODE`,
`KFSYNC_API_BASE`); an empty variable counts as unset.  Everything is checked
when the client is constructed, so a missing credential fails before the first
request, with a one-line error naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from kfsync.errors import CredentialsError, UsageError
from kfsync.redact import register_secret

TokenMode = Literal["stable", "classic", "static"]
TOKEN_MODES: tuple[TokenMode, ...] = ("stable", "classic", "static")
DEFAULT_API_BASE = "https://api.weixin.qq.com"


@dataclass(frozen=True)
class ClientConfig:
    """Resolved settings; the secret and the static token never show in the repr."""

    token_mode: TokenMode
    api_base: str
    appid: str | None = None
    secret: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)

    @classmethod
    def resolve(
        cls,
        *,
        appid: str | None = None,
        secret: str | None = None,
        access_token: str | None = None,
        token_mode: str | None = None,
        api_base: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> ClientConfig:
        """Settings from the arguments, falling back to the environment."""
        env = os.environ if environ is None else environ

        def pick(given: str | None, variable: str) -> str | None:
            return given or env.get(variable) or None

        appid = pick(appid, "KFSYNC_APPID")
        secret = pick(secret, "KFSYNC_APPSECRET")
        access_token = pick(access_token, "KFSYNC_ACCESS_TOKEN")
        register_secret(secret)
        register_secret(access_token)
        mode = pick(token_mode, "KFSYNC_TOKEN_MODE")
        if mode is None:
            # A token handed in without a secret to fetch another one can only be static.
            mode = "static" if access_token and not secret else "stable"
        mode = mode.strip().lower()
        if mode not in TOKEN_MODES:
            raise UsageError(
                f"KFSYNC_TOKEN_MODE must be one of {', '.join(TOKEN_MODES)}, got {mode!r}"
            )
        base = (pick(api_base, "KFSYNC_API_BASE") or DEFAULT_API_BASE).rstrip("/")
        if not base.startswith(("https://", "http://")):
            raise UsageError(f"KFSYNC_API_BASE must be an http(s):// URL, got {base!r}")
        config = cls(token_mode=mode, api_base=base, appid=appid,
                     secret=secret, access_token=access_token)
        config.check()
        return config

    def check(self) -> None:
        """Raise CredentialsError naming the first variable this token mode needs but lacks."""
        if self.token_mode == "static":
            needed = {"KFSYNC_ACCESS_TOKEN": self.access_token}
        else:
            needed = {"KFSYNC_APPID": self.appid, "KFSYNC_APPSECRET": self.secret}
        for variable, value in needed.items():
            if not value:
                raise CredentialsError(
                    f"{variable} is not set (needed by the {self.token_mode!r} token mode)"
                )
