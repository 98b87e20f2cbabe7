"""Validate an admin seed payload into model values; every problem is a 400 with a clear message.

Shape: {"accounts": [getkflist-like items plus optional "status", "accepted_case" and
"headimg_base64"], "records": [getmsglist-like records], "waitcase": [{"openid",
"latest_time"}]}.  Seeding adds to the current state; nothing is applied unless the
whole payload is valid.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass, field

from kfsync.emulator.exceptions import AdminError, EmulatorError
from kfsync.emulator.images import cdn_reencode, new_media_id
from kfsync.emulator.seed import _Item, _items
from kfsync.providers.wechat_mp.emulator.models import (
    INVITE_STATUSES,
    Account,
    Invitation,
    KfBackend,
    Record,
    WaitCase,
)

_ACCOUNT_KEYS = {"kf_account", "kf_nick", "kf_id", "kf_headimgurl", "kf_wx", "kf_openid",
                 "invite_wx", "invite_expire_time", "invite_status", "status", "accepted_case",
                 "headimg_base64"}
_RECORD_KEYS = {"openid", "opercode", "text", "time", "worker"}
_WAITCASE_KEYS = {"openid", "latest_time"}


@dataclass
class SeedBatch:
    accounts: list[Account] = field(default_factory=list)
    pictures: dict[str, bytes] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)
    waitcases: list[WaitCase] = field(default_factory=list)


def parse_seed(payload: object, backend: KfBackend) -> SeedBatch:
    """The values to add, checked against the rules and the current state."""
    if not isinstance(payload, dict):
        raise AdminError("the seed must be a JSON object")
    unknown = sorted(set(payload) - {"accounts", "records", "waitcase"})
    if unknown:
        raise AdminError(f"unknown seed field(s) {', '.join(unknown)}")
    batch = SeedBatch()
    _parse_accounts(list(_items(payload, "accounts", _ACCOUNT_KEYS)), backend, batch)
    batch.records = [_record(item) for item in _items(payload, "records", _RECORD_KEYS)]
    _parse_waitcases(_items(payload, "waitcase", _WAITCASE_KEYS), backend, batch)
    return batch


def _parse_accounts(items: list[_Item], backend: KfBackend, batch: SeedBatch) -> None:
    if len(backend.accounts) + len(items) > backend.config.max_accounts:
        raise AdminError(f"accounts: more than max_accounts={backend.config.max_accounts}")
    taken_ids = {a.kf_id for a in backend.accounts.values()}
    explicit = [item.integer("kf_id") if "kf_id" in item.item else None for item in items]
    next_id = max([backend.next_kf_id, *(i + 1 for i in explicit if i is not None)])
    names = set(backend.accounts)
    for item, wanted in zip(items, explicit, strict=True):
        kf_id = next_id if wanted is None else wanted
        next_id += wanted is None
        if kf_id in taken_ids:
            raise item.fail("kf_id", f"{kf_id} is already used")
        account = _account(item, kf_id, backend, batch)
        if account.kf_account in names:
            raise item.fail("kf_account", f"{account.kf_account} already exists")
        names.add(account.kf_account)
        taken_ids.add(kf_id)
        batch.accounts.append(account)


def _account(item: _Item, kf_id: int, backend: KfBackend, batch: SeedBatch) -> Account:
    kf_account = item.text("kf_account")
    if not backend.account_format_ok(kf_account):
        raise item.fail("kf_account", f"must be prefix@{backend.config.wechat_id} with a "
                                      "prefix of 1 to 10 letters, digits or _")
    nick = item.item.get("kf_nick")
    if not isinstance(nick, str) or not backend.nickname_ok(nick):
        raise item.fail("kf_nick", "must be a string of 1 to 16 characters")
    kf_wx = item.optional_text("kf_wx")
    invitation = _invitation(item, backend)
    if kf_wx is not None and invitation is not None:
        raise item.fail("kf_wx", "a bound account cannot also have an invitation")
    media_id, headimgurl = "", item.optional_text("kf_headimgurl") or ""
    encoded = item.optional_text("headimg_base64")
    if encoded is not None:
        media_id, headimgurl = new_media_id(), ""
        batch.pictures[media_id] = _picture(item, encoded)
    return Account(kf_account, nick, kf_id, media_id=media_id, headimgurl=headimgurl,
                   kf_wx=kf_wx, invitation=invitation, status=item.integer("status", 0),
                   accepted_case=item.integer("accepted_case", 0),
                   kf_openid=item.optional_text("kf_openid"))


def _invitation(item: _Item, backend: KfBackend) -> Invitation | None:
    invite_wx = item.optional_text("invite_wx")
    if invite_wx is None:
        if {"invite_expire_time", "invite_status"} & set(item.item):
            raise item.fail("invite_wx", "is required with invite_expire_time/invite_status")
        return None
    status = item.item.get("invite_status", "waiting")
    if status not in INVITE_STATUSES:
        raise item.fail("invite_status", f"must be one of {', '.join(INVITE_STATUSES)}")
    expires = item.integer("invite_expire_time", backend.now() + backend.config.invite_lifetime)
    return Invitation(invite_wx, expires, status)


def _picture(item: _Item, encoded: str) -> bytes:
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise item.fail("headimg_base64", "is not valid base64") from exc
    try:
        return cdn_reencode(data)
    except EmulatorError as exc:
        raise item.fail("headimg_base64",
                        f"must be a JPEG picture of 5 MB or less (errcode {exc.errcode})") from exc


def _record(item: _Item) -> Record:
    text = item.item.get("text")
    if not isinstance(text, str):
        raise item.fail("text", "must be a string")
    return Record(0, item.text("openid"), item.integer("opercode"), text, item.integer("time"),
                  item.text("worker"))


def _parse_waitcases(items: Iterable[_Item], backend: KfBackend, batch: SeedBatch) -> None:
    seen = set(backend.waitcases)
    for item in items:
        openid = item.text("openid")
        if openid in seen:
            raise item.fail("openid", f"{openid} is already waiting")
        seen.add(openid)
        batch.waitcases.append(WaitCase(openid, item.integer("latest_time")))
