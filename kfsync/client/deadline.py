"""Total deadlines on HTTP requests: headers and body together, however slowly they come.

requests' timeouts bound the connection and each wait for data, not the whole
answer: a server sending a byte every two seconds keeps a request alive for
ever.  `deadline(seconds)` opens a window for the requests the current thread
makes.  A session with `DeadlineAdapter` mounted registers, in the window, the
socket of every connection it opens or reuses (a redirect's included), and one
watchdog thread shuts those sockets down when the window runs out: whatever read is
blocked on them ends at once.  The caller sees a connection error, and the
window's `expired` says why.  Windows nest: an inner one never outlives the
outer one.  `timeouts` caps requests' own connect and read timeouts by what is
left, so that a connection, TLS handshake included, is bounded too.
"""

from __future__ import annotations

import contextlib
import heapq
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_local = threading.local()


class Window:
    """The time a thread's requests have left, and the sockets to cut when it runs out."""

    def __init__(self, seconds: float, outer: Window | None) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        if outer is not None:
            self.at = min(self.at, outer.at)
        self.outer = outer
        self.expired = False  #: the window ran out and its sockets were cut
        self._sockets: list[socket.socket] = []
        self._closed = False
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def watch(self, sock: socket.socket) -> None:
        """Cut `sock` when this window (or one around it) runs out; at once if it has."""
        with self._lock:
            if not self._closed:
                if self.expired:
                    _cut(sock)
                else:
                    self._sockets.append(sock)
        if self.outer is not None:
            self.outer.watch(sock)

    def expire(self) -> None:
        with self._lock:
            if self._closed:
                return
            self.expired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _cut(sock)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._sockets.clear()

    def timed_out(self) -> bool:
        """Whether this window or one around it ran out."""
        return self.expired or (self.outer is not None and self.outer.timed_out())


def _cut(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for a TLS socket: it ends a read blocked in
    # another thread, and leaves the TLS object alone.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One thread that expires every window at its time: a thread per request cost a tenth
    of apply's CPU.  It starts with the first window and sleeps until the next deadline."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, Window]] = []
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, window: Window) -> None:
        with self._changed:
            heapq.heappush(self._due, (window.at, id(window), window))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kfsync-deadlines",
                                                daemon=True)
                self._thread.start()
            if self._due[0][2] is window:  # else it wakes up for an earlier one first
                self._changed.notify()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._due or self._due[0][0] > time.monotonic():
                    self._changed.wait(self._due[0][0] - time.monotonic() if self._due else None)
                _, _, window = heapq.heappop(self._due)
            window.expire()  # does nothing for a window already closed


_WATCHDOG = _Watchdog()


@contextmanager
def deadline(seconds: float) -> Iterator[Window]:
    """A window of `seconds` (no longer than the one around it) for this thread's requests."""
    outer: Window | None = getattr(_local, "window", None)
    window = Window(seconds, outer)
    _WATCHDOG.watch(window)
    _local.window = window
    try:
        yield window
    finally:
        _local.window = outer
        window.close()


def current_window() -> Window | None:
    """The window the current thread's requests are in, if any."""
    window: Window | None = getattr(_local, "window", None)
    return window


def timeouts(window: Window, timeout: float) -> tuple[float, float]:
    """requests' (connect, read) timeouts: `timeout`, or what is left of the window if less."""
    left = max(window.remaining(), 0.001)
    return min(timeout, left), min(timeout, left)


def _watch(sock: socket.socket | None) -> None:
    window = current_window()
    if window is not None and sock is not None:
        window.watch(sock)


class _Watched(HTTPConnection):
    """A connection whose socket is cut when the current thread's window runs out."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watch(sock)  # a proxy's CONNECT answer is read on this one
        return sock

    def connect(self) -> None:
        super().connect()
        _watch(self.sock)  # the TLS socket, once wrapped

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)  # a kept-alive connection serving a later window
        super().request(*args, **kwargs)


class _WatchedHTTPS(_Watched, HTTPSConnection):
    pass


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Watched


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPS


_POOLS = {"http": _Pool, "https": _HTTPSPool}


class DeadlineAdapter(requests.adapters.HTTPAdapter):
    """An adapter whose connections are cut when the window of the thread using them closes."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = _POOLS
        return manager
