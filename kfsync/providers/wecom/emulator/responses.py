"""The WeCom endpoints: parse each request, call the model, shape the documented answer.

`dispatch` is the one boundary where an `EmulatorError` becomes the wire answer
`{"errcode", "errmsg"}` (HTTP 200).  An errmsg carries WeCom's suffix
`, hint: [...], from ip: <caller>, more info at ...`; successes answer `"ok"`.
Checks before the handler, in order: method (GET on a POST endpoint 40058, POST
on a GET one 43001), token (41001, 40014, 42001), trusted IPs (60020), the app's
authorisation for kf calls (48002), the per-minute limit (45009).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kfsync.emulator.exceptions import EmulatorError
from kfsync.emulator.wire import Call, json_object, multipart_parts
from kfsync.providers.wecom.emulator.models import WeComBackend
from kfsync.providers.wecom.errcodes import errmsg

Json = dict[str, Any]
OK: Json = {"errcode": 0, "errmsg": "ok"}
MAX_BATCH = 100
AVATAR_PREFIX = "/wwhead/"


def error_body(errcode: int, client_ip: str) -> Json:
    text = (f"{errmsg(errcode)}, hint: [{secrets.token_hex(8)}], from ip: {client_ip or '0.0.0.0'}"
            f", more info at https://open.work.weixin.qq.com/devtool/query?e={errcode}")
    return {"errcode": errcode, "errmsg": text}


@dataclass(frozen=True)
class WeComRoute:
    methods: frozenset[str]
    handler: Callable[[WeComResponses], Json]
    body: str = "json"  #: "json", "none" (query only) or "multipart"
    token: bool = True


def dispatch(route: WeComRoute, backend: WeComBackend, call: Call) -> Json:
    """Answer one call; the caller holds the state lock."""
    try:
        if call.method not in route.methods:
            raise EmulatorError(40058 if call.method == "GET" else 43001)
        if route.token:
            backend.check_token(call.query.get("access_token"))
            corp = backend.corp
            if corp.trusted_ips and call.client_ip not in corp.trusted_ips:
                raise EmulatorError(60020)
            if call.path.startswith("/cgi-bin/kf/") and not corp.app_authorised:
                raise EmulatorError(48002)
        backend.count_call(call.path)
        return route.handler(WeComResponses(backend, call, route.body))
    except EmulatorError as exc:
        return error_body(exc.errcode, call.client_ip)


class WeComResponses:
    """The request parsing of each endpoint; one instance per call."""

    def __init__(self, backend: WeComBackend, call: Call, body: str) -> None:
        self.backend = backend
        self.call = call
        self.payload: Json = {}
        self.media: bytes | None = None
        if body == "multipart":
            part = multipart_parts(call.content_type, call.body).get("media")
            if part is None or not part.filename:
                raise EmulatorError(40058)
            self.media = part.data
        elif body == "json" and call.method == "POST":
            self.payload = json_object(call.body, strict=False)

    # ------------------------------------------------------------------ parameters

    def _param(self, name: str) -> Any:
        return self.payload[name] if name in self.payload else self.call.query.get(name)

    def _text(self, name: str, errcode: int = 40058, *, required: bool = True) -> Any:
        value = self._param(name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or (required and not value):
            raise EmulatorError(errcode)
        return value

    def _int(self, name: str, default: int | None = None) -> int:
        value = self._param(name)
        if value is None and default is not None:
            return default
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise EmulatorError(40058)
        return value

    def _list(self, name: str, kind: type) -> list[Any]:
        value = self._param(name)
        if value is None:
            return []
        if not isinstance(value, list) or len(value) > MAX_BATCH or not all(
                isinstance(v, kind) and not isinstance(v, bool) for v in value):
            raise EmulatorError(40058)
        return value

    def _open_kfid(self) -> str:
        return str(self._text("open_kfid", 95000))

    def _avatar(self, picture: str, seeded: str) -> str:
        return f"{self.call.base_url}{AVATAR_PREFIX}{picture}/0" if picture else seeded

    # ------------------------------------------------------------------ token and media

    def gettoken(self) -> Json:
        corpid = self._text("corpid", 41002)
        secret = self._text("corpsecret", 41004)
        if corpid != self.backend.config.corpid:
            raise EmulatorError(40013)
        if secret != self.backend.config.secret:
            raise EmulatorError(40001)
        token, expires_in = self.backend.issue_token()
        return {**OK, "access_token": token, "expires_in": expires_in}

    def upload(self) -> Json:
        if self.call.query.get("type") != "image":
            raise EmulatorError(40005)
        assert self.media is not None
        media_id, created_at = self.backend.upload(self.media)
        return {**OK, "type": "image", "media_id": media_id, "created_at": str(created_at)}

    # ------------------------------------------------------------------ accounts

    def account_list(self) -> Json:
        switch = self.backend.switches.get_list
        if self.call.method == "GET" and switch == "refused":
            raise EmulatorError(40058)
        if self.call.method == "GET" and switch == "first_page":
            offset, limit = 0, 100
        else:
            offset, limit = self._int("offset", 0), self._int("limit", 100)
        if not 1 <= limit <= 100:
            raise EmulatorError(40058)
        accounts = self.backend.listed()[offset:offset + limit]
        return {**OK, "account_list": [
            {"open_kfid": a.open_kfid, "name": a.name, "avatar": self._avatar(a.picture, a.avatar),
             "manage_privilege": a.manage_privilege} for a in accounts]}

    def account_add(self) -> Json:
        account = self.backend.add_account(self._text("name", 95006),
                                           self._text("media_id", 40007))
        return {**OK, "open_kfid": account.open_kfid}

    def account_update(self) -> Json:
        self.backend.update_account(self._open_kfid(),
                                    self._text("name", 95006, required=False),
                                    self._text("media_id", 40007, required=False))
        return OK

    def account_del(self) -> Json:
        self.backend.delete_account(self._open_kfid())
        return OK

    def contact_way(self) -> Json:
        scene = self._text("scene", 40058, required=False) or ""
        return {**OK, "url": self.backend.contact_way(self._open_kfid(), scene)}

    # ------------------------------------------------------------------ servicers

    def servicer_list(self) -> Json:
        account, servicers = self.backend.servicers(self._open_kfid())
        items: list[Json] = []
        for servicer in servicers:
            if servicer.userid is None:
                items.append({"department_id": servicer.department_id})
            elif account.manage_privilege:
                items.append({"userid": servicer.userid, "status": servicer.status,
                              "stop_type": servicer.stop_type})
            else:
                items.append({"userid": servicer.userid})
        return {**OK, "servicer_list": items}

    def _servicers(self, add: bool) -> Json:
        open_kfid = self._open_kfid()
        userids, departments = self._list("userid_list", str), self._list("department_id_list", int)
        if not userids and not departments:
            raise EmulatorError(40058)
        results = self.backend.change_servicers(open_kfid, userids, departments, add)
        return {**OK, "result_list": results}

    def servicer_add(self) -> Json:
        return self._servicers(True)

    def servicer_del(self) -> Json:
        return self._servicers(False)

    # ------------------------------------------------------------------ sessions and messages

    def _customer_of_managed(self) -> tuple[str, str]:
        open_kfid = self.backend.managed(self._open_kfid()).open_kfid
        return open_kfid, str(self._text("external_userid", 40096))

    def service_state_get(self) -> Json:
        state, servicer = self.backend.talk.state(*self._customer_of_managed())
        answer: Json = {**OK, "service_state": state}
        if state == 3 and servicer:
            answer["servicer_userid"] = servicer
        return answer

    def service_state_trans(self) -> Json:
        open_kfid, external_userid = self._customer_of_managed()
        new = self._int("service_state")
        servicer = self._text("servicer_userid", 40058, required=False)
        if new == 3:
            if not servicer:
                raise EmulatorError(40058)
            entry = self.backend.serving(open_kfid, servicer)
            if entry is None:
                raise EmulatorError(95014)
            if entry.userid is not None and entry.status != 0:
                raise EmulatorError(95019)
        code = self.backend.talk.trans(open_kfid, external_userid, new, servicer,
                                       self.backend.now())
        self.backend.changed()
        return {**OK, "msg_code": code} if code else OK

    def sync_msg(self) -> Json:
        token = self._text("token", 95007, required=False)
        if token is not None and len(token.encode()) > 128:
            raise EmulatorError(95007)
        cursor = self._text("cursor", 40058, required=False) or ""
        limit = self._int("limit", 1000)
        if not 1 <= limit <= 1000:
            raise EmulatorError(40058)
        open_kfid = self._text("open_kfid", 95000, required=False) or None
        if open_kfid is not None:
            self.backend.managed(open_kfid)
        messages, next_cursor, more = self.backend.talk.page(cursor, limit, open_kfid,
                                                             self.backend.now())
        return {**OK, "next_cursor": next_cursor, "has_more": int(more),
                "msg_list": [m.wire() for m in messages]}

    def send_msg(self) -> Json:
        open_kfid = self.backend.managed(self._open_kfid()).open_kfid
        msgtype = str(self._text("msgtype", 95009))
        if not isinstance(self.payload.get(msgtype), dict):
            raise EmulatorError(40058)
        msgid = self._text("msgid", 40058, required=False)
        sent = self.backend.talk.send(open_kfid, str(self._text("touser", 40096)), msgtype,
                                      msgid or None, self.backend.now())
        self.backend.changed()
        return {**OK, "msgid": sent}

    def send_msg_on_event(self) -> Json:
        msgtype = str(self._text("msgtype", 95009))
        if not isinstance(self.payload.get(msgtype), dict):
            raise EmulatorError(40058)
        msgid = self._text("msgid", 40058, required=False)
        sent = self.backend.talk.send_on_event(str(self._text("code")), msgtype, msgid or None,
                                               self.backend.now())
        self.backend.changed()
        return {**OK, "msgid": sent}

    # ------------------------------------------------------------------ customers, upgrade, statistics

    def customer_batchget(self) -> Json:
        ids = self._list("external_userid_list", str)
        if not ids:
            raise EmulatorError(40058)
        context = bool(self._int("need_enter_session_context", 0))
        talk = self.backend.talk
        return {**OK,
                "customer_list": [talk.customers[i].wire(context) for i in ids
                                  if i in talk.customers],
                "invalid_external_userid": [i for i in ids if i not in talk.customers]}

    def upgrade_config(self) -> Json:
        upgrade = self.backend.talk.upgrade
        member: Json = {"userid_list": upgrade["userids"], "department_id_list": []}
        return {**OK, "member_range": member,
                "groupchat_range": {"chat_id_list": upgrade["chat_ids"]}}

    def upgrade_service(self) -> Json:
        open_kfid, external_userid = self._customer_of_managed()
        self.backend.talk.customer(external_userid)
        kind = self._int("type")
        target = self.payload.get("member" if kind == 1 else "groupchat")
        key, allowed = (("userid", "userids") if kind == 1 else ("chat_id", "chat_ids"))
        if kind not in (1, 2) or not isinstance(target, dict) or \
                target.get(key) not in self.backend.talk.upgrade[allowed]:
            raise EmulatorError(40058)
        self.backend.talk.upgrades[f"{open_kfid} {external_userid}"] = {"type": kind, **target}
        self.backend.changed()
        return OK

    def cancel_upgrade(self) -> Json:
        open_kfid, external_userid = self._customer_of_managed()
        self.backend.talk.customer(external_userid)
        self.backend.talk.upgrades.pop(f"{open_kfid} {external_userid}", None)
        self.backend.changed()
        return OK

    def _statistic(self, per_servicer: bool) -> Json:
        start, end = self._int("start_time"), self._int("end_time")
        today = self.backend.now() // 86400 * 86400
        if start > end or end >= today or start < today - 180 * 86400:
            raise EmulatorError(40058)
        open_kfid = self._text("open_kfid", 95000, required=False) or None
        if open_kfid is not None:
            self.backend.account(open_kfid)
        servicer = self._text("servicer_userid", 40058, required=False) or None
        return {**OK, "statistic_list": self.backend.talk.statistic(
            start, end, open_kfid, servicer, per_servicer)}

    def corp_statistic(self) -> Json:
        return self._statistic(False)

    def servicer_statistic(self) -> Json:
        return self._statistic(True)
