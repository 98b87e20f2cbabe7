"""The one request function for the GitHub and GitLab REST APIs: token, retries, error mapping.

Every call `kfsync plan --comment` makes to a code host goes through
`Rest.request`.  It sends the platform token only to the configured API base
(redirects are never followed; a `next` page URL must lie under the same base),
reads at most `MAX_BODY` bytes of an answer within a total deadline, and turns
every failure into one `CommentError` that names the variable or the permission
to fix.  What is retried, at most `RetryPolicy.attempts` times in all:

- a connection that failed before anything was sent, for any method;
- a lost answer, for GET, PUT and PATCH only (a POST may have made a comment);
- HTTP 429 and 5xx, and GitHub's rate limits (a 403 with `Retry-After`, with
  `x-ratelimit-remaining: 0`, or saying "secondary rate limit").  The wait is
  what the host asks for (`Retry-After`, else until `x-ratelimit-reset`), at
  least the policy's backoff; a host asking for more than `MAX_WAIT` seconds
  is not waited for: the run fails at once saying how long it would be.

Exceptions from `requests` never escape: their text may carry the URL.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from kfsync.client.config import checked_api_base
from kfsync.client.transport import USER_AGENT, RetryPolicy, _root_cause
from kfsync.errors import KfsyncError
from kfsync.redact import redact, register_secret
from kfsync.render.common import visible

log = logging.getLogger(__name__)

#: Larger answers are refused: a page of 100 comments of 65,536 characters fits.
MAX_BODY = 32 * 1024 * 1024
#: The longest wait for a rate limit or a `Retry-After`, in seconds.
MAX_WAIT = 60.0
#: Seconds to connect and between reads, and for a whole request, answer included.
TIMEOUT = (10.0, 30.0)
DEADLINE = 60.0
_IDEMPOTENT = frozenset({"GET", "PUT", "PATCH", "HEAD"})


class CommentError(KfsyncError):
    """The pull or merge request comment could not be read or written."""


@dataclass(frozen=True)
class Host:
    """What a code host's errors should tell the user to fix."""

    name: str  #: "GitHub"
    base_variable: str  #: where the API base came from, e.g. GITHUB_API_URL
    token_variable: str  #: where the token came from, e.g. GITHUB_TOKEN
    permission: str  #: the permission a 403 asks for
    scope: str  #: what a 404 asks to check


@dataclass(frozen=True)
class Answer:
    status: int
    data: Any
    headers: Mapping[str, str]


def checked_base(value: str, variable: str) -> str:
    """An API or web base URL checked as `KFSYNC_API_BASE` is: https://, or http:// to loopback."""
    return checked_api_base(value, variable, secret="the platform token")


class Rest:
    """Calls to one API base with one token, over one `requests.Session`."""

    def __init__(self, base: str, host: Host, headers: Mapping[str, str], *, token: str,
                 retry: RetryPolicy | None = None) -> None:
        register_secret(token)
        self.base = base
        self.host = host
        self.retry = retry or RetryPolicy(base_delay=1.0, max_delay=MAX_WAIT)
        self._headers = {"User-Agent": USER_AGENT, **headers}
        self._session = requests.Session()
        found = self._session.merge_environment_settings(base + "/", {}, None, None, None)
        self._environment: dict[str, Any] = {k: found[k] for k in ("proxies", "verify", "cert")}
        self._session.trust_env = False  # no credentials from ~/.netrc, which would replace ours

    def close(self) -> None:
        self._session.close()

    def request(self, method: str, target: str, *, what: str, params: Mapping[str, str] | None = None,
                body: Mapping[str, object] | None = None,
                files: Mapping[str, tuple[str, bytes, str]] | None = None,
                allow: Collection[int] = ()) -> Answer:
        """`method` on `target` (a path under the base, or a URL the host gave under it).

        A status in `allow` is answered (unless it is a rate limit) rather than raised.
        """
        url = target if "://" in target else self.base + target
        self._check_within_base(url, what)
        attempt = 0
        while True:
            attempt += 1
            outcome = self._attempt(method, url, params, body, files, allow)
            if isinstance(outcome, Answer):
                return outcome
            error = CommentError(redact(visible(f"cannot {what}: {outcome.reason}")))
            if outcome.wait is None or attempt >= self.retry.attempts:
                raise error
            delay = max(outcome.wait, self.retry.delay(attempt - 1))
            log.info("%s; retry %d/%d in %.1f s", error.message, attempt, self.retry.attempts - 1, delay)
            self.retry.sleep(delay)

    def _attempt(self, method: str, url: str, params: Mapping[str, str] | None,
                 body: Mapping[str, object] | None,
                 files: Mapping[str, tuple[str, bytes, str]] | None,
                 allow: Collection[int]) -> Answer | _Failed:
        headers = dict(self._headers)
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        deadline = time.monotonic() + DEADLINE
        try:
            response = self._session.request(
                method, url, params=params, data=data, files=files, headers=headers,
                timeout=TIMEOUT, stream=True, allow_redirects=False, **self._environment)
            try:
                raw = _read(response, deadline)
            finally:
                response.close()
        except requests.RequestException as exc:
            return self._lost(exc, method)
        except _TooSlow as exc:
            return _Failed(str(exc), 0.0 if method in _IDEMPOTENT else None)
        status = response.status_code
        log.debug("%s %s %s -> %d", self.host.name, method, urlsplit(url).path, status)
        allowed = status in allow and _rate_limit_wait(status, response.headers, _message(raw)) is None
        if 200 <= status < 300 or allowed:
            try:
                return Answer(status, json.loads(raw.decode("utf-8")) if raw.strip() else None,
                              response.headers)
            except (UnicodeDecodeError, ValueError, RecursionError):
                if allowed:
                    return Answer(status, None, response.headers)
                return _Failed(f"the answer from {self.host.name} is not JSON", None)
        return self._refused(status, response.headers, raw)

    def _refused(self, status: int, headers: Mapping[str, str], raw: bytes) -> _Failed:
        host = self.host
        message = _message(raw)
        said = f"HTTP {status}" + (f": {message}" if message else "")
        limited = _rate_limit_wait(status, headers, message)
        if limited is not None and limited > MAX_WAIT:
            return _Failed(f"{host.name} rate-limits this token for {limited:.0f} more seconds; "
                           "run the job again later", None)
        if limited is not None:
            return _Failed(said, limited)
        if status == 429 or status >= 500:
            return _Failed(said, _retry_after(headers) or 0.0)
        if 300 <= status < 400:
            return _Failed(f"{host.name} answered with a redirect, which kfsync does not follow "
                           f"with the token; check {host.base_variable} ({self.base})", None)
        if status == 401:
            return _Failed(f"{host.name} refused {host.token_variable} ({said}); "
                           f"set {host.token_variable} to a valid token", None)
        if status == 403:
            return _Failed(f"{host.name} refused it ({said}); {host.permission}", None)
        if status == 404:
            return _Failed(f"{host.name} answered {said}; {host.scope}", None)
        return _Failed(f"{host.name} refused it ({said})", None)

    def _lost(self, exc: requests.RequestException, method: str) -> _Failed:
        cause = _root_cause(exc)
        detail = redact(f"{type(cause).__name__}: {cause}")[:200]
        unreachable = (f"cannot reach {self.host.name} at {self.base} ({detail}); "
                       f"check {self.host.base_variable}")
        if isinstance(exc, requests.exceptions.SSLError):
            return _Failed(unreachable, None)
        if isinstance(exc, requests.exceptions.ConnectTimeout) or (
                isinstance(exc, requests.ConnectionError)
                and isinstance(exc.args[0] if exc.args else None, MaxRetryError)
                and isinstance(exc.args[0].reason, NewConnectionError)):
            return _Failed(unreachable, 0.0)  # nothing was sent: safe to send again
        if method in _IDEMPOTENT:
            return _Failed(f"no answer from {self.host.name} ({detail})", 0.0)
        return _Failed(f"no answer from {self.host.name} ({detail}); it may have been done", None)

    def _check_within_base(self, url: str, what: str) -> None:
        """The token goes nowhere but the API base: a URL from an answer must lie under it."""
        base, given = urlsplit(self.base), urlsplit(url)
        same_origin = (given.scheme, given.netloc) == (base.scheme, base.netloc)
        if not same_origin or not (given.path + "/").startswith(base.path + "/"):
            raise CommentError(redact(visible(
                f"cannot {what}: {self.host.name} pointed to a page outside {self.base}, "
                "where the token is not sent")))


@dataclass(frozen=True)
class _Failed:
    """One attempt that failed: why, and the seconds to wait before another (None: no other)."""

    reason: str
    wait: float | None


class _TooSlow(Exception):
    """The answer did not arrive in full within the deadline, or was too large."""


def _read(response: requests.Response, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY:
            raise _TooSlow(f"the answer is larger than {MAX_BODY // (1024 * 1024)} MiB")
        if time.monotonic() > deadline:
            raise _TooSlow(f"the answer took more than {DEADLINE:g} s")
        chunks.append(chunk)
    return b"".join(chunks)


def _message(raw: bytes) -> str:
    """The host's own words about a refusal: GitHub's `message`, GitLab's `message` or `error`."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return ""
    if not isinstance(data, dict):
        return ""
    text = data.get("message") or data.get("error") or ""
    if not isinstance(text, str):
        text = json.dumps(text, ensure_ascii=False)
    return visible(text)[:200]


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After", "").strip()
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: rare enough to wait the backoff instead


def _rate_limit_wait(status: int, headers: Mapping[str, str], message: str) -> float | None:
    """Seconds GitHub asks to wait before the next request, or None when this is no rate limit."""
    if status not in (403, 429):
        return None
    after = _retry_after(headers)
    if after is not None:
        return after
    if headers.get("x-ratelimit-remaining") == "0":
        try:
            return max(0.0, float(headers.get("x-ratelimit-reset", "")) - time.time())
        except ValueError:
            return MAX_WAIT
    if "rate limit" in message.lower():
        return MAX_WAIT  # GitHub: wait at least a minute when it gives no time
    return None
