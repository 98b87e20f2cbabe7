"""The WeCom emulator: its app on the shared framework, its admin routes, and the server.

The framework (`kfsync.emulator`: HTTP server, faults, latency, clock, request log,
admin plumbing, state file) is the Official Account emulator's; this module adds
WeCom's backend, routes, avatar pictures at `/wwhead/<id>/0`, and the admin
`seed`, `state` and `switches` routes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kfsync.emulator.admin import EmulatorAdmin
from kfsync.emulator.app import ServiceApp
from kfsync.emulator.control import COMMON_ADMIN_ROUTES
from kfsync.emulator.exceptions import AdminError
from kfsync.emulator.server import Served
from kfsync.emulator.wire import Answer, Call
from kfsync.providers.wecom.emulator.config import (
    DEFAULT_CORPID,
    DEFAULT_RATE_LIMIT,
    DEFAULT_SECRET,
    Switches,
    WeComEmulatorConfig,
)
from kfsync.providers.wecom.emulator.models import WeComBackend
from kfsync.providers.wecom.emulator.responses import AVATAR_PREFIX, WeComRoute, dispatch
from kfsync.providers.wecom.emulator.seed import apply_seed, parse_seed
from kfsync.providers.wecom.emulator.urls import ROUTES
from kfsync.providers.wecom.errcodes import WECOM

Json = dict[str, Any]


class WeComApp(ServiceApp):
    routes: Mapping[str, WeComRoute] = ROUTES
    errcodes = WECOM
    backend: WeComBackend

    def __init__(self, config: WeComEmulatorConfig, state_file: Path | None = None) -> None:
        super().__init__(config, WeComBackend, state_file)
        self.config: WeComEmulatorConfig = config
        self.admin_routes = WECOM_ADMIN_ROUTES

    def answer(self, call: Call, route: WeComRoute | None, prepared: bytes | None) -> Answer:
        if route is not None:
            return Answer.json(dispatch(route, self.backend, call))
        picture, _, rest = call.path.removeprefix(AVATAR_PREFIX).partition("/")
        data = self.backend.pictures.get(picture) if call.path.startswith(AVATAR_PREFIX) else None
        if data is None or rest != "0" or picture in self.backend.media:
            return Answer.html(404)
        return Answer(200, data, "image/jpeg")


def _seed(app: WeComApp, payload: Json) -> Json:
    seed = parse_seed(payload, app.backend)
    apply_seed(seed, app.backend)
    return {"ok": True, "accounts": len(seed.accounts), "users": len(seed.users),
            "departments": len(seed.departments), "customers": len(seed.customers),
            "messages": len(seed.messages)}


def _switches(app: WeComApp, payload: Json) -> Json:
    try:
        app.backend.corp.switches = app.backend.switches.updated(payload)
    except ValueError as exc:
        raise AdminError(str(exc)) from exc
    app.backend.changed()
    return {"ok": True, "switches": app.backend.switches.to_dict()}


def _state(app: WeComApp, payload: Json) -> Json:
    backend = app.backend
    state = backend.to_dict()
    del state["pictures"], state["tokens"], state["clock_offset"]
    state["media"] = len(backend.media)
    return {"now": app.clock.now(), "config": app.config.to_dict(), **state,
            "tokens": len(backend.tokens), "connections": app.connections,
            "faults": app.faults.pending(),
            "random_faults": app.faults.random(), "requests": len(app.log)}


WECOM_ADMIN_ROUTES = {
    **COMMON_ADMIN_ROUTES,
    ("POST", "seed"): _seed,
    ("POST", "switches"): _switches,
    ("GET", "state"): _state,
}


class WeComAdmin(EmulatorAdmin):
    """The admin API of a WeCom emulator: the common calls, and WeCom's seed and switches."""

    def seed(self, **fields: Any) -> dict[str, Any]:
        """Add to the state; keywords as in `kfsync.providers.wecom.emulator.seed`."""
        result: dict[str, Any] = self._call("POST", "seed", fields)
        return result

    def switch(self, **switches: Any) -> dict[str, Any]:
        """Change uncertain behaviours, e.g. `switch(get_list="first_page")`."""
        result: dict[str, Any] = self._call("POST", "switches", switches)["switches"]
        return result


class WeComEmulator(Served):
    """The WeCom 微信客服 API emulator, served over HTTP on `base_url`; a context manager."""

    app: WeComApp

    def __init__(self, corpid: str = DEFAULT_CORPID, secret: str = DEFAULT_SECRET,
                 host: str = "127.0.0.1", port: int = 0, latency_ms: int = 0,
                 state_file: str | os.PathLike[str] | None = None,
                 switches: Switches | None = None,
                 rate_limit: int = DEFAULT_RATE_LIMIT, connection_latency_ms: int = 0) -> None:
        self.config = WeComEmulatorConfig(corpid, secret, latency_ms, switches or Switches(),
                                          rate_limit, connection_latency_ms)
        super().__init__(WeComApp(self.config, Path(state_file) if state_file else None),
                         host, port)

    @property
    def admin(self) -> WeComAdmin:
        return WeComAdmin(self.base_url)
