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

__all__ = ["Config", "DesiredAccount", "OfficialAccount", "Policy", "State", "Unmanaged",
           "WeComCorp"]


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
class WeComCorp:
    """The WeCom corp whose 微信客服 accounts are managed."""

    corp_id: str  #: the corp's CorpID (`ww…`): the credentials in use must be for it

    def to_dict(self) -> dict[str, object]:
        return {"corp_id": self.corp_id}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WeComCorp:
        return cls(corp_id=data["corp_id"])


@dataclass(frozen=True)
class Config:
    """A whole kfsync.yaml, validated: for an Official Account, or (`wecom`) for a WeCom corp."""

    path: Path
    official_account: OfficialAccount | None
    policy: Policy
    accounts: tuple[DesiredAccount, ...]  #: sorted by prefix
    digest: str  #: sha256 of the file's bytes, hex
    wecom: WeComCorp | None = None  #: set instead of official_account

    @property
    def product(self) -> str:
        """Which provider the file is for: `wechat_mp` or `wecom`."""
        return "wecom" if self.wecom is not None else "wechat_mp"

    @property
    def scope(self) -> str:
        """What every account belongs to: the Official Account's WeChat ID, or the CorpID."""
        if self.wecom is not None:
            return self.wecom.corp_id
        assert self.official_account is not None, "a config is for an Official Account or a corp"
        return self.official_account.wechat_id

    def kf_account(self, prefix: str) -> str:
        """How plans name an account: `alice` -> `alice@shop_cs`; a WeCom account by its name alone.

        A WeCom account is named by its name (its id is server-assigned and travels in
        a change's values), so its plans read `+ add 售前咨询`, not `售前咨询@ww…`.
        """
        return prefix if self.wecom is not None else f"{prefix}@{self.scope}"

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
            "official_account": self.official_account.to_dict() if self.official_account else None,
            "wecom": self.wecom.to_dict() if self.wecom else None,
            "policy": self.policy.to_dict(),
            "accounts": [account.to_dict() for account in self.accounts],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Config:
        return cls(
            path=Path(data["path"]),
            official_account=(OfficialAccount.from_dict(data["official_account"])
                              if data.get("official_account") else None),
            wecom=WeComCorp.from_dict(data["wecom"]) if data.get("wecom") else None,
            policy=Policy.from_dict(data["policy"]),
            accounts=tuple(
                sorted(
                    (DesiredAccount.from_dict(item) for item in data["accounts"]),
                    key=lambda account: account.prefix,
                )
            ),
            digest=data["digest"],
        )
