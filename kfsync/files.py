"""Files kfsync writes: always atomically, so a kill never leaves half a file."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


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


def _umask() -> int:
    """The process umask (reading it means setting it; it is put back at once)."""
    mask = os.umask(0o077)
    os.umask(mask)
    return mask
