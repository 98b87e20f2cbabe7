"""Saved plans: `kfsync plan --out FILE` writes one, `kfsync apply FILE` applies exactly it.

A saved plan is the JSON plan document plus a `saved` block that pins what the
plan was made from: the config's digest, each avatar file's digest and a
fingerprint of the live list, the `--allow-delete` consent given at plan time,
and a seal over all of it (`kfsync.seal`).

The file is never trusted for what it asks: apply plans again from the config,
the live accounts and the policy, and refuses (exit 3) a file whose inputs
changed (stale), whose seal does not match, whose changes are not exactly
those planned now, or whose recorded consent names a delete the plan does not
make.  What it applies is the plan made now, which the file has shown equal.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kfsync import __version__
from kfsync.errors import ExitCode, KfsyncError
from kfsync.files import check_regular_or_new, remove_stale_temps, write_atomic
from kfsync.model import LiveAccount, LiveState, describe_drift
from kfsync.plan import Change, Plan
from kfsync.safety import consented, unmatched
from kfsync.seal import ALGORITHM, KEY_VARIABLES, seal, seal_key, sealed_by
from kfsync.textsafe import json_escapes

if TYPE_CHECKING:
    from kfsync.engine import Declared, Prepared

MAX_PLAN_BYTES = 64 * 1024 * 1024  #: a plan of 10,000 accounts is under 10 MiB
MAX_PLAN_DEPTH = 16  #: a plan document nests 4 levels deep
_SHOWN = 5  #: differences named in a refusal


class StalePlanError(KfsyncError):
    """The saved plan no longer describes the world; plan again."""

    exit_code = ExitCode.REFUSED


class UntrustedPlanError(KfsyncError):
    """The saved plan asks for something its inputs do not give, or its seal does not match."""

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
    allow_delete: frozenset[str] = frozenset()  #: consent recorded at plan time, as kf_accounts
    #: the live accounts the plan was made against, to say what changed (older plans: None)
    live_accounts: tuple[LiveAccount, ...] | None = None
    seal: str | None = None
    seal_key: str | None = None  #: the variable the seal's key was derived from
    path: Path = Path("plan.json")
    document: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


# --------------------------------------------------------------------------- writing


def saved_block(
    prepared: Prepared, *, created: datetime | None = None, consent: frozenset[str] = frozenset()
) -> dict[str, Any]:
    moment = created or datetime.now(timezone.utc)
    block: dict[str, Any] = {
        "kfsync_version": __version__,
        "config": str(prepared.declared.config.path),
        "config_digest": prepared.declared.config.digest,
        "avatar_digests": prepared.declared.avatar_digests(),
        "live_fingerprint": prepared.live.fingerprint(),
        "live_accounts": [a.to_dict() for a in sorted(prepared.live.accounts,
                                                      key=lambda a: a.kf_account)],
        "created": moment.astimezone(timezone.utc).isoformat(timespec="seconds"),
    }
    if consent:
        block["allow_delete"] = sorted(consent)
    return block


def check_target(path: Path) -> None:
    """Refuse, before any work, a `--out` path that is not a regular file or a new path."""
    try:
        check_regular_or_new(path)
    except OSError as exc:
        raise KfsyncError(f"{path}: cannot write the saved plan: {exc.strerror or exc}") from None


def save_plan(path: Path, prepared: Prepared, allow_delete: frozenset[str] = frozenset()) -> list[str]:
    """Write the plan (sealed when this job has a key) and return notes for the user.

    `allow_delete` (the names given to `plan`, already checked against the plan)
    is recorded only in a sealed file: unsealed, anyone could have written it.
    """
    from kfsync.planfile.document import plan_document

    key = seal_key()
    consent = consented(prepared.plan, allow_delete)
    notes = []
    if consent and key is None:
        notes.append(
            f"The --allow-delete consent is not recorded in {path}: there is no key to seal it "
            f"(set {' or '.join(KEY_VARIABLES)}); pass --allow-delete again to apply it."
        )
    document = plan_document(
        prepared.plan, saved=saved_block(prepared, consent=consent if key else frozenset())
    )
    if key is not None:
        document["saved"]["seal_key"] = key.variable
        document["saved"]["seal"] = seal(document, key)
    try:
        text = json_escapes(json.dumps(document, ensure_ascii=False, indent=2)) + "\n"
        write_atomic(path, text, regular_only=True)
        remove_stale_temps(path.parent, path.name)
    except OSError as exc:
        raise KfsyncError(f"{path}: cannot write the saved plan: {exc.strerror or exc}") from None
    return notes


# --------------------------------------------------------------------------- reading


def _not_a_plan(path: Path, why: str) -> KfsyncError:
    return KfsyncError(f"{path}: not a saved kfsync plan ({why})")


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as stream:
            if os.fstat(stream.fileno()).st_size > MAX_PLAN_BYTES:
                raise _not_a_plan(path, f"over {MAX_PLAN_BYTES // (1024 * 1024)} MiB")
            raw = stream.read(MAX_PLAN_BYTES + 1)
    except OSError as exc:
        raise KfsyncError(f"{path}: cannot read the saved plan: {exc.strerror or exc}") from None
    if len(raw) > MAX_PLAN_BYTES:  # not a regular file, or it grew
        raise _not_a_plan(path, f"over {MAX_PLAN_BYTES // (1024 * 1024)} MiB")
    return raw


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        twice = next(key for key in keys if keys.count(key) > 1)
        raise ValueError(f"the key {twice!r} appears twice in one object")
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _too_deep(value: Any) -> bool:
    """Whether `value` nests more than MAX_PLAN_DEPTH levels, found without recursion."""
    level: list[Any] = [value]
    for _ in range(MAX_PLAN_DEPTH):
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item if isinstance(item, list) else ())
            if isinstance(child, (dict, list))
        ]
        if not level:
            return False
    return True


def parse_plan_file(path: Path, raw: bytes) -> Any:
    """The JSON of a plan file: strict UTF-8, no duplicate keys, no NaN, bounded nesting."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_a_plan(path, f"not UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}") from None
    try:
        document = json.loads(text, object_pairs_hook=_unique, parse_constant=_no_constant)
    except RecursionError:
        raise _not_a_plan(path, f"nested more than {MAX_PLAN_DEPTH} levels deep") from None
    except ValueError as exc:
        raise _not_a_plan(path, f"invalid JSON: {exc}") from None
    if _too_deep(document):
        raise _not_a_plan(path, f"nested more than {MAX_PLAN_DEPTH} levels deep")
    return document


def _text(saved: Mapping[str, Any], key: str, *, optional: bool = False) -> str | None:
    if optional and key not in saved:
        return None
    value = saved[key]
    if not isinstance(value, str):
        raise TypeError(f"saved.{key} must be a string")
    return value


def _texts(value: Any, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TypeError(f"saved.{key} must be an array of strings")
    return list(value)


def load_plan(path: Path) -> SavedPlan:
    from kfsync.planfile.document import plan_from_json

    document = parse_plan_file(path, _read(path))
    saved = document.get("saved") if isinstance(document, dict) else None
    if not isinstance(saved, dict):
        raise KfsyncError(
            f"{path}: not a saved kfsync plan (no `saved` block); write one with `kfsync plan --out`"
        )
    try:
        plan = plan_from_json(document)
    except KfsyncError as exc:
        raise KfsyncError(f"{path}: {exc}") from None
    try:
        digests = saved["avatar_digests"]
        if not isinstance(digests, dict) or not all(isinstance(v, str) for v in digests.values()):
            raise TypeError("saved.avatar_digests must map prefixes to strings")
        return SavedPlan(
            plan=plan,
            config_digest=str(_text(saved, "config_digest")),
            avatar_digests=dict(digests),
            live_fingerprint=str(_text(saved, "live_fingerprint")),
            created=str(_text(saved, "created")),
            kfsync_version=str(_text(saved, "kfsync_version")),
            config=_text(saved, "config", optional=True),
            allow_delete=frozenset(_texts(saved.get("allow_delete", []), "allow_delete")),
            live_accounts=_live_accounts(saved.get("live_accounts")),
            seal=_text(saved, "seal", optional=True),
            seal_key=_text(saved, "seal_key", optional=True),
            path=path,
            document=document,
        )
    except KeyError as exc:
        raise KfsyncError(f"{path}: saved plan is malformed (missing saved.{exc.args[0]})") from None
    except TypeError as exc:
        raise KfsyncError(f"{path}: saved plan is malformed ({exc})") from None


def _live_accounts(value: Any) -> tuple[LiveAccount, ...] | None:
    """The recorded live accounts, or None when absent or malformed: they only explain staleness."""
    if not isinstance(value, list):
        return None
    try:
        return tuple(LiveAccount.from_dict(item) for item in value)
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- checking


def check_seal(saved: SavedPlan, environ: Mapping[str, str] | None = None) -> None:
    """Refuse (exit 3) a seal that does not match, and recorded consent without a seal.

    The key is derived from the variable the file names (`seal_key`), so that a
    job holding both the AppSecret and `KFSYNC_PLAN_KEY` checks the right one.
    An unsealed file without recorded consent is accepted: everything else in
    it is checked against the plan made now.
    """
    where = saved.path
    if saved.seal is None:
        if saved.allow_delete:
            raise UntrustedPlanError(
                f"{where}: refused: it records --allow-delete consent but has no seal; "
                "run `kfsync plan --out` again in a job that has the key"
            )
        if saved.seal_key is not None:
            raise UntrustedPlanError(f"{where}: refused: its seal was removed")
        return
    env = os.environ if environ is None else environ
    variable = saved.seal_key or KEY_VARIABLES[-1]
    if variable not in KEY_VARIABLES:
        raise UntrustedPlanError(
            f"{where}: refused: its seal names {_shown(variable)} as its key, which is not "
            f"{' or '.join(KEY_VARIABLES)}"
        )
    key = seal_key({variable: env[variable]}) if env.get(variable) else None
    if key is None:
        raise UntrustedPlanError(
            f"{where}: refused: it is sealed with a key from {variable}, which is not set here; "
            f"apply it with the same {variable} as the job that saved it"
        )
    if not saved.seal.startswith(f"{ALGORITHM}:") or not sealed_by(saved.document, key, saved.seal):
        raise UntrustedPlanError(
            f"{where}: refused: its seal does not match: the file was changed after "
            f"`kfsync plan --out` wrote it, or {variable} is not the one it was sealed with"
        )


def check_fresh(saved: SavedPlan, declared: Declared, live: LiveState) -> None:
    """Refuse (exit 3) a saved plan whose config, avatars or live list changed since.

    What changed in the live list is named, when the file recorded it, e.g.
    `alice@shop_cs: nickname 小美 → 小丽; 1 account added in the console (bob@shop_cs)`.
    """
    reasons = []
    if saved.plan.wechat_id != declared.config.scope:
        reasons.append("it is for another Official Account")
    if saved.config_digest != declared.config.digest:
        made_from = saved.config
        if made_from is not None and Path(made_from) != declared.config.path:
            made, given = _shown(made_from, 1000), _shown(str(declared.config.path), 1000)
            reasons.append(f"it was made from {made}, not {given}: pass -c {made}")
        else:
            reasons.append("the config changed")
    if saved.avatar_digests != declared.avatar_digests():
        reasons.append("an avatar file changed")
    if saved.live_fingerprint != live.fingerprint():
        reasons.append("the live accounts changed" + _drift(saved, live))
    if reasons:
        raise StalePlanError(
            f"saved plan is stale ({', '.join(reasons)} since {_when(saved.created)}); "
            "run `kfsync plan --out` again and review it"
        )


def _drift(saved: SavedPlan, live: LiveState) -> str:
    if saved.live_accounts is None:
        return ""
    lines = describe_drift(saved.live_accounts, live.accounts)
    if not lines:
        return ""
    more = f"; and {len(lines) - _SHOWN} more" if len(lines) > _SHOWN else ""
    return ": " + "; ".join(_shown(line, 200) for line in lines[:_SHOWN]) + more


def _when(created: str) -> str:
    """When a plan file says it was made, in the zone of the time rule; as written if not a time."""
    from kfsync.timefmt import human

    try:
        moment = datetime.fromisoformat(created.strip().replace("Z", "+00:00"))
        if moment.utcoffset() is not None:
            return human(int(moment.timestamp()))
    except (ValueError, OverflowError, OSError):
        pass
    return _shown(created)


def _shown(text: str, limit: int = 80) -> str:
    """Text from a file, for a message: escaped, and cut short."""
    from kfsync.textsafe import visible

    return visible(text[:limit]) + ("…" if len(text) > limit else "")


def differences(saved: Plan, fresh: Plan) -> list[str]:
    """How the plan a file holds differs from the plan made now, change by change; [] if equal.

    Changes are compared by id whatever their order, field by field; the
    unmanaged accounts and the refusals must be equal too.  Warnings and
    pending invitations only inform, and are shown as they are now.
    """
    found = []
    if saved.wechat_id != fresh.wechat_id:
        found.append(f"it is for {_shown(saved.wechat_id)}, not {_shown(fresh.wechat_id)}")
    mine = {c.id: c for c in saved.changes}
    now = {c.id: c for c in fresh.changes}
    for change in sorted({**now, **mine}.values(), key=lambda c: c.sort_key):
        name = _shown(change.id)
        if change.id not in now:
            found.append(f"it adds {name}")
        elif change.id not in mine:
            found.append(f"it leaves out {name}")
        elif mine[change.id] != now[change.id]:
            found.append(f"{name} differs in {', '.join(_fields_differing(mine[change.id], now[change.id]))}")
    if saved.unmanaged != fresh.unmanaged:
        found.append("its unmanaged accounts differ")
    if saved.refusals != fresh.refusals:
        found.append("its refusals differ")
    return found


def _fields_differing(left: Change, right: Change) -> list[str]:
    mine, now = left.to_dict(), right.to_dict()
    return [key for key in mine if mine[key] != now[key]]


def check_matches(saved: SavedPlan, fresh: Plan) -> frozenset[str]:
    """Refuse (exit 3) a file whose plan is not the one made now; return its recorded consent.

    The consent must name only deletes (or rebinds) of the plan.
    """
    found = differences(saved.plan, fresh)
    if found:
        more = len(found) - _SHOWN
        shown = "; ".join(found[:_SHOWN]) + (f"; and {more} more" if more > 0 else "")
        cause = (f"it was made by kfsync {_shown(saved.kfsync_version)}, this is {__version__}"
                 if saved.kfsync_version != __version__ else "it was edited")
        raise UntrustedPlanError(
            f"{saved.path}: refused: its changes are not the ones kfsync plans now from the same "
            f"config, live accounts and policy ({shown}); {cause}: "
            "run `kfsync plan --out` again and review it"
        )
    unmatched(fresh, set(saved.allow_delete), source=f"{saved.path}'s recorded --allow-delete")
    return saved.allow_delete
