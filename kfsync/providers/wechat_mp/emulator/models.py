"""The emulated Official Account: kf accounts, invitations, avatars, sessions, wait list, records.

State and the domain rules live here; every refusal is an `EmulatorError(errcode)`.
Nothing here knows HTTP or JSON shapes on the wire (see `responses`).  The caller
holds the state lock around every method and calls `expire_due` first.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from kfsync.emulator.clock import Clock
from kfsync.emulator.exceptions import EmulatorError
from kfsync.emulator.images import cdn_reencode, new_media_id
from kfsync.providers.wechat_mp.emulator.config import EmulatorConfig
from kfsync.providers.wechat_mp.emulator.tokens import TokenStore

FIRST_KF_ID = 1001
MAX_NICK = 16
#: A WeChat user may work at most this many kf accounts (65410).
MAX_BINDINGS_PER_WORKER = 5
INVITE_STATUSES = ("waiting", "rejected", "expired")
_PREFIX = re.compile(r"[A-Za-z0-9_]{1,10}")
#: WeChat IDs: 6 to 20 characters, a letter first, then letters, digits, `_` or `-`.
_WECHAT_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{5,19}")
_OPENID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Invitation:
    invite_wx: str
    invite_expire_time: int
    invite_status: str = "waiting"

    def live(self) -> bool:
        return self.invite_status == "waiting"


@dataclass(frozen=True)
class Account:
    kf_account: str
    kf_nick: str
    kf_id: int
    media_id: str = ""  #: picture uploaded to this emulator, served at /mmbiz_jpg/<id>/0
    headimgurl: str = ""  #: a seeded URL shown as is when no picture was uploaded
    kf_wx: str | None = None
    invitation: Invitation | None = None
    status: int = 0  #: 0 offline, other values online
    accepted_case: int = 0  #: sessions served outside the emulator's session table
    kf_openid: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Account:
        invitation = data.get("invitation")
        return cls(**{**data, "invitation": Invitation(**invitation) if invitation else None})


@dataclass(frozen=True)
class Session:
    kf_account: str
    openid: str
    createtime: int


@dataclass(frozen=True)
class WaitCase:
    openid: str
    latest_time: int


@dataclass(frozen=True)
class Record:
    msgid: int
    openid: str
    opercode: int
    text: str
    time: int
    worker: str


class TimeOrderedRecords(list[Record]):
    """Records kept in msgid order that also know whether their times never go down."""

    in_time_order = True

    def append(self, record: Record) -> None:
        if self and record.time < self[-1].time:
            self.in_time_order = False
        super().append(record)


def valid_wechat_id(value: str) -> bool:
    return _WECHAT_ID.fullmatch(value) is not None


class KfBackend:
    """All mutable state of one emulated Official Account."""

    def __init__(self, config: EmulatorConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.revision = 0  #: moves on every change; the server persists when it does
        self.reset()

    def reset(self) -> None:
        self.tokens = TokenStore()
        self.accounts: dict[str, Account] = {}
        self.pictures: dict[str, bytes] = {}
        self.sessions: dict[str, Session] = {}  # by openid
        self.waitcases: dict[str, WaitCase] = {}  # by openid
        self.records: list[Record] = TimeOrderedRecords()
        self.next_kf_id = FIRST_KF_ID
        self.next_msgid = 1
        self.changed()

    def changed(self) -> None:
        self.revision += 1

    def now(self) -> int:
        return self.clock.now()

    # ------------------------------------------------------------------ accounts

    def account_format_ok(self, kf_account: str) -> bool:
        prefix, at, suffix = kf_account.partition("@")
        return bool(at) and _PREFIX.fullmatch(prefix) is not None and (
            suffix == self.config.wechat_id)

    def nickname_ok(self, nickname: str) -> bool:
        return 1 <= len(nickname) <= MAX_NICK and not nickname.isspace()

    def account(self, kf_account: str) -> Account:
        found = self.accounts.get(kf_account)
        if found is None:
            raise EmulatorError(65401)
        return found

    def add_account(self, kf_account: str, nickname: str) -> None:
        if not self.account_format_ok(kf_account):
            raise EmulatorError(65404)
        if not self.nickname_ok(nickname):
            raise EmulatorError(65403)
        if kf_account in self.accounts:
            raise EmulatorError(65406)
        if len(self.accounts) >= self.config.max_accounts:
            raise EmulatorError(65405)
        self._put(Account(kf_account, nickname, self.next_kf_id))
        self.next_kf_id += 1

    def update_account(self, kf_account: str, nickname: str) -> None:
        if not self.account_format_ok(kf_account):
            raise EmulatorError(65404)
        account = self.account(kf_account)
        if not self.nickname_ok(nickname):
            raise EmulatorError(65403)
        self._put(replace(account, kf_nick=nickname))

    def delete_account(self, kf_account: str) -> None:
        account = self.account(kf_account)
        del self.accounts[kf_account]
        self.pictures.pop(account.media_id, None)
        self.sessions = {o: s for o, s in self.sessions.items() if s.kf_account != kf_account}
        self.changed()

    def set_avatar(self, kf_account: str, data: bytes, *, picture: bytes | None = None) -> None:
        """Store `data` as the CDN would (`picture`, if it is made already: `cdn_reencode(data)`)."""
        account = self.account(kf_account)
        picture = picture if picture is not None else cdn_reencode(data)
        self.pictures.pop(account.media_id, None)
        media_id = new_media_id()
        self.pictures[media_id] = picture
        self._put(replace(account, media_id=media_id, headimgurl=""))

    def _put(self, account: Account) -> None:
        self.accounts[account.kf_account] = account
        self.changed()

    # ------------------------------------------------------------------ invitations

    def invite_worker(self, kf_account: str, invite_wx: str) -> None:
        """Send an invitation; the first broken rule wins, in this order.

        65401 no such account; 65409 invite_wx is not a WeChat ID; 65412 the account
        is bound; 65408 the user already has a waiting invitation from this Official
        Account (to any of its accounts); 65411 the account has a waiting invitation;
        65410 the user works 5 or more accounts; 65407 the user works at least one of
        this account's kf accounts.  With one Official Account emulated, 65410 can only
        come from seeded state (a seed may bind one user to several accounts).
        """
        account = self.account(kf_account)
        if not valid_wechat_id(invite_wx):
            raise EmulatorError(65409)
        if account.kf_wx is not None:
            raise EmulatorError(65412)
        if any(a.invitation and a.invitation.live() and a.invitation.invite_wx == invite_wx
               for a in self.accounts.values()):
            raise EmulatorError(65408)
        if account.invitation is not None and account.invitation.live():
            raise EmulatorError(65411)
        bindings = sum(a.kf_wx == invite_wx for a in self.accounts.values())
        if bindings >= MAX_BINDINGS_PER_WORKER:
            raise EmulatorError(65410)
        if bindings:
            raise EmulatorError(65407)
        invitation = Invitation(invite_wx, self.now() + self.config.invite_lifetime)
        self._put(replace(account, invitation=invitation))

    def expire_due(self) -> None:
        """Mark the waiting invitations whose time has passed as expired."""
        now = self.now()
        for account in list(self.accounts.values()):
            invitation = account.invitation
            if invitation and invitation.live() and now >= invitation.invite_expire_time:
                self._put(replace(account, invitation=replace(invitation,
                                                              invite_status="expired")))

    def resolve_invitation(self, kf_account: str, outcome: str) -> Account:
        """The invited user accepts, rejects, or lets the waiting invitation expire.

        Raises LookupError when the account does not exist and ValueError when it has
        no waiting invitation; the admin API reports them.
        """
        account = self.accounts.get(kf_account)
        if account is None:
            raise LookupError(f"no kf account {kf_account!r}")
        invitation = account.invitation
        if invitation is None or not invitation.live():
            raise ValueError(f"{kf_account} has no waiting invitation")
        if outcome == "accept":
            account = replace(account, kf_wx=invitation.invite_wx, invitation=None)
        else:
            status = {"reject": "rejected", "expire": "expired"}[outcome]
            account = replace(account, invitation=replace(invitation, invite_status=status))
        self._put(account)
        return account

    # ------------------------------------------------------------------ sessions

    def _serving_account(self, kf_account: str, openid: str) -> Account:
        account = self.account(kf_account)
        if account.kf_wx is None:
            raise EmulatorError(65402)
        if _OPENID.fullmatch(openid) is None:
            raise EmulatorError(40003)
        return account

    def create_session(self, kf_account: str, openid: str) -> None:
        account = self._serving_account(kf_account, openid)
        if account.status == 0:
            raise EmulatorError(65415)
        existing = self.sessions.get(openid)
        if existing is not None:
            if existing.kf_account != kf_account:
                raise EmulatorError(65414)
            return
        self.sessions[openid] = Session(kf_account, openid, self.now())
        self.waitcases.pop(openid, None)
        self.changed()

    def close_session(self, kf_account: str, openid: str) -> None:
        self._serving_account(kf_account, openid)
        existing = self.sessions.get(openid)
        if existing is None:
            raise EmulatorError(65413)
        if existing.kf_account != kf_account:
            raise EmulatorError(65414)
        del self.sessions[openid]
        self.changed()

    def session_of(self, openid: str) -> Session | None:
        if _OPENID.fullmatch(openid) is None:
            raise EmulatorError(40003)
        return self.sessions.get(openid)

    def sessions_of(self, kf_account: str) -> list[Session]:
        if self.account(kf_account).kf_wx is None:
            raise EmulatorError(65402)
        found = [s for s in self.sessions.values() if s.kf_account == kf_account]
        return sorted(found, key=lambda s: (s.createtime, s.openid))

    def waiting(self) -> list[WaitCase]:
        return sorted(self.waitcases.values(), key=lambda w: w.latest_time)

    def online(self) -> list[tuple[Account, int]]:
        """Online accounts with their accepted_case (seeded value plus open sessions)."""
        open_sessions: dict[str, int] = {}
        for session in self.sessions.values():
            open_sessions[session.kf_account] = open_sessions.get(session.kf_account, 0) + 1
        return [(a, a.accepted_case + open_sessions.get(a.kf_account, 0))
                for a in self.listed() if a.status != 0]

    def listed(self) -> list[Account]:
        return sorted(self.accounts.values(), key=lambda a: a.kf_id)

    # ------------------------------------------------------------------ seeding

    def seed(self, accounts: list[Account], pictures: dict[str, bytes],
             records: list[Record], waitcases: list[WaitCase]) -> None:
        """Add already-validated values (see `seed.parse_seed`); records get their msgids here."""
        for account in accounts:
            self.accounts[account.kf_account] = account
            self.next_kf_id = max(self.next_kf_id, account.kf_id + 1)
        self.pictures.update(pictures)
        for record in sorted(records, key=lambda r: r.time):
            self.records.append(replace(record, msgid=self.next_msgid))
            self.next_msgid += 1
        for case in waitcases:
            self.waitcases[case.openid] = case
        self.changed()

    # ------------------------------------------------------------------ persistence

    def to_dict(self) -> dict[str, Any]:
        return {
            "clock_offset": self.clock.offset,
            "tokens": self.tokens.to_dict(),
            "accounts": [a.to_dict() for a in self.accounts.values()],
            "pictures": dict(self.pictures),
            "sessions": [asdict(s) for s in self.sessions.values()],
            "waitcases": [asdict(w) for w in self.waitcases.values()],
            "records": [asdict(r) for r in self.records],
            "next_kf_id": self.next_kf_id,
            "next_msgid": self.next_msgid,
        }

    def load(self, data: dict[str, Any]) -> None:
        """Replace the state with a `to_dict` snapshot (pictures already decoded to bytes)."""
        self.clock.offset = int(data["clock_offset"])
        self.tokens = TokenStore.from_dict(data["tokens"])
        self.accounts = {a.kf_account: a for a in map(Account.from_dict, data["accounts"])}
        self.pictures = dict(data["pictures"])
        self.sessions = {s.openid: s for s in (Session(**d) for d in data["sessions"])}
        self.waitcases = {w.openid: w for w in (WaitCase(**d) for d in data["waitcases"])}
        self.records = TimeOrderedRecords()
        for item in data["records"]:
            self.records.append(Record(**item))
        self.next_kf_id = int(data["next_kf_id"])
        self.next_msgid = int(data["next_msgid"])
        self.changed()
