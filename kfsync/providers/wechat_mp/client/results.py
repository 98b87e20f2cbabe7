"""What the kf API answers, as frozen dataclasses parsed once from the wire JSON.

`from_dict` reads the wire shape (WeChat's keys, e.g. `kf_nick`) and checks
every type; `to_dict` writes the same shape back, so `from_dict(to_dict(x)) == x`.
Lenient where WeChat is known to vary: `kf_id` as a number or a string
(normalised to `str`), times as a number or a string of digits (an
`invite_expire_time` that is no time at all is a warning and an unknown expiry),
optional fields missing, `""` for "no avatar" (-> None).  A wrong type raises
`WireFormatError` naming the field.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kfsync.client.wire import MAX_TIME, Fields, WireFormatError, _Wire

log = logging.getLogger(__name__)

InviteStatus = Literal["waiting", "rejected", "expired"]
_INVITE_STATUSES: tuple[InviteStatus, ...] = ("waiting", "rejected", "expired")

def _without_none(items: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in items.items() if value is not None}


@dataclass(frozen=True)
class KfAccount(_Wire):
    """One kf account as getkflist lists it."""

    kf_account: str
    nickname: str
    kf_id: str
    headimgurl: str | None = None
    kf_wx: str | None = None
    invite_wx: str | None = None
    invite_expire_time: int | None = None
    invite_status: InviteStatus | None = None
    kf_openid: str | None = None

    @property
    def prefix(self) -> str:
        """The part before `@`."""
        return self.kf_account.partition("@")[0]

    @classmethod
    def from_fields(cls, f: Fields) -> KfAccount:
        status = f.opt_text("invite_status")
        if status is not None and status not in _INVITE_STATUSES:
            raise WireFormatError(
                f"field invite_status must be one of {', '.join(_INVITE_STATUSES)}, got {status!r}"
            )
        expires, absurd = f.opt_time("invite_expire_time")
        if absurd:
            log.warning("%s; the invitation's expiry is taken as unknown", absurd)
        return cls(
            kf_account=f.text("kf_account"),
            nickname=f.text("kf_nick", default=""),
            kf_id=f.ident("kf_id"),
            headimgurl=f.opt_text("kf_headimgurl"),
            kf_wx=f.opt_text("kf_wx"),
            invite_wx=f.opt_text("invite_wx"),
            invite_expire_time=expires,
            invite_status=status,
            kf_openid=f.opt_text("kf_openid"),
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "kf_account": self.kf_account,
            "kf_nick": self.nickname,
            "kf_id": self.kf_id,
            "kf_headimgurl": self.headimgurl or "",
            **_without_none({
                "kf_wx": self.kf_wx,
                "invite_wx": self.invite_wx,
                "invite_expire_time": self.invite_expire_time,
                "invite_status": self.invite_status,
                "kf_openid": self.kf_openid,
            }),
        }


@dataclass(frozen=True)
class OnlineKf(_Wire):
    """One kf account as getonlinekflist lists it."""

    kf_account: str
    kf_id: str
    status: int
    accepted_case: int = 0
    auto_accept: int | None = None  #: legacy field, still sent by some servers
    kf_openid: str | None = None

    @classmethod
    def from_fields(cls, f: Fields) -> OnlineKf:
        return cls(
            kf_account=f.text("kf_account"),
            kf_id=f.ident("kf_id"),
            status=f.number("status"),
            accepted_case=f.number("accepted_case", default=0),
            auto_accept=f.opt_number("auto_accept"),
            kf_openid=f.opt_text("kf_openid"),
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "kf_account": self.kf_account,
            "kf_id": self.kf_id,
            "status": self.status,
            "accepted_case": self.accepted_case,
            **_without_none({"auto_accept": self.auto_accept, "kf_openid": self.kf_openid}),
        }


@dataclass(frozen=True)
class CustomerSession(_Wire):
    """A customer's current session (getsession); `kf_account` None when nobody serves them."""

    kf_account: str | None
    createtime: int = 0

    @classmethod
    def from_fields(cls, f: Fields) -> CustomerSession:
        return cls(kf_account=f.opt_text("kf_account"),
                   createtime=f.time("createtime", default=0))

    def to_dict(self) -> dict[str, object]:
        return {"kf_account": self.kf_account or "", "createtime": self.createtime}


@dataclass(frozen=True)
class KfSession(_Wire):
    """One of a kf account's sessions (getsessionlist)."""

    openid: str
    createtime: int

    @classmethod
    def from_fields(cls, f: Fields) -> KfSession:
        return cls(openid=f.text("openid"), createtime=f.time("createtime"))

    def to_dict(self) -> dict[str, object]:
        return {"openid": self.openid, "createtime": self.createtime}


@dataclass(frozen=True)
class WaitCase(_Wire):
    """One customer waiting to be served; `latest_time` is their latest message."""

    openid: str
    latest_time: int

    @classmethod
    def from_fields(cls, f: Fields) -> WaitCase:
        return cls(openid=f.text("openid"), latest_time=f.time("latest_time"))

    def to_dict(self) -> dict[str, object]:
        return {"openid": self.openid, "latest_time": self.latest_time}


@dataclass(frozen=True)
class WaitingCases(_Wire):
    """getwaitcase: the total waiting, and at most 100 of them, earliest first."""

    count: int
    cases: tuple[WaitCase, ...]

    @classmethod
    def from_fields(cls, f: Fields) -> WaitingCases:
        cases = tuple(WaitCase.from_fields(item) for item in f.objects("waitcaselist",
                                                                        optional=True))
        return cls(count=f.number("count", default=len(cases)), cases=cases)

    def to_dict(self) -> dict[str, object]:
        return {"count": self.count, "waitcaselist": [case.to_dict() for case in self.cases]}


@dataclass(frozen=True, slots=True)
class MsgRecord(_Wire):
    """One chat record (getmsglist, or the legacy getrecord).

    `opercode` 2002 = the kf sent, 2003 = the kf received (legacy also 1000-1005,
    2001).  `worker` is the full kf account; legacy answers may give a bare name,
    kept as sent apart from surrounding blanks.
    """

    openid: str
    opercode: int
    text: str
    time: int
    worker: str

    @classmethod
    def plain(cls, data: Mapping[str, object]) -> MsgRecord | None:
        """The record, when every field has its usual type; None for anything else.

        Exports read records by the hundred thousand: the usual shape is taken as it is,
        and anything else goes through `from_fields`, which names what is wrong.
        """
        openid, opercode, text = data.get("openid"), data.get("opercode"), data.get("text")
        time, worker = data.get("time"), data.get("worker")
        if (type(openid) is str and type(opercode) is int and type(text) is str
                and type(time) is int and 0 <= time <= MAX_TIME and type(worker) is str):
            return cls(openid, opercode, text, time, worker.strip())
        return None

    @classmethod
    def from_fields(cls, f: Fields) -> MsgRecord:
        found = cls.plain(f.data)
        if found is not None:
            return found
        return cls(
            openid=f.text("openid"),
            opercode=f.number("opercode"),
            text=f.text("text", default=""),
            time=f.time("time"),
            worker=f.text("worker", default="").strip(),
        )

    def to_dict(self) -> dict[str, object]:
        return {"openid": self.openid, "opercode": self.opercode, "text": self.text,
                "time": self.time, "worker": self.worker}


@dataclass(frozen=True)
class MsgPage(_Wire):
    """One getmsglist answer: the records, their count, and the msgid to page on."""

    records: tuple[MsgRecord, ...]
    number: int
    msgid: int

    @classmethod
    def from_fields(cls, f: Fields) -> MsgPage:
        items = f.data.get("recordlist")
        if isinstance(items, list):  # the items may be records already (see `record_hook`)
            records = tuple(item if isinstance(item, MsgRecord)
                            else MsgRecord.from_fields(Fields(item, "recordlist", index))
                            for index, item in enumerate(items))
        else:
            records = tuple(MsgRecord.from_fields(item) for item in f.objects("recordlist"))
        return cls(records=records, number=f.number("number"), msgid=f.number("msgid"))

    @staticmethod
    def record_hook(item: dict[str, Any]) -> object:
        """For decoding a page: each object that is a plain record becomes one at once."""
        return MsgRecord.plain(item) or item

    def to_dict(self) -> dict[str, object]:
        return {"recordlist": [record.to_dict() for record in self.records],
                "number": self.number, "msgid": self.msgid}


# --------------------------------------------------------------------------- list answers


def account_list(body: object) -> tuple[KfAccount, ...]:
    """getkflist -> its accounts."""
    return tuple(KfAccount.from_fields(item) for item in Fields(body).objects("kf_list"))


def online_list(body: object) -> tuple[OnlineKf, ...]:
    """getonlinekflist -> its accounts."""
    return tuple(OnlineKf.from_fields(item) for item in Fields(body).objects("kf_online_list"))


def session_list(body: object) -> tuple[KfSession, ...]:
    """getsessionlist -> its sessions."""
    return tuple(KfSession.from_fields(item) for item in Fields(body).objects("sessionlist"))


def legacy_record_list(body: object) -> tuple[MsgRecord, ...]:
    """getrecord -> its records."""
    return tuple(MsgRecord.from_fields(item) for item in Fields(body).objects("recordlist"))
