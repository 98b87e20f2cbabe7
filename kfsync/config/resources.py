"""Where the files shipped with kfsync are: the JSON Schema and the examples.

In an installed wheel they are package data under `kfsync/_data/` (hatch
force-includes the repository's `schemas/` and `examples/` there).  In a source
checkout or an editable install they are read from the top of the repository,
so that editing `schemas/kfsync.schema.json` takes effect at once.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from kfsync.errors import KfsyncError


def data_path(*parts: str) -> Path:
    """The shipped file `parts` (e.g. `"schemas", "kfsync.schema.json"`) as a real path."""
    packaged = files("kfsync") / "_data"
    for part in parts:
        packaged = packaged / part
    if isinstance(packaged, Path) and packaged.exists():
        return packaged
    checkout = Path(__file__).resolve().parents[2].joinpath(*parts)
    if checkout.exists():
        return checkout
    raise KfsyncError(f"kfsync is incompletely installed: {'/'.join(parts)} is missing")


def schema_bytes() -> bytes:
    """The JSON Schema of kfsync.yaml, exactly as shipped."""
    return data_path("schemas", "kfsync.schema.json").read_bytes()
