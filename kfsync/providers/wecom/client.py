"""`WeComClient`: one thin method per WeCom 微信客服 endpoint, all through `Transport.call`.

The Official Account client's transport does the work (token, timeouts,
retries, error mapping, redaction), with WeCom's errcode table: 40014/42001
refresh the token once; -1, 45033 and 6000 are retried with a bound; 40001 is
never repeated (and a token fetch refused with it is not asked again).

Which calls are idempotent (a lost answer may be repeated): reads, uploads,
update, add_contact_way, servicer add/del (a repeat answers "ignored").  Not:
account add and delete, trans_service_state, send_msg (a lost answer raises
`OutcomeUnknownError`).  Methods hold no reconcile logic; lists are paged and
batched here, with bounds.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TypeVar

import requests

from kfsync.client.base import TransportClient
from kfsync.client.tokens import FetchedToken, StaticToken, parse_token
from kfsync.client.transport import Call, RetryPolicy, TokenSource, Transport
from kfsync.client.wire import media_part
from kfsync.errors import TransportError, UsageError
from kfsync.providers.wecom import results as r
from kfsync.providers.wecom.config import WeComConfig
from kfsync.providers.wecom.errcodes import FATAL_TOKEN_CODES, WECOM
from kfsync.providers.wecom.ratelimit import PER_MINUTE, MinuteLimit
from kfsync.redact import register_secret

_T = TypeVar("_T")
PAGE = 100  #: accounts per kf/account/list page, the most WeCom gives
MAX_PAGES = 60  #: 5000 accounts per corp fit in 50 pages
BATCH = 100  #: userids (and department ids) per servicer call; customers per batchget
MAX_MSG_PAGES = 10_000


def _ignore(body: dict[str, object]) -> None:
    return None


def _chunks(items: Sequence[_T], size: int) -> list[Sequence[_T]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


class WeComClient(TransportClient):
    """A client for the 微信客服 API of one corp (one app secret); safe to share between threads.

    Arguments left None come from the environment (see `config`); a missing
    credential raises CredentialsError here, before the first request.
    """

    def __init__(self, corpid: str | None = None, secret: str | None = None,
                 access_token: str | None = None, token_mode: str | None = None,
                 api_base: str | None = None, timeout: float = 10.0,
                 retry: RetryPolicy | None = None, session: requests.Session | None = None,
                 per_minute: int = PER_MINUTE) -> None:
        config = WeComConfig.resolve(corpid=corpid, secret=secret, access_token=access_token,
                                     token_mode=token_mode, api_base=api_base)
        self.config = config
        self._transport = Transport(config.api_base, timeout=timeout, retry=retry or RetryPolicy(),
                                    session=session, errcodes=WECOM, deadline=config.deadline)
        self._limit = MinuteLimit(per_minute)
        self.tokens: TokenSource
        if config.token_mode == "static":
            assert config.access_token is not None
            self.tokens = StaticToken(config.access_token, "KFSYNC_CORPID and KFSYNC_CORPSECRET")
        else:
            assert config.corpid is not None
            assert config.secret is not None
            register_secret(config.secret)
            call = Call("GET", "/cgi-bin/gettoken", query=(
                ("corpid", config.corpid), ("corpsecret", config.secret)),
                idempotent=True, authenticated=False)
            self.tokens = FetchedToken("gettoken", config.corpid,
                                       lambda: self._call_raw(call, parse_token),
                                       fatal=FATAL_TOKEN_CODES)

    def __repr__(self) -> str:
        return (f"WeComClient(api_base={self.config.api_base!r}, corpid={self.config.corpid!r}, "
                f"token_mode={self.config.token_mode!r})")

    def _call_raw(self, call: Call, parse: Callable[[dict[str, object]], _T]) -> _T:
        self._limit.wait(call.path)
        return self._transport.call(call, parse)

    def _call(self, call: Call, parse: Callable[[dict[str, object]], _T]) -> _T:
        self._limit.wait(call.path)
        return self._transport.call(call, parse, self.tokens)

    def _post(self, path: str, body: Mapping[str, object],
              parse: Callable[[dict[str, object]], _T], *, idempotent: bool,
              account: str | None = None) -> _T:
        return self._call(Call("POST", path, json=body, idempotent=idempotent, account=account),
                          parse)

    # ------------------------------------------------------------------ accounts

    def list_accounts_page(self, offset: int = 0, limit: int = PAGE) -> tuple[r.WeComAccount, ...]:
        """POST /cgi-bin/kf/account/list: one page."""
        if not 1 <= limit <= PAGE or offset < 0:
            raise UsageError(f"limit must be 1 to {PAGE} and offset >= 0")
        return self._post("/cgi-bin/kf/account/list", {"offset": offset, "limit": limit},
                          r.account_page, idempotent=True)

    def list_accounts(self, *, limit: int = PAGE,
                      max_pages: int = MAX_PAGES) -> tuple[r.WeComAccount, ...]:
        """Every account, paged until a short page, de-duplicated by open_kfid (first wins)."""
        found: dict[str, r.WeComAccount] = {}
        for page_number in range(max_pages):
            page = self.list_accounts_page(page_number * limit, limit)
            for account in page:
                found.setdefault(account.open_kfid, account)
            if len(page) < limit:
                return tuple(found.values())
        raise TransportError(f"kf/account/list still answered full pages after {max_pages} pages "
                             f"({max_pages * limit} accounts); stopping instead of looping",
                             endpoint="/cgi-bin/kf/account/list")

    def add_account(self, name: str, media_id: str) -> str:
        """POST /cgi-bin/kf/account/add -> the new open_kfid (media_id from `upload_image`)."""
        return self._post("/cgi-bin/kf/account/add", {"name": name, "media_id": media_id},
                          r.open_kfid, idempotent=False, account=name)

    def update_account(self, open_kfid: str, *, name: str | None = None,
                       media_id: str | None = None) -> None:
        """POST /cgi-bin/kf/account/update; a field left None is left unchanged."""
        if name is None and media_id is None:
            raise UsageError("update_account needs a name, a media_id or both")
        body: dict[str, object] = {"open_kfid": open_kfid}
        body.update((k, v) for k, v in (("name", name), ("media_id", media_id)) if v is not None)
        self._post("/cgi-bin/kf/account/update", body, _ignore, idempotent=True,
                   account=open_kfid)

    def delete_account(self, open_kfid: str) -> None:
        """POST /cgi-bin/kf/account/del."""
        self._post("/cgi-bin/kf/account/del", {"open_kfid": open_kfid}, _ignore,
                   idempotent=False, account=open_kfid)

    def add_contact_way(self, open_kfid: str, scene: str | None = None) -> r.ContactLink:
        """POST /cgi-bin/kf/add_contact_way: the customer's link (scene: ≤32 of [0-9a-zA-Z_-])."""
        body: dict[str, object] = {"open_kfid": open_kfid}
        if scene:
            body["scene"] = scene
        return self._post("/cgi-bin/kf/add_contact_way", body, r.ContactLink.from_dict,
                          idempotent=True, account=open_kfid)

    def upload_image(self, image: str | os.PathLike[str] | bytes) -> r.MediaUpload:
        """POST multipart /cgi-bin/media/upload?type=image: a media_id valid for 3 days."""
        return self._call(Call("POST", "/cgi-bin/media/upload", query=(("type", "image"),),
                               media=media_part(image), idempotent=True),
                          r.MediaUpload.from_dict)

    # ------------------------------------------------------------------ servicers

    def list_servicers(self, open_kfid: str) -> tuple[r.Servicer, ...]:
        """GET /cgi-bin/kf/servicer/list."""
        return self._call(Call("GET", "/cgi-bin/kf/servicer/list",
                               query=(("open_kfid", open_kfid),), idempotent=True,
                               account=open_kfid), r.servicer_list)

    def add_servicer_batches(self, open_kfid: str, userids: Iterable[str] = (),
                             department_ids: Iterable[int] = (),
                             ) -> Iterator[tuple[r.ServicerItemResult, ...]]:
        """POST /cgi-bin/kf/servicer/add, at most 100 userids and 100 departments a call.

        Yields each call's per-item results as it is made, so that a caller keeps
        what was done when a later call fails.
        """
        return self._servicer_batches("/cgi-bin/kf/servicer/add", open_kfid, userids,
                                      department_ids)

    def delete_servicer_batches(self, open_kfid: str, userids: Iterable[str] = (),
                                department_ids: Iterable[int] = (),
                                ) -> Iterator[tuple[r.ServicerItemResult, ...]]:
        """POST /cgi-bin/kf/servicer/del, batched like `add_servicer_batches`."""
        return self._servicer_batches("/cgi-bin/kf/servicer/del", open_kfid, userids,
                                      department_ids)

    def add_servicers(self, open_kfid: str, userids: Iterable[str] = (),
                      department_ids: Iterable[int] = ()) -> tuple[r.ServicerItemResult, ...]:
        """Every item's result: a top-level 0 can hide failed items, so check each one."""
        return tuple(item for batch in self.add_servicer_batches(open_kfid, userids,
                                                                 department_ids)
                     for item in batch)

    def delete_servicers(self, open_kfid: str, userids: Iterable[str] = (),
                         department_ids: Iterable[int] = ()) -> tuple[r.ServicerItemResult, ...]:
        return tuple(item for batch in self.delete_servicer_batches(open_kfid, userids,
                                                                    department_ids)
                     for item in batch)

    def _servicer_batches(self, path: str, open_kfid: str, userids: Iterable[str],
                          department_ids: Iterable[int],
                          ) -> Iterator[tuple[r.ServicerItemResult, ...]]:
        users, departments = list(userids), list(department_ids)
        user_chunks, department_chunks = _chunks(users, BATCH), _chunks(departments, BATCH)
        for index in range(max(len(user_chunks), len(department_chunks))):
            body: dict[str, object] = {"open_kfid": open_kfid}
            if index < len(user_chunks):
                body["userid_list"] = list(user_chunks[index])
            if index < len(department_chunks):
                body["department_id_list"] = list(department_chunks[index])
            yield self._post(path, body, r.servicer_results, idempotent=True, account=open_kfid)

    # ------------------------------------------------------------------ sessions and messages

    def get_service_state(self, open_kfid: str, external_userid: str) -> r.ServiceState:
        """POST /cgi-bin/kf/service_state/get."""
        return self._post("/cgi-bin/kf/service_state/get",
                          {"open_kfid": open_kfid, "external_userid": external_userid},
                          r.ServiceState.from_dict,
                          idempotent=True, account=open_kfid)

    def trans_service_state(self, open_kfid: str, external_userid: str, service_state: int,
                            servicer_userid: str | None = None) -> str | None:
        """POST /cgi-bin/kf/service_state/trans -> the msg_code, when WeCom gives one."""
        if service_state == 3 and not servicer_userid:
            raise UsageError("service_state 3 (human servicer) needs a servicer_userid")
        body: dict[str, object] = {"open_kfid": open_kfid, "external_userid": external_userid,
                                   "service_state": service_state}
        if servicer_userid:
            body["servicer_userid"] = servicer_userid
        return self._post("/cgi-bin/kf/service_state/trans", body, r.msg_code,
                          idempotent=False, account=open_kfid)

    def sync_msg(self, cursor: str | None = None, *, token: str | None = None,
                 limit: int = 1000, open_kfid: str | None = None,
                 voice_format: int | None = None) -> r.MsgPage:
        """POST /cgi-bin/kf/sync_msg: one page (without `token` WeCom limits it strictly)."""
        if not 1 <= limit <= 1000:
            raise UsageError("limit must be 1 to 1000")
        body: dict[str, object] = {"limit": limit}
        for key, value in (("cursor", cursor), ("token", token), ("open_kfid", open_kfid),
                           ("voice_format", voice_format)):
            if value is not None and value != "":
                body[key] = value
        return self._post("/cgi-bin/kf/sync_msg", body,
                          r.MsgPage.from_dict,
                          idempotent=True, account=open_kfid)

    def iter_msg_pages(self, cursor: str | None = None, *, token: str | None = None,
                       limit: int = 1000, open_kfid: str | None = None,
                       max_pages: int = MAX_MSG_PAGES) -> Iterator[r.MsgPage]:
        """Pages from `cursor` on while has_more (an empty page with has_more goes on).

        The last page's `next_cursor` is where the next run starts.
        """
        for _ in range(max_pages):
            page = self.sync_msg(cursor, token=token, limit=limit, open_kfid=open_kfid)
            yield page
            if not page.has_more:
                return
            if not page.next_cursor or page.next_cursor == cursor:
                raise TransportError("sync_msg has more but its cursor did not advance; "
                                     "stopping instead of looping", endpoint="/cgi-bin/kf/sync_msg")
            cursor = page.next_cursor
        raise TransportError(f"sync_msg still had more after {max_pages} pages",
                             endpoint="/cgi-bin/kf/sync_msg")

    def iter_messages(self, cursor: str | None = None, *, token: str | None = None,
                      limit: int = 1000, open_kfid: str | None = None) -> Iterator[r.KfMessage]:
        """Every message from `cursor` on, one page in memory at a time."""
        for page in self.iter_msg_pages(cursor, token=token, limit=limit, open_kfid=open_kfid):
            yield from page.messages

    def send_msg(self, touser: str, open_kfid: str, msgtype: str,
                 content: Mapping[str, object], *, msgid: str | None = None) -> str:
        """POST /cgi-bin/kf/send_msg -> the msgid (e.g. msgtype "text", content {"content": …})."""
        body: dict[str, object] = {"touser": touser, "open_kfid": open_kfid, "msgtype": msgtype,
                                   msgtype: dict(content)}
        if msgid:
            body["msgid"] = msgid
        return self._post("/cgi-bin/kf/send_msg", body, r.msgid, idempotent=False,
                          account=open_kfid)

    def send_msg_on_event(self, code: str, msgtype: str, content: Mapping[str, object], *,
                          msgid: str | None = None) -> str:
        """POST /cgi-bin/kf/send_msg_on_event with a single-use event code."""
        body: dict[str, object] = {"code": code, "msgtype": msgtype, msgtype: dict(content)}
        if msgid:
            body["msgid"] = msgid
        return self._post("/cgi-bin/kf/send_msg_on_event", body, r.msgid, idempotent=False)

    # ------------------------------------------------------------------ customers and statistics

    def batchget_customers(self, external_userids: Iterable[str], *,
                           need_enter_session_context: bool = False) -> r.CustomerBatch:
        """POST /cgi-bin/kf/customer/batchget, 100 ids a call, answers merged."""
        customers: list[r.Customer] = []
        invalid: list[str] = []
        for chunk in _chunks(list(external_userids), BATCH):
            batch = self._post("/cgi-bin/kf/customer/batchget", {
                "external_userid_list": list(chunk),
                "need_enter_session_context": int(need_enter_session_context)},
                r.CustomerBatch.from_dict, idempotent=True)
            customers.extend(batch.customers)
            invalid.extend(batch.invalid_external_userids)
        return r.CustomerBatch(tuple(customers), tuple(invalid))

    def get_upgrade_service_config(self) -> r.UpgradeConfig:
        """GET /cgi-bin/kf/customer/get_upgrade_service_config."""
        return self._call(Call("GET", "/cgi-bin/kf/customer/get_upgrade_service_config",
                               idempotent=True),
                          r.UpgradeConfig.from_dict)

    def upgrade_service(self, open_kfid: str, external_userid: str, *,
                        userid: str | None = None, chat_id: str | None = None,
                        wording: str = "") -> None:
        """POST /cgi-bin/kf/customer/upgrade_service: hand over to a member or a group chat."""
        if (userid is None) == (chat_id is None):
            raise UsageError("upgrade_service needs exactly one of userid and chat_id")
        body: dict[str, object] = {"open_kfid": open_kfid, "external_userid": external_userid}
        if userid is not None:
            body.update(type=1, member={"userid": userid, "wording": wording})
        else:
            body.update(type=2, groupchat={"chat_id": chat_id, "wording": wording})
        self._post("/cgi-bin/kf/customer/upgrade_service", body, _ignore, idempotent=True,
                   account=open_kfid)

    def cancel_upgrade_service(self, open_kfid: str, external_userid: str) -> None:
        """POST /cgi-bin/kf/customer/cancel_upgrade_service."""
        self._post("/cgi-bin/kf/customer/cancel_upgrade_service",
                   {"open_kfid": open_kfid, "external_userid": external_userid}, _ignore,
                   idempotent=True, account=open_kfid)

    def corp_statistic(self, start_time: int, end_time: int, *,
                       open_kfid: str | None = None) -> tuple[r.StatisticDay, ...]:
        """POST /cgi-bin/kf/get_corp_statistic: days from yesterday back to 180 days."""
        body: dict[str, object] = {"start_time": start_time, "end_time": end_time}
        if open_kfid:
            body["open_kfid"] = open_kfid
        return self._post("/cgi-bin/kf/get_corp_statistic", body, r.statistic_list,
                          idempotent=True, account=open_kfid)

    def servicer_statistic(self, start_time: int, end_time: int, *,
                           open_kfid: str | None = None,
                           servicer_userid: str | None = None) -> tuple[r.StatisticDay, ...]:
        """POST /cgi-bin/kf/get_servicer_statistic."""
        body: dict[str, object] = {"start_time": start_time, "end_time": end_time}
        body.update((k, v) for k, v in (("open_kfid", open_kfid),
                                        ("servicer_userid", servicer_userid)) if v)
        return self._post("/cgi-bin/kf/get_servicer_statistic", body, r.statistic_list,
                          idempotent=True, account=open_kfid)
