"""The Official Account's kf API on the generic emulator machinery.

Routes (`urls`), request parsing (`responses`) and state (`models`) are this
provider's; the lock, clock, faults, request log, persistence and the common
admin routes are `kfsync.emulator`'s.  The CDN that serves uploaded avatars
lives here too: its pictures are part of this API's state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from kfsync.emulator.app import ServiceApp
from kfsync.emulator.control import COMMON_ADMIN_ROUTES
from kfsync.emulator.exceptions import AdminError
from kfsync.emulator.wire import Answer, Call
from kfsync.providers.wechat_mp.emulator.config import EmulatorConfig
from kfsync.providers.wechat_mp.emulator.models import KfBackend
from kfsync.providers.wechat_mp.emulator.responses import Route, cdn_picture, dispatch, error_body
from kfsync.providers.wechat_mp.emulator.seed import parse_seed
from kfsync.providers.wechat_mp.emulator.urls import ROUTES
from kfsync.providers.wechat_mp.errcodes import MP

MEDIA_PREFIX = "/mmbiz_jpg/"
Json = dict[str, Any]


class EmulatorApp(ServiceApp):
    """The Official Account's emulator: accounts, invitations, avatars and their CDN, sessions, records."""

    routes: Mapping[str, Route] = ROUTES
    errcodes = MP
    backend: KfBackend
    config: EmulatorConfig

    def __init__(self, config: EmulatorConfig, state_file: Path | None = None) -> None:
        super().__init__(config, KfBackend, state_file)
        self.admin_routes = MP_ADMIN_ROUTES

    def prepare(self, call: Call, route: Route) -> bytes | None:
        # The CDN's re-encoding of an upload is slow and needs no state.
        return cdn_picture(call) if route.body == "multipart" else None

    def answer(self, call: Call, route: Route | None, prepared: bytes | None) -> Answer:
        if call.path.startswith(MEDIA_PREFIX):
            return self._media(call.path)
        if route is None:
            return Answer.json(error_body(40066))
        return Answer.json(dispatch(route, self.backend, call, picture=prepared))

    def _media(self, path: str) -> Answer:
        media_id, _, rest = path.removeprefix(MEDIA_PREFIX).partition("/")
        picture = self.backend.pictures.get(media_id)
        if picture is None or rest != "0":
            return Answer.html(404)
        return Answer(200, picture, "image/jpeg")


def seed_state(app: EmulatorApp, payload: Json) -> Json:
    """Add a seed body to the state, all or nothing (the caller holds `app.lock`)."""
    batch = parse_seed(payload, app.backend)
    app.backend.seed(batch.accounts, batch.pictures, batch.records, batch.waitcases)
    return {"ok": True, "accounts": len(batch.accounts), "records": len(batch.records),
            "waitcase": len(batch.waitcases)}


def _invitation(outcome: str) -> Callable[[EmulatorApp, Json], Json]:
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


MP_ADMIN_ROUTES: dict[tuple[str, str], Callable[[EmulatorApp, Json], Json]] = {
    **COMMON_ADMIN_ROUTES,
    ("POST", "seed"): seed_state,
    ("POST", "invites/accept"): _invitation("accept"),
    ("POST", "invites/reject"): _invitation("reject"),
    ("POST", "invites/expire"): _invitation("expire"),
    ("GET", "state"): _state,
}
