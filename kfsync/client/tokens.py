"""Access tokens: fetched (stable or classic) and cached, or handed in (static).

`stable` (the default) asks `/cgi-bin/stable_token` with `force_refresh=false`:
it returns the same token while it is valid and never invalidates the token
other servers of the same account use.  `classic` asks `/cgi-bin/token`, which
supersedes every other server's token (they keep working for about 5 minutes).
`static` uses a token handed in; it cannot be refreshed, so a token error
becomes a CredentialsError saying so.

A fetched token is renewed proactively `margin` seconds before it expires
(measured with `time.monotonic`), and reactively when the transport reports
40001/40014/42001.  One lock per provider: concurrent callers wait for one
fetch instead of each fetching.  No repr shows a token or the secret.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from kfsync.client.transport import Call, Transport
from kfsync.client.wire import Fields, WireFormatError
from kfsync.errors import CredentialsError, WeChatError
from kfsync.redact import register_secret

#: Renew this long before expiry (capped at half the lifetime, for very short ones).
REFRESH_MARGIN = 300.0


def parse_token(body: dict[str, object]) -> tuple[str, int]:
    """A token endpoint's answer -> (access_token, expires_in seconds)."""
    fields = Fields(body)
    token, expires_in = fields.text("access_token"), fields.number("expires_in")
    if not token or expires_in <= 0:
        raise WireFormatError("access_token must be non-empty and expires_in positive")
    register_secret(token)  # before anyone can log or print it
    return token, expires_in


class FetchedToken:
    """A token fetched on demand, cached until shortly before it expires."""

    def __init__(self, mode: str, appid: str, fetch: Callable[[], tuple[str, int]], *,
                 clock: Callable[[], float] = time.monotonic,
                 margin: float = REFRESH_MARGIN, fatal: frozenset[int] = frozenset()) -> None:
        self.mode = mode
        #: errcodes of a fetch that are raised again without asking (a wrong secret, asked
        #: again and again, gets the IP banned)
        self._fatal = fatal
        self._failure: WeChatError | None = None
        self.appid = appid
        self._fetch = fetch
        self._clock = clock
        self._margin = margin
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0

    def __repr__(self) -> str:
        return f"FetchedToken(mode={self.mode!r}, appid={self.appid!r})"

    def current(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                if self._failure is not None:
                    raise self._failure
                now = self._clock()
                try:
                    token, expires_in = self._fetch()
                except WeChatError as exc:
                    if exc.errcode in self._fatal:
                        self._failure = exc
                    raise
                self._token = token
                self._renew_at = now + expires_in - min(self._margin, expires_in / 2)
            return self._token

    def invalidate(self, failed: str, error: WeChatError) -> None:
        with self._lock:
            # Another thread may have renewed it already: then keep the new one.
            if self._token == failed:
                self._token = None


class StaticToken:
    """A token handed in (KFSYNC_ACCESS_TOKEN); kfsync cannot renew it."""

    mode = "static"

    def __init__(self, token: str,
                 fetch_variables: str = "KFSYNC_APPID and KFSYNC_APPSECRET") -> None:
        register_secret(token)
        self._token = token
        self._fetch_variables = fetch_variables

    def __repr__(self) -> str:
        return "StaticToken(***)"

    def current(self) -> str:
        return self._token

    def invalidate(self, failed: str, error: WeChatError) -> None:
        raise CredentialsError(
            f"the static access token (KFSYNC_ACCESS_TOKEN) is invalid or expired: WeChat "
            f"errcode {error.errcode} from {error.endpoint}; set a fresh one, or set "
            f"{self._fetch_variables} so that kfsync fetches its own"
        )


def stable_token(transport: Transport, appid: str, secret: str) -> FetchedToken:
    """Tokens from POST /cgi-bin/stable_token, never forcing a refresh."""
    register_secret(secret)
    call = Call("POST", "/cgi-bin/stable_token", json={
        "grant_type": "client_credential", "appid": appid, "secret": secret,
        "force_refresh": False,
    }, idempotent=True, authenticated=False)
    return FetchedToken("stable", appid, lambda: transport.call(call, parse_token))


def classic_token(transport: Transport, appid: str, secret: str) -> FetchedToken:
    """Tokens from GET /cgi-bin/token (each fetch supersedes the previous token)."""
    register_secret(secret)
    call = Call("GET", "/cgi-bin/token", query=(
        ("grant_type", "client_credential"), ("appid", appid), ("secret", secret),
    ), idempotent=True, authenticated=False)
    return FetchedToken("classic", appid, lambda: transport.call(call, parse_token))
