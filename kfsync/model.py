"""What an account is: its fields, the desired and the live state, the policy, its identity.

The rest of kfsync speaks these values.  The config loader builds the desired
side (`DesiredAccount`, `Desired`), a provider reads the live side
(`LiveAccount`, `LiveState`), and `kfsync.plan` compares them, field by field,
by the `Field`s declared here.  Nothing here knows the wire of any API: a provider
turns what its API answers into these values at its boundary.

An account's identity is its `kf_account` (`prefix@suffix`); the prefix is
what the config declares and what the policy's globs match.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast

if TYPE_CHECKING:
    from kfsync.config.model import Config

Unmanaged = Literal["report", "ignore", "delete"]
State = Literal["present", "absent"]
InviteStatus = Literal["waiting", "rejected", "expired"]
T = TypeVar("T")


# --------------------------------------------------------------------------- policy


@dataclass(frozen=True)
class Policy:
    """Safety rules for plan and apply."""

    unmanaged: Unmanaged = "report"
    max_deletes: int = 1
    protected: tuple[str, ...] = ()  #: globs on the prefix: never deleted or rebound
    ignore: tuple[str, ...] = ()  #: globs on the prefix: invisible to kfsync

    def is_ignored(self, prefix: str) -> bool:
        return any(fnmatch.fnmatchcase(prefix, glob) for glob in self.ignore)

    def is_protected(self, prefix: str) -> bool:
        return any(fnmatch.fnmatchcase(prefix, glob) for glob in self.protected)

    def to_dict(self) -> dict[str, object]:
        return {
            "unmanaged": self.unmanaged,
            "max_deletes": self.max_deletes,
            "protected": list(self.protected),
            "ignore": list(self.ignore),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        return cls(
            unmanaged=cast(Unmanaged, data["unmanaged"]),
            max_deletes=int(data["max_deletes"]),
            protected=tuple(data["protected"]),
            ignore=tuple(data["ignore"]),
        )


# --------------------------------------------------------------------------- desired


@dataclass(frozen=True)
class DesiredAccount:
    """One declared account (or a tombstone, `state == "absent"`)."""

    prefix: str
    state: State = "present"
    nickname: str | None = None  #: None only for absent accounts
    avatar: Path | None = None  #: absolute path; defaults.avatar already applied
    wechat: str | None = None  #: WeChat ID to invite to work this account
    line: int = 0  #: where the account is declared in the file, 0 if unknown
    # Providers whose accounts are keyed by a name and identified by a server-assigned id
    # (WeCom): None or empty for the Official Account.
    name: str | None = None  #: the account's name, which customers see (the key, when present)
    id: str | None = None  #: the server-assigned id the entry is pinned to
    previously: tuple[str, ...] = ()  #: names the account had before, to match a live one by
    servicer_users: tuple[str, ...] | None = None  #: user ids who work it (None: not managed)
    servicer_departments: tuple[str, ...] | None = None  #: department ids, as text
    scenes: tuple[str, ...] = ()  #: contact-link scenes published for it

    @property
    def present(self) -> bool:
        return self.state == "present"

    def to_dict(self) -> dict[str, object]:
        return {
            "prefix": self.prefix,
            "state": self.state,
            "nickname": self.nickname,
            "avatar": str(self.avatar) if self.avatar else None,
            "wechat": self.wechat,
            "line": self.line,
            "name": self.name,
            "id": self.id,
            "previously": list(self.previously),
            "servicer_users": _listed(self.servicer_users),
            "servicer_departments": _listed(self.servicer_departments),
            "scenes": list(self.scenes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DesiredAccount:
        avatar = data.get("avatar")
        return cls(
            prefix=data["prefix"],
            state=cast(State, data.get("state", "present")),
            nickname=data.get("nickname"),
            avatar=Path(avatar) if avatar else None,
            wechat=data.get("wechat"),
            line=int(data.get("line", 0)),
            name=data.get("name"),
            id=data.get("id"),
            previously=tuple(data.get("previously") or ()),
            servicer_users=_tupled(data.get("servicer_users")),
            servicer_departments=_tupled(data.get("servicer_departments")),
            scenes=tuple(data.get("scenes") or ()),
        )


def _listed(values: tuple[str, ...] | None) -> list[str] | None:
    return None if values is None else list(values)


def _tupled(values: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(values)


@dataclass(frozen=True)
class DesiredAvatar:
    """A declared avatar, fingerprinted as it will be uploaded."""

    path: str  #: as written in the config, for display
    phash: str  #: perceptual hash of the normalised JPEG
    digest: str  #: sha256 of the source file, for saved-plan staleness


@dataclass(frozen=True)
class Desired:
    """The declared side: the loaded config and the fingerprints of its avatar files."""

    config: Config
    avatars: Mapping[str, DesiredAvatar] = field(default_factory=dict)  #: by prefix

    @property
    def policy(self) -> Policy:
        return self.config.policy


# --------------------------------------------------------------------------- live


@dataclass(frozen=True)
class LiveAccount:
    """One account as the provider has it now."""

    kf_account: str
    nickname: str
    headimgurl: str | None = None
    kf_wx: str | None = None  #: the WeChat user bound to it
    invite_wx: str | None = None  #: the WeChat user invited to it, while invited
    invite_expire_time: int | None = None  #: unix seconds; None when unknown
    invite_status: InviteStatus | None = None
    kf_openid: str | None = None
    kf_id: str | None = None  #: WeChat's own id of the account: a new one if it is made again
    #: False: the provider shows the account but will not let this app change it (WeCom)
    manage_privilege: bool | None = None
    servicer_users: tuple[str, ...] | None = None  #: who works it, when the provider says (WeCom)
    servicer_departments: tuple[str, ...] | None = None  #: department ids, as text

    @property
    def prefix(self) -> str:
        """The part before `@`: the name the config declares the account by."""
        return self.kf_account.partition("@")[0]

    @property
    def suffix(self) -> str:
        """The part after `@`."""
        return self.kf_account.partition("@")[2]

    def to_dict(self) -> dict[str, object]:
        """Every field that is set, by its name here (lists as lists)."""
        return {f.name: list(value) if isinstance(value, tuple) else value
                for f in fields(self) if (value := getattr(self, f.name)) is not None}

    @classmethod
    def from_dict(cls, data: object) -> LiveAccount:
        """The account `to_dict` wrote; TypeError for anything else (the file may be hostile)."""
        if not isinstance(data, dict):
            raise TypeError("a live account must be an object")
        known = {f.name: f for f in fields(cls)}
        given = dict(data)
        for name, value in data.items():
            if name not in known:
                raise TypeError(f"a live account has no field {str(name)[:40]!r}")
            if name in _LIST_FIELDS:
                if not isinstance(value, list) or not all(type(v) is str for v in value):
                    raise TypeError(f"a live account's {name} must be a list of strings")
                given[name] = tuple(value)
                continue
            wanted = _LIVE_TYPES.get(name, str)
            if type(value) is not wanted:
                raise TypeError(f"a live account's {name} must be a {wanted.__name__}")
        if data.get("invite_status") not in (None, "waiting", "rejected", "expired"):
            raise TypeError("a live account's invite_status is not a known status")
        for name in ("kf_account", "nickname"):
            if name not in data:
                raise TypeError(f"a live account has no {name}")
        return cls(**given)


_LIST_FIELDS = frozenset({"servicer_users", "servicer_departments"})
_LIVE_TYPES: Mapping[str, type] = {"invite_expire_time": int, "manage_privilege": bool}


@dataclass(frozen=True)
class LivePicture:
    """The fingerprint of one live picture, or why it could not be read."""

    phash: str | None
    error: str | None = None


@dataclass(frozen=True)
class LiveState:
    """What the provider has now, as of `now` (unix seconds, passed in, never read here)."""

    accounts: tuple[LiveAccount, ...]
    now: int
    pictures: Mapping[str, LivePicture] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """A digest of the account list, for saved-plan staleness checks."""
        rows = sorted((a.to_dict() for a in self.accounts), key=lambda r: str(r["kf_account"]))
        blob = json.dumps(rows, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return "sha256:" + hashlib.sha256(blob).hexdigest()

    def by_account(self) -> dict[str, LiveAccount]:
        return {a.kf_account: a for a in self.accounts}


# --------------------------------------------------------------------------- fields


@dataclass(frozen=True)
class Field(Generic[T]):
    """An account field: declared once here, compared by the planner, shown by the renderers.

    `name` keys the field in a change's before/after and in the plan document;
    `declared` and `live` name the attributes of `DesiredAccount` and
    `LiveAccount` it is compared between (None: the field only describes a
    change, e.g. an invitation's status); `updatable` says an update call sets
    it in place; a `picture` is compared by its fingerprint, not by equality.
    """

    name: str
    label: str  #: how people call it, in rendered plans
    type: type[T]
    updatable: bool = False
    declared: str | None = None
    live: str | None = None
    picture: bool = False

    def wanted(self, entry: DesiredAccount) -> object:
        return getattr(entry, self.declared) if self.declared else None

    def current(self, account: LiveAccount) -> object:
        return getattr(account, self.live) if self.live else None


NICKNAME = Field("nickname", "nickname", str, updatable=True, declared="nickname", live="nickname")
#: The name of an account keyed by name and identified by an id (WeCom): a change of it is a rename.
NAME = Field("name", "name", str, updatable=True, declared="name", live="nickname")
#: The server-assigned id a change acts on, when the account is not named by it (WeCom's open_kfid).
KF_ID = Field("id", "id", str, declared="id", live="kf_id")
#: before: the live picture's URL; after: the declared file, as the config names it
AVATAR = Field("avatar", "avatar", str, declared="avatar", live="headimgurl", picture=True)
KF_WX = Field("kf_wx", "kf_wx", str, declared="wechat", live="kf_wx")  #: the bound WeChat user
INVITE_WX = Field("invite_wx", "invite_wx", str)  #: the WeChat user invited
INVITE_STATUS = Field("invite_status", "invite_status", str)  #: how the last invitation ended
#: The people who work an account (WeCom's servicers): user ids, and department ids as text.
SERVICER_USERS = Field("users", "servicer users", tuple, declared="servicer_users",
                       live="servicer_users")
SERVICER_DEPARTMENTS = Field("departments", "servicer departments", tuple,
                             declared="servicer_departments", live="servicer_departments")

#: Every field, by name: what a change's before/after may hold (schemas/plan.schema.json too).
FIELDS: Mapping[str, Field[Any]] = {
    f.name: f for f in (NICKNAME, NAME, AVATAR, KF_WX, KF_ID, INVITE_WX, INVITE_STATUS,
                        SERVICER_USERS, SERVICER_DEPARTMENTS)
}
_LISTED = frozenset(f.name for f in FIELDS.values() if f.type is tuple)
#: The fields an update changes, compared between the desired and the live account.
UPDATABLE = tuple(f for f in FIELDS.values() if f.updatable)
#: The fields compared between a declared and a live account, in the order a plan lists them.
COMPARED = tuple(f for f in FIELDS.values() if f.declared and f.live)


@dataclass(frozen=True)
class Difference:
    """One compared field that differs: the live value and the declared one."""

    field: Field[Any]
    before: object
    after: object




class Values(Mapping[str, "str | tuple[str, ...] | None"]):
    """A change's before or after: field values by field name, read typed with `of`.

    Immutable.  A value is a string, a list of strings (kept as a tuple, written
    as a JSON array) or None; a name no `Field` declares is kept as it was
    given (a saved plan written by another version still shows), but only
    declared fields are read with `of`.
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, object]) -> None:
        checked: dict[str, str | tuple[str, ...] | None] = {}
        for name, value in values.items():
            if value is None or (type(value) is str and name not in _LISTED):  # the common case
                checked[name] = value
                continue
            declared = FIELDS.get(name)
            listed = declared.type is tuple if declared is not None else isinstance(
                value, (list, tuple))
            if value is None:
                checked[name] = None
            elif listed and isinstance(value, (list, tuple)) and all(
                    isinstance(item, str) for item in value):
                checked[name] = tuple(value)
            elif not listed and isinstance(value, str):
                checked[name] = value
            else:
                wanted = "a list of strings" if listed else "a string"
                raise TypeError(f"{name} must be {wanted} or null, not {type(value).__name__}")
        self._values = checked

    def of(self, field: Field[T]) -> T | None:
        """The value of `field`, or None when it is not given."""
        value = self._values.get(field.name)
        return value if value is None or isinstance(value, field.type) else None

    def __getitem__(self, name: str) -> str | tuple[str, ...] | None:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __hash__(self) -> int:
        return hash(tuple(self._values.items()))

    def __repr__(self) -> str:
        return f"Values({self._values!r})"

    def to_dict(self) -> dict[str, str | list[str] | None]:
        return {name: list(value) if isinstance(value, tuple) else value
                for name, value in self._values.items()}


def list_moves(before: Iterable[str], after: Iterable[str]) -> tuple[list[str], list[str]]:
    """What turns the list `before` into `after`, order aside: the items added (in `after`'s
    order) and the items removed (in `before`'s); e.g. the servicers a change adds and removes."""
    was, now = list(before), list(after)
    have, want = set(was), set(now)
    return [item for item in now if item not in have], [item for item in was if item not in want]


def label(name: str) -> str:
    """How people call the field `name` in rendered plans: its declared label, or the name."""
    known = FIELDS.get(name)
    return known.label if known is not None else name


def describe_drift(before: Iterable[LiveAccount], after: Iterable[LiveAccount]) -> list[str]:
    """What changed between two readings of the live accounts, for people, most telling first.

    e.g. `alice@shop_cs: nickname 小美 → 小丽`, `1 account added in the console (bob@shop_cs)`,
    `售前咨询 (wkA…): kf_account 售前咨询 → 售前, nickname 售前咨询 → 售前` (see `_same_accounts`).
    """
    pairs, gone, came = _same_accounts(list(before), list(after))
    lines = []
    changed = sorted((shown, old.to_dict(), new.to_dict()) for shown, old, new in pairs
                     if old.to_dict() != new.to_dict())
    if changed:
        from deepdiff import DeepDiff

        for name, was_dict, now_dict in changed:
            diff = DeepDiff(was_dict, now_dict, view="tree")
            parts = []
            for kind in ("values_changed", "type_changes", "dictionary_item_added",
                         "dictionary_item_removed"):
                for item in diff.get(kind, []):
                    key = str(item.path(output_format="list")[0])
                    parts.append(f"{key} {_shown(was_dict.get(key))} → {_shown(now_dict.get(key))}")
            lines.append(f"{name}: " + ", ".join(sorted(parts)))
    for accounts, what in ((came, "added"), (gone, "deleted")):
        names = sorted(a.kf_account for a in accounts)
        if names:
            noun = "account" if len(names) == 1 else "accounts"
            shown = ", ".join(names[:3]) + (", …" if len(names) > 3 else "")
            lines.append(f"{len(names)} {noun} {what} in the console ({shown})")
    return lines


def _same_accounts(
    before: list[LiveAccount], after: list[LiveAccount],
) -> tuple[list[tuple[str, LiveAccount, LiveAccount]], list[LiveAccount], list[LiveAccount]]:
    """The accounts of two readings that are one account, as shown; those only before; only after.

    One account is first the one kf_account on each side (an account made again
    under it is the same to people, its new kf_id a change); of the rest, the one
    kf_id on each side: where the server's id is the identity (WeCom), a rename
    keeps it, and namesakes are told apart by it.
    """
    pairs: list[tuple[str, LiveAccount, LiveAccount]] = []
    for by_id in (False, True):
        key = attrgetter("kf_id" if by_id else "kf_account")
        olds, news = Counter(map(key, before)), Counter(map(key, after))
        unique = {k for k, n in olds.items() if k and n == 1 and news[k] == 1}
        found = {key(a): a for a in after if key(a) in unique}
        pairs += [(f"{a.kf_account} ({a.kf_id})" if by_id else a.kf_account, a, found[key(a)])
                  for a in before if key(a) in unique]
        before = [a for a in before if key(a) not in unique]
        after = [a for a in after if key(a) not in unique]
    return pairs, before, after


def _shown(value: object) -> str:
    return "(none)" if value is None else str(value)
