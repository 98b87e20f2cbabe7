"""The Official Account as a `kfsync.providers.base.Provider`: read, execute, re-read, classify.

The live side is one `getkflist` call and the pictures worth comparing; a
change becomes the one call that makes it; WeChat's errcodes become the
generic error kinds the applier knows.  Everything that knows `KfClient`, its
wire types or an errcode sits here, not in the core.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from kfsync.cache import Cache
from kfsync.downloads import fetch_pictures
from kfsync.errors import (
    CredentialsError,
    KfsyncError,
    OutcomeUnknownError,
    QuotaError,
    UsageError,
    WeChatError,
)
from kfsync.model import AVATAR, INVITE_WX, NICKNAME, Field, LiveAccount, LiveState, Values
from kfsync.plan import Action, Change, Output
from kfsync.progress import Advance, ignore
from kfsync.providers.base import DEFAULT_PARALLELISM, ErrorKind
from kfsync.providers.wechat_mp.rules import WechatMpRules

if TYPE_CHECKING:
    from kfsync.config import Config
    from kfsync.providers.wechat_mp.client import KfClient
    from kfsync.providers.wechat_mp.client.results import KfAccount

#: errcodes by the generic kind they are (quota and transient ones come as their own classes too).
_KINDS = {
    65401: ErrorKind.NOT_FOUND,  # invalid custom service account
    65406: ErrorKind.ALREADY_EXISTS,  # account exists
    65408: ErrorKind.ALREADY_EXISTS,  # that WeChat user is already invited
    65411: ErrorKind.ALREADY_EXISTS,  # an invitation is already out for the account
    45009: ErrorKind.QUOTA,
    45011: ErrorKind.QUOTA,
    -1: ErrorKind.TRANSIENT,
}


def live_account(account: KfAccount) -> LiveAccount:
    """The model's account from getkflist's wire type."""
    return LiveAccount(
        kf_account=account.kf_account,
        nickname=account.nickname,
        headimgurl=account.headimgurl,
        kf_wx=account.kf_wx,
        invite_wx=account.invite_wx,
        invite_expire_time=account.invite_expire_time,
        invite_status=account.invite_status,
        kf_openid=account.kf_openid,
        kf_id=account.kf_id,
    )


class WechatMpProvider:
    """The kf accounts of one Official Account, through one `KfClient`."""

    service = "WeChat"

    def __init__(self, client: KfClient, *, cache: Cache | None = None,
                 parallelism: int = DEFAULT_PARALLELISM) -> None:
        self.client = client
        self.cache = cache or Cache(None)
        self.parallelism = parallelism  #: live pictures downloaded at once

    @classmethod
    def from_environment(cls, *, cache: Cache | None = None, parallelism: int = DEFAULT_PARALLELISM,
                         connections: int = 1) -> WechatMpProvider:
        """A provider whose client takes its credentials from KFSYNC_* variables.

        `connections`: how many connections the client opens at once before its first call.
        """
        from kfsync.providers.wechat_mp.client import KfClient

        return cls(KfClient.from_environment(connections), cache=cache, parallelism=parallelism)

    # ------------------------------------------------------------------ reading

    def read(self, config: Config, *, now: int | None = None, progress: Advance = ignore) -> LiveState:
        check_appid(config, self.client)
        accounts = tuple(live_account(a) for a in self.client.list_accounts())
        with_avatar = {a.prefix for a in config.present if a.avatar is not None}
        urls = sorted({a.headimgurl for a in accounts if a.headimgurl and a.prefix in with_avatar})
        live = LiveState(
            accounts=accounts,
            now=int(time.time()) if now is None else now,
            pictures=fetch_pictures(urls, self.cache.live, progress=progress,
                                    deadline=self.client.config.picture_deadline,
                                    workers=self.parallelism, adapter=self.client.adapter),
        )
        check_suffix(config, live)
        return live

    def _live(self, kf_account: str) -> LiveAccount | None:
        found = (a for a in self.client.list_accounts() if a.kf_account == kf_account)
        account = next(found, None)
        return live_account(account) if account is not None else None

    # ------------------------------------------------------------------ changing

    def execute(self, change: Change, uploads: Mapping[str, bytes]) -> None:
        account = change.account
        if change.action is Action.DELETE:
            self.client.delete_account(account)
        elif change.action is Action.ADD:
            self.client.add_account(account, _wanted(change, NICKNAME))
        elif change.action is Action.UPDATE:
            self.client.update_account(account, _wanted(change, NICKNAME))
        elif change.action is Action.SET_AVATAR:
            picture = uploads.get(account)
            if picture is None:  # only a hand-edited plan file gets here
                raise KfsyncError(f"the config declares no avatar for {account}")
            self.client.set_avatar(account, picture)
        else:
            self.client.invite_worker(account, _wanted(change, INVITE_WX))

    def holds(self, change: Change) -> bool:
        account = self._live(change.account)
        after = change.after or Values({})
        if change.action is Action.DELETE:
            return account is None
        if account is None:
            return False
        if change.action in (Action.ADD, Action.UPDATE):
            return account.nickname == after.of(NICKNAME)
        if change.action is Action.INVITE:
            wanted = after.of(INVITE_WX)
            return account.kf_wx == wanted or (
                account.invite_wx == wanted and account.invite_status == "waiting"
            )
        # set_avatar: a new picture URL means the upload landed.
        before = (change.before or Values({})).of(AVATAR)
        return bool(account.headimgurl) and account.headimgurl != before

    def classify(self, error: KfsyncError) -> ErrorKind | None:
        if isinstance(error, OutcomeUnknownError):
            return ErrorKind.OUTCOME_UNKNOWN
        if isinstance(error, QuotaError):
            return ErrorKind.QUOTA
        if isinstance(error, WeChatError):
            return _KINDS.get(error.errcode)
        return None

    def outputs(self, wanted: Sequence[Output]) -> tuple[Output, ...]:
        return tuple(wanted)  # the Official Account hands out nothing per account

    def rules(self, config: Config) -> WechatMpRules:
        return WechatMpRules(config.scope)

    def stop(self) -> None:
        self.client.stop()

    def close(self) -> None:
        self.client.close()


def _wanted(change: Change, field: Field[str]) -> str:
    """The value a change sets; a plan file edited by hand may lack it."""
    value = change.after.of(field) if change.after is not None else None
    if not value:
        raise KfsyncError(f"the plan gives no {field.name} for {change.id}")
    return value


def check_appid(config: Config, client: KfClient) -> None:
    """The config's `official_account.appid`, when set, must match the credentials in use.

    A static token does not say whose it is: then the AppID comes from
    KFSYNC_APPID, and without it the check cannot be made, so kfsync refuses
    rather than skip it in silence.
    """
    wanted = config.official_account.appid if config.official_account else None
    actual = client.appid
    if wanted and not actual:
        raise CredentialsError(
            f"{config.path}: official_account.appid is {wanted}, but with a static token kfsync "
            "cannot tell which Official Account the token is for; set KFSYNC_APPID to the "
            "token's AppID, or remove official_account.appid from the config"
        )
    if wanted and actual and wanted != actual:
        raise UsageError(
            f"{config.path}: official_account.appid is {wanted} but the credentials are for "
            f"{actual}; point KFSYNC_APPID at the right Official Account"
        )


def check_suffix(config: Config, live: LiveState) -> None:
    """Live accounts that all carry another suffix mean a mistyped `official_account.wechat_id`.

    Planned as they are, every declared account would be added under the
    wrong suffix; kfsync stops instead and names the suffix WeChat uses.
    """
    wechat_id = config.scope
    suffixes = Counter(a.suffix for a in live.accounts if not config.policy.is_ignored(a.prefix))
    if not suffixes or wechat_id in suffixes:
        return
    used, count = suffixes.most_common(1)[0]
    if not used:  # accounts without any suffix say nothing about the right one
        return
    others = f" (and {len(suffixes) - 1} other suffixes)" if len(suffixes) > 1 else ""
    raise UsageError(
        f"{config.path}: official_account.wechat_id is {wechat_id}, but none of the "
        f"{sum(suffixes.values())} live accounts ends in @{wechat_id}: WeChat uses @{used} "
        f"({count} of them){others}; set official_account.wechat_id: {used} (the suffix is the "
        "Official Account's WeChat ID), or check that the credentials are for this account"
    )
