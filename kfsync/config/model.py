"""The loaded desired state: frozen values built once from a validated kfsync.yaml.

Nothing below the config loader touches YAML dicts: plan and apply see
`Config`, `Policy` and `DesiredAccount`.  Defaults are already applied (from
the schema), avatars are resolved absolute paths, accounts are sorted by prefix.
The constructors' own defaults, for building values in tests, mirror the
schema's (a test keeps them equal); the loader never relies on them.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

if TYPE_CHECKING:
    from kfsync.avatars import AvatarPrint

Unmanaged = Literal["report", "ignore", "delete"]
State = Literal["present", "absent"]


@dataclass(frozen=True)
class OfficialAccount:
    """The Official Account whose kf accounts are managed."""

    wechat_id: str  #: suffix of every kf account
    appid: str | None = None  #: when set, the credentials in use must be for this AppID

    def to_dict(self) -> dict[str, object]:
        return {"wechat_id": self.wechat_id, "appid": self.appid}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OfficialAccount:
        return cls(wechat_id=data["wechat_id"], appid=data.get("appid"))


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


@dataclass(frozen=True)
class DesiredAccount:
    """One declared kf account (or a tombstone, `state == "absent"`)."""

    prefix: str
    state: State = "present"
    nickname: str | None = None  #: None only for absent accounts
    avatar: Path | None = None  #: absolute path; defaults.avatar already applied
    wechat: str | None = None  #: WeChat ID to invite to work this account
    line: int = 0  #: where the account is declared in the file, 0 if unknown

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
        )


@dataclass(frozen=True)
class Config:
    """A whole kfsync.yaml, validated."""

    path: Path
    official_account: OfficialAccount
    policy: Policy
    accounts: tuple[DesiredAccount, ...]  #: sorted by prefix
    digest: str  #: sha256 of the file's bytes, hex
    #: the avatar files the loader fingerprinted (all of them, unless it was told not to open
    #: avatars); not part of the value: a saved plan's config has none and fingerprints again
    avatar_prints: Mapping[Path, AvatarPrint] = field(default_factory=dict, compare=False, repr=False)

    def kf_account(self, prefix: str) -> str:
        """The full kf account name: `alice` -> `alice@shop_cs`."""
        return f"{prefix}@{self.official_account.wechat_id}"

    def account(self, prefix: str) -> DesiredAccount | None:
        return next((account for account in self.accounts if account.prefix == prefix), None)

    @property
    def present(self) -> tuple[DesiredAccount, ...]:
        return tuple(account for account in self.accounts if account.present)

    @property
    def absent(self) -> tuple[DesiredAccount, ...]:
        return tuple(account for account in self.accounts if not account.present)

    def to_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "digest": self.digest,
            "official_account": self.official_account.to_dict(),
            "policy": self.policy.to_dict(),
            "accounts": [account.to_dict() for account in self.accounts],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Config:
        return cls(
            path=Path(data["path"]),
            official_account=OfficialAccount.from_dict(data["official_account"]),
            policy=Policy.from_dict(data["policy"]),
            accounts=tuple(
                sorted(
                    (DesiredAccount.from_dict(item) for item in data["accounts"]),
                    key=lambda account: account.prefix,
                )
            ),
            digest=data["digest"],
        )
