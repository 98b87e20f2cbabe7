"""The emulated corp: kf accounts, servicers, members, departments, media, links and tokens.

State and the domain rules; every refusal is an `EmulatorError(errcode)`.  Sessions,
messages and customers live in `conversations`.  The caller holds the state lock and
calls `expire_due` first.  Rules the reference leaves open follow `Switches`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from kfsync.emulator.clock import Clock
from kfsync.emulator.exceptions import EmulatorError
from kfsync.emulator.images import cdn_reencode
from kfsync.providers.wecom.emulator.config import Switches, WeComEmulatorConfig
from kfsync.providers.wecom.emulator.conversations import Conversations
from kfsync.providers.wecom.errcodes import errmsg

MAX_NAME = 16
MAX_ACCOUNTS = 5000
UNVERIFIED_MAX_ACCOUNTS = 10
MAX_SERVICERS = 500  #: per account (uncertain; WxJava's 2022 figure)
MEDIA_LIFETIME = 3 * 86400
TOKEN_LIFETIME = 7200
MIN_FILE_BYTES = 6  #: a file must be larger than 5 bytes
OPEN_KFID = re.compile(r"wk[A-Za-z0-9_-]{1,62}")
_SCENE = re.compile(r"[0-9a-zA-Z_-]{0,32}")


@dataclass(frozen=True)
class Servicer:
    userid: str | None = None
    department_id: int | None = None
    status: int = 0  #: 0 serving, 1 stopped
    stop_type: int = 0  #: 0 stopped, 1 suspended

    @property
    def key(self) -> str:
        return f"u:{self.userid}" if self.userid is not None else f"d:{self.department_id}"


@dataclass(frozen=True)
class Account:
    open_kfid: str
    name: str
    manage_privilege: bool
    picture: str = ""  #: avatar served at /wwhead/<picture>/0
    avatar: str = ""  #: a seeded URL shown as is when no picture was set
    servicers: tuple[Servicer, ...] = ()
    created: int = 0  #: listing order

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Account:
        return cls(**{**data, "servicers": tuple(Servicer(**s) for s in data["servicers"])})


@dataclass(frozen=True)
class User:
    userid: str
    name: str = ""
    visible: bool = True  #: inside the app's visible range
    active: bool = True  #: activated in WeCom


@dataclass(frozen=True)
class Department:
    department_id: int
    name: str = ""
    members: tuple[str, ...] = ()
    visible: bool = True


@dataclass
class Corp:
    verified: bool = True
    app_authorised: bool = True  #: listed under 微信客服 → 可调用接口的应用
    trusted_ips: tuple[str, ...] = ()  #: empty: any IP may call
    switches: Switches = field(default_factory=Switches)


def new_id(prefix: str, length: int = 30) -> str:
    return prefix + secrets.token_urlsafe(length)[:length]


class WeComBackend:
    """All mutable state of one emulated corp."""

    def __init__(self, config: WeComEmulatorConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.revision = 0
        self.reset()

    def reset(self) -> None:
        self.corp = Corp(switches=self.config.switches)
        self.accounts: dict[str, Account] = {}
        self.users: dict[str, User] = {}
        self.departments: dict[int, Department] = {}
        self.pictures: dict[str, bytes] = {}  #: media and avatars, by id
        self.media: dict[str, int] = {}  #: media_id -> created_at
        self.links: dict[str, str] = {}  #: "open_kfid scene" -> url (stable links)
        self.tokens: dict[str, int] = {}  #: token -> expires_at
        self.calls: dict[str, int] = {}  #: "path minute" -> calls, for the frequency limit
        self.talk = Conversations()
        self.created = 0
        self.changed()

    def changed(self) -> None:
        self.revision += 1

    def now(self) -> int:
        return self.clock.now()

    @property
    def switches(self) -> Switches:
        return self.corp.switches

    def expire_due(self) -> None:
        now = self.now()
        gone = [m for m, created in self.media.items() if now >= created + MEDIA_LIFETIME]
        for media_id in gone:
            del self.media[media_id]
            self.pictures.pop(media_id, None)
        if gone:
            self.changed()

    # ------------------------------------------------------------------ tokens and limits

    def issue_token(self) -> tuple[str, int]:
        now = self.now()
        self.tokens = {t: e for t, e in self.tokens.items() if e > now}
        if self.switches.token_reuse and self.tokens:
            token, expires = max(self.tokens.items(), key=lambda item: item[1])
            return token, expires - now
        self.tokens.clear()  # a fresh token replaces the previous one
        token = secrets.token_urlsafe(96)
        self.tokens[token] = now + TOKEN_LIFETIME
        self.changed()
        return token, TOKEN_LIFETIME

    def check_token(self, token: str | None) -> None:
        if not token:
            raise EmulatorError(41001)
        expires = self.tokens.get(token)
        if expires is None:
            raise EmulatorError(40014)
        if self.now() >= expires:
            raise EmulatorError(42001)

    def count_call(self, path: str) -> None:
        """45009 past the per-API, per-minute limit (on the emulator clock)."""
        minute = self.now() // 60
        key = f"{path} {minute}"
        self.calls = {k: v for k, v in self.calls.items() if k.endswith(f" {minute}")}
        self.calls[key] = self.calls.get(key, 0) + 1
        if self.calls[key] > self.config.rate_limit:
            raise EmulatorError(45009)

    # ------------------------------------------------------------------ accounts

    def listed(self) -> list[Account]:
        newest_first = self.switches.list_order == "newest_first"
        return sorted(self.accounts.values(), key=lambda a: a.created, reverse=newest_first)

    def account(self, open_kfid: str) -> Account:
        if not OPEN_KFID.fullmatch(open_kfid):
            raise EmulatorError(95000)
        found = self.accounts.get(open_kfid)
        if found is None:
            raise EmulatorError(95004)
        return found

    def managed(self, open_kfid: str) -> Account:
        """The account, if the app may change it; else the switch's errcode."""
        account = self.account(open_kfid)
        if not account.manage_privilege:
            raise EmulatorError(self.switches.unmanaged_errcode)
        return account

    def _check_name(self, name: str, open_kfid: str | None = None) -> None:
        if not 1 <= len(name) <= MAX_NAME or name.isspace():
            raise EmulatorError(95006)
        if not self.switches.duplicate_names and any(
                a.name == name and a.open_kfid != open_kfid for a in self.accounts.values()):
            raise EmulatorError(95006)

    def _picture_of(self, media_id: str) -> str:
        """A new avatar id holding the medium's picture; 40007 if the medium is unusable."""
        if media_id not in self.media:
            raise EmulatorError(40007)
        picture = new_id("", 40)
        self.pictures[picture] = self.pictures[media_id]
        return picture

    def add_account(self, name: str, media_id: str) -> Account:
        if not any(a.manage_privilege for a in self.accounts.values()):
            raise EmulatorError(48002)  # bootstrap: assign one account to the app first
        self._check_name(name)
        if not self.corp.verified and len(self.accounts) >= UNVERIFIED_MAX_ACCOUNTS:
            raise EmulatorError(95027)
        if len(self.accounts) >= MAX_ACCOUNTS:
            raise EmulatorError(95005)
        account = Account(new_id("wk"), name, True, self._picture_of(media_id))
        self.put(account)
        return account

    def update_account(self, open_kfid: str, name: str | None, media_id: str | None) -> None:
        account = self.managed(open_kfid)
        if name is not None:
            self._check_name(name, open_kfid)
            account = replace(account, name=name)
        if media_id is not None:
            self.pictures.pop(account.picture, None)
            account = replace(account, picture=self._picture_of(media_id), avatar="")
        self.put(account)

    def delete_account(self, open_kfid: str) -> None:
        account = self.managed(open_kfid)
        if len(self.accounts) == 1 and not self.switches.last_account_deletable:
            raise EmulatorError(95005)
        del self.accounts[open_kfid]
        self.pictures.pop(account.picture, None)
        self.links = {k: v for k, v in self.links.items() if not k.startswith(f"{open_kfid} ")}
        self.talk.forget_account(open_kfid)
        self.changed()

    def put(self, account: Account) -> None:
        if account.open_kfid not in self.accounts and not account.created:
            self.created += 1
            account = replace(account, created=self.created)
        self.accounts[account.open_kfid] = account
        self.changed()

    def contact_way(self, open_kfid: str, scene: str) -> str:
        self.account(open_kfid)
        if not _SCENE.fullmatch(scene):
            raise EmulatorError(40058)
        key = f"{open_kfid} {scene}"
        if self.switches.stable_contact_url and key in self.links:
            return self.links[key]
        url = f"https://work.weixin.qq.com/kf/kfc{secrets.token_hex(16)}"
        if self.switches.stable_contact_url:
            self.links[key] = url
            self.changed()
        return url

    def upload(self, data: bytes) -> tuple[str, int]:
        """A temporary image: re-encoded as the CDN would, valid 3 days."""
        if len(data) < MIN_FILE_BYTES:
            raise EmulatorError(40006)
        picture = cdn_reencode(data, formats=("JPEG", "PNG"),
                               max_bytes=self.switches.image_max_mb * 1024 * 1024)
        media_id = new_id("3", 60)
        now = self.now()
        self.pictures[media_id] = picture
        self.media[media_id] = now
        self.changed()
        return media_id, now

    # ------------------------------------------------------------------ servicers

    def servicers(self, open_kfid: str) -> tuple[Account, tuple[Servicer, ...]]:
        account = self.account(open_kfid)
        return account, account.servicers

    def change_servicers(self, open_kfid: str, userids: list[str], departments: list[int],
                         add: bool) -> list[dict[str, Any]]:
        """Per-item results; the call itself succeeds even when every item fails."""
        account = self.managed(open_kfid)
        current = {s.key: s for s in account.servicers}
        results = []
        for userid in userids:
            code = self._user_problem(userid)
            results.append(self._change(current, Servicer(userid=userid), code, add,
                                        {"userid": userid}))
        for department_id in departments:
            code = self._department_problem(department_id)
            results.append(self._change(current, Servicer(department_id=department_id), code,
                                        add, {"department_id": department_id}))
        self.put(replace(account, servicers=tuple(current.values())))
        return results

    def _change(self, current: dict[str, Servicer], servicer: Servicer, code: int, add: bool,
                item: dict[str, Any]) -> dict[str, Any]:
        present = servicer.key in current
        if code:
            return {**item, "errcode": code, "errmsg": errmsg(code)}
        if add == present:
            return {**item, "errcode": 0, "errmsg": "ignored"}
        if add and len(current) >= MAX_SERVICERS:
            return {**item, "errcode": 95022, "errmsg": errmsg(95022)}
        if add:
            current[servicer.key] = servicer
        else:
            del current[servicer.key]
        return {**item, "errcode": 0, "errmsg": "success"}

    def _user_problem(self, userid: str) -> int:
        user = self.users.get(userid)
        if user is None:
            return 60111
        if not (user.visible or any(d.visible and userid in d.members
                                    for d in self.departments.values())):
            return 60011
        return 0 if user.active else 95014

    def _department_problem(self, department_id: int) -> int:
        department = self.departments.get(department_id)
        if department is None:
            return 60123
        return 0 if department.visible else 60011

    def serving(self, open_kfid: str, userid: str) -> Servicer | None:
        """The servicer entry through which `userid` serves the account (direct or by department)."""
        for servicer in self.account(open_kfid).servicers:
            if servicer.userid == userid:
                return servicer
            department = self.departments.get(servicer.department_id or -1)
            if department is not None and userid in department.members:
                return servicer
        return None

    # ------------------------------------------------------------------ persistence

    def to_dict(self) -> dict[str, Any]:
        corp = self.corp
        return {
            "clock_offset": self.clock.offset,
            "corp": {"verified": corp.verified, "app_authorised": corp.app_authorised,
                     "trusted_ips": list(corp.trusted_ips), "switches": corp.switches.to_dict()},
            "accounts": [a.to_dict() for a in self.accounts.values()],
            "users": [asdict(u) for u in self.users.values()],
            "departments": [asdict(d) for d in self.departments.values()],
            "pictures": dict(self.pictures),
            "media": dict(self.media),
            "links": dict(self.links),
            "tokens": dict(self.tokens),
            "talk": self.talk.to_dict(),
            "created": self.created,
        }

    def load(self, data: dict[str, Any]) -> None:
        self.clock.offset = int(data["clock_offset"])
        corp = data["corp"]
        self.corp = Corp(bool(corp["verified"]), bool(corp["app_authorised"]),
                         tuple(corp["trusted_ips"]), Switches(**corp["switches"]))
        self.accounts = {a.open_kfid: a for a in map(Account.from_dict, data["accounts"])}
        self.users = {u["userid"]: User(**u) for u in data["users"]}
        self.departments = {d["department_id"]: Department(**{**d, "members": tuple(d["members"])})
                            for d in data["departments"]}
        self.pictures = dict(data["pictures"])
        self.media = {k: int(v) for k, v in data["media"].items()}
        self.links = dict(data["links"])
        self.tokens = {k: int(v) for k, v in data["tokens"].items()}
        self.talk = Conversations.from_dict(data["talk"])
        self.created = int(data["created"])
        self.changed()
