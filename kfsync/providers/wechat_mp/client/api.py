"""`KfClient`: one thin method per kf endpoint, all through `Transport.call`.

Methods hold no reconcile logic.  Each says whether it is idempotent, which
decides what the transport may repeat after an answer was lost:
- reads, token fetches, getmsglist/getrecord: idempotent;
- `create_session`: idempotent server-side (the same session again answers 0);
- `update_account` and `set_avatar`: setting the same value twice gives the
  same state, so repeating them is harmless;
- `add_account`, `delete_account`, `invite_worker`, `close_session`: not
  idempotent (a repeat would fail or do it twice), so a lost answer raises
  `OutcomeUnknownError`.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TypeVar

import requests

from kfsync.client.base import TransportClient
from kfsync.client.config import ClientConfig
from kfsync.client.tokens import StaticToken, classic_token, stable_token
from kfsync.client.transport import Call, RetryPolicy, TokenSource, Transport
from kfsync.client.wire import media_part
from kfsync.progress import Advance, ignore
from kfsync.providers.wechat_mp.client import paging
from kfsync.providers.wechat_mp.client.results import (
    CustomerSession,
    KfAccount,
    KfSession,
    MsgPage,
    MsgRecord,
    OnlineKf,
    WaitingCases,
    account_list,
    legacy_record_list,
    online_list,
    session_list,
)
from kfsync.providers.wechat_mp.errcodes import MP

_T = TypeVar("_T")


def _ignore(body: dict[str, object]) -> None:
    return None


class KfClient(TransportClient):
    """A client for the kf API of one Official Account; safe to share between threads.

    Arguments left None come from the environment (see `kfsync.client.config`);
    a missing credential raises CredentialsError here, at construction, not at
    the first request.  Use it as a context manager, or call `close()`.
    """

    def __init__(
        self,
        appid: str | None = None,
        secret: str | None = None,
        access_token: str | None = None,
        token_mode: str | None = None,
        api_base: str | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
    ) -> None:
        config = ClientConfig.resolve(appid=appid, secret=secret, access_token=access_token,
                                      token_mode=token_mode, api_base=api_base)
        self.config = config
        self._transport = Transport(config.api_base, timeout=timeout,
                                    retry=retry or RetryPolicy(), session=session,
                                    backup_base=config.backup_api_base, errcodes=MP,
                                    deadline=config.deadline)
        self.tokens: TokenSource
        if config.token_mode == "static":
            assert config.access_token is not None  # ClientConfig checked it
            self.tokens = StaticToken(config.access_token)
        else:
            assert config.appid is not None
            assert config.secret is not None
            fetcher = stable_token if config.token_mode == "stable" else classic_token
            self.tokens = fetcher(self._transport, config.appid, config.secret)

    @property
    def appid(self) -> str | None:
        """The AppID in use (None with a static token and no KFSYNC_APPID)."""
        return self.config.appid

    def __repr__(self) -> str:
        return (f"KfClient(api_base={self.config.api_base!r}, appid={self.config.appid!r}, "
                f"token_mode={self.config.token_mode!r})")

    def _call(self, call: Call, parse: Callable[[dict[str, object]], _T]) -> _T:
        return self._transport.call(call, parse, self.tokens)

    def _write(self, path: str, body: dict[str, object], *, account: str,
               idempotent: bool = False) -> None:
        self._call(Call("POST", path, json=body, idempotent=idempotent, account=account),
                   _ignore)

    # ------------------------------------------------------------------ accounts

    def list_accounts(self) -> tuple[KfAccount, ...]:
        """GET /cgi-bin/customservice/getkflist."""
        return self._call(Call("GET", "/cgi-bin/customservice/getkflist", idempotent=True),
                          account_list)

    def list_online(self) -> tuple[OnlineKf, ...]:
        """GET /cgi-bin/customservice/getonlinekflist."""
        return self._call(Call("GET", "/cgi-bin/customservice/getonlinekflist",
                               idempotent=True), online_list)

    def add_account(self, kf_account: str, nickname: str) -> None:
        """POST /customservice/kfaccount/add."""
        self._write("/customservice/kfaccount/add",
                    {"kf_account": kf_account, "nickname": nickname}, account=kf_account)

    def update_account(self, kf_account: str, nickname: str) -> None:
        """POST /customservice/kfaccount/update."""
        self._write("/customservice/kfaccount/update",
                    {"kf_account": kf_account, "nickname": nickname}, account=kf_account,
                    idempotent=True)

    def delete_account(self, kf_account: str) -> None:
        """POST /customservice/kfaccount/del with the account in the JSON body."""
        self._write("/customservice/kfaccount/del", {"kf_account": kf_account},
                    account=kf_account)

    def invite_worker(self, kf_account: str, invite_wx: str) -> None:
        """POST /customservice/kfaccount/inviteworker: ask a WeChat user to bind the account."""
        self._write("/customservice/kfaccount/inviteworker",
                    {"kf_account": kf_account, "invite_wx": invite_wx}, account=kf_account)

    def set_avatar(self, kf_account: str, image: str | os.PathLike[str] | bytes) -> None:
        """POST multipart /customservice/kfaccount/uploadheadimg (part `media`): a path or bytes."""
        self._call(Call("POST", "/customservice/kfaccount/uploadheadimg",
                        query=(("kf_account", kf_account),), media=media_part(image),
                        idempotent=True, account=kf_account), _ignore)

    # ------------------------------------------------------------------ sessions

    def create_session(self, kf_account: str, openid: str, text: str | None = None) -> None:
        """POST /customservice/kfsession/create (the same session again is a no-op)."""
        self._write("/customservice/kfsession/create", _session_body(kf_account, openid, text),
                    account=kf_account, idempotent=True)

    def close_session(self, kf_account: str, openid: str, text: str | None = None) -> None:
        """POST /customservice/kfsession/close."""
        self._write("/customservice/kfsession/close", _session_body(kf_account, openid, text),
                    account=kf_account)

    def get_session(self, openid: str) -> CustomerSession:
        """GET /customservice/kfsession/getsession: who serves this customer, if anyone."""
        return self._call(Call("GET", "/customservice/kfsession/getsession",
                               query=(("openid", openid),), idempotent=True),
                          CustomerSession.from_dict)

    def list_sessions(self, kf_account: str) -> tuple[KfSession, ...]:
        """GET /customservice/kfsession/getsessionlist."""
        return self._call(Call("GET", "/customservice/kfsession/getsessionlist",
                               query=(("kf_account", kf_account),), idempotent=True,
                               account=kf_account), session_list)

    def list_waiting(self) -> WaitingCases:
        """GET /customservice/kfsession/getwaitcase."""
        return self._call(Call("GET", "/customservice/kfsession/getwaitcase", idempotent=True),
                          WaitingCases.from_dict)

    # ------------------------------------------------------------------ chat records

    def get_msg_page(self, starttime: int, endtime: int, msgid: int = 1,
                     number: int = 10000) -> MsgPage:
        """POST /customservice/msgrecord/getmsglist: one page (window of at most 24 h)."""
        body: dict[str, object] = {"starttime": starttime, "endtime": endtime, "msgid": msgid,
                                   "number": number}
        return self._call(Call("POST", "/customservice/msgrecord/getmsglist", json=body,
                               idempotent=True, object_hook=MsgPage.record_hook),
                          MsgPage.from_dict)

    def iter_records(self, start: datetime | int, end: datetime | int, *, number: int = 10000,
                     progress: Advance = ignore,
                     windows_at_once: int = paging.WINDOWS_AT_ONCE) -> Iterator[MsgRecord]:
        """Every record in `[start, end)` in time order, any length of time.

        A range WeChat cannot answer is refused here, before any call; `progress`
        hears of each window (day) done.  Up to `windows_at_once` 24-hour windows
        are fetched at once, each one page ahead: memory holds at most about twice
        that many pages, whatever the range.
        """
        return itertools.chain.from_iterable(self.iter_record_pages(
            start, end, number=number, progress=progress, windows_at_once=windows_at_once))

    def iter_record_pages(self, start: datetime | int, end: datetime | int, *,
                          number: int = 10000, progress: Advance = ignore,
                          windows_at_once: int = paging.WINDOWS_AT_ONCE,
                          ) -> Iterator[tuple[MsgRecord, ...]]:
        """The records of `iter_records`, a page at a time."""
        low, high = paging.unix_time(start, "start"), paging.unix_time(end, "end")
        paging.check_range(low, high)
        return paging.iter_msglist_pages(self.get_msg_page, low, high, number, progress,
                                         windows_at_once=windows_at_once)

    def get_legacy_records(self, starttime: int, endtime: int, *, page_index: int = 1,
                           page_size: int = 50,
                           openid: str | None = None) -> tuple[MsgRecord, ...]:
        """POST /customservice/msgrecord/getrecord (legacy): one page, start and end on one day."""
        body: dict[str, object] = {"starttime": starttime, "endtime": endtime,
                                   "pagesize": page_size, "pageindex": page_index}
        if openid is not None:
            body["openid"] = openid
        return self._call(Call("POST", "/customservice/msgrecord/getrecord", json=body,
                               idempotent=True), legacy_record_list)

    def iter_legacy_records(self, start: datetime | int, end: datetime | int, *,
                            openid: str | None = None, page_size: int = 50,
                            progress: Advance = ignore) -> Iterator[MsgRecord]:
        """Every legacy record in `[start, end)`, one day and one page at a time."""

        def fetch(starttime: int, endtime: int, page_index: int) -> tuple[MsgRecord, ...]:
            return self.get_legacy_records(starttime, endtime, page_index=page_index,
                                           page_size=page_size, openid=openid)

        low, high = paging.unix_time(start, "start"), paging.unix_time(end, "end")
        paging.check_range(low, high)
        return paging.iter_legacy(fetch, low, high, page_size, progress)


def _session_body(kf_account: str, openid: str, text: str | None) -> dict[str, object]:
    body: dict[str, object] = {"kf_account": kf_account, "openid": openid}
    if text is not None:
        body["text"] = text
    return body
