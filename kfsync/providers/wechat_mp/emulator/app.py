"""The Official Account's kf API on the generic emulator machinery.

Routes (`urls`), request parsing (`responses`) and state (`models`) are this
provider's; the lock, clock, faults, request log and persistence are the
generic `kfsync.emulator.app.EmulatorApp`'s.  The CDN that serves uploaded
avatars lives here too: its pictures are part of this API's state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from kfsync.emulator.app import EmulatorApp, Json
from kfsync.emulator.clock import Clock
from kfsync.emulator.exceptions import AdminError
from kfsync.emulator.wire import Answer, Call
from kfsync.providers.wechat_mp.emulator.config import EmulatorConfig
from kfsync.providers.wechat_mp.emulator.models import KfBackend
from kfsync.providers.wechat_mp.emulator.responses import cdn_picture, dispatch, error_body
from kfsync.providers.wechat_mp.emulator.seed import parse_seed
from kfsync.providers.wechat_mp.emulator.urls import ROUTES
from kfsync.providers.wechat_mp.errcodes import CODES

MEDIA_PREFIX = "/mmbiz_jpg/"


class KfEmulatorApp(EmulatorApp[KfBackend]):
    """The kf API: accounts, invitations, avatars and their CDN, sessions and records."""

    def __init__(self, config: EmulatorConfig, state_file: Path | None = None) -> None:
        self.config = config
        clock = Clock()
        super().__init__(KfBackend(config, clock), clock, latency_ms=config.latency_ms,
                         state_file=state_file)

    def knows(self, path: str) -> bool:
        return path in ROUTES

    def prepare(self, call: Call) -> object:
        # The CDN's re-encoding of an upload is slow and needs no state.
        return cdn_picture(call) if ROUTES[call.path].body == "multipart" else None

    def answer(self, call: Call, prepared: object) -> Answer:
        if call.path.startswith(MEDIA_PREFIX):
            return self._media(call.path)
        route = ROUTES.get(call.path)
        if route is None:
            return Answer.json(error_body(40066))
        picture = prepared if isinstance(prepared, bytes) else None
        return Answer.json(dispatch(route, self.backend, call, picture=picture))

    def errmsg(self, errcode: int) -> str:
        return CODES[errcode].errmsg if errcode in CODES else "system error"

    def _media(self, path: str) -> Answer:
        media_id, _, rest = path.removeprefix(MEDIA_PREFIX).partition("/")
        picture = self.backend.pictures.get(media_id)
        if picture is None or rest != "0":
            return Answer.html(404)
        return Answer(200, picture, "image/jpeg")

    # ------------------------------------------------------------------ admin API

    def admin_routes(self) -> Mapping[tuple[str, str], Callable[[Json], Json]]:
        return {
            ("POST", "seed"): self.seed_state,
            ("POST", "invites/accept"): self._invitation("accept"),
            ("POST", "invites/reject"): self._invitation("reject"),
            ("POST", "invites/expire"): self._invitation("expire"),
        }

    def seed_state(self, payload: Json) -> Json:
        """Add a seed body to the state, all or nothing (the caller holds `self.lock`)."""
        batch = parse_seed(payload, self.backend)
        self.backend.seed(batch.accounts, batch.pictures, batch.records, batch.waitcases)
        return {"ok": True, "accounts": len(batch.accounts), "records": len(batch.records),
                "waitcase": len(batch.waitcases)}

    def _invitation(self, outcome: str) -> Callable[[Json], Json]:
        def resolve(payload: Json) -> Json:
            kf_account = payload.get("kf_account")
            if not isinstance(kf_account, str):
                raise AdminError("kf_account must be a string")
            try:
                account = self.backend.resolve_invitation(kf_account, outcome)
            except LookupError as exc:
                raise AdminError(str(exc.args[0]), 404) from exc
            except ValueError as exc:
                raise AdminError(str(exc), 409) from exc
            return {"ok": True, "account": account.to_dict()}

        return resolve

    def admin_state(self) -> Json:
        backend = self.backend
        now = self.clock.now()
        return {
            "now": now,
            "config": self.config.to_dict(),
            "accounts": [a.to_dict() for a in backend.listed()],
            "sessions": [{"kf_account": s.kf_account, "openid": s.openid,
                          "createtime": s.createtime} for s in backend.sessions.values()],
            "waitcase": [{"openid": w.openid, "latest_time": w.latest_time}
                         for w in backend.waiting()],
            "records": len(backend.records),
            "pictures": len(backend.pictures),
            "tokens": backend.tokens.summary(now),
        }
