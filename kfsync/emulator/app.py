"""The emulator behind the HTTP server: state, lock, faults, request log, persistence.

`ServiceApp.handle` turns one `Call` into one `Answer`; the server only moves bytes.
One lock guards all state; latency is slept without holding it.  `ServiceApp` is
the part every provider's emulator shares; a provider says what its backend,
routes, errcode table and admin routes are (e.g.
`kfsync.providers.wechat_mp.emulator.app.EmulatorApp`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from kfsync.emulator.clock import Clock
from kfsync.emulator.control import ADMIN_PREFIX, AdminRoutes, handle_admin
from kfsync.emulator.exceptions import StateFileError
from kfsync.emulator.faults import Fault, FaultQueue
from kfsync.emulator.requestlog import RequestLog
from kfsync.emulator.statefile import read_state, write_state
from kfsync.emulator.wire import Answer, Call
from kfsync.errcodes import ErrcodeTable

log = logging.getLogger(__name__)

class Backend(Protocol):
    """What the framework needs of a provider's state."""

    revision: int

    def reset(self) -> None: ...
    def changed(self) -> None: ...
    def expire_due(self) -> None: ...
    def to_dict(self) -> dict[str, Any]: ...
    def load(self, data: dict[str, Any]) -> None: ...


class LatencyConfig(Protocol):
    @property
    def latency_ms(self) -> int: ...

    @property
    def connection_latency_ms(self) -> int: ...  #: once per connection (see the server)


class ServiceApp:
    """Faults, latency, the request log, the admin API and the state file, for any provider."""

    routes: Mapping[str, Any] = MappingProxyType({})  #: path -> the provider's route
    admin_routes: AdminRoutes = MappingProxyType({})
    errcodes: ErrcodeTable = ErrcodeTable({}, frozenset(), frozenset(), frozenset())  #: how faults word one

    def __init__(self, config: LatencyConfig, backend: Callable[[Any, Clock], Backend],
                 state_file: Path | None = None) -> None:
        """`backend(config, clock)` makes the provider's state."""
        self.config = config
        self.lock = threading.Lock()
        self.clock = Clock()
        self.backend = backend(config, self.clock)
        self.faults = FaultQueue()
        self.log = RequestLog()
        self.connections = 0  #: connections accepted so far (the server counts them)
        self.state_file = state_file
        self._save_lock = threading.Lock()
        self._saved_revision = self.backend.revision
        if state_file is not None:
            saved = read_state(state_file)
            if saved is not None:
                try:
                    self.backend.load(saved)
                except (KeyError, TypeError, ValueError) as exc:
                    raise StateFileError(f"state file {state_file} is damaged") from exc
            # Writing at once shows now, not at the first change, that the file is writable.
            write_state(state_file, self.backend.to_dict())
            self._saved_revision = self.backend.revision

    def handle(self, call: Call) -> Answer:
        if call.path.startswith(ADMIN_PREFIX):
            answer = handle_admin(self, call, self.admin_routes)
            self.persist()
            return answer
        route = self.routes.get(call.path)
        with self.lock:
            fault = self.faults.take(call.path, route is not None)
        delay = self.config.latency_ms
        if fault is not None and fault.kind == "latency_ms":
            delay += int(fault.value)
        if delay:
            time.sleep(delay / 1000)
        dropped = fault is not None and fault.label == "drop:after"
        if fault is not None and fault.kind != "latency_ms" and not dropped:
            return self._short_circuit(call, fault)
        # The CDN's re-encoding of an upload is slow and needs no state: done before the lock,
        # so that it holds up no other call.
        picture = self.prepare(call, route) if route is not None else None
        with self.lock:
            self.backend.expire_due()
            answer = self.answer(call, route, picture)
            self.log.add(call, self.clock.now(), None if dropped else answer.status,
                         answer.errcode, fault.label if fault else None)
        self.persist()
        return replace(answer, drop=dropped)

    def _short_circuit(self, call: Call, fault: Fault) -> Answer:
        """A fault answered instead of the request, which is not processed."""
        if fault.kind == "errcode":
            code = int(fault.value)
            text = self.errcodes.errmsg(code)
            answer = Answer.json({"errcode": code, "errmsg": text})
        elif fault.kind == "http_status":
            answer = Answer.html(int(fault.value))
        else:
            answer = Answer(0, b"", drop=True)
        with self.lock:
            self.log.add(call, self.clock.now(), None if answer.drop else answer.status,
                         answer.errcode, fault.label)
        return answer

    def prepare(self, call: Call, route: Any) -> bytes | None:
        """Work on the request that needs no state (made before the lock); None if none."""
        return None

    def answer(self, call: Call, route: Any, prepared: bytes | None) -> Answer:
        """The provider's answer to one call; the caller holds the lock."""
        raise NotImplementedError

    def persist(self) -> None:
        """Write the state file if anything changed since the last write.

        A failure is logged, not answered: the change itself was made.
        """
        if self.state_file is None or self.backend.revision == self._saved_revision:
            return
        with self._save_lock:
            with self.lock:
                revision = self.backend.revision
                snapshot = self.backend.to_dict() if revision != self._saved_revision else None
            if snapshot is not None:
                try:
                    write_state(self.state_file, snapshot)
                except StateFileError as exc:
                    log.error("%s", exc)
                    return
                self._saved_revision = revision
                log.debug("state saved to %s (revision %d)", self.state_file, revision)
