"""Files kfsync writes: always atomically, so a kill never leaves half a file.

A write goes to a temporary `.NAME.XXXXXXXX.tmp` beside the file, then is
renamed over it.  A process killed in between leaves that temporary file,
which nothing ever reads; `remove_stale_temps` tidies such leftovers away.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import stat
import tempfile
import time
from pathlib import Path

#: what `tempfile.mkstemp` names our temporary files: `.NAME.` + 8 random characters + `.tmp`
_TEMP = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp")
#: a temporary file older than this cannot belong to a write still under way
STALE_AFTER = 3600.0


def write_atomic(path: Path, text: str, *, durable: bool = True) -> None:
    """Write a text file (UTF-8, `\\n` line ends) so that readers see the old content or the new."""
    write_atomic_bytes(path, text.encode("utf-8"), durable=durable)


def write_atomic_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write a file so that readers see the old content or the new, never half of it.

    The file keeps its permissions if it exists; a new one gets the usual ones
    (0666 less the umask), not the 0600 of a temporary file.  `durable=False`
    skips the fsync, for files whose loss in a crash costs nothing (a cache):
    it is what makes writing a hundred small files slow.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def remove_stale_temps(folder: Path, name: str | None = None) -> int:
    """Remove the temporary files that killed writes left in `folder`; how many were removed.

    Only files named as this module names them, and only those over an hour
    old; with `name`, only those of the file `name`.  Errors are ignored: a
    leftover costs a little disk, never a wrong answer.
    """
    removed = 0
    cutoff = time.time() - STALE_AFTER
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        found = _TEMP.fullmatch(entry.name)
        if found is None or (name is not None and found["name"] != name):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
                removed += 1
    return removed


@functools.cache
def _umask() -> int:
    """The process umask, read once: reading it means setting it, which is not safe to repeat
    while other threads create files (they would get the temporary mask)."""
    mask = os.umask(0o077)
    os.umask(mask)
    return mask
