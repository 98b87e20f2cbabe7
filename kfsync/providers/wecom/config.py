"""Where the WeCom client's credentials, token mode and API base come from.

Constructor arguments win over the environment (`KFSYNC_CORPID`,
`KFSYNC_CORPSECRET`, `KFSYNC_ACCESS_TOKEN`, `KFSYNC_TOKEN_MODE`,
`KFSYNC_API_BASE`); an empty variable counts as unset.  The secret is that of
a self-built app (自建应用) that the 微信客服 console lists under
「可调用接口的应用」.  Token modes: `gettoken` (fetched, cached, the default)
or `static` (handed in).  The API base follows the same rules as the Official
Account client's (`kfsync.client.config.checked_api_base`): https, or http on
loopback only; WeCom has no backup host.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from kfsync.client.config import checked_api_base
from kfsync.errors import CredentialsError, UsageError
from kfsync.redact import register_secret

WeComTokenMode = Literal["gettoken", "static"]
TOKEN_MODES: tuple[WeComTokenMode, ...] = ("gettoken", "static")
DEFAULT_API_BASE = "https://qyapi.weixin.qq.com"


@dataclass(frozen=True)
class WeComConfig:
    """Resolved settings; the secret and the static token never show in the repr."""

    token_mode: WeComTokenMode
    api_base: str
    corpid: str | None = None
    secret: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)

    @classmethod
    def resolve(cls, *, corpid: str | None = None, secret: str | None = None,
                access_token: str | None = None, token_mode: str | None = None,
                api_base: str | None = None,
                environ: Mapping[str, str] | None = None) -> WeComConfig:
        env = os.environ if environ is None else environ

        def pick(given: str | None, variable: str) -> str | None:
            return given or env.get(variable) or None

        corpid = pick(corpid, "KFSYNC_CORPID")
        secret = pick(secret, "KFSYNC_CORPSECRET")
        access_token = pick(access_token, "KFSYNC_ACCESS_TOKEN")
        register_secret(secret)
        register_secret(access_token)
        mode = pick(token_mode, "KFSYNC_TOKEN_MODE")
        if mode is None:
            mode = "static" if access_token and not secret else "gettoken"
        mode = mode.strip().lower()
        if mode not in TOKEN_MODES:
            raise UsageError(f"KFSYNC_TOKEN_MODE for WeCom must be one of "
                             f"{', '.join(TOKEN_MODES)}, got {mode!r}")
        base = checked_api_base(pick(api_base, "KFSYNC_API_BASE") or DEFAULT_API_BASE,
                                secret="the corp secret")
        config = cls(token_mode=mode, api_base=base, corpid=corpid, secret=secret,
                     access_token=access_token)
        config.check()
        return config

    def check(self) -> None:
        """Raise CredentialsError naming the first variable this token mode needs but lacks."""
        if self.token_mode == "static":
            needed = {"KFSYNC_ACCESS_TOKEN": self.access_token}
        else:
            needed = {"KFSYNC_CORPID": self.corpid, "KFSYNC_CORPSECRET": self.secret}
        for variable, value in needed.items():
            if not value:
                raise CredentialsError(
                    f"{variable} is not set (needed by the WeCom {self.token_mode!r} token mode; "
                    "the secret is that of a self-built app the 微信客服 console authorised)")
