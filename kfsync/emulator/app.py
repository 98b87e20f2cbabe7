"""The emulator behind the HTTP server: state, lock, faults, request log, persistence.

`EmulatorApp.handle` turns one `Call` into one `Answer`; the server only moves bytes.
One lock guards all state; latency is slept without holding it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from pathlib import Path

from kfsync.emulator.clock import Clock
from kfsync.emulator.config import EmulatorConfig
from kfsync.emulator.control import ADMIN_PREFIX, handle_admin
from kfsync.emulator.exceptions import StateFileError
from kfsync.emulator.faults import Fault, FaultQueue
from kfsync.emulator.models import KfBackend
from kfsync.emulator.requestlog import RequestLog
from kfsync.emulator.responses import cdn_picture, dispatch, error_body
from kfsync.emulator.statefile import read_state, write_state
from kfsync.emulator.urls import ROUTES
from kfsync.emulator.wire import Answer, Call
from kfsync.errcodes import CODES

log = logging.getLogger(__name__)

MEDIA_PREFIX = "/mmbiz_jpg/"


class EmulatorApp:
    def __init__(self, config: EmulatorConfig, state_file: Path | None = None) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.clock = Clock()
        self.backend = KfBackend(config, self.clock)
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
            answer = handle_admin(self, call)
            self.persist()
            return answer
        route = ROUTES.get(call.path)
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
        picture = cdn_picture(call) if route is not None and route.body == "multipart" else None
        with self.lock:
            self.backend.expire_due()
            if call.path.startswith(MEDIA_PREFIX):
                answer = self._media(call.path)
            elif route is None:
                answer = Answer.json(error_body(40066))
            else:
                answer = Answer.json(dispatch(route, self.backend, call, picture=picture))
            self.log.add(call, self.clock.now(), None if dropped else answer.status,
                         answer.errcode, fault.label if fault else None)
        self.persist()
        return replace(answer, drop=dropped)

    def _short_circuit(self, call: Call, fault: Fault) -> Answer:
        """A fault answered instead of the request, which is not processed."""
        if fault.kind == "errcode":
            code = int(fault.value)
            text = CODES[code].errmsg if code in CODES else "system error"
            answer = Answer.json({"errcode": code, "errmsg": text})
        elif fault.kind == "http_status":
            answer = Answer.html(int(fault.value))
        else:
            answer = Answer(0, b"", drop=True)
        with self.lock:
            self.log.add(call, self.clock.now(), None if answer.drop else answer.status,
                         answer.errcode, fault.label)
        return answer

    def _media(self, path: str) -> Answer:
        media_id, _, rest = path.removeprefix(MEDIA_PREFIX).partition("/")
        picture = self.backend.pictures.get(media_id)
        if picture is None or rest != "0":
            return Answer.html(404)
        return Answer(200, picture, "image/jpeg")

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
