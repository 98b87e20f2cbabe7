"""`TransportClient`: what every provider's client does with its `Transport` besides calling.

Closing, sharing the connection pools, opening connections ahead of parallel
calls, stopping (Ctrl-C during apply) and the context manager are the same
for every product; each client sets `_transport` in its constructor and keeps
only its endpoints and its token source.
"""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

import requests

from kfsync.client.transport import Transport

_C = TypeVar("_C", bound="TransportClient")


class TransportClient:
    """The lifecycle of a client built on one `Transport`; use it as a context manager.

    A subclass's constructor, called with no argument, takes everything from the
    environment (`from_environment` relies on it).
    """

    _transport: Transport

    @classmethod
    def from_environment(cls: type[_C], connections: int = 1) -> _C:
        """A client with its credentials from KFSYNC_* variables, `connections` opened at once.

        They open before its first call (the token), which takes one of them: the
        parallel calls to come find the others open.
        """
        client = cls()
        if connections > 1:
            client.preconnect(connections, wait=True)
        return client

    def close(self) -> None:
        self._transport.close()

    @property
    def adapter(self) -> requests.adapters.BaseAdapter:
        """The connection pools of this client, which picture downloads may share."""
        return self._transport.adapter

    def preconnect(self, count: int, *, wait: bool = False) -> None:
        """Open up to `count` more connections, for parallel calls to come.

        In the background, or with `wait` before returning.
        """
        self._transport.preconnect(count, wait=wait)

    def stop(self) -> None:
        """Send nothing more: a call under way ends with its current attempt, never retried."""
        self._transport.stopped.set()

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
