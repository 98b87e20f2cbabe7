"""The WeChat endpoints: parse each request, call the model, shape the documented answer.

`dispatch` is the one boundary where an `EmulatorError` becomes the wire answer
`{"errcode", "errmsg"}` (sent with HTTP 200).  Write endpoints answer
`{"errcode": 0, "errmsg": "ok"}`; read endpoints answer without errcode, as documented.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kfsync.emulator.exceptions import EmulatorError
from kfsync.emulator.images import cdn_reencode
from kfsync.emulator.wire import Call, json_object, multipart_parts
from kfsync.providers.wechat_mp.emulator.models import Account, KfBackend, Record
from kfsync.providers.wechat_mp.emulator.records import legacy_page, msg_page
from kfsync.providers.wechat_mp.emulator.tokens import Token
from kfsync.providers.wechat_mp.errcodes import errmsg

Json = dict[str, Any]
OK: Json = {"errcode": 0, "errmsg": "ok"}


def error_body(errcode: int) -> Json:
    return {"errcode": errcode, "errmsg": errmsg(errcode)}


@dataclass(frozen=True)
class Route:
    methods: frozenset[str]
    handler: Callable[[KfResponses], Json]
    #: the input: "none" (query only), "json", "optional" (JSON body or query), "multipart"
    body: str = "none"
    token: bool = True


def cdn_picture(call: Call) -> bytes | None:
    """The upload in `call` as the CDN will store it, or None if it has none or is refused.

    A pure function of the request, so it can be made without the state lock;
    a refused upload is refused again, in its turn, by `set_avatar`.
    """
    with contextlib.suppress(EmulatorError):
        part = multipart_parts(call.content_type, call.body).get("media")
        if part is not None:
            return cdn_reencode(part.data)
    return None


def dispatch(route: Route, backend: KfBackend, call: Call, *, picture: bytes | None = None) -> Json:
    """Answer one WeChat call; the caller holds the state lock.

    `picture` is `cdn_picture(call)`, when the caller made it already.
    """
    try:
        if call.method not in route.methods:
            raise EmulatorError(43001 if "GET" in route.methods else 43002)
        if route.token:
            backend.tokens.check(call.query.get("access_token"), backend.now())
        strict = backend.config.strict
        if strict and "%40" in (call.raw_query_value("kf_account") or "").upper():
            raise EmulatorError(61452)
        return route.handler(KfResponses(backend, call, route.body, picture))
    except EmulatorError as exc:
        return error_body(exc.errcode)


class KfResponses:
    """The request parsing of each endpoint; one instance per call."""

    def __init__(self, backend: KfBackend, call: Call, body: str,
                 picture: bytes | None = None) -> None:
        self.backend = backend
        self.call = call
        self.picture = picture  #: the media re-encoded, if the caller did it already
        self.payload: Json = {}
        self.media: bytes | None = None
        if body == "multipart":
            part = multipart_parts(call.content_type, call.body).get("media")
            if part is None:
                raise EmulatorError(40097)
            self.media = part.data
        elif body == "json" or (body == "optional" and call.body.strip()):
            self.payload = json_object(call.body, strict=backend.config.strict)

    # ------------------------------------------------------------------ parameters

    def _param(self, name: str) -> Any:
        """A parameter from the JSON body, else from the query string."""
        if name in self.payload:
            return self.payload[name]
        return self.call.query.get(name)

    def _text(self, name: str, errcode: int) -> str:
        value = self._param(name)
        if not isinstance(value, str) or not value:
            raise EmulatorError(errcode)
        return value

    def _int(self, name: str, errcode: int) -> int:
        value = self._param(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise EmulatorError(errcode)
        return value

    # ------------------------------------------------------------------ shaping

    def _kf_id(self, account: Account) -> int | str:
        return str(account.kf_id) if self.backend.config.strict else account.kf_id

    def _headimgurl(self, account: Account) -> str:
        if account.media_id:
            return f"{self.call.base_url}/mmbiz_jpg/{account.media_id}/0"
        return account.headimgurl

    def _kf_item(self, account: Account) -> Json:
        item: Json = {"kf_account": account.kf_account, "kf_nick": account.kf_nick,
                      "kf_id": self._kf_id(account), "kf_headimgurl": self._headimgurl(account)}
        if account.kf_wx is not None:
            item["kf_wx"] = account.kf_wx
        elif account.invitation is not None:
            item.update(invite_wx=account.invitation.invite_wx,
                        invite_expire_time=account.invitation.invite_expire_time,
                        invite_status=account.invitation.invite_status)
        if account.kf_openid is not None:
            item["kf_openid"] = account.kf_openid
        return item

    @staticmethod
    def _record_item(record: Record) -> Json:
        return {"openid": record.openid, "opercode": record.opercode, "text": record.text,
                "time": record.time, "worker": record.worker}

    # ------------------------------------------------------------------ tokens

    def _credentials(self) -> None:
        config = self.backend.config
        if self._param("grant_type") != "client_credential":
            raise EmulatorError(40002)
        if self._text("appid", 41002) != config.appid:
            raise EmulatorError(40013)
        if self._text("secret", 41004) != config.secret:
            raise EmulatorError(40125)

    def _token_answer(self, token: Token) -> Json:
        self.backend.changed()
        return {"access_token": token.value, "expires_in": token.expires_at - self.backend.now()}

    def token(self) -> Json:
        self._credentials()
        return self._token_answer(self.backend.tokens.classic(self.backend.now()))

    def stable_token(self) -> Json:
        self._credentials()
        force = self.payload.get("force_refresh", False)
        if not isinstance(force, bool):
            raise EmulatorError(40097)
        return self._token_answer(self.backend.tokens.stable(self.backend.now(), force))

    # ------------------------------------------------------------------ accounts

    def getkflist(self) -> Json:
        return {"kf_list": [self._kf_item(a) for a in self.backend.listed()]}

    def getonlinekflist(self) -> Json:
        return {"kf_online_list": [
            {"kf_account": a.kf_account, "status": a.status, "kf_id": self._kf_id(a),
             "accepted_case": accepted} for a, accepted in self.backend.online()]}

    def add(self) -> Json:
        self.backend.add_account(self._text("kf_account", 65404), self._nickname())
        return OK

    def update(self) -> Json:
        self.backend.update_account(self._text("kf_account", 65404), self._nickname())
        return OK

    def _nickname(self) -> str:
        value = self._param("nickname")
        if not isinstance(value, str):
            raise EmulatorError(65403)
        return value

    def delete(self) -> Json:
        self.backend.delete_account(self._text("kf_account", 65401))
        return OK

    def inviteworker(self) -> Json:
        self.backend.invite_worker(self._text("kf_account", 65401),
                                   self._text("invite_wx", 65409))
        return OK

    def uploadheadimg(self) -> Json:
        kf_account = self._text("kf_account", 65401)
        assert self.media is not None  # the route is multipart
        self.backend.set_avatar(kf_account, self.media, picture=self.picture)
        return OK

    # ------------------------------------------------------------------ sessions

    def create_session(self) -> Json:
        self.backend.create_session(self._text("kf_account", 65401), self._text("openid", 40003))
        return OK

    def close_session(self) -> Json:
        self.backend.close_session(self._text("kf_account", 65401), self._text("openid", 40003))
        return OK

    def getsession(self) -> Json:
        session = self.backend.session_of(self._text("openid", 40003))
        if session is None:
            return {"createtime": 0, "kf_account": ""}
        return {"createtime": session.createtime, "kf_account": session.kf_account}

    def getsessionlist(self) -> Json:
        sessions = self.backend.sessions_of(self._text("kf_account", 65401))
        return {"sessionlist": [{"createtime": s.createtime, "openid": s.openid}
                                for s in sessions]}

    def getwaitcase(self) -> Json:
        waiting = self.backend.waiting()
        return {"count": len(waiting),
                "waitcaselist": [{"latest_time": w.latest_time, "openid": w.openid}
                                 for w in waiting[:100]]}

    # ------------------------------------------------------------------ records

    def getmsglist(self) -> Json:
        found, msgid = msg_page(
            self.backend.records, self._int("starttime", 65416), self._int("endtime", 65416),
            self._int("msgid", 65416), self._int("number", 65416), self.backend.config.msgid_mode)
        return {"recordlist": [self._record_item(r) for r in found], "number": len(found),
                "msgid": msgid}

    def getrecord(self) -> Json:
        openid = self._param("openid")
        if openid is not None and not isinstance(openid, str):
            raise EmulatorError(40003)
        found = legacy_page(
            self.backend.records, self._int("starttime", 61500), self._int("endtime", 61500),
            self._int("pageindex", 61451), self._int("pagesize", 61451), openid or None)
        return {"recordlist": [self._record_item(r) for r in found]}
