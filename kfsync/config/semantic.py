"""Checks that span fields, which the JSON Schema cannot express.

- a WeChat ID works at most one account;
- at most 100 accounts that are not absent (WeChat's limit per Official Account),
  or 5000 for a WeCom corp, whose files are warned past 10 (an unverified
  corp's limit, errcode 95027, which only the corp's state decides);
- in a WeCom file, a name appears once, as an account's key or in a
  `previously`, an `id` pins one entry, and every present account has an
  avatar (its own or `defaults.avatar`: WeCom creates no account without one);
- a declared account must not match an `ignore` glob, and a tombstone must not
  match a `protected` one;
- globs are well formed (`[` closed, classes not empty, `!` only inside them);
- avatar paths stay inside the config file's folder (no absolute paths, no
  `..`, no symbolic links leading out: a pull request must not be able to make
  a CI job upload an arbitrary file from the runner), hold no control
  character (a NUL byte cuts a file name short), exist, and are images
  that upload (see `kfsync.avatars`).

The checks run on data that may also have schema problems, so each one skips
values of the wrong type (the schema reports those) and all problems come out
together.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

from kfsync.avatars import AvatarPrint, fingerprint_avatar, fingerprint_avatars
from kfsync.cache import AvatarPrints
from kfsync.config.positions import FieldPath, Positions, printable
from kfsync.config.schema import show
from kfsync.errors import AvatarError, Problem
from kfsync.progress import Advance, ignore
from kfsync.textsafe import visible

MAX_PRESENT_ACCOUNTS = 100
MAX_WECOM_ACCOUNTS = 5000  #: per corp
UNVERIFIED_CORP_ACCOUNTS = 10  #: per corp not verified (WeCom errcode 95027)
#: C0 and C1 controls, DEL, and lone surrogates: no file name of an avatar holds one.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_GLOB_CHARS = re.compile(r"[A-Za-z0-9_*?\[\]!]+")
_GLOB = re.compile(r"(?:[A-Za-z0-9_*?]|\[!?[A-Za-z0-9_]+\])+")
#: a glob on WeCom names: any character but [ stands for itself or is a wildcard; [ opens a class
_NAME_GLOB = re.compile(r"(?:[^\[]|\[!?[^\]]+\])+")


class AvatarPathError(ValueError):
    """An avatar path that is not allowed; the message says why."""


def resolve_avatar(value: str, base: Path, *, root: Path | None = None) -> Path:
    """The absolute file `value` names, relative to folder `base`, refusing any way out of it.

    `root` is `base.resolve()`, when the caller already has it.
    """
    control = next((c for c in value if _CONTROL.match(c)), None)
    if control is not None:
        raise AvatarPathError(f"holds the control character {visible(control)}; no file name "
                              "kfsync reads may hold one: remove it")
    if "\\" in value:
        raise AvatarPathError("use / to separate folders, not \\")
    if PurePosixPath(value).is_absolute() or PureWindowsPath(value).drive:
        raise AvatarPathError("must be relative to the folder of the config file, not absolute")
    if ".." in PurePosixPath(value).parts:
        raise AvatarPathError("must stay inside the folder of the config file; remove ..")
    try:
        root = root or base.resolve()
        target = (base / value).resolve()
    except (OSError, RuntimeError) as exc:  # a symbolic-link loop
        raise AvatarPathError(f"cannot be resolved ({exc})") from None
    if not target.is_relative_to(root):
        raise AvatarPathError(
            "leads outside the folder of the config file through a symbolic link; refused"
        )
    return target


def _regular(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


def _globs(policy: dict[str, object], key: str) -> Iterator[tuple[FieldPath, str]]:
    items = policy.get(key)
    if isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, str):
                yield ("policy", key, index), item


def _accounts(data: dict[str, object]) -> Iterator[tuple[str, dict[str, object]]]:
    accounts = data.get("accounts")
    if isinstance(accounts, dict):
        for prefix, entry in accounts.items():
            if isinstance(entry, dict):
                yield prefix, entry


@dataclass
class Avatars:
    """What the checks learnt of the avatars, for building the model without doing it again."""

    targets: dict[str, Path] = field(default_factory=dict)  #: the files written values name
    prints: dict[Path, AvatarPrint] = field(default_factory=dict)  #: files known to upload


class _Checker:
    def __init__(self, positions: Positions, display: str, base: Path,
                 avatar_cache: AvatarPrints | None, avatars: Avatars,
                 progress: Advance = ignore) -> None:
        self.progress = progress
        self.positions = positions
        self.display = display
        self.base = base
        self.root: Path | None = None  # base, resolved once, when an avatar needs it
        self.avatar_cache = avatar_cache
        self.found = avatars
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.avatars_seen: dict[Path, str | None] = {}  # for this load only
        self.ahead: dict[Path, AvatarPrint | AvatarError] = {}  #: fingerprinted in one batch

    def add(self, path: FieldPath, message: str, *, at_key: bool = False) -> None:
        self.problems.append(self.positions.problem(self.display, path, message, at_key=at_key))

    def globs(self, policy: dict[str, object], *, wecom: bool) -> None:
        for key in ("protected", "ignore"):
            for path, glob in _globs(policy, key):
                if wecom and glob and not _NAME_GLOB.fullmatch(glob):
                    self.add(path, f"{show(glob)} is not a valid glob: close every [ with ] "
                                   "and put at least one character inside")
                elif not wecom and _GLOB_CHARS.fullmatch(glob) and not _GLOB.fullmatch(glob):
                    self.add(
                        path,
                        f"{show(glob)} is not a valid glob: close every [ with ], put at "
                        "least one character inside, and use ! only right after [",
                    )

    def policy_conflicts(self, data: dict[str, object], policy: dict[str, object]) -> None:
        ignore = list(_globs(policy, "ignore"))
        protected = list(_globs(policy, "protected"))
        for prefix, entry in _accounts(data):
            for _, glob in ignore:
                if fnmatch.fnmatchcase(prefix, glob):
                    self.add(
                        ("accounts", prefix),
                        f"matches policy.ignore glob {show(glob)}, so kfsync "
                        "would never touch it; remove it here or from policy.ignore",
                        at_key=True,
                    )
            if entry.get("state") != "absent":
                continue
            for _, glob in protected:
                if fnmatch.fnmatchcase(prefix, glob):
                    self.add(
                        ("accounts", prefix, "state"),
                        f"the account matches policy.protected "
                        f"glob {show(glob)} and is never deleted; remove the glob or this entry",
                    )

    def bindings(self, data: dict[str, object]) -> None:
        owners: dict[str, str] = {}
        for prefix, entry in _accounts(data):
            wechat = entry.get("wechat")
            if not isinstance(wechat, str) or entry.get("state") == "absent":
                continue
            owner = owners.setdefault(wechat.casefold(), prefix)
            if owner != prefix:
                line = self.positions.key(("accounts", owner))[0]
                self.add(
                    ("accounts", prefix, "wechat"),
                    f"{printable(wechat)} already works account {printable(owner)} "
                    f"(line {line}); a WeChat ID can work only one account",
                )

    def count(self, data: dict[str, object], *, wecom: bool) -> None:
        present = sum(1 for _, entry in _accounts(data) if entry.get("state") != "absent")
        if wecom and present > MAX_WECOM_ACCOUNTS:
            self.add(("accounts",), f"{present} accounts are declared present; WeCom allows at "
                                    f"most {MAX_WECOM_ACCOUNTS} per corp", at_key=True)
        elif wecom and present > UNVERIFIED_CORP_ACCOUNTS:
            self.warnings.append(self.positions.problem(
                self.display, ("accounts",),
                f"{present} accounts are declared present; an unverified corp may hold at most "
                f"{UNVERIFIED_CORP_ACCOUNTS} accounts (WeCom errcode 95027); verify the corp, or "
                f"declare at most {UNVERIFIED_CORP_ACCOUNTS}", at_key=True))
        elif not wecom and present > MAX_PRESENT_ACCOUNTS:
            self.add(
                ("accounts",),
                f"{present} accounts are declared present; WeChat allows at "
                f"most {MAX_PRESENT_ACCOUNTS} per Official Account",
                at_key=True,
            )

    def names(self, data: dict[str, object]) -> None:
        """A WeCom name appears once in the file, as a key or in a `previously`; an id pins one entry."""
        owners: dict[str, FieldPath] = {name: ("accounts", name) for name, _ in _accounts(data)}
        pinned: dict[str, str] = {}
        for name, entry in _accounts(data):
            previously = entry.get("previously")
            for index, old in enumerate(previously if isinstance(previously, list) else ()):
                if not isinstance(old, str):
                    continue
                here: FieldPath = ("accounts", name, "previously", index)
                owner = owners.setdefault(old, here)
                if owner != here and owner[:3] != here[:3]:  # a repeat in one list: uniqueItems
                    self.add(here, f"{printable(old)} is already {self._named(owner, name)}; a name "
                                   "may appear once in the file, as an account or in a `previously`")
            pin = entry.get("id")
            if isinstance(pin, str):
                first = pinned.setdefault(pin, name)
                if first != name:
                    line = self.positions.key(("accounts", first))[0]
                    self.add(("accounts", name, "id"),
                             f"{pin} already pins account {printable(first)} (line {line}); "
                             "an account may be declared once: remove one of them")

    def _named(self, owner: FieldPath, name: str) -> str:
        """Where a name was first declared, for the message about its repetition under `name`."""
        if len(owner) == 2:
            line = self.positions.key(owner)[0]
            if owner[1] == name:
                return f"this account's own name (line {line})"
            return f"the name of account {printable(str(owner[1]))} (line {line})"
        line = self.positions.value(owner)[0]
        return f"in the `previously` of account {printable(str(owner[1]))} (line {line})"

    def avatars_needed(self, data: dict[str, object]) -> None:
        """Every present WeCom account has an avatar: WeCom creates no account without one."""
        defaults = data.get("defaults")
        if isinstance(defaults, dict) and "avatar" in defaults:
            return
        for name, entry in _accounts(data):
            if entry.get("state") != "absent" and "avatar" not in entry:
                self.add(("accounts", name), "needs an avatar (WeCom creates no account without "
                                             "one): add `avatar:` to it, or `defaults.avatar`",
                         at_key=True)

    def avatars(self, data: dict[str, object], check_files: bool) -> None:
        defaults = data.get("defaults")
        places: list[tuple[FieldPath, object]] = []
        if isinstance(defaults, dict):
            places.append((("defaults", "avatar"), defaults.get("avatar")))
        for prefix, entry in _accounts(data):
            if entry.get("state") != "absent":
                places.append((("accounts", prefix, "avatar"), entry.get("avatar")))
        written = [(path, value) for path, value in places if isinstance(value, str) and value]
        if check_files:  # all the files at once: those not known yet are decoded in parallel
            targets = [self._target(value) for _, value in written]
            self.ahead = fingerprint_avatars(
                [t for t in targets if isinstance(t, Path) and _regular(t)], self.avatar_cache,
                progress=self.progress,
            )
        for path, value in written:
            problem = self._avatar(value, check_files)
            if problem:
                self.add(path, problem)

    def _target(self, value: str) -> Path | str:
        """The file an avatar value names, or why it is refused."""
        target = self.found.targets.get(value)
        if target is None:
            if self.root is None:
                with contextlib.suppress(OSError, RuntimeError):  # resolve_avatar reports it
                    self.root = self.base.resolve()
            try:
                target = resolve_avatar(value, self.base, root=self.root)
            except AvatarPathError as exc:
                return str(exc)
            self.found.targets[value] = target
        return target

    def _avatar(self, value: str, check_files: bool) -> str | None:
        target = self._target(value)
        if isinstance(target, str):
            return target
        if not check_files:
            return None
        if target not in self.avatars_seen:
            self.avatars_seen[target] = self._avatar_file(value, target)
        return self.avatars_seen[target]

    def _avatar_file(self, written: str, target: Path) -> str | None:
        value = printable(written)
        try:
            if not target.exists():
                return f"no such file {value} (paths are relative to the folder of the config file)"
            if not target.is_file():
                return f"{value} is not a regular file"
            found = self.ahead.get(target) or fingerprint_avatar(target, self.avatar_cache)
            if isinstance(found, AvatarError):
                raise found
            self.found.prints[target] = found
        except OSError as exc:
            return f"{value}: cannot read it ({exc.strerror or exc})"
        except AvatarError as exc:
            return f"{value}: {exc}"
        return None


def semantic_problems(
    data: object,
    positions: Positions,
    display: str,
    base: str | os.PathLike[str],
    *,
    check_avatars: bool = True,
    avatar_cache: AvatarPrints | None = None,
    avatars: Avatars | None = None,
    progress: Advance = ignore,
    warnings: list[Problem] | None = None,
) -> list[Problem]:
    """The cross-field problems of `data` (defaults applied), for a config file in folder `base`.

    `avatar_cache` remembers which avatar contents are known to upload (see
    `kfsync.avatars.fingerprint_avatar`), so unchanged pictures are not decoded again.
    `avatars`, when given, is filled with the files the avatar values name and their fingerprints.
    `progress` hears of each avatar file checked.  `warnings`, when given, is
    extended with what is valid but likely to fail against the live side.
    """
    if not isinstance(data, dict):
        return []
    checker = _Checker(positions, display, Path(base), avatar_cache, avatars or Avatars(), progress)
    policy = data.get("policy")
    policy = policy if isinstance(policy, dict) else {}
    wecom = "wecom" in data
    checker.globs(policy, wecom=wecom)
    checker.policy_conflicts(data, policy)
    checker.count(data, wecom=wecom)
    if wecom:
        checker.names(data)
        checker.avatars_needed(data)
    else:
        checker.bindings(data)
    checker.avatars(data, check_avatars)
    if warnings is not None:
        warnings.extend(checker.warnings)
    return checker.problems
