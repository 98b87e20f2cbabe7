"""The loaded desired state: frozen values built once from a validated kfsync.yaml.

Nothing below the config loader touches YAML dicts: plan and apply see
`Config`, and the account values of `kfsync.model` (`Policy`, `DesiredAccount`).
Defaults are already applied (from the schema), avatars are resolved absolute
paths, accounts are sorted by prefix.  The constructors' own defaults, for
building values in tests, mirror the schema's (a test keeps them equal); the
loader never relies on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kfsync.model import DesiredAccount, Policy, State, Unmanaged

__all__ = ["Config", "DesiredAccount", "OfficialAccount", "Policy", "State", "Unmanaged"]


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
class Config:
    """A whole kfsync.yaml, validated."""

    path: Path
    official_account: OfficialAccount
    policy: Policy
    accounts: tuple[DesiredAccount, ...]  #: sorted by prefix
    digest: str  #: sha256 of the file's bytes, hex

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
