"""The desired state: load a kfsync.yaml into a validated, frozen `Config`.

`load_config` is the one way in.  It reads the file safely (`yamlsafe`),
checks it against the shipped JSON Schema (`schema`), applies the schema's
defaults, runs the cross-field checks (`semantic`), and builds the model
(`model`).  Any problem, anywhere, ends in one `ConfigError` carrying every
problem found, each with its file, line and column.

A file is for an Official Account or for a WeCom corp.  A WeCom account is
keyed by its name, which is also its `prefix` (what policy globs and plans
name); its lists come out de-duplicated and sorted, departments as decimal
text in numeric order, and `servicers:` left out means servicers unmanaged
(None) while a list left out of a given `servicers:` means none.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from kfsync.config.model import (
    Config,
    DesiredAccount,
    OfficialAccount,
    Policy,
    State,
    WeComCorp,
)
from kfsync.config.positions import Positions
from kfsync.config.schema import apply_defaults, load_schema, schema_problems_memo
from kfsync.config.semantic import Avatars, semantic_problems
from kfsync.config.yamlsafe import read_document
from kfsync.errors import ConfigError, Problem

if TYPE_CHECKING:
    from kfsync.avatars import AvatarPrint
    from kfsync.cache import Cache
from kfsync.progress import Advance, ignore

__all__ = [
    "Config",
    "DesiredAccount",
    "OfficialAccount",
    "Policy",
    "WeComCorp",
    "load_config",
]


def load_config(
    path: str | os.PathLike[str],
    *,
    check_avatars: bool = True,
    cache: Cache | None = None,
    progress: Advance = ignore,
    prints: dict[Path, AvatarPrint] | None = None,
    warnings: list[Problem] | None = None,
) -> Config:
    """Read and validate a kfsync.yaml.

    Raises ConfigError with every problem found, or UsageError if the file
    cannot be read at all.  With `check_avatars=False` avatar files are not
    opened (their paths are still checked to stay inside the file's folder).
    A `cache` remembers what needs no checking again: avatar files already
    known to upload (by their content), and data already known to satisfy the
    schema (by the data and the schema), so an unchanged config is not
    validated again (nor jsonschema imported).  `progress` hears of each
    avatar file checked (normalising many takes seconds).  `prints`, when
    given, is filled with the fingerprint of each avatar file checked, for
    `kfsync.engine.declare`, which then need not fingerprint them again.
    `warnings`, when given, is extended with what is valid but likely to fail
    live (a WeCom file with more accounts than an unverified corp may hold).
    """
    display = os.fspath(path)
    base = Path(path).absolute().parent
    document = read_document(path, display)
    schema = load_schema()
    problems = list(document.problems)
    problems += schema_problems_memo(document.data, document.positions, schema, display,
                                     cache.verdicts if cache else None)
    data = apply_defaults(schema, document.data)
    avatars = Avatars()
    advice: list[Problem] = []
    problems += semantic_problems(
        data, document.positions, display, base, check_avatars=check_avatars,
        avatar_cache=cache.avatars if cache else None, avatars=avatars, progress=progress,
        warnings=advice,
    )
    if problems:
        raise ConfigError(_in_file_order(problems))
    if prints is not None:
        prints.update(avatars.prints)
    if warnings is not None:
        warnings.extend(_in_file_order(advice))
    return _build(
        cast(Mapping[str, Any], data),
        document.positions,
        path=Path(path),
        targets=avatars.targets,
        digest=hashlib.sha256(document.raw).hexdigest(),
    )


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    unique = {(p.line, p.column, p.message): p for p in problems}
    return [unique[key] for key in sorted(unique)]


def _build(
    data: Mapping[str, Any], positions: Positions, *, path: Path, targets: Mapping[str, Path],
    digest: str,
) -> Config:
    default_avatar = data.get("defaults", {}).get("avatar")
    wecom = "wecom" in data
    accounts = []
    for prefix, entry in sorted(data["accounts"].items()):
        state = cast(State, entry["state"])
        avatar = entry.get("avatar", default_avatar) if state == "present" else None
        account = DesiredAccount(
            prefix=prefix,
            state=state,
            nickname=entry.get("nickname"),
            avatar=targets[avatar] if avatar else None,  # all checked
            wechat=entry.get("wechat"),
            line=positions.key(("accounts", prefix))[0],
        )
        accounts.append(_wecom_account(account, entry) if wecom else account)
    return Config(
        path=path,
        official_account=None if wecom else OfficialAccount.from_dict(data["official_account"]),
        wecom=WeComCorp.from_dict(data["wecom"]) if wecom else None,
        policy=Policy.from_dict(data["policy"]),
        accounts=tuple(accounts),
        digest=digest,
    )


def _wecom_account(account: DesiredAccount, entry: Mapping[str, Any]) -> DesiredAccount:
    """A WeCom entry: named by its key, its lists sorted and de-duplicated."""
    servicers = entry.get("servicers")
    users = departments = None
    if servicers is not None:
        users = tuple(sorted(set(servicers.get("users", ()))))
        # 2.0 is a whole number to the schema too; the API and plans speak decimal text.
        numbers = sorted({int(number) for number in servicers.get("departments", ())})
        departments = tuple(str(number) for number in numbers)
    return replace(
        account,
        name=account.prefix,
        id=entry.get("id"),
        previously=tuple(sorted(set(entry.get("previously", ())))),
        servicer_users=users,
        servicer_departments=departments,
        scenes=tuple(sorted(set(entry.get("scenes", ())))),
    )
