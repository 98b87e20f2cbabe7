"""What the WeCom kf API answers, as frozen dataclasses parsed once from the wire JSON.

Every type is checked (`kfsync.client.wire.Fields`): a wrong type or an absurd
length raises `WireFormatError` naming the field, which the transport turns
into a clean `TransportError`; lone UTF-16 surrogates were already replaced by
the transport.  `to_dict` writes the wire shape back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from kfsync.client.wire import Fields, WireFormatError, _Wire
from kfsync.providers.wecom.errcodes import IGNORED, hint

#: Lengths past which an answer is taken as malformed, not shown (WeCom documents far less).
MAX_ID = 64  #: open_kfid, userid
MAX_NAME = 256  #: account names are at most 16 characters
MAX_URL = 2048
MAX_MEDIA_ID = 128

ServiceStateCode = Literal[0, 1, 2, 3, 4]
SERVICE_STATES: dict[int, str] = {0: "unhandled", 1: "smart assistant", 2: "waiting pool",
                                  3: "human servicer", 4: "ended or not started"}


def _without_none(items: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in items.items() if value is not None}


@dataclass(frozen=True)
class WeComAccount(_Wire):
    """One kf account of kf/account/list; `manage_privilege` is None for component apps."""

    open_kfid: str
    name: str
    avatar: str | None = None
    manage_privilege: bool | None = None

    @classmethod
    def from_fields(cls, f: Fields) -> WeComAccount:
        open_kfid = f.text("open_kfid", limit=MAX_ID)
        if not open_kfid:
            raise WireFormatError(f"{f.where}: field open_kfid must not be empty")
        return cls(open_kfid, f.text("name", default="", limit=MAX_NAME),
                   f.opt_text("avatar", limit=MAX_URL), f.opt_flag("manage_privilege"))

    def to_dict(self) -> dict[str, object]:
        return {"open_kfid": self.open_kfid, "name": self.name, "avatar": self.avatar or "",
                **_without_none({"manage_privilege": self.manage_privilege})}


@dataclass(frozen=True)
class Servicer(_Wire):
    """A servicer of an account: a member (`userid`) or a department (`department_id`).

    `status` (0 serving, 1 stopped) and `stop_type` (0 stopped, 1 suspended) are
    read-only state, and only sent when the app manages the account.
    """

    userid: str | None = None
    department_id: int | None = None
    status: int | None = None
    stop_type: int | None = None

    @classmethod
    def from_fields(cls, f: Fields) -> Servicer:
        userid, department = f.opt_text("userid", limit=MAX_ID), f.opt_number("department_id")
        if (userid is None) == (department is None):
            raise WireFormatError(f"{f.where} needs exactly one of userid and department_id")
        return cls(userid, department, f.opt_number("status"), f.opt_number("stop_type"))

    def to_dict(self) -> dict[str, object]:
        return _without_none({"userid": self.userid, "department_id": self.department_id,
                              "status": self.status, "stop_type": self.stop_type})


@dataclass(frozen=True)
class ServicerItemResult(_Wire):
    """One item of a servicer add/del `result_list`: its own errcode, whatever the top one said."""

    userid: str | None
    department_id: int | None
    errcode: int
    errmsg: str

    @classmethod
    def from_fields(cls, f: Fields) -> ServicerItemResult:
        userid, department = f.opt_text("userid", limit=MAX_ID), f.opt_number("department_id")
        if (userid is None) == (department is None):
            raise WireFormatError(f"{f.where} needs exactly one of userid and department_id")
        return cls(userid, department, f.number("errcode", default=0),
                   f.text("errmsg", default="", limit=MAX_URL))

    @property
    def ok(self) -> bool:
        return self.errcode == 0

    @property
    def ignored(self) -> bool:
        """Nothing was done because it was so already (already a servicer, or already not)."""
        return self.ok and self.errmsg == IGNORED

    @property
    def subject(self) -> str:
        return self.userid if self.userid is not None else f"department {self.department_id}"

    @property
    def hint(self) -> str | None:
        """What the errcode means and what to do (None when it succeeded)."""
        return None if self.ok else hint(self.errcode)

    def to_dict(self) -> dict[str, object]:
        return _without_none({"userid": self.userid, "department_id": self.department_id,
                              "errcode": self.errcode, "errmsg": self.errmsg})


@dataclass(frozen=True)
class ContactLink(_Wire):
    """The customer-facing link of add_contact_way (also the content of a QR code)."""

    url: str

    @classmethod
    def from_fields(cls, f: Fields) -> ContactLink:
        url = f.text("url", limit=MAX_URL)
        if not url.startswith(("https://", "http://")):
            raise WireFormatError("field url must be an http(s) URL")
        return cls(url)


@dataclass(frozen=True)
class MediaUpload(_Wire):
    """A temporary medium: usable in add/update for 3 days from `created_at`."""

    media_id: str
    created_at: int
    type: str = "image"

    LIFETIME = 3 * 86400

    @classmethod
    def from_fields(cls, f: Fields) -> MediaUpload:
        media_id = f.text("media_id", limit=MAX_MEDIA_ID)
        if not media_id:
            raise WireFormatError("field media_id must not be empty")
        return cls(media_id, f.time("created_at"), f.text("type", default="image", limit=16))

    @property
    def expires_at(self) -> int:
        return self.created_at + self.LIFETIME


@dataclass(frozen=True)
class ServiceState(_Wire):
    """A customer's session state with one account; `servicer_userid` only in state 3."""

    service_state: int
    servicer_userid: str | None = None

    @classmethod
    def from_fields(cls, f: Fields) -> ServiceState:
        state = f.number("service_state")
        if state not in SERVICE_STATES:
            raise WireFormatError(f"field service_state must be 0 to 4, got {state}")
        return cls(state, f.opt_text("servicer_userid", limit=MAX_ID))

    @property
    def meaning(self) -> str:
        return SERVICE_STATES[self.service_state]


@dataclass(frozen=True)
class KfMessage(_Wire):
    """One message or event of sync_msg; `content` is the object named by `msgtype`.

    origin: 3 from the customer, 4 a system event, 5 a servicer in the WeCom app.
    """

    msgid: str
    msgtype: str
    send_time: int
    origin: int
    open_kfid: str | None = None
    external_userid: str | None = None
    servicer_userid: str | None = None
    content: MappingProxyType[str, object] = field(
        default_factory=lambda: MappingProxyType({}))

    @property
    def text(self) -> str | None:
        """The text of a text message."""
        value = self.content.get("content") if self.msgtype == "text" else None
        return value if isinstance(value, str) else None

    @classmethod
    def from_fields(cls, f: Fields) -> KfMessage:
        msgtype = f.text("msgtype", limit=32)
        body = f.opt_object(msgtype) if msgtype else None
        return cls(f.ident("msgid"), msgtype, f.time("send_time"), f.number("origin", default=0),
                   f.opt_text("open_kfid", limit=MAX_ID),
                   f.opt_text("external_userid", limit=MAX_NAME),
                   f.opt_text("servicer_userid", limit=MAX_ID),
                   MappingProxyType(dict(body.raw())) if body is not None else MappingProxyType({}))


@dataclass(frozen=True)
class MsgPage(_Wire):
    """One sync_msg answer: its messages and where to go on."""

    messages: tuple[KfMessage, ...]
    next_cursor: str
    has_more: bool

    @classmethod
    def from_fields(cls, f: Fields) -> MsgPage:
        messages = tuple(KfMessage.from_fields(m) for m in f.objects("msg_list", optional=True))
        return cls(messages, f.text("next_cursor", default="", limit=MAX_ID),
                   f.number("has_more", default=0) == 1)


@dataclass(frozen=True)
class Customer(_Wire):
    """A WeChat customer of customer/batchget (gender 0 unknown, 1 male, 2 female)."""

    external_userid: str
    nickname: str = ""
    avatar: str | None = None
    gender: int = 0
    unionid: str | None = None
    enter_session_context: MappingProxyType[str, object] | None = None

    @classmethod
    def from_fields(cls, f: Fields) -> Customer:
        context = f.opt_object("enter_session_context")
        return cls(f.text("external_userid", limit=MAX_NAME),
                   f.text("nickname", default="", limit=MAX_NAME),
                   f.opt_text("avatar", limit=MAX_URL), f.number("gender", default=0),
                   f.opt_text("unionid", limit=MAX_NAME),
                   MappingProxyType(dict(context.raw())) if context is not None else None)


@dataclass(frozen=True)
class CustomerBatch(_Wire):
    customers: tuple[Customer, ...]
    invalid_external_userids: tuple[str, ...] = ()

    @classmethod
    def from_fields(cls, f: Fields) -> CustomerBatch:
        return cls(tuple(Customer.from_fields(c) for c in f.objects("customer_list",
                                                                     optional=True)),
                   f.texts("invalid_external_userid", limit=MAX_NAME))


@dataclass(frozen=True)
class StatisticDay(_Wire):
    """One day of get_corp_statistic / get_servicer_statistic: counts and rates by name."""

    stat_time: int
    values: MappingProxyType[str, float]

    @classmethod
    def from_fields(cls, f: Fields) -> StatisticDay:
        inner = f.opt_object("statistic")
        values: dict[str, float] = {}
        if inner is not None:
            for key in inner.raw():
                value = inner.opt_real(key)
                if value is not None:
                    values[key] = value
        return cls(f.time("stat_time"), MappingProxyType(values))


@dataclass(frozen=True)
class UpgradeConfig(_Wire):
    """get_upgrade_service_config: the members and group chats a customer may be handed to."""

    member_userids: tuple[str, ...]
    groupchat_ids: tuple[str, ...]

    @classmethod
    def from_fields(cls, f: Fields) -> UpgradeConfig:
        member = f.opt_object("member_range")
        chats = f.opt_object("groupchat_range")
        return cls(member.texts("userid_list", limit=MAX_ID) if member else (),
                   chats.texts("chat_id_list", limit=MAX_NAME) if chats else ())


# --------------------------------------------------------------------------- list answers


def account_page(body: object) -> tuple[WeComAccount, ...]:
    return tuple(WeComAccount.from_fields(a) for a in Fields(body).objects("account_list"))


def servicer_list(body: object) -> tuple[Servicer, ...]:
    return tuple(Servicer.from_fields(s) for s in Fields(body).objects("servicer_list"))


def servicer_results(body: object) -> tuple[ServicerItemResult, ...]:
    return tuple(ServicerItemResult.from_fields(r) for r in Fields(body).objects("result_list"))


def statistic_list(body: object) -> tuple[StatisticDay, ...]:
    return tuple(StatisticDay.from_fields(s) for s in Fields(body).objects("statistic_list"))


def open_kfid(body: object) -> str:
    value = Fields(body).text("open_kfid", limit=MAX_ID)
    if not value:
        raise WireFormatError("field open_kfid must not be empty")
    return value


def msgid(body: object) -> str:
    return Fields(body).text("msgid", default="", limit=MAX_ID)


def msg_code(body: object) -> str | None:
    return Fields(body).opt_text("msg_code", limit=MAX_URL)
