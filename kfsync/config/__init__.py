"""The desired state: load a kfsync.yaml into a validated, frozen `Config`.

`load_config` is the one way in.  It reads the file safely (`yamlsafe`),
checks it against the shipped JSON Schema (`schema`), applies the schema's
defaults, runs the cross-field checks (`semantic`), and builds the model
(`model`).  Any problem, anywhere, ends in one `ConfigError` carrying every
problem found, each with its file, line and column.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from kfsync.config.model import Config, DesiredAccount, OfficialAccount, Policy, State
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
    "load_config",
]


def load_config(
    path: str | os.PathLike[str],
    *,
    check_avatars: bool = True,
    cache: Cache | None = None,
    progress: Advance = ignore,
    prints: dict[Path, AvatarPrint] | None = None,
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
    problems += semantic_problems(
        data, document.positions, display, base, check_avatars=check_avatars,
        avatar_cache=cache.avatars if cache else None, avatars=avatars, progress=progress,
    )
    if problems:
        raise ConfigError(_in_file_order(problems))
    if prints is not None:
        prints.update(avatars.prints)
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
    accounts = []
    for prefix, entry in sorted(data["accounts"].items()):
        state = cast(State, entry["state"])
        avatar = entry.get("avatar", default_avatar) if state == "present" else None
        accounts.append(
            DesiredAccount(
                prefix=prefix,
                state=state,
                nickname=entry.get("nickname"),
                avatar=targets[avatar] if avatar else None,  # all checked
                wechat=entry.get("wechat"),
                line=positions.key(("accounts", prefix))[0],
            )
        )
    return Config(
        path=path,
        official_account=OfficialAccount.from_dict(data["official_account"]),
        policy=Policy.from_dict(data["policy"]),
        accounts=tuple(accounts),
        digest=digest,
    )
