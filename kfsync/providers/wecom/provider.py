"""A WeCom corp's 微信客服 accounts as a `kfsync.providers.base.Provider`.

The live side is `live.read_accounts` (every account, and the servicers of
those the app manages) and the avatars of the accounts a declared entry may
be.  A change becomes the calls that make it: an avatar is uploaded just
before the call that sets it (media live 3 days), and every item of a
servicer call is checked, since WeCom answers 0 over items that failed.
Accounts are named by their names in plans but changed by their open_kfid,
which a change carries in its values; the open_kfid an add returns is
remembered by name, for the servicers and the contact links of the same run.
Everything that knows `WeComClient`, its wire types or an errcode sits here.

Racing applies: where a corp allows two accounts of one name, two applies of
one file may both add an account; a reading after this run's adds (the
verification) keeps one of them (`twins`).  An account this run added that a
racing apply deleted so is replaced, for the servicers and the contact links,
by the one kept.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from kfsync.cache import Cache
from kfsync.downloads import fetch_pictures
from kfsync.errors import KfsyncError, OutcomeUnknownError, QuotaError, UsageError, WeChatError
from kfsync.model import (
    AVATAR,
    KF_ID,
    NAME,
    SERVICER_DEPARTMENTS,
    SERVICER_USERS,
    Field,
    LiveAccount,
    LiveState,
    Values,
    list_moves,
)
from kfsync.plan import Action, Change, Output
from kfsync.progress import Advance, ignore
from kfsync.providers.base import DEFAULT_PARALLELISM, ErrorKind
from kfsync.providers.wecom.errcodes import CONSOLE
from kfsync.providers.wecom.live import live_account, managed, read_accounts
from kfsync.providers.wecom.twins import settle_twins

if TYPE_CHECKING:
    from kfsync.config import Config
    from kfsync.providers.wecom.client import WeComClient
    from kfsync.providers.wecom.results import ServicerItemResult, WeComAccount
    from kfsync.providers.wecom.rules import WeComRules

log = logging.getLogger(__name__)

#: errcodes by the generic kind they are (quota and lost answers come as their own classes).
_KINDS = {
    95000: ErrorKind.NOT_FOUND,  # invalid open_kfid
    95004: ErrorKind.NOT_FOUND,  # open_kfid not exist
    95006: ErrorKind.ALREADY_EXISTS,  # invalid name: taken, where the corp forbids duplicates
    -1: ErrorKind.TRANSIENT,
    45033: ErrorKind.TRANSIENT,
    6000: ErrorKind.TRANSIENT,
}
#: What WeCom may answer a change of an account the app does not manage (the reference
#: leaves it open): such a refusal is told apart by re-reading, so that 95004 never reads
#: as "already deleted".
_UNMANAGED_CODES = frozenset({48002, 95004, 60011})
CONTACT_LINK = "contact_link"
#: Readings at most in one `read`, each after settling racing twins (see `twins`).
TWIN_ROUNDS = 8


class NotManagedError(WeChatError):
    """A change refused because the app does not manage the account: not that it is gone."""


class ServicerItemsError(WeChatError):
    """Servicer items WeCom refused under a top-level 0; the others were done.

    `errcode` is the first failed item's; the message names every failed item.
    """

    def __init__(self, account: str, failed: Sequence[tuple[str, ServicerItemResult]]) -> None:
        parts: dict[str, list[str]] = {}
        for verb, item in failed:
            meaning = item.hint or item.errmsg
            parts.setdefault(verb, []).append(f"{item.subject} ({item.errcode} {meaning})")
        text = "; ".join(f"servicers not {verb}: {', '.join(items)}"
                         for verb, items in parts.items())
        verb = failed[0][0]
        super().__init__(failed[0][1].errcode, text, account=account, service="WeCom",
                         endpoint=f"/cgi-bin/kf/servicer/{'add' if verb == 'added' else 'del'}")
        self.message = f"{account}: {text}"
        self.failed = tuple(item for _, item in failed)


class WeComProvider:
    """The 微信客服 accounts of one corp, through one `WeComClient`; safe to share between threads."""

    service = "WeCom"

    def __init__(self, client: WeComClient, *, cache: Cache | None = None,
                 parallelism: int = DEFAULT_PARALLELISM) -> None:
        self.client = client
        self.cache = cache or Cache(None)
        self.parallelism = max(1, parallelism)  #: calls (and avatar downloads) at once
        self._config: Config | None = None  #: of the last reading: its pinned ids name accounts
        self._known: dict[str, str] = {}  #: name -> open_kfid, of accounts added in this run
        #: open_kfids live at the first reading: an account of this run's name not among them
        #: was made by someone else meanwhile (see `twins`)
        self._first_seen: frozenset[str] | None = None
        self._last: tuple[LiveAccount, ...] = ()  #: the last reading's accounts
        self._lock = threading.Lock()

    @classmethod
    def from_environment(cls, *, cache: Cache | None = None, parallelism: int = DEFAULT_PARALLELISM,
                         connections: int = 1) -> WeComProvider:
        """A provider whose client takes its credentials from KFSYNC_CORPID / KFSYNC_CORPSECRET.

        `connections`: how many connections the client opens at once before its first call.
        """
        from kfsync.providers.wecom.client import WeComClient

        return cls(WeComClient.from_environment(connections), cache=cache, parallelism=parallelism)

    # ------------------------------------------------------------------ reading

    def read(self, config: Config, *, now: int | None = None, progress: Advance = ignore) -> LiveState:
        check_corp(config, self.client)
        self._config = config
        accounts = self._last = self._read_accounts(config)
        wanted = _declared_keys(config)
        urls = sorted({a.headimgurl for a in accounts if a.headimgurl
                       and a.manage_privilege is not False
                       and (a.kf_id in wanted or a.kf_account in wanted)})
        return LiveState(
            accounts=accounts,
            now=int(time.time()) if now is None else now,
            pictures=fetch_pictures(urls, self.cache.live, progress=progress,
                                    deadline=self.client.config.picture_deadline,
                                    workers=self.parallelism, adapter=self.client.adapter),
        )

    def _read_accounts(self, config: Config) -> tuple[LiveAccount, ...]:
        """The live accounts; after this run's adds, with their racing twins settled first.

        A reading that settles a twin is made again, as the corp changed; the
        last of TWIN_ROUNDS readings settles nothing: the plan shows what is left.
        """
        for round_ in range(1, TWIN_ROUNDS + 1):
            accounts = read_accounts(self.client, parallelism=self.parallelism)
            with self._lock:
                added = dict(self._known)
            if self._first_seen is None:
                self._first_seen = frozenset(a.kf_id for a in accounts if a.kf_id)
            if not added or round_ == TWIN_ROUNDS:
                break
            now, changed = settle_twins(self.client, accounts, added, self._first_seen, config)
            for name, open_kfid in now.items():
                self._remember(name, open_kfid)
            if not changed:
                break
        return accounts

    def _remember(self, name: str, open_kfid: str) -> None:
        with self._lock:
            self._known[name] = open_kfid

    def _open_kfid(self, name: str, accounts: Sequence[WeComAccount] | None = None) -> str:
        """The open_kfid of the managed account named `name`: added in this run, else live."""
        with self._lock:
            known = self._known.get(name)
        if known is not None:
            return known
        found = [a for a in (self.client.list_accounts() if accounts is None else accounts)
                 if a.name == name and managed(a)]
        if not found:
            raise KfsyncError(f"{name}: no live account this app manages has this name; "
                              "plan again")
        if len(found) > 1:
            ids = ", ".join(a.open_kfid for a in found)
            raise KfsyncError(f"{name}: {len(found)} live accounts have this name ({ids}); "
                              "pin one with `id:` and plan again")
        return found[0].open_kfid

    # ------------------------------------------------------------------ changing

    def execute(self, change: Change, uploads: Mapping[str, bytes]) -> None:
        try:
            self._make(change, uploads)
        except WeChatError as error:
            if error.errcode in _UNMANAGED_CODES and not isinstance(error, ServicerItemsError):
                self._explain_unmanaged(change, error)
            raise

    def _make(self, change: Change, uploads: Mapping[str, bytes]) -> None:
        after = change.after or Values({})
        if change.action is Action.ADD:
            added = _wanted_name(change)
            self._remember(added, self.client.add_account(added, self._upload(change, uploads)))
        elif change.action is Action.UPDATE:
            name = after.of(NAME)
            media_id = self._upload(change, uploads) if after.of(AVATAR) else None
            if name is None and media_id is None:
                raise KfsyncError(f"the plan gives neither a name nor an avatar for {change.id}")
            self.client.update_account(_given_id(change), name=name, media_id=media_id)
        elif change.action is Action.SERVICERS:
            self._servicers(change)
        elif change.action is Action.DELETE:
            self.client.delete_account(_given_id(change))
        else:  # only a plan file edited by hand gets here
            raise KfsyncError(f"{change.id}: WeCom accounts have no {change.action.value} "
                              "change; plan again")

    def _upload(self, change: Change, uploads: Mapping[str, bytes]) -> str:
        """The media_id of the account's declared picture, uploaded now (media live 3 days)."""
        picture = uploads.get(change.account)
        if picture is None:  # only a hand-edited plan file gets here
            raise KfsyncError(f"{change.id}: the config declares no avatar for {change.account}")
        return self.client.upload_image(picture).media_id

    def _servicers(self, change: Change) -> None:
        """Set the servicers a change gives, on the account it names or this run added.

        An account this run added may be gone: a racing apply that added its
        twin kept that one (see the module docstring).  Then the servicers go to
        the one account of that name that is live now.
        """
        given = _optional_id(change)
        open_kfid = given or self._open_kfid(change.account)
        try:
            self._set_servicers(change, open_kfid)
        except WeChatError as error:
            if given is not None or isinstance(error, ServicerItemsError) \
                    or self.classify(error) is not ErrorKind.NOT_FOUND:
                raise
            with self._lock:
                self._known.pop(change.account, None)
            kept = self._open_kfid(change.account)
            log.info("%s: %s is gone; its twin %s takes the servicers", change.account,
                     open_kfid, kept)
            self._set_servicers(change, kept)

    def _set_servicers(self, change: Change, open_kfid: str) -> None:
        """Add, then remove (customers are never left without the new servicers), by kind.

        Every item is checked; the failed ones are raised together, after the
        others were made.
        """
        users_added, users_removed = _difference(change, SERVICER_USERS)
        added, removed = _difference(change, SERVICER_DEPARTMENTS)
        departments_added = [_department(change, d) for d in added]
        departments_removed = [_department(change, d) for d in removed]
        failed: list[tuple[str, ServicerItemResult]] = []
        if users_added or departments_added:
            results = self.client.add_servicers(open_kfid, users_added, departments_added)
            failed.extend(("added", item) for item in results if not item.ok)
        if users_removed or departments_removed:
            results = self.client.delete_servicers(open_kfid, users_removed, departments_removed)
            failed.extend(("removed", item) for item in results if not item.ok)
        if failed:
            raise ServicerItemsError(change.account, failed)

    def _explain_unmanaged(self, change: Change, error: WeChatError) -> None:
        """Raise NotManagedError if the account refused is live but not the app's to change."""
        open_kfid = _optional_id(change)
        if open_kfid is None:
            return
        try:
            account = next((a for a in self.client.list_accounts() if a.open_kfid == open_kfid),
                           None)
        except KfsyncError:
            return  # the refusal itself says what it can
        if account is None or managed(account):
            return
        raise NotManagedError(
            error.errcode, error.errmsg, endpoint=error.endpoint, account=change.account,
            service="WeCom",
            hint=f"this app does not manage {account.name} ({open_kfid}): assign it to the app "
                 f"under {CONSOLE}, or leave it out of the config") from error

    def holds(self, change: Change) -> bool:
        """Re-read: the name is there (add), the values are (update, servicers), the id is gone."""
        accounts = self.client.list_accounts()
        after = change.after or Values({})
        if change.action is Action.ADD:
            added = _wanted_name(change)
            named = [a for a in accounts if a.name == added and managed(a)]
            if len(named) == 1:
                self._remember(added, named[0].open_kfid)
            return bool(named)
        open_kfid = _optional_id(change)
        if change.action is Action.SERVICERS and open_kfid is None:
            open_kfid = self._open_kfid(change.account, accounts)
        if open_kfid is None:
            raise KfsyncError(f"the plan gives no id for {change.id}")
        account = next((a for a in accounts if a.open_kfid == open_kfid), None)
        if change.action is Action.DELETE:
            return account is None
        if account is None:
            return False
        if change.action is Action.UPDATE:
            name = after.of(NAME)
            before = (change.before or Values({})).of(AVATAR)
            return (name is None or account.name == name) and (
                not after.of(AVATAR) or (bool(account.avatar) and account.avatar != before))
        live = live_account(account, self.client.list_servicers(open_kfid))
        lists = {SERVICER_USERS: live.servicer_users,
                 SERVICER_DEPARTMENTS: live.servicer_departments}
        return all(set(_listed(after, field)) == set(found or ())
                   for field, found in lists.items() if field.name in after)

    def classify(self, error: KfsyncError) -> ErrorKind | None:
        if isinstance(error, OutcomeUnknownError):
            return ErrorKind.OUTCOME_UNKNOWN
        if isinstance(error, QuotaError):
            return ErrorKind.QUOTA
        if isinstance(error, WeChatError) and not isinstance(error, NotManagedError):
            return _KINDS.get(error.errcode)
        return None

    # ------------------------------------------------------------------ outputs

    def outputs(self, wanted: Sequence[Output]) -> tuple[Output, ...]:
        """Each contact link made now (the API cannot list them), `parallelism` at a time."""
        strange = sorted({o.kind for o in wanted} - {CONTACT_LINK})
        if strange:
            raise KfsyncError(f"WeCom hands out no {', '.join(strange)} outputs; plan again")
        ids = self._output_ids({o.account for o in wanted})
        with ThreadPoolExecutor(max_workers=max(1, min(self.parallelism, len(wanted))),
                                thread_name_prefix="kfsync-links") as pool:
            links = list(pool.map(
                lambda o: self.client.add_contact_way(ids[o.account], o.key or None), wanted))
        return tuple(Output(o.account, o.kind, o.key, link.url)
                     for o, link in zip(wanted, links, strict=True))

    def _output_ids(self, names: set[str]) -> dict[str, str]:
        """The open_kfid of each named account: pinned in the config, added now, or listed."""
        ids: dict[str, str] = {}
        for name in names:
            entry = self._config.account(name) if self._config is not None else None
            if entry is not None and entry.id:
                ids[name] = entry.id
        with self._lock:
            ids.update((n, i) for n, i in self._known.items() if n in names and n not in ids)
        # The last reading (apply's verification) names the rest, unless a name is ambiguous there.
        for name in names - set(ids):
            found = [a.kf_id for a in self._last
                     if a.kf_account == name and a.manage_privilege is not False and a.kf_id]
            if len(found) == 1:
                ids[name] = found[0]
        rest = sorted(names - set(ids))
        if rest:
            accounts = self.client.list_accounts()
            ids.update((name, self._open_kfid(name, accounts)) for name in rest)
        return ids

    # ------------------------------------------------------------------ the rest

    def rules(self, config: Config) -> WeComRules:
        from kfsync.providers.wecom.rules import WeComRules

        return WeComRules(config.scope)

    def stop(self) -> None:
        self.client.stop()

    def close(self) -> None:
        self.client.close()


def _declared_keys(config: Config) -> set[str]:
    """The ids and names by which a declared present entry with an avatar may match a live one."""
    keys: set[str] = set()
    for entry in config.present:
        if entry.avatar is None:
            continue
        keys.update(filter(None, (entry.id, entry.name or entry.prefix, *entry.previously)))
    return keys


def _wanted_name(change: Change) -> str:
    name = change.after.of(NAME) if change.after is not None else None
    if not name:
        raise KfsyncError(f"the plan gives no name for {change.id}")
    return name


def _optional_id(change: Change) -> str | None:
    """The open_kfid a change acts on, from its before (or after) values."""
    for values in (change.before, change.after):
        found = values.of(KF_ID) if values is not None else None
        if found:
            return found
    return None


def _given_id(change: Change) -> str:
    found = _optional_id(change)
    if found is None:  # only a hand-edited plan file gets here
        raise KfsyncError(f"the plan gives no id for {change.id}; plan again")
    return found


def _listed(values: Values | None, field: Field[tuple[Any, ...]]) -> tuple[str, ...]:
    """A list a change's values give, () when they give none."""
    found = values.of(field) if values is not None else None
    return found or ()


def _difference(change: Change, field: Field[tuple[Any, ...]]) -> tuple[list[str], list[str]]:
    """What a servicers change adds and removes of one kind (a list it omits: unchanged)."""
    if change.after is None or field.name not in change.after:
        return [], []
    added, removed = list_moves(_listed(change.before, field), _listed(change.after, field))
    return sorted(added), sorted(removed)


def _department(change: Change, department: str) -> int:
    """Departments are text in plans and numbers on the wire."""
    if not department.isdigit():
        raise KfsyncError(f"{change.id}: department {department!r} is not a department id; "
                          "plan again")
    return int(department)


def check_corp(config: Config, client: WeComClient) -> None:
    """The config's `wecom.corp_id` must be the corp the credentials are for.

    A static token without KFSYNC_CORPID does not say whose it is: the check is
    skipped (WeCom refuses a token of another corp on every call anyway).
    """
    wanted = config.wecom.corp_id if config.wecom is not None else None
    actual = client.config.corpid
    if wanted and actual and wanted != actual:
        raise UsageError(
            f"{config.path}: wecom.corp_id is {wanted} but the credentials are for corp "
            f"{actual}; set KFSYNC_CORPID and KFSYNC_CORPSECRET to those of {wanted}, or "
            "correct wecom.corp_id")
