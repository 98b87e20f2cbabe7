"""Where the client's credentials, token mode and API base come from.

Constructor arguments win over the environment (`KFSYNC_APPID`,
`KFSYNC_APPSECRET`, `KFSYNC_ACCESS_TOKEN`, `KFSYNC_TOKEN_MODE`,
`KFSYNC_API_BASE`, and the deadlines `KFSYNC_HTTP_DEADLINE` and
`KFSYNC_PICTURE_DEADLINE`); an empty variable counts as unset.  Everything is checked
when the client is constructed, so a missing credential fails before the first
request, with a one-line error naming the variable.

The API base must be an https:// URL of a host (optionally with a path prefix,
for a relay with a fixed IP); http:// is accepted only for loopback (the
emulator), so that a typo cannot send the app secret in clear text.  User
names, queries and fragments are refused: `https://api.weixin.qq.com@evil.example`
names the host evil.example.  Only the default base has a backup host: when
the default host cannot be reached, the transport moves to `BACKUP_API_BASE`
(see `kfsync.client.transport`).  Both are module constants, so that tests can
point them at local stand-ins.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, cast
from urllib.parse import urlsplit

from kfsync.errors import CredentialsError, UsageError
from kfsync.redact import register_secret

TokenMode = Literal["stable", "classic", "static"]
TOKEN_MODES: tuple[TokenMode, ...] = ("stable", "classic", "static")
DEFAULT_API_BASE = "https://api.weixin.qq.com"
#: WeChat's backup host, tried when the default one cannot be reached.
BACKUP_API_BASE = "https://api2.weixin.qq.com"
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")
_PATH_SEGMENT = re.compile(r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*")
HTTP_DEADLINE = 30.0  #: seconds for one API call, retries included, by default
PICTURE_DEADLINE = 30.0  #: seconds for one picture download, redirects included, by default
#: Longest total deadline a variable may set: past an hour, a deadline protects nothing.
MAX_DEADLINE = 3600.0


@dataclass(frozen=True)
class ClientConfig:
    """Resolved settings; the secret and the static token never show in the repr."""

    token_mode: TokenMode
    api_base: str
    appid: str | None = None
    #: where to go when `api_base` cannot be reached; only the default base has one
    backup_api_base: str | None = None
    secret: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    #: seconds for one API call, headers and body, retries and token fetch included
    deadline: float = HTTP_DEADLINE
    #: seconds for one picture download, headers and body, redirects included
    picture_deadline: float = PICTURE_DEADLINE

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
        found = resolve_settings(environ, (appid, "KFSYNC_APPID"), (secret, "KFSYNC_APPSECRET"),
                                 access_token, token_mode, api_base, modes=TOKEN_MODES,
                                 fetched="stable", default_base=DEFAULT_API_BASE)
        backup = BACKUP_API_BASE if found.api_base == checked_api_base(DEFAULT_API_BASE) else None
        config = cls(token_mode=cast(TokenMode, found.mode), api_base=found.api_base,
                     appid=found.ident, backup_api_base=backup, secret=found.secret,
                     access_token=found.access_token, deadline=found.deadline,
                     picture_deadline=found.picture_deadline)
        config.check()
        return config

    def check(self) -> None:
        """Raise CredentialsError naming the first variable this token mode needs but lacks."""
        check_needed(self.token_mode, {"KFSYNC_APPID": self.appid,
                                       "KFSYNC_APPSECRET": self.secret}, self.access_token)


class Settings(NamedTuple):
    """Credentials, token mode and API base, from the arguments or the environment."""

    ident: str | None
    secret: str | None
    access_token: str | None
    mode: str
    api_base: str
    deadline: float  #: KFSYNC_HTTP_DEADLINE, seconds
    picture_deadline: float  #: KFSYNC_PICTURE_DEADLINE, seconds


def resolve_settings(environ: Mapping[str, str] | None, ident: tuple[str | None, str],
                     secret: tuple[str | None, str], access_token: str | None,
                     token_mode: str | None, api_base: str | None, *,
                     modes: tuple[str, ...], fetched: str, default_base: str,
                     secret_name: str = "the app secret") -> Settings:
    """Each setting from its argument, else its KFSYNC_* variable ("" counts as unset).

    `ident` and `secret` are (argument, variable); without a mode, a token handed in
    without a secret to fetch another one is `static`, else `fetched`.
    """
    env = os.environ if environ is None else environ

    def pick(given: str | None, variable: str) -> str | None:
        return given or env.get(variable) or None

    found_secret = pick(*secret)
    token = pick(access_token, "KFSYNC_ACCESS_TOKEN")
    register_secret(found_secret)
    register_secret(token)
    mode = pick(token_mode, "KFSYNC_TOKEN_MODE")
    if mode is None:
        mode = "static" if token and not found_secret else fetched
    mode = mode.strip().lower()
    if mode not in modes:
        raise UsageError(f"KFSYNC_TOKEN_MODE must be one of {', '.join(modes)}, got {mode!r}")
    base = checked_api_base(pick(api_base, "KFSYNC_API_BASE") or default_base, secret=secret_name)
    return Settings(pick(*ident), found_secret, token, mode, base,
                    seconds_setting(env, "KFSYNC_HTTP_DEADLINE", HTTP_DEADLINE),
                    seconds_setting(env, "KFSYNC_PICTURE_DEADLINE", PICTURE_DEADLINE))


def check_needed(mode: str, fetching: Mapping[str, str | None], access_token: str | None,
                 why: str = "") -> None:
    """CredentialsError naming the first variable `mode` needs but lacks (`fetching`: by name)."""
    needed = {"KFSYNC_ACCESS_TOKEN": access_token} if mode == "static" else fetching
    for variable, value in needed.items():
        if not value:
            raise CredentialsError(f"{variable} is not set (needed by the {mode!r} token mode"
                                   f"{why})")


def checked_api_base(value: str, variable: str = "KFSYNC_API_BASE", secret: str = "the app secret") -> str:
    """`value` as a normalised base URL (lower-case scheme and host, no trailing /), or UsageError.

    `variable` names where the URL came from, and `secret` what a clear-text URL would expose.
    """
    parts = urlsplit(value.rstrip("/"))
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    try:
        port = parts.port
    except ValueError:
        port = -1
    problem = None
    if scheme not in ("https", "http") or not parts.netloc:
        problem = "it is not an https:// URL"
    elif "@" in parts.netloc:
        problem = "it names a user before @, so the host would be what follows the @"
    elif not (_HOST.fullmatch(host) or _is_ip(host)) or port == -1 or port == 0:
        problem = "its host or port is not valid"
    elif parts.query or parts.fragment or "?" in value or "#" in value:
        problem = "it has a query or a fragment"
    elif not all(_PATH_SEGMENT.fullmatch(s) for s in parts.path.split("/")[1:]):
        problem = "its path may only be a plain prefix such as /wechat"
    elif scheme == "http" and not is_loopback(host):
        problem = (f"http:// would send {secret} in clear text; use https:// "
                   "(http:// is only for loopback: 127.0.0.1, ::1, localhost)")
    if problem is not None:
        raise UsageError(f"{variable} {value!r} is refused: {problem}")
    netloc = f"[{host}]" if ":" in host else host
    return f"{scheme}://{netloc}" + (f":{port}" if port is not None else "") + parts.path


def is_loopback(host: str) -> bool:
    """Whether `host` (a host name or an IP address) is this machine."""
    return host == "localhost" or (_is_ip(host) and ipaddress.ip_address(host).is_loopback)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def seconds_setting(environ: Mapping[str, str], variable: str, default: float) -> float:
    """A deadline in seconds from `variable`, `default` when unset; UsageError when not valid."""
    text = (environ.get(variable) or "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (0 < value <= MAX_DEADLINE):
        raise UsageError(
            f"{variable} must be a number of seconds above 0 and at most {MAX_DEADLINE:g}, "
            f"got {text[:40]!r}")
    return value
