"""The admin API under /_emulator/: reset, clock, faults and the request log, for every provider.

Each provider's app adds its own routes (seed, state, and e.g. invitation
outcomes) to `COMMON_ADMIN_ROUTES`.

Kept apart from the WeChat routes: no token, no latency, no faults, not logged.
Refusals are HTTP 4xx with `{"error": message}`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from kfsync.emulator.exceptions import AdminError
from kfsync.emulator.faults import Fault, RandomFaults
from kfsync.emulator.wire import Answer, Call

if TYPE_CHECKING:
    from kfsync.emulator.app import ServiceApp

ADMIN_PREFIX = "/_emulator/"
Json = dict[str, Any]
#: (method, path under /_emulator/) -> handler; a provider's app lists its own
AdminRoutes = Mapping[tuple[str, str], Callable[[Any, Json], Json]]
_A = TypeVar("_A", bound="ServiceApp")


def handle_admin(app: _A, call: Call, routes: Mapping[tuple[str, str],
                                                      Callable[[_A, Json], Json]]) -> Answer:
    handler = routes.get((call.method, call.path.removeprefix(ADMIN_PREFIX)))
    if handler is None:
        return Answer.json({"error": f"no admin route {call.method} {call.path}"}, 404)
    try:
        payload = _payload(call)
        with app.lock:
            app.backend.expire_due()
            return Answer.json(handler(app, payload))
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


def _reset(app: ServiceApp, payload: Json) -> Json:
    app.backend.reset()
    app.faults.clear()
    app.log.clear()
    return {"ok": True}


def _clock(app: ServiceApp, payload: Json) -> Json:
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


def _fault(app: ServiceApp, payload: Json) -> Json:
    if "rate" in payload:
        app.faults.add_random(RandomFaults.from_dict(payload))
    else:
        fault, count = Fault.from_dict(payload)
        app.faults.add(fault, count)
    return {"ok": True, "pending": app.faults.pending(), "random": app.faults.random()}


def _requests(app: ServiceApp, payload: Json) -> Json:
    return {"requests": app.log.entries()}


#: What every provider's admin API has; each adds its seed and state (and more).
COMMON_ADMIN_ROUTES: dict[tuple[str, str], Callable[[ServiceApp, Json], Json]] = {
    ("POST", "reset"): _reset,
    ("POST", "clock"): _clock,
    ("POST", "faults"): _fault,
    ("GET", "requests"): _requests,
}
