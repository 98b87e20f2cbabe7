"""`kfsync emulator --seed FILE`: the admin seed body, read from a YAML or JSON file.

The file holds exactly what `POST /_emulator/seed` takes (see `seed`): lists
of `accounts`, `records` and `waitcase`.  A `.json` file is read as JSON,
anything else as YAML by the same strict reader as kfsync.yaml (no anchors,
tags or duplicate keys).  Every problem is one line naming the file, the line
and column where possible, and the field: `team.yaml:4:14: accounts[0].kf_nick:
must be a string of 1 to 16 characters`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kfsync.emulator.exceptions import AdminError
from kfsync.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from kfsync.config.positions import FieldPath, Positions
    from kfsync.emulator.app import ServiceApp

#: Seeds carry base64 pictures, so they may be larger than a config; still bounded.
MAX_SEED_BYTES = 64 * 1024 * 1024
#: How seed.py names a field: `accounts[0].kf_nick: …`.
_WHERE = re.compile(r"^(accounts|records|waitcase)(?:\[(\d+)\])?(?:\.(\w+))?: ")


def read_seed(path: Path) -> tuple[dict[str, Any], Positions | None]:
    """The seed body in `path` and, for YAML, where each field is written."""
    from kfsync.config.yamlsafe import decode, parse

    display = str(path)
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_SEED_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"--seed {display}: cannot read it ({exc.strerror or exc})") from None
    if len(raw) > MAX_SEED_BYTES:
        raise UsageError(f"--seed {display}: larger than {MAX_SEED_BYTES // 2**20} MiB")
    positions: Positions | None = None
    try:
        text = decode(raw, display)
        if path.suffix.lower() == ".json":
            data: object = json.loads(text)
        else:
            data, positions = parse(text, display)
    except ConfigError as exc:
        raise UsageError(f"--seed {exc}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"--seed {display}:{exc.lineno}:{exc.colno}: not valid JSON: "
                         f"{exc.msg}") from None
    except RecursionError:
        raise UsageError(f"--seed {display}: nested too deeply") from None
    if not isinstance(data, dict):
        raise UsageError(f"--seed {display}: expected a mapping with accounts, records and/or "
                         "waitcase (see the README's emulator section)")
    return data, positions


def seed_from_file(app: ServiceApp, path: Path) -> dict[str, int]:
    """Add what `path` holds to the emulator's state, all or nothing; how many of each were added.

    The file is the body of the app's own admin seed route (each provider has its own).
    """
    data, positions = read_seed(path)
    try:
        with app.lock:
            added = app.admin_routes[("POST", "seed")](app, data)
    except AdminError as exc:
        raise UsageError(f"--seed {_placed(str(path), exc.message, positions)}") from None
    return {key: value for key, value in added.items()
            if isinstance(value, int) and not isinstance(value, bool)}


def _placed(display: str, message: str, positions: Positions | None) -> str:
    """`FILE:LINE:COL: message` when the message names a field whose place is known."""
    match = _WHERE.match(message)
    if match is None or positions is None:
        return f"{display}: {message}"
    path: FieldPath = (match[1],)
    if match[2] is not None:
        path += (int(match[2]),)
    if match[3] is not None:
        path += (match[3],)
    line, column = positions.value(path)
    return f"{display}:{line}:{column}: {message}"
