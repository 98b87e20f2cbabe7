"""The --state file: the emulator's state as JSON (pictures in base64), written atomically."""

from __future__ import annotations

import base64
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from kfsync.emulator.exceptions import StateFileError
from kfsync.textsafe import json_escapes

FORMAT = 1


def read_state(path: Path) -> dict[str, Any] | None:
    """The snapshot saved in `path`, or None when the file does not exist or is empty."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateFileError(f"cannot read state file {path}: {exc.strerror}") from exc
    if not text.strip():
        return None
    try:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError("unknown format")
        state: dict[str, Any] = data["state"]
        state["pictures"] = {k: base64.b64decode(v) for k, v in state["pictures"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StateFileError(f"state file {path} is not an emulator state file") from exc
    return state


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Replace `path` with the snapshot in one step (a reader never sees half a file)."""
    pictures = {k: base64.b64encode(v).decode("ascii") for k, v in state["pictures"].items()}
    text = json_escapes(json.dumps({"format": FORMAT, "state": {**state, "pictures": pictures}},
                                   ensure_ascii=False, indent=1))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise StateFileError(f"cannot write state file {path}: {exc.strerror}") from exc
