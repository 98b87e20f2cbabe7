"""Validate a WeCom admin seed into model values; every problem is a 400 with a clear message.

Shape (every key optional; seeding adds to the current state, all or nothing):
{"verified": bool, "app_authorised": bool, "trusted_ips": [ip],
 "switches": {name: value},
 "users": [{"userid", "name"?, "visible"?, "active"?}],
 "departments": [{"department_id", "name"?, "members"?: [userid], "visible"?}],
 "accounts": [{"open_kfid"?, "name", "manage_privilege"?: true, "avatar"?: url,
               "avatar_base64"?: JPEG/PNG, "servicers"?: [{"userid"|"department_id",
               "status"?, "stop_type"?}]}],
 "customers": [{"external_userid", "nickname"?, "avatar"?, "gender"?, "unionid"?,
                "enter_session_context"?}],
 "sessions": [{"open_kfid", "external_userid", "service_state", "servicer_userid"?}],
 "messages": [{"open_kfid", "external_userid", "text"? | "msgtype" + "content",
               "send_time"?, "origin"?: 3, "servicer_userid"?}],
 "statistics": [{"stat_time", "open_kfid"?, "servicer_userid"?, "statistic": {...}}],
 "upgrade_service": {"userids": [...], "chat_ids": [...]},
 "event_codes": [code]}  (welcome codes for send_msg_on_event, valid until used)
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kfsync.emulator.exceptions import AdminError, EmulatorError
from kfsync.emulator.images import cdn_reencode
from kfsync.emulator.seed import _Item, _items
from kfsync.providers.wecom.emulator.config import Switches
from kfsync.providers.wecom.emulator.conversations import MSGTYPES, Customer
from kfsync.providers.wecom.emulator.models import (
    MAX_NAME,
    OPEN_KFID,
    Account,
    Department,
    Servicer,
    User,
    WeComBackend,
    new_id,
)

_K = TypeVar("_K", str, int)
_TOP = {"verified", "app_authorised", "trusted_ips", "switches", "users", "departments",
        "accounts", "customers", "sessions", "messages", "statistics", "upgrade_service",
        "event_codes"}


@dataclass
class WeComSeed:
    corp: dict[str, Any] = field(default_factory=dict)
    switches: Switches | None = None
    users: list[User] = field(default_factory=list)
    departments: list[Department] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    pictures: dict[str, bytes] = field(default_factory=dict)
    customers: list[Customer] = field(default_factory=list)
    sessions: list[tuple[str, str, int, str | None]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    statistics: list[dict[str, Any]] = field(default_factory=list)
    upgrade: dict[str, list[str]] | None = None
    event_codes: list[str] = field(default_factory=list)


def _flag(item: _Item, key: str, default: bool) -> bool:
    value = item.item.get(key, default)
    if not isinstance(value, bool):
        raise item.fail(key, "must be true or false")
    return value


def _strings(where: str, value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise AdminError(f"{where}: must be a list of non-empty strings")
    return value


def parse_seed(payload: object, backend: WeComBackend) -> WeComSeed:
    if not isinstance(payload, dict):
        raise AdminError("the seed must be a JSON object")
    unknown = sorted(set(payload) - _TOP)
    if unknown:
        raise AdminError(f"unknown seed field(s) {', '.join(unknown)}")
    seed = WeComSeed()
    for key in ("verified", "app_authorised"):
        if key in payload:
            if not isinstance(payload[key], bool):
                raise AdminError(f"{key}: must be true or false")
            seed.corp[key] = payload[key]
    if "trusted_ips" in payload:
        seed.corp["trusted_ips"] = tuple(_strings("trusted_ips", payload["trusted_ips"]))
    if "switches" in payload:
        if not isinstance(payload["switches"], dict):
            raise AdminError("switches: must be an object")
        try:
            seed.switches = backend.switches.updated(payload["switches"])
        except ValueError as exc:
            raise AdminError(f"switches: {exc}") from exc
    _people(payload, backend, seed)
    _accounts(payload, backend, seed)
    _conversations(payload, backend, seed)
    return seed


def _new(item: _Item, key: str, value: _K, taken: set[_K]) -> _K:
    """`value`, remembered in `taken`; a 400 if it was there already."""
    if value in taken:
        raise item.fail(key, f"{value} already exists")
    taken.add(value)
    return value


def _people(payload: dict[str, Any], backend: WeComBackend, seed: WeComSeed) -> None:
    users = set(backend.users)
    for item in _items(payload, "users", {"userid", "name", "visible", "active"}):
        userid = _new(item, "userid", item.text("userid"), users)
        seed.users.append(User(userid, item.optional_text("name") or "",
                               _flag(item, "visible", True), _flag(item, "active", True)))
    departments = set(backend.departments)
    for item in _items(payload, "departments", {"department_id", "name", "members", "visible"}):
        number = _new(item, "department_id", item.integer("department_id"), departments)
        members = _strings(f"{item.where}.members", item.item.get("members", []))
        strangers = sorted(set(members) - users)
        if strangers:
            raise item.fail("members", f"unknown userid(s) {', '.join(strangers)}")
        seed.departments.append(Department(number, item.optional_text("name") or "",
                                           tuple(members), _flag(item, "visible", True)))


def _accounts(payload: dict[str, Any], backend: WeComBackend, seed: WeComSeed) -> None:
    users = set(backend.users) | {u.userid for u in seed.users}
    departments = set(backend.departments) | {d.department_id for d in seed.departments}
    ids = set(backend.accounts)
    keys = {"open_kfid", "name", "manage_privilege", "avatar", "avatar_base64", "servicers"}
    for item in _items(payload, "accounts", keys):
        open_kfid = item.optional_text("open_kfid") or new_id("wk")
        if not OPEN_KFID.fullmatch(open_kfid) or open_kfid in ids:
            raise item.fail("open_kfid", "must be wk + up to 62 of [A-Za-z0-9_-], not yet used")
        ids.add(open_kfid)
        name = item.text("name")
        if len(name) > MAX_NAME:
            raise item.fail("name", f"must be at most {MAX_NAME} characters")
        picture = ""
        encoded = item.optional_text("avatar_base64")
        if encoded is not None:
            picture = new_id("", 40)
            seed.pictures[picture] = _picture(item, encoded)
        servicers = [_servicer(f"{item.where}.servicers[{index}]", value, users, departments)
                     for index, value in enumerate(item.item.get("servicers", []))]
        seed.accounts.append(Account(open_kfid, name, _flag(item, "manage_privilege", True),
                                     picture, item.optional_text("avatar") or "",
                                     tuple(servicers)))


def _servicer(where: str, value: object, users: set[str], departments: set[int]) -> Servicer:
    item = _Item(where, value, {"userid", "department_id", "status", "stop_type"})
    status, stop_type = item.integer("status", 0), item.integer("stop_type", 0)
    if "userid" in item.item:
        userid = item.text("userid")
        if userid not in users:
            raise item.fail("userid", f"{userid} is not a seeded user")
        return Servicer(userid=userid, status=status, stop_type=stop_type)
    number = item.integer("department_id")
    if number not in departments:
        raise item.fail("department_id", f"{number} is not a seeded department")
    return Servicer(department_id=number)


def _picture(item: _Item, encoded: str) -> bytes:
    try:
        return cdn_reencode(base64.b64decode(encoded, validate=True), formats=("JPEG", "PNG"))
    except (binascii.Error, ValueError) as exc:
        raise item.fail("avatar_base64", "is not valid base64") from exc
    except EmulatorError as exc:
        raise item.fail("avatar_base64", f"must be a JPEG or PNG picture (errcode {exc.errcode})"
                        ) from exc


def _conversations(payload: dict[str, Any], backend: WeComBackend, seed: WeComSeed) -> None:
    accounts = set(backend.accounts) | {a.open_kfid for a in seed.accounts}
    customers = set(backend.talk.customers)
    for item in _items(payload, "customers", {"external_userid", "nickname", "avatar", "gender",
                                              "unionid", "enter_session_context"}):
        external = item.text("external_userid")
        context = item.item.get("enter_session_context")
        if context is not None and not isinstance(context, dict):
            raise item.fail("enter_session_context", "must be an object")
        customers.add(external)
        seed.customers.append(Customer(external, item.optional_text("nickname") or "",
                                       item.optional_text("avatar") or "",
                                       item.integer("gender", 0),
                                       item.optional_text("unionid") or "", context))

    def pair(item: _Item) -> tuple[str, str]:
        open_kfid, external = item.text("open_kfid"), item.text("external_userid")
        if open_kfid not in accounts:
            raise item.fail("open_kfid", f"{open_kfid} is not a seeded account")
        if external not in customers:
            raise item.fail("external_userid", f"{external} is not a seeded customer")
        return open_kfid, external

    for item in _items(payload, "sessions", {"open_kfid", "external_userid", "service_state",
                                             "servicer_userid"}):
        state = item.integer("service_state")
        if state > 4:
            raise item.fail("service_state", "must be 0 to 4")
        seed.sessions.append((*pair(item), state, item.optional_text("servicer_userid")))
    for item in _items(payload, "messages", {"open_kfid", "external_userid", "text", "msgtype",
                                             "content", "send_time", "origin",
                                             "servicer_userid"}):
        open_kfid, external = pair(item)
        msgtype = item.item.get("msgtype", "text")
        content = item.item.get("content", {"content": item.item.get("text", "")})
        if msgtype not in MSGTYPES or not isinstance(content, dict):
            raise item.fail("msgtype", f"must be one of {', '.join(sorted(MSGTYPES))}, "
                                       "with content an object")
        seed.messages.append({"open_kfid": open_kfid, "external_userid": external,
                              "send_time": item.integer("send_time", backend.now()),
                              "origin": item.integer("origin", 3), "msgtype": msgtype,
                              "content": content,
                              "servicer": item.optional_text("servicer_userid")})
    for item in _items(payload, "statistics", {"stat_time", "open_kfid", "servicer_userid",
                                               "statistic"}):
        row: dict[str, Any] = {"stat_time": item.integer("stat_time")}
        for key in ("open_kfid", "servicer_userid"):
            if key in item.item:
                row[key] = item.text(key)
        if not isinstance(item.item.get("statistic"), dict):
            raise item.fail("statistic", "must be an object of counts and rates")
        seed.statistics.append({**row, "statistic": item.item["statistic"]})
    seed.event_codes = _strings("event_codes", payload.get("event_codes", []))
    upgrade = payload.get("upgrade_service")
    if upgrade is not None:
        if not isinstance(upgrade, dict) or set(upgrade) - {"userids", "chat_ids"}:
            raise AdminError("upgrade_service: must be {\"userids\": [...], \"chat_ids\": [...]}")
        seed.upgrade = {k: _strings(f"upgrade_service.{k}", upgrade.get(k, []))
                        for k in ("userids", "chat_ids")}


def apply_seed(seed: WeComSeed, backend: WeComBackend) -> None:
    """Add the validated values to the state."""
    corp = backend.corp
    for key, value in seed.corp.items():
        setattr(corp, key, value)
    if seed.switches is not None:
        corp.switches = seed.switches
    backend.users.update((u.userid, u) for u in seed.users)
    backend.departments.update((d.department_id, d) for d in seed.departments)
    backend.pictures.update(seed.pictures)
    for account in seed.accounts:
        backend.put(account)
    talk = backend.talk
    talk.customers.update((c.external_userid, c) for c in seed.customers)
    for open_kfid, external, state, servicer in seed.sessions:
        talk.sessions[f"{open_kfid} {external}"] = [state, servicer]
    for message in sorted(seed.messages, key=lambda m: m["send_time"]):
        talk.add_message(message["open_kfid"], message["external_userid"], message["send_time"],
                         message["origin"], message["msgtype"], message["content"],
                         message["servicer"])
    talk.statistics.extend(seed.statistics)
    talk.codes.update(dict.fromkeys(seed.event_codes, 0))
    if seed.upgrade is not None:
        talk.upgrade = seed.upgrade
    backend.changed()
