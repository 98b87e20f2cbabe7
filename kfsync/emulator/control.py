"""The admin API under /_emulator/: reset, clock, faults, the request log and state.

Kept apart from the emulated API's routes: no token, no latency, no faults, not
logged.  A provider's emulator adds its own routes (seeding, invitations...)
through `EmulatorApp.admin_routes`.  Refusals are HTTP 4xx with `{"error": message}`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kfsync.emulator.exceptions import AdminError
from kfsync.emulator.faults import Fault, RandomFaults
from kfsync.emulator.wire import Answer, Call

if TYPE_CHECKING:
    from kfsync.emulator.app import EmulatorApp

ADMIN_PREFIX = "/_emulator/"
Json = dict[str, Any]
AdminHandler = Callable[["EmulatorApp[Any]", Json], Json]


def handle_admin(app: EmulatorApp[Any], call: Call) -> Answer:
    key = (call.method, call.path.removeprefix(ADMIN_PREFIX))
    own = app.admin_routes().get(key)
    generic = _ROUTES.get(key)
    if own is None and generic is None:
        return Answer.json({"error": f"no admin route {call.method} {call.path}"}, 404)
    try:
        payload = _payload(call)
        with app.lock:
            app.backend.expire_due()
            if own is not None:
                return Answer.json(own(payload))
            assert generic is not None
            return Answer.json(generic(app, payload))
    except AdminError as exc:
        return Answer.json({"error": exc.message}, exc.status)


def _payload(call: Call) -> Json:
    if not call.body.strip():
        return {}
    try:
        value = json.loads(call.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise AdminError(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise AdminError("the body must be a JSON object")
    return value


def _reset(app: EmulatorApp[Any], payload: Json) -> Json:
    app.backend.reset()
    app.faults.clear()
    app.log.clear()
    return {"ok": True}


def _clock(app: EmulatorApp[Any], payload: Json) -> Json:
    seconds = payload.get("advance", 0)
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
        raise AdminError("advance must be an integer number of seconds >= 0")
    frozen = payload.get("freeze")
    if frozen is not None and not isinstance(frozen, bool):
        raise AdminError("freeze must be true or false")
    if "advance" not in payload and frozen is None:
        raise AdminError("give advance (seconds) or freeze (true or false)")
    if frozen is not None:
        app.clock.freeze(frozen)
    app.clock.advance(seconds)
    app.backend.changed()
    app.backend.expire_due()
    return {"ok": True, "now": app.clock.now()}


def _fault(app: EmulatorApp[Any], payload: Json) -> Json:
    if "rate" in payload:
        app.faults.add_random(RandomFaults.from_dict(payload))
    else:
        fault, count = Fault.from_dict(payload)
        app.faults.add(fault, count)
    return {"ok": True, "pending": app.faults.pending(), "random": app.faults.random()}


def _requests(app: EmulatorApp[Any], payload: Json) -> Json:
    return {"requests": app.log.entries()}


def _state(app: EmulatorApp[Any], payload: Json) -> Json:
    return {
        **app.admin_state(),
        "faults": app.faults.pending(),
        "random_faults": app.faults.random(),
        "requests": len(app.log),
    }


_ROUTES: dict[tuple[str, str], AdminHandler] = {
    ("POST", "reset"): _reset,
    ("POST", "clock"): _clock,
    ("POST", "faults"): _fault,
    ("GET", "requests"): _requests,
    ("GET", "state"): _state,
}
