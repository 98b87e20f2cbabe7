"""Import: the live accounts written as a kfsync.yaml that plans no changes.

The contract is that `kfsync plan` on the written file reports nothing to do,
so every choice here mirrors how `kfsync.plan` compares:

- a bound account declares `wechat: <kf_wx>`; a waiting, unexpired invitation
  declares `wechat: <invite_wx>` (plan shows it as pending, never re-sends it);
  an expired or rejected one declares nothing, since plan would invite again,
  and says so in a comment;
- an avatar is declared only when the live picture was saved and, normalised
  as plan normalises a declared avatar, fingerprints the same as the live one;
  an undeclared avatar is left alone by plan;
- no `defaults.avatar`, which plan would want to upload to every account.

`select_accounts`, `build_import` and `render_config` are pure; `prepare_avatar`
only decodes pictures (with the decompression-bomb guard of `kfsync.avatars`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from kfsync.errors import AvatarError, KfsyncError, UsageError
from kfsync.model import LiveAccount
from kfsync.providers.wechat_mp.rules import pending_invitation
from kfsync.timefmt import human
from kfsync.yamltext import SCHEMA_FILE as SCHEMA_FILE  # the name the command imported
from kfsync.yamltext import comment as _comment
from kfsync.yamltext import file_header, policy_lines
from kfsync.yamltext import line as _line
from kfsync.yamltext import scalar as scalar  # re-exported: the tests import it from here
from kfsync.yamltext import shown as _show

_JPEG_MAGIC = b"\xff\xd8\xff"
MAX_KEPT_BYTES = 1024 * 1024  #: a live JPEG up to this size is saved as served


class UnimportableError(KfsyncError):
    """A live account cannot be written as a valid kfsync.yaml."""


@dataclass(frozen=True)
class ImportedAccount:
    """One account as it will be written, with the comments that explain it."""

    prefix: str
    nickname: str
    wechat: str | None = None
    wechat_note: str | None = None  #: comment after `wechat:`
    avatar: str | None = None  #: path relative to the config's folder
    notes: tuple[str, ...] = ()  #: comment lines at the end of the account
    pending: bool = False  #: `wechat` is a waiting invitation, not a binding

    def to_dict(self) -> dict[str, object]:
        """The account's keys as kfsync.yaml spells them."""
        entry: dict[str, object] = {"nickname": self.nickname}
        if self.avatar is not None:
            entry["avatar"] = self.avatar
        if self.wechat is not None:
            entry["wechat"] = self.wechat
        return entry


@dataclass(frozen=True)
class Imported:
    """The whole file to write, and what the user should hear about."""

    wechat_id: str
    accounts: tuple[ImportedAccount, ...]  #: sorted by prefix
    appid: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def bound(self) -> int:
        return sum(1 for a in self.accounts if a.wechat and not a.pending)

    @property
    def pending(self) -> int:
        return sum(1 for a in self.accounts if a.pending)

    @property
    def avatars(self) -> int:
        return sum(1 for a in self.accounts if a.avatar is not None)

    def to_dict(self) -> dict[str, object]:
        """The document as kfsync.yaml holds it (what the schema checks)."""
        official: dict[str, object] = {"wechat_id": self.wechat_id}
        if self.appid is not None:
            official["appid"] = self.appid
        return {
            "version": 1,
            "official_account": official,
            "policy": {"unmanaged": "report", "max_deletes": 1},
            "accounts": {a.prefix: a.to_dict() for a in self.accounts},
        }


# --------------------------------------------------------------------------- choosing


def select_accounts(
    accounts: Iterable[LiveAccount], wechat_id: str | None
) -> tuple[str, tuple[LiveAccount, ...], tuple[str, ...]]:
    """The Official Account's WeChat ID, its accounts, and a warning for each other one.

    Without `wechat_id` it is inferred: every live account must share one suffix.
    """
    accounts = tuple(accounts)
    if wechat_id is None:
        suffixes = sorted({a.suffix for a in accounts})
        if not suffixes:
            raise UsageError(
                "there are no live kf accounts to infer the WeChat ID from; pass --wechat-id"
            )
        if len(suffixes) > 1:
            raise UsageError(
                f"the live kf accounts have {len(suffixes)} different suffixes "
                f"({', '.join(_show(s) for s in suffixes)}); pass --wechat-id to pick one"
            )
        wechat_id = suffixes[0]
    mine = tuple(sorted((a for a in accounts if a.suffix == wechat_id), key=lambda a: a.prefix))
    warnings = tuple(
        f"{_show(a.kf_account)} is not an account of {_show(wechat_id)}; skipped"
        for a in sorted(accounts, key=lambda a: a.kf_account)
        if a.suffix != wechat_id
    )
    return wechat_id, mine, warnings


def _binding(account: LiveAccount, now: int) -> ImportedAccount:
    """The `wechat:` that plans no invitation, as plan's binding rule reads the live account."""
    entry = ImportedAccount(account.prefix, account.nickname)
    if account.kf_wx:
        return replace(entry, wechat=account.kf_wx)
    invitee, status = account.invite_wx, account.invite_status
    if not invitee:
        return entry
    waiting = pending_invitation(account, now)
    if waiting is not None:
        return replace(entry, wechat=invitee, pending=True,
                       wechat_note=f"invitation pending until {human(waiting[1])}")
    what = "was rejected" if status == "rejected" else "expired"
    note = f"invitation to {_show(invitee)} {what}; add `wechat: {_show(invitee)}` to invite again"
    return replace(entry, notes=(note,))


def build_import(
    wechat_id: str,
    accounts: Iterable[LiveAccount],
    *,
    now: int,
    avatars: Mapping[str, str] | None = None,
    avatar_failures: Mapping[str, str] | None = None,
    appid: str | None = None,
    warnings: Iterable[str] = (),
) -> Imported:
    """The file for `accounts` (all of `wechat_id`) as of `now` (unix seconds).

    `avatars` maps a prefix to its saved picture's relative path; `avatar_failures`
    maps a prefix to why its live picture was not saved.
    """
    avatars = avatars or {}
    avatar_failures = avatar_failures or {}
    said = list(warnings)
    entries = {}
    for account in sorted(accounts, key=lambda a: a.prefix):
        entry = _binding(account, now)
        if account.prefix in avatars:
            entry = replace(entry, avatar=avatars[account.prefix])
        elif account.prefix in avatar_failures:
            why = avatar_failures[account.prefix]
            said.append(f"{account.kf_account}: avatar not imported ({why}); written without it")
            entry = replace(
                entry,
                notes=(*entry.notes, f"live avatar not imported ({why}); add avatar: to manage it"),
            )
        entries[account.prefix] = entry
    _one_account_per_wechat(entries, wechat_id, said)
    return Imported(wechat_id, tuple(entries[p] for p in sorted(entries)), appid, tuple(said))


def _one_account_per_wechat(
    entries: dict[str, ImportedAccount], wechat_id: str, warnings: list[str]
) -> None:
    """A WeChat ID works one account (as the loader checks): bindings win over invitations."""
    owners: dict[str, str] = {}
    ranked = sorted(entries.values(), key=lambda e: (e.pending, e.prefix))
    for entry in ranked:
        if entry.wechat is None:
            continue
        owner = owners.setdefault(entry.wechat.casefold(), entry.prefix)
        if owner == entry.prefix:
            continue
        note = (
            f"{_show(entry.wechat)} also works {_show(owner)}@{wechat_id}; "
            "a WeChat ID works one account"
        )
        warnings.append(f"{entry.prefix}@{wechat_id}: {note}; wechat: left out")
        entries[entry.prefix] = replace(
            entry, wechat=None, wechat_note=None, pending=False, notes=(*entry.notes, note)
        )


# --------------------------------------------------------------------------- checking


def check_import(imported: Imported) -> Imported:
    """Check the document against the config schema, as `kfsync validate` will.

    A `wechat:` or `appid` the schema refuses is left out with a warning (plan
    leaves undeclared bindings alone); a prefix or nickname it refuses cannot
    be written at all, and raises UnimportableError naming the account.
    """
    from kfsync.config.positions import Positions, dotted
    from kfsync.config.schema import load_schema, schema_problems

    schema = load_schema()
    problems = schema_problems(imported.to_dict(), Positions(), schema, "kfsync.yaml")
    by_field = {p.field: p.message for p in problems}
    warnings = list(imported.warnings)
    if "official_account.wechat_id" in by_field:
        raise UsageError(
            f"cannot use {_show(imported.wechat_id)} as the WeChat ID "
            f"({by_field['official_account.wechat_id']}); pass a valid --wechat-id"
        )
    appid = imported.appid
    if "official_account.appid" in by_field:
        appid = None
    accounts = []
    for entry in imported.accounts:
        kf_account = f"{entry.prefix}@{imported.wechat_id}"
        wechat_field = dotted(("accounts", entry.prefix, "wechat"))
        if wechat_field in by_field:
            why = by_field.pop(wechat_field).split(": ", 1)[-1]
            note = f"works with WeChat ID {_show(entry.wechat or '')}, which kfsync.yaml cannot hold"
            warnings.append(f"{kf_account}: {note} ({why}); wechat: left out")
            entry = replace(entry, wechat=None, wechat_note=None, pending=False,
                            notes=(*entry.notes, note))
        accounts.append(entry)
    checked = replace(imported, accounts=tuple(accounts), appid=appid, warnings=tuple(warnings))
    remaining = schema_problems(checked.to_dict(), Positions(), schema, "kfsync.yaml")
    if remaining:
        raise UnimportableError(_unimportable(checked, remaining[0].field, remaining[0].message))
    return checked


def _unimportable(imported: Imported, field: str, message: str) -> str:
    from kfsync.config.positions import dotted

    for entry in imported.accounts:
        where = dotted(("accounts", entry.prefix))
        if field == where or field.startswith(where + "."):
            return f"cannot import {_show(entry.prefix)}@{imported.wechat_id}: {message}"
    return f"cannot import the live accounts: {message}"


def prepare_avatar(data: bytes) -> bytes:
    """The file to save for a live picture: the JPEG itself, checked to compare equal to it.

    plan fingerprints the live picture as served and a declared avatar after
    normalising it (centre crop, 640x640, JPEG), and calls them the same when
    the fingerprints are close; this checks exactly that, so an imported avatar
    never plans an upload.  A picture that is not a JPEG, or a JPEG over 1 MiB, is
    saved normalised.
    Raises AvatarError for pictures Pillow cannot read (bomb guard on) or that
    would not compare equal (e.g. far from square).
    """
    from kfsync.avatars import normalise_avatar, picture_hash
    from kfsync.plan import SAME_PICTURE_BITS, hamming

    live = picture_hash(data)
    # A JPEG is kept as served, unless it is larger than WeChat's own (640x640, well under
    # 1 MiB): then it is normalised, so that an import never holds many large pictures.
    as_served = data.startswith(_JPEG_MAGIC) and len(data) <= MAX_KEPT_BYTES
    saved = data if as_served else normalise_avatar(data)
    distance = hamming(live, picture_hash(normalise_avatar(saved)))
    if distance > SAME_PICTURE_BITS:
        raise AvatarError(
            f"cropped to a square it differs from the live picture in {distance} bits of its "
            "fingerprint, so plan would want to upload it"
        )
    return saved


# --------------------------------------------------------------------------- writing


def render_config(imported: Imported, *, schema_ref: str = SCHEMA_FILE) -> str:
    """The kfsync.yaml text: a short header, the knobs with comments, accounts by prefix."""
    wechat_id = _comment(imported.wechat_id)
    lines = [
        *file_header([
            f"# The kf accounts of {wechat_id}, written by `kfsync import` from the live ones:",
            "# `kfsync plan` shows no changes for it.  Edit it, then plan and apply.",
        ], schema_ref),
        "",
        "official_account:",
        _line(2, f"wechat_id: {scalar(imported.wechat_id)}", f"every kf account is <prefix>@{wechat_id}"),
    ]
    if imported.appid is not None:
        lines.append(
            _line(2, f"appid: {scalar(imported.appid)}", "refuse credentials of any other account")
        )
    lines += [
        "",
        *policy_lines("PREFIX", "prefixes", '"boss"', "prefixes never deleted or rebound"),
        "",
    ]
    if not imported.accounts:
        lines.append("accounts: {}")
    else:
        lines.append("accounts:")
    for entry in imported.accounts:
        lines.append(f"  {scalar(entry.prefix)}:")
        lines.append(f"    nickname: {scalar(entry.nickname)}")
        if entry.avatar is not None:
            lines.append(f"    avatar: {scalar(entry.avatar)}")
        if entry.wechat is not None:
            lines.append(_line(4, f"wechat: {scalar(entry.wechat)}", entry.wechat_note))
        lines.extend(f"    # {_comment(note)}" for note in entry.notes)
    return "\n".join(lines) + "\n"
