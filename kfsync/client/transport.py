"""The one request function: token, timeout, retries, error mapping, redaction, logging.

Every call to WeChat, token fetches included, goes through `Transport.call`.
What is retried (with bounded exponential backoff and jitter, see
`RetryPolicy`); the errcodes are those of the transport's `ErrcodeTable`
(the Official Account's by default):

- errcode -1 (busy) and 45011 (minute quota); WeCom: -1, 45033, 6000: WeChat refused the call, so it
  is safe to repeat even a write;
- HTTP 429 and 5xx, and connection failures before the request was sent
  (connect errors and connect timeouts).  A 5xx is an answer from WeChat's
  gateway, which refused the call; should the backend have done the work
  anyway, the repeat answers 65406/65401/65408, which the reconciler reads as
  "already so";
- a read timeout or a dropped connection, only for idempotent calls.  For a
  non-idempotent write these mean the server may have applied it, so they
  raise `OutcomeUnknownError` and are never resent blindly.

Backup host: a transport given a `backup_base` (the client gives one only
for the default https://api.weixin.qq.com) moves to it when the API host
cannot be reached, i.e. nothing was sent: a DNS failure, a refused
connection, a connect timeout.  It says so in one warning and resends the
call there at once, without counting a retry; it then stays on the backup
for the rest of its life (one command run): going back would make every later
call wait for the dead host's connect timeout first.  Other failures (TLS
errors, timeouts after sending, HTTP errors) never move it.

Deadline: each call, its retries and the token fetch it may need included, ends
within `deadline` seconds (`KFSYNC_HTTP_DEADLINE`, 30 by default), headers and
body together however slowly they come (see `kfsync.client.deadline`).  A
call that runs out of time is not retried; for a non-idempotent write it
raises `OutcomeUnknownError`, as any answer lost after sending.

40001/40014/42001 (the table's `token_invalid`) refresh the token once, if the failing token is still the
current one, then repeat the call once.  Once `stopped` is set (Ctrl-C during
apply), nothing is sent again: no retry, no refresh, no failover.  An answer's
lone UTF-16 surrogates (half characters, which no output can encode) become
U+FFFD, with one warning per path.  45009 is never retried.  Exceptions
from `requests` never escape and are never chained: their text carries the
URL, and with it the access token or the app secret.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from urllib.parse import quote, urlsplit

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from kfsync import __version__
from kfsync.client.deadline import DeadlineAdapter, Window, current_window, deadline, timeouts
from kfsync.client.wire import Fields, WireFormatError
from kfsync.errcodes import ErrcodeTable
from kfsync.errors import (
    ApiError,
    OutcomeUnknownError,
    QuotaError,
    TransportError,
    UsageError,
    WeChatError,
)
from kfsync.redact import RedactingFilter, redact
from kfsync.textsafe import mend

log = logging.getLogger(__name__)
# urllib3 logs each request's URL at debug level, access token (or secret) included.
_URLLIB3_LOG = logging.getLogger("urllib3.connectionpool")
if not any(isinstance(f, RedactingFilter) for f in _URLLIB3_LOG.filters):
    _URLLIB3_LOG.addFilter(RedactingFilter())

#: Answers larger than this are refused unread: no kf answer comes near it.
MAX_BODY = 8 * 1024 * 1024
DEFAULT_DEADLINE = 30.0  #: seconds for one call, retries included (KFSYNC_HTTP_DEADLINE)
USER_AGENT = f"kfsync/{__version__} (+python-requests)"
#: The caller's IP in an errmsg: "invalid ip 1.2.3.4" (40164), "from ip: 1.2.3.4" (WeCom 60020).
_IP = re.compile(r"(?:invalid ip|from ip:?) ?([0-9A-Fa-f.:]*[0-9A-Fa-f])")
#: Where an answer may spell a UTF-16 surrogate (a quick test before looking for lone ones).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_T = TypeVar("_T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry; `sleep` is injectable so tests never wait."""

    attempts: int = 4  #: attempts in all, the first one included
    base_delay: float = 0.5  #: seconds before the first retry; doubles each time
    max_delay: float = 8.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.base_delay < 0 or self.max_delay < 0:
            raise UsageError("RetryPolicy needs attempts >= 1 and delays >= 0")

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (0-based): half fixed, half jitter."""
        ceiling = min(self.max_delay, self.base_delay * 2.0**retry)
        return ceiling / 2 + random.uniform(0, ceiling / 2)


@dataclass(frozen=True)
class Call:
    """One request to make: what to send, and how safe it is to send again."""

    method: str
    path: str
    # Not in the repr: token fetches carry the app secret here.
    query: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    json: Mapping[str, object] | None = field(default=None, repr=False)
    media: tuple[str, bytes, str] | None = field(default=None, repr=False)  #: name, bytes, type
    idempotent: bool = False
    account: str | None = None  #: the kf account the call is about, for error messages
    authenticated: bool = True  #: send the access token (everything but token fetches)
    #: Given every JSON object of the answer as it is decoded (json.loads' object_hook): lets a
    #: large answer become typed values item by item, never all of it as dicts at once.  Not
    #: used for an answer that may hold lone surrogates: that one is mended as plain JSON first.
    object_hook: Callable[[dict[str, Any]], Any] | None = field(default=None, repr=False)


class TokenSource(Protocol):
    """Where authenticated calls get their access token."""

    def current(self) -> str: ...

    def invalidate(self, failed: str, error: WeChatError) -> None:
        """`failed` was refused with `error`; drop it if it is still the current token."""


class _Retryable(Exception):
    """An attempt failed in a way that may succeed if repeated; carries the error to raise."""

    def __init__(self, error: ApiError, *, unreachable: str | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        #: why the host could not be reached, when nothing at all was sent
        self.unreachable = unreachable


def wechat_error(call: Call, errcode: int, errmsg: str, table: ErrcodeTable) -> WeChatError:
    """The error for a non-zero errcode, with the hint for it (and the IP for 40164, 60020)."""
    errmsg = redact(errmsg)
    text = table.hint(errcode)
    found = _IP.search(errmsg)
    if errcode in table.ip_codes and found:
        text = f"{text}; the IP {table.service} saw is {found[1]}"
    cls = QuotaError if errcode in table.quota else WeChatError
    return cls(errcode, errmsg, endpoint=call.path, hint=text, account=call.account,
               service=table.service)


class Transport:
    """Sends `Call`s to one API base (or its backup) over one `requests.Session`."""

    def __init__(self, api_base: str, *, timeout: float, retry: RetryPolicy,
                 session: requests.Session | None = None, backup_base: str | None = None,
                 errcodes: ErrcodeTable, deadline: float = DEFAULT_DEADLINE) -> None:
        self.errcodes = errcodes  #: which codes refresh the token, are retried, are quota
        self.api_base = api_base  #: where calls go now: the backup once failed over
        self._primary = api_base
        self._backup = backup_base
        self._failover_lock = threading.Lock()
        self.timeout = timeout
        self.deadline = deadline
        self.retry = retry
        self._owns_session = session is None
        self._mended: set[str] = set()  #: paths whose lone surrogates were warned about
        #: Once set, nothing is sent again: no retry, no token refresh, no failover (Ctrl-C).
        self.stopped = threading.Event()
        self._environment: dict[str, dict[str, Any]] = {}  #: by API base, for our own session
        if session is None:
            session = requests.Session()
            # apply runs up to 32 calls at once; the default pool keeps only 10 connections.
            adapter = DeadlineAdapter(pool_connections=4, pool_maxsize=32)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            # What requests reads from the environment (proxies and NO_PROXY, a CA bundle) it
            # reads on every request, by a scan of every variable that costs more than the rest
            # of a call's own work: read once per host here, by requests itself, then passed in.
            for base in filter(None, (api_base, backup_base)):
                found = session.merge_environment_settings(base + "/", {}, None, None, None)
                self._environment[base] = {k: found[k] for k in ("proxies", "verify", "cert")}
            session.trust_env = False  # also: no credentials from ~/.netrc, ever
        self.session = session

    def close(self) -> None:
        if self._owns_session:
            self.session.close()

    @property
    def adapter(self) -> requests.adapters.BaseAdapter:
        """The connection pools this transport's calls use, to share with other downloads."""
        return self.session.get_adapter(self.api_base + "/")

    def preconnect(self, count: int, *, wait: bool = False) -> None:
        """Open up to `count` more connections to the API host, for later calls.

        In the background, or with `wait`, in this thread, returning once they are open
        (from a thread of the caller's own: then no call of it starts a connection of its
        own while these are being opened).

        A call on a new connection waits for its handshakes (TCP, then TLS: two round
        trips or more); opened while the first calls are under way, the connections
        that parallel calls need later are ready when they start.  Best effort: a
        connection that cannot be opened now is opened by the call that needs it, as
        always.  Not done through a proxy, nor with a session passed in.
        """
        base = self.api_base
        if count < 1 or not self._owns_session or self._environment.get(base, {}).get("proxies"):
            return
        adapter = self.adapter
        if not isinstance(adapter, requests.adapters.HTTPAdapter):
            return
        verify = self._environment.get(base, {}).get("verify", True)
        args = (adapter, base + "/", verify, count, self.timeout)
        if wait:
            _open_connections(*args)
            return
        threading.Thread(target=_open_connections, args=args, name="kfsync-preconnect",
                         daemon=True).start()

    def call(self, call: Call, parse: Callable[[dict[str, object]], _T],
             tokens: TokenSource | None = None) -> _T:
        """Make the call (retrying as the module docstring says) and parse its answer."""
        body = self._call_json(call, tokens)
        try:
            return parse(body)
        except WireFormatError as exc:
            message = f"malformed answer from {call.path}: {exc}"
        raise TransportError(redact(message), endpoint=call.path)

    def _call_json(self, call: Call, tokens: TokenSource | None) -> dict[str, object]:
        with deadline(self.deadline) as window:
            return self._call_within(call, tokens, window)

    def _call_within(self, call: Call, tokens: TokenSource | None,
                     window: Window) -> dict[str, object]:
        retries = 0
        refreshed = False
        while True:
            token = tokens.current() if tokens is not None and call.authenticated else None
            attempted = self.api_base
            try:
                body = self._send(call, token)
            except _Retryable as exc:
                if exc.unreachable is not None and not self.stopped.is_set() \
                        and self._fail_over(attempted, exc.unreachable):
                    continue
                failure: ApiError = exc.error
            else:
                errcode, errmsg = _status(call, body)
                if errcode == 0:
                    return body
                error = wechat_error(call, errcode, errmsg, self.errcodes)
                if token is not None and tokens is not None \
                        and errcode in self.errcodes.token_invalid \
                        and not refreshed and not self.stopped.is_set():
                    tokens.invalidate(token, error)
                    refreshed = True
                    continue
                if errcode not in self.errcodes.transient:
                    raise error
                failure = error
            delay = self.retry.delay(retries)
            if retries + 1 >= self.retry.attempts or self.stopped.is_set() \
                    or delay >= window.remaining():
                raise failure
            retries += 1
            log.debug("%s %s: retry %d/%d in %.2f s after: %s", call.method, call.path,
                      retries, self.retry.attempts - 1, delay, failure.message)
            if self.retry.sleep is time.sleep:
                self.stopped.wait(delay)  # the same wait, cut short by `stopped`
            else:
                self.retry.sleep(delay)
            if self.stopped.is_set():
                raise failure

    def _fail_over(self, attempted: str, why: str) -> bool:
        """Move to the backup host after `attempted` was unreachable; True: send again now."""
        if self._backup is None or attempted != self._primary:
            return False
        with self._failover_lock:
            if self.api_base == self._primary:  # concurrent calls warn once
                self.api_base = self._backup
                log.warning("%s unreachable (%s); trying the backup host %s",
                            urlsplit(self._primary).netloc, why, urlsplit(self._backup).netloc)
        return True

    # ------------------------------------------------------------------ one attempt

    def _send(self, call: Call, token: str | None) -> dict[str, object]:
        """One attempt: the decoded JSON object, or an error (`_Retryable` if worth repeating)."""
        window = current_window() or Window(self.deadline, None)
        started = time.monotonic()
        failure: ApiError | _Retryable | None = None
        status: int | None = None
        raw = b""
        attempted = window.remaining() > 0
        try:
            if not attempted:
                raise _Expired
            headers, data, files = _payload(call)
            base = self.api_base
            response = self.session.request(
                call.method, self._url(base, call, token), headers=headers, data=data, files=files,
                timeout=timeouts(window, self.timeout), stream=True, allow_redirects=False,
                **self._environment.get(base, {}),
            )
            try:
                status = response.status_code
                raw = _read_capped(response, call.path)
            finally:
                response.close()
        except requests.RequestException as exc:
            failure = _failure(call, exc, self.timeout)
        except TransportError as exc:
            failure = exc
        except _Expired:
            pass
        if window.timed_out() or (window.remaining() <= 0 and (failure is not None or not attempted)):
            # Cut at the deadline: whatever came of the answer is not the whole of it.
            failure = _out_of_time(call, window, attempted=attempted)
        elapsed_ms = (time.monotonic() - started) * 1000
        if failure is None:
            failure = _http_failure(call, status)
        body: dict[str, object] | None = None
        if failure is None:
            try:
                body = self._mended_body(call, _decode(call, raw), raw)
            except TransportError as exc:
                failure = exc
        # The one line per request: path only, never the query (token, secret).
        log.debug("%s %s -> %s errcode=%s in %.0f ms", call.method, call.path,
                  "no answer" if status is None else status,
                  None if body is None else body.get("errcode", 0), elapsed_ms)
        if failure is not None:
            raise failure
        assert body is not None
        return body

    def _mended_body(self, call: Call, body: dict[str, object], raw: bytes) -> dict[str, object]:
        """The answer with its lone UTF-16 surrogates (half characters) replaced by U+FFFD.

        No output could encode them; the first answer of each path that has any says so.
        """
        if not _SURROGATE_ESCAPE.search(raw):
            return body
        mended, replaced = mend(body)
        assert isinstance(mended, dict)
        if replaced and call.path not in self._mended:
            self._mended.add(call.path)
            log.warning("the answer from %s holds %d lone UTF-16 surrogate(s) (half a character "
                        "each); each was replaced by U+FFFD", call.path, replaced)
        return mended

    def _url(self, base: str, call: Call, token: str | None) -> str:
        # Built by hand: `@` must stay literal (WeChat has rejected `%40` in kf_account).
        params = ([("access_token", token)] if token else []) + list(call.query)
        query = "&".join(f"{key}={quote(value, safe='@')}" for key, value in params)
        return f"{base}{call.path}" + (f"?{query}" if query else "")

# ---------------------------------------------------------------------- helpers


def _open_connections(adapter: requests.adapters.HTTPAdapter, url: str, verify: Any,
                      count: int, timeout: float) -> None:
    """Take `count` connections from the pool of `url`'s host, open them together, put them back.

    The pool is the one requests picks for a call to `url`.  urllib3 has no public way
    to open a connection ahead of a request; its pool's `_get_conn`/`_put_conn` are
    what every request uses to borrow and return one.
    """
    try:
        request = requests.Request("GET", url).prepare()
        pool: Any = adapter.get_connection_with_tls_context(request, verify, None, None)
        borrowed: list[Any] = []
        opened_already = 0
        while len(borrowed) - opened_already < count and len(borrowed) < pool.pool.maxsize:
            borrowed.append(pool._get_conn())
            opened_already += getattr(borrowed[-1], "sock", None) is not None
    except Exception as exc:  # an optimisation only: the calls open what they need
        log.debug("no connections opened ahead: %s", exc)
        return

    def connect(connection: Any) -> None:
        if getattr(connection, "sock", None) is not None:  # one the pool had open already
            return
        try:
            connection.timeout = timeout  # the pool's own default waits for ever
            connection.connect()
        except Exception as exc:  # the call that borrows it next connects again
            log.debug("a connection opened ahead failed: %s", exc)
            connection.close()

    threads = [threading.Thread(target=connect, args=(c,), daemon=True) for c in borrowed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for connection in borrowed:
        pool._put_conn(connection)


def _payload(call: Call) -> tuple[dict[str, str], bytes | None,
                                  dict[str, tuple[str, bytes, str]] | None]:
    """Headers, body bytes and multipart files for a call."""
    headers = {"User-Agent": USER_AGENT}
    if call.media is not None:
        return headers, None, {"media": call.media}
    if call.json is not None:
        # Raw UTF-8: WeChat has refused `\uXXXX` escapes (40033).
        headers["Content-Type"] = "application/json"
        try:
            return headers, json.dumps(call.json, ensure_ascii=False).encode("utf-8"), None
        except UnicodeEncodeError:  # only a hand-made plan file or a library caller gets here
            raise TransportError(f"not sent to {call.path}: a value holds a lone UTF-16 surrogate "
                                 "(half a character)", endpoint=call.path) from None
    return headers, None, None


def _read_capped(response: requests.Response, path: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY:
            raise TransportError(
                f"the answer from {path} is larger than {MAX_BODY // (1024 * 1024)} MiB; "
                "refused unread", endpoint=path)
        chunks.append(chunk)
    return b"".join(chunks)


def _http_failure(call: Call, status: int | None) -> ApiError | _Retryable | None:
    if status is None or status == 200:
        return None
    error = TransportError(f"HTTP {status} from {call.path}", endpoint=call.path)
    if status == 429 or status >= 500:
        return _Retryable(error)
    return error


def _unknown(call: Call, what: str) -> OutcomeUnknownError:
    subject = f"{call.account}: " if call.account else ""
    return OutcomeUnknownError(
        f"{subject}{what} after {call.method} {call.path} was sent; the change may or may "
        "not have been made (kfsync does not resend it: re-read the live state)",
        endpoint=call.path)


class _Expired(Exception):
    """The call's deadline passed before this attempt could start."""


def _out_of_time(call: Call, window: Window, *, attempted: bool) -> ApiError:
    """The error for a call cut off at its deadline: never retried, as no time is left."""
    within = f"within the {window.seconds:g} s of KFSYNC_HTTP_DEADLINE"
    if attempted and not call.idempotent:
        return _unknown(call, f"no complete answer {within}")
    return TransportError(f"no complete answer from {call.path} {within}", endpoint=call.path)


def _failure(call: Call, exc: requests.RequestException, timeout: float) -> ApiError | _Retryable:
    """Our error for a `requests` exception; its text (which names the URL) is not kept."""
    cause = _root_cause(exc)
    detail = redact(f"{type(cause).__name__}: {cause}")[:200]
    if isinstance(exc, requests.exceptions.ConnectTimeout) or (
            isinstance(exc, requests.ConnectionError)
            and not isinstance(exc, requests.exceptions.SSLError)
            and isinstance(exc.args[0] if exc.args else None, MaxRetryError)
            and isinstance(exc.args[0].reason, NewConnectionError)):
        # Nothing was sent: safe to try again, whatever the call.
        message = f"cannot connect to the API for {call.path} ({detail})"
        return _Retryable(TransportError(message, endpoint=call.path), unreachable=detail)
    if isinstance(exc, (requests.exceptions.ReadTimeout, requests.ConnectionError,
                        requests.exceptions.ChunkedEncodingError)) \
            and not isinstance(exc, requests.exceptions.SSLError):
        what = (f"no answer within {timeout:g} s" if isinstance(exc, requests.Timeout)
                else f"the connection was lost ({detail})")
        if not call.idempotent:
            return _unknown(call, what)
        return _Retryable(TransportError(f"{what} from {call.path}", endpoint=call.path))
    return TransportError(f"request to {call.path} failed ({detail})", endpoint=call.path)


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost exception urllib3/requests wrapped (e.g. ConnectionRefusedError)."""
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        inner = getattr(exc, "reason", None)
        if not isinstance(inner, BaseException):
            wrapped = [arg for arg in exc.args if isinstance(arg, BaseException)]
            inner = wrapped[-1] if wrapped else None
        if inner is None:
            break
        exc = inner
    return exc


#: Answers larger than this are decoded one at a time (see `_decode`).
_LARGE_ANSWER = 256 * 1024
_decoding = threading.Lock()


def _decode(call: Call, raw: bytes) -> dict[str, object]:
    # Decoding is work for the interpreter, which threads take turns at anyway; large answers
    # (pages of chat records, fetched several at once) taking turns whole keep only one copy
    # of such a text, and of its values half made, in memory at a time.
    with _decoding if len(raw) > _LARGE_ANSWER else contextlib.nullcontext():
        return _decoded(call, raw)


def _decoded(call: Call, raw: bytes) -> dict[str, object]:
    # An answer that may hold lone surrogates is decoded as plain JSON, for `mend` to walk.
    hook = None if _SURROGATE_ESCAPE.search(raw) else call.object_hook
    try:
        body = json.loads(raw.decode("utf-8"), object_hook=hook)
    except (UnicodeDecodeError, ValueError):
        start = raw[:60].decode("utf-8", "replace")
        message = f"the answer from {call.path} is not JSON (it starts {start!r})"
        raise TransportError(redact(message), endpoint=call.path) from None
    except RecursionError:  # e.g. [[[[...]]]]: no kf answer nests more than a few levels
        raise TransportError(f"the answer from {call.path} is JSON nested too deeply",
                             endpoint=call.path) from None
    if not isinstance(body, dict):
        raise TransportError(f"the answer from {call.path} is JSON but not an object",
                             endpoint=call.path)
    return body


def _status(call: Call, body: dict[str, object]) -> tuple[int, str]:
    """errcode and errmsg; read endpoints may leave errcode out, which means 0."""
    try:
        fields = Fields(body)
        return fields.number("errcode", default=0), fields.text("errmsg", default="")
    except WireFormatError as exc:
        message = f"malformed answer from {call.path}: {exc}"
    raise TransportError(redact(message), endpoint=call.path)
