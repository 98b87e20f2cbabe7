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

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, cast

from kfsync.client.config import (
    HTTP_DEADLINE,
    PICTURE_DEADLINE,
    check_needed,
    resolve_settings,
)

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
    #: seconds for one API call, headers and body, retries and token fetch included
    deadline: float = HTTP_DEADLINE
    #: seconds for one live avatar download, headers and body, redirects included
    picture_deadline: float = PICTURE_DEADLINE

    @classmethod
    def resolve(cls, *, corpid: str | None = None, secret: str | None = None,
                access_token: str | None = None, token_mode: str | None = None,
                api_base: str | None = None,
                environ: Mapping[str, str] | None = None) -> WeComConfig:
        found = resolve_settings(environ, (corpid, "KFSYNC_CORPID"), (secret, "KFSYNC_CORPSECRET"),
                                 access_token, token_mode, api_base, modes=TOKEN_MODES,
                                 fetched="gettoken", default_base=DEFAULT_API_BASE,
                                 secret_name="the corp secret")
        config = cls(token_mode=cast(WeComTokenMode, found.mode), api_base=found.api_base,
                     corpid=found.ident, secret=found.secret, access_token=found.access_token,
                     deadline=found.deadline, picture_deadline=found.picture_deadline)
        config.check()
        return config

    def check(self) -> None:
        """Raise CredentialsError naming the first variable this token mode needs but lacks."""
        check_needed(self.token_mode, {"KFSYNC_CORPID": self.corpid,
                                       "KFSYNC_CORPSECRET": self.secret}, self.access_token,
                     "; the secret is that of a self-built app the 微信客服 console authorised")
