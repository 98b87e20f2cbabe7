"""Saved plans: `kfsync plan --out FILE` writes one, `kfsync apply FILE` applies exactly it.

A saved plan is the JSON plan document plus a `saved` block that pins what the
plan was made from: the config's digest, each avatar file's digest and a
fingerprint of the live list.  Apply refuses a plan whose inputs have changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kfsync import __version__
from kfsync.errors import ExitCode, KfsyncError
from kfsync.files import remove_stale_temps, write_atomic
from kfsync.plan import Plan
from kfsync.reconcile import Declared, Prepared
from kfsync.textsafe import json_escapes


class StalePlanError(KfsyncError):
    """The saved plan no longer describes the world; plan again."""

    exit_code = ExitCode.REFUSED


@dataclass(frozen=True)
class SavedPlan:
    plan: Plan
    config_digest: str
    avatar_digests: dict[str, str]
    live_fingerprint: str
    created: str
    kfsync_version: str
    config: str | None = None  #: the config file it was made from, as named (older plans: None)


def saved_block(prepared: Prepared, *, created: datetime | None = None) -> dict[str, Any]:
    moment = created or datetime.now(timezone.utc)
    return {
        "kfsync_version": __version__,
        "config": str(prepared.declared.config.path),
        "config_digest": prepared.declared.config.digest,
        "avatar_digests": prepared.declared.avatar_digests(),
        "live_fingerprint": prepared.live.fingerprint(),
        "created": moment.astimezone(timezone.utc).isoformat(timespec="seconds"),
    }


def save_plan(path: Path, prepared: Prepared) -> None:
    from kfsync.render.jsondoc import plan_document

    document = plan_document(prepared.plan, saved=saved_block(prepared))
    try:
        write_atomic(path, json_escapes(json.dumps(document, ensure_ascii=False, indent=2)) + "\n")
        remove_stale_temps(path.parent, path.name)
    except OSError as exc:
        raise KfsyncError(f"{path}: cannot write the saved plan: {exc.strerror or exc}") from None


def load_plan(path: Path) -> SavedPlan:
    from kfsync.render.jsondoc import plan_from_json

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KfsyncError(f"{path}: cannot read the saved plan: {exc.strerror}") from None
    except ValueError as exc:
        raise KfsyncError(f"{path}: not a saved kfsync plan (invalid JSON: {exc})") from None
    saved = document.get("saved") if isinstance(document, dict) else None
    if not isinstance(saved, dict):
        raise KfsyncError(
            f"{path}: not a saved kfsync plan (no `saved` block); write one with `kfsync plan --out`"
        )
    plan = plan_from_json(document)
    try:
        return SavedPlan(
            plan=plan,
            config_digest=str(saved["config_digest"]),
            avatar_digests={str(k): str(v) for k, v in dict(saved["avatar_digests"]).items()},
            live_fingerprint=str(saved["live_fingerprint"]),
            created=str(saved["created"]),
            kfsync_version=str(saved["kfsync_version"]),
            config=str(saved["config"]) if "config" in saved else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise KfsyncError(f"{path}: saved plan is malformed ({exc})") from None


def check_fresh(saved: SavedPlan, declared: Declared, live_fingerprint: str) -> None:
    """Refuse (exit 3) a saved plan whose config, avatars or live list changed since."""
    from kfsync.render.common import visible

    reasons = []
    if saved.plan.wechat_id != declared.config.official_account.wechat_id:
        reasons.append("it is for another Official Account")
    if saved.config_digest != declared.config.digest:
        made_from = saved.config
        if made_from is not None and Path(made_from) != declared.config.path:
            reasons.append(f"it was made from {visible(made_from)}, not "
                           f"{visible(str(declared.config.path))}: pass -c {visible(made_from)}")
        else:
            reasons.append("the config changed")
    if saved.avatar_digests != declared.avatar_digests():
        reasons.append("an avatar file changed")
    if saved.live_fingerprint != live_fingerprint:
        reasons.append("the live accounts changed")
    if reasons:
        raise StalePlanError(
            f"saved plan is stale ({', '.join(reasons)} since {saved.created}); "
            "run `kfsync plan --out` again and review it"
        )
