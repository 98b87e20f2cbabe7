"""The admin API under /_emulator/: reset, seed, invitation outcomes, clock, faults, logs, state.

Kept apart from the WeChat routes: no token, no latency, no faults, not logged.
Refusals are HTTP 4xx with `{"error": message}`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from kfsync.emulator.exceptions import AdminError
from kfsync.emulator.faults import Fault, RandomFaults
from kfsync.emulator.seed import parse_seed
from kfsync.emulator.wire import Answer, Call

if TYPE_CHECKING:
    from kfsync.emulator.app import EmulatorApp, ServiceApp

ADMIN_PREFIX = "/_emulator/"
Json = dict[str, Any]
AdminHandler = Callable[["EmulatorApp", Json], Json]
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


def seed_state(app: EmulatorApp, payload: Json) -> Json:
    """Add a seed body to the state, all or nothing (the caller holds `app.lock`)."""
    batch = parse_seed(payload, app.backend)
    app.backend.seed(batch.accounts, batch.pictures, batch.records, batch.waitcases)
    return {"ok": True, "accounts": len(batch.accounts), "records": len(batch.records),
            "waitcase": len(batch.waitcases)}


def _invitation(outcome: str) -> AdminHandler:
    def resolve(app: EmulatorApp, payload: Json) -> Json:
        kf_account = payload.get("kf_account")
        if not isinstance(kf_account, str):
            raise AdminError("kf_account must be a string")
        try:
            account = app.backend.resolve_invitation(kf_account, outcome)
        except LookupError as exc:
            raise AdminError(str(exc.args[0]), 404) from exc
        except ValueError as exc:
            raise AdminError(str(exc), 409) from exc
        return {"ok": True, "account": account.to_dict()}

    return resolve


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


def _state(app: EmulatorApp, payload: Json) -> Json:
    backend = app.backend
    now = app.clock.now()
    return {
        "now": now,
        "config": app.config.to_dict(),
        "accounts": [a.to_dict() for a in backend.listed()],
        "sessions": [{"kf_account": s.kf_account, "openid": s.openid,
                      "createtime": s.createtime} for s in backend.sessions.values()],
        "waitcase": [{"openid": w.openid, "latest_time": w.latest_time}
                     for w in backend.waiting()],
        "records": len(backend.records),
        "pictures": len(backend.pictures),
        "connections": app.connections,
        "tokens": backend.tokens.summary(now),
        "faults": app.faults.pending(),
        "random_faults": app.faults.random(),
        "requests": len(app.log),
    }


#: What every provider's admin API has; each adds its seed and state (and more).
COMMON_ADMIN_ROUTES: dict[tuple[str, str], Callable[[ServiceApp, Json], Json]] = {
    ("POST", "reset"): _reset,
    ("POST", "clock"): _clock,
    ("POST", "faults"): _fault,
    ("GET", "requests"): _requests,
}

MP_ADMIN_ROUTES: dict[tuple[str, str], AdminHandler] = {
    **COMMON_ADMIN_ROUTES,
    ("POST", "seed"): seed_state,
    ("POST", "invites/accept"): _invitation("accept"),
    ("POST", "invites/reject"): _invitation("reject"),
    ("POST", "invites/expire"): _invitation("expire"),
    ("GET", "state"): _state,
}
