"""The machinery behind every emulated API: lock, clock, faults, request log, persistence.

`EmulatorApp.handle` turns one `Call` into one `Answer`; the server only moves
bytes.  A provider's emulator subclasses it and says what it serves (`knows`),
what it does before taking the lock (`prepare`), how it answers (`answer`),
the errmsg of an errcode (`errmsg`) and its own admin routes
(`admin_routes`).  One lock guards all state; latency is slept without holding it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from kfsync.emulator.clock import Clock
from kfsync.emulator.control import ADMIN_PREFIX, handle_admin
from kfsync.emulator.exceptions import StateFileError
from kfsync.emulator.faults import Fault, FaultQueue
from kfsync.emulator.requestlog import RequestLog
from kfsync.emulator.statefile import read_state, write_state
from kfsync.emulator.wire import Answer, Call

log = logging.getLogger(__name__)

Json = dict[str, Any]


class Backend(Protocol):
    """The state of one emulated API, as the generic machinery needs it."""

    @property
    def revision(self) -> int: ...  #: grows with every change, for persistence

    def reset(self) -> None: ...
    def changed(self) -> None: ...  #: mark the state changed (e.g. the clock moved)
    def expire_due(self) -> None: ...  #: apply what the passing of time does
    def to_dict(self) -> Json: ...
    def load(self, data: Json) -> None: ...


B = TypeVar("B", bound=Backend)


class EmulatorApp(Generic[B]):
    """One emulated API: a provider subclasses it with its routes and its backend."""

    def __init__(self, backend: B, clock: Clock, *, latency_ms: int = 0,
                 state_file: Path | None = None) -> None:
        self.lock = threading.Lock()
        self.clock = clock
        self.backend = backend
        self.latency_ms = latency_ms
        self.faults = FaultQueue()
        self.log = RequestLog()
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

    # ------------------------------------------------------------------ what a provider gives

    def knows(self, path: str) -> bool:
        """Whether `path` is one of the API's routes (faults aimed at `*` hit only those)."""
        raise NotImplementedError

    def prepare(self, call: Call) -> object:
        """Work that needs no state, done before the lock so that it holds up no other call."""
        return None

    def answer(self, call: Call, prepared: object) -> Answer:
        """The answer to one API call, under the lock."""
        raise NotImplementedError

    def errmsg(self, errcode: int) -> str:
        """The wire errmsg of an errcode, for injected errcode faults."""
        return "system error"

    def admin_routes(self) -> Mapping[tuple[str, str], Callable[[Json], Json]]:
        """The provider's own admin routes, by (method, path under /_emulator/)."""
        return {}

    def admin_state(self) -> Json:
        """What `GET /_emulator/state` shows besides the faults and the request count."""
        return {"now": self.clock.now()}

    # ------------------------------------------------------------------ the machinery

    def handle(self, call: Call) -> Answer:
        if call.path.startswith(ADMIN_PREFIX):
            answer = handle_admin(self, call)
            self.persist()
            return answer
        known = self.knows(call.path)
        with self.lock:
            fault = self.faults.take(call.path, known)
        delay = self.latency_ms
        if fault is not None and fault.kind == "latency_ms":
            delay += int(fault.value)
        if delay:
            time.sleep(delay / 1000)
        dropped = fault is not None and fault.label == "drop:after"
        if fault is not None and fault.kind != "latency_ms" and not dropped:
            return self._short_circuit(call, fault)
        prepared = self.prepare(call) if known else None
        with self.lock:
            self.backend.expire_due()
            answer = self.answer(call, prepared)
            self.log.add(call, self.clock.now(), None if dropped else answer.status,
                         answer.errcode, fault.label if fault else None)
        self.persist()
        return replace(answer, drop=dropped)

    def _short_circuit(self, call: Call, fault: Fault) -> Answer:
        """A fault answered instead of the request, which is not processed."""
        if fault.kind == "errcode":
            code = int(fault.value)
            answer = Answer.json({"errcode": code, "errmsg": self.errmsg(code)})
        elif fault.kind == "http_status":
            answer = Answer.html(int(fault.value))
        else:
            answer = Answer(0, b"", drop=True)
        with self.lock:
            self.log.add(call, self.clock.now(), None if answer.drop else answer.status,
                         answer.errcode, fault.label)
        return answer

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
