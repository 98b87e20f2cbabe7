"""Import: a WeCom corp's live 微信客服 accounts written as a kfsync.yaml that plans no changes.

Every choice mirrors how the WeCom rules match and compare:

- each account the app manages is written under its name with `id:` pinned,
  so the entry is that account even after a rename in the console;
- `servicers:` lists the users and departments read (departments as numbers),
  both keys always, so that who works the account is managed from now on;
- `avatar:` names the live picture saved into the avatars folder; a WeCom
  entry needs one, so an account whose picture could not be saved is written
  as a comment, with why, rather than as an entry that does not load;
- accounts the app does not manage are not written (kfsync never changes
  them); a comment names each;
- contact links cannot be listed through the API, so no `scenes:` are
  written: a comment says to declare them.

Two managed accounts of one name cannot both be keys of one mapping, and
renaming either in the file would plan a rename nobody asked for: the import
is refused, naming their ids, until one is renamed in the console.
`select_accounts`, `build_import` and `render_config` are pure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kfsync.errors import KfsyncError, UsageError
from kfsync.model import LiveAccount
from kfsync.providers.wecom.errcodes import CONSOLE
from kfsync.yamltext import SCHEMA_FILE, comment, file_header, line, policy_lines, scalar, shown

MAX_NAME = 16  #: characters of a 微信客服 account name, which is its key in kfsync.yaml
#: Characters a picture's file name may not hold on some system; such a name saves as its id.
_NOT_IN_FILE_NAMES = frozenset('/\\:*?"<>|')


class UnimportableError(KfsyncError):
    """The live accounts cannot be written as a valid kfsync.yaml."""


def no_account_message() -> str:
    """What `import` and `accounts` say when the app manages no account (the console's path)."""
    return f"this app manages no 微信客服 account yet: assign one in the console ({CONSOLE})"


@dataclass(frozen=True)
class ImportedAccount:
    """One managed account as it will be written."""

    name: str
    id: str
    users: tuple[str, ...]
    departments: tuple[int, ...]
    avatar: str | None = None  #: the saved picture, relative to the config's folder
    left_out: str | None = None  #: why the entry is only a comment (its avatar was not saved)

    def to_dict(self) -> dict[str, object]:
        """The entry's keys as kfsync.yaml spells them."""
        entry: dict[str, object] = {"id": self.id}
        if self.avatar is not None:
            entry["avatar"] = self.avatar
        entry["servicers"] = {"users": list(self.users), "departments": list(self.departments)}
        return entry


@dataclass(frozen=True)
class Imported:
    """The whole file to write, and what the user should hear about."""

    corp_id: str
    accounts: tuple[ImportedAccount, ...]  #: sorted by name
    unmanaged: tuple[LiveAccount, ...] = ()  #: listed in a comment, not imported
    warnings: tuple[str, ...] = ()

    @property
    def written(self) -> tuple[ImportedAccount, ...]:
        """The accounts written as entries (not left as comments)."""
        return tuple(a for a in self.accounts if a.left_out is None)

    def to_dict(self) -> dict[str, object]:
        """The document as kfsync.yaml holds it (what the config loader reads)."""
        return {
            "version": 1,
            "wecom": {"corp_id": self.corp_id},
            "policy": {"unmanaged": "report", "max_deletes": 1},
            "accounts": {a.name: a.to_dict() for a in self.written},
        }


# --------------------------------------------------------------------------- choosing


def select_accounts(
    live: Iterable[LiveAccount],
) -> tuple[tuple[LiveAccount, ...], tuple[LiveAccount, ...]]:
    """The accounts the app manages (by name) and those it does not; refused if any cannot be written.

    Raises UsageError when the app manages none, UnimportableError for a name
    the file cannot hold or one that two managed accounts share.
    """
    accounts = tuple(live)
    managed = tuple(sorted((a for a in accounts if a.manage_privilege is not False), key=_order))
    unmanaged = tuple(sorted((a for a in accounts if a.manage_privilege is False), key=_order))
    if not managed:
        raise UsageError(no_account_message())
    for account in managed:
        why = unwritable(account.kf_account)
        if why is not None:
            raise UnimportableError(
                f"cannot import {shown(account.kf_account)} ({account.kf_id}): its name {why}; "
                "rename it in the console, then import again")
    shared = sorted(name for name, count in Counter(a.kf_account for a in managed).items()
                    if count > 1)
    if shared:
        groups = "; ".join(
            f"{shown(name)}: {', '.join(str(a.kf_id) for a in managed if a.kf_account == name)}"
            for name in shared)
        raise UnimportableError(
            f"live accounts share a name ({groups}); kfsync.yaml names each account once: "
            "rename all but one in the console (微信客服 → 客服账号), then import again")
    return managed, unmanaged


def _order(account: LiveAccount) -> tuple[str, str]:
    return account.kf_account, account.kf_id or ""


def unwritable(name: str) -> str | None:
    """Why `name` cannot be a WeCom account's key in kfsync.yaml, or None when it can."""
    if not 1 <= len(name) <= MAX_NAME:
        return f"is not 1 to {MAX_NAME} characters"
    if "@" in name:
        return "holds '@', which kfsync.yaml keeps for the Official Account's kf accounts"
    if not name.isprintable():
        return "holds a control or unprintable character"
    return None


def avatar_stems(accounts: Iterable[LiveAccount]) -> dict[str, str]:
    """The file name (without .jpg) of each account's picture, by open_kfid.

    The account's name when every system can hold it as a file name and no other
    name differs from it in case alone; else its open_kfid (`wk` + [A-Za-z0-9_-]).
    """
    accounts = tuple(accounts)
    folded = Counter(a.kf_account.casefold() for a in accounts)
    stems = {}
    for account in accounts:
        name = account.kf_account
        plain = (name == name.strip() and not name.startswith(".") and name.isprintable()
                 and not _NOT_IN_FILE_NAMES & set(name) and folded[name.casefold()] == 1)
        stems[str(account.kf_id)] = name if plain else str(account.kf_id)
    return stems


def build_import(
    corp_id: str,
    managed: Iterable[LiveAccount],
    *,
    unmanaged: Iterable[LiveAccount] = (),
    avatars: Mapping[str, str] | None = None,
    avatar_failures: Mapping[str, str] | None = None,
) -> Imported:
    """The file for the `managed` accounts of `corp_id`.

    `avatars` maps an open_kfid to its saved picture's relative path;
    `avatar_failures` maps one to why its live picture was not saved.
    """
    avatars = avatars or {}
    avatar_failures = avatar_failures or {}
    warnings = []
    entries = []
    for account in sorted(managed, key=_order):
        kf_id = str(account.kf_id)
        entry = ImportedAccount(
            account.kf_account, kf_id, tuple(account.servicer_users or ()),
            tuple(int(d) for d in account.servicer_departments or ()), avatars.get(kf_id))
        if entry.avatar is None:
            why = avatar_failures.get(kf_id, "no live avatar")
            entry = ImportedAccount(entry.name, kf_id, entry.users, entry.departments,
                                    left_out=why)
            warnings.append(f"{shown(entry.name)} ({kf_id}): avatar not imported ({why}); "
                            "written as a comment: add avatar: and uncomment it to manage it")
        entries.append(entry)
    theirs = tuple(sorted(unmanaged, key=_order))
    warnings.extend(f"{shown(a.kf_account)} ({a.kf_id}) is not managed by this app; not imported"
                    for a in theirs)
    return Imported(corp_id, tuple(entries), theirs, tuple(warnings))


# --------------------------------------------------------------------------- writing


def _entry(account: ImportedAccount) -> list[str]:
    """The entry's lines, indented under `accounts:` (commented out when left out)."""
    lines = [f"  {scalar(account.name)}:",
             line(4, f"id: {scalar(account.id)}", "the live account: a rename keeps it")]
    if account.avatar is not None:
        lines.append(f"    avatar: {scalar(account.avatar)}")
    lines.append("    servicers:")
    for key, values in (("users", [scalar(u) for u in account.users]),
                        ("departments", [str(d) for d in account.departments])):
        lines.append(f"      {key}:" + ("" if values else " []"))
        lines.extend(f"        - {value}" for value in values)
    if account.left_out is None:
        return lines
    why = f"live avatar not imported ({account.left_out}): add avatar: and uncomment to manage it"
    return [f"  # {comment(why)}", *(f"  # {text[2:]}" for text in lines)]


def render_config(imported: Imported, *, schema_ref: str = SCHEMA_FILE) -> str:
    """The kfsync.yaml text: a short header, the knobs with comments, accounts by name."""
    corp = comment(imported.corp_id)
    lines = [
        *file_header([
            f"# The 微信客服 accounts of the WeCom corp {corp}, written by `kfsync import` from the",
            "# live ones: `kfsync plan` shows no changes for it.  Edit it, then plan and apply.",
        ], schema_ref),
        "",
        "wecom:",
        line(2, f"corp_id: {scalar(imported.corp_id)}", "refuse credentials of any other corp"),
        "",
        *policy_lines("NAME", "names", '"VIP"', "names never deleted"),
        "",
        "# Contact links: WeCom cannot list the links already made, so none were imported.",
        "# Declare the scenes of an account (`scenes: [website, poster]`) and apply prints",
        "# each one's link.",
    ]
    if imported.unmanaged:
        lines += ["# Not imported: this app does not manage these accounts; to manage one, assign it",
                  f"# under {CONSOLE}, then import again."]
        lines.extend(f"#   {comment(shown(a.kf_account))} ({comment(str(a.kf_id))})"
                     for a in imported.unmanaged)
    lines += ["", "accounts:" if imported.written else "accounts: {}"]
    for account in imported.accounts:
        lines.extend(_entry(account))
    return "\n".join(lines) + "\n"
