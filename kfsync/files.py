"""Files kfsync writes: always atomically, so a kill never leaves half a file.

A write goes to a temporary `.NAME.XXXXXXXX.tmp` beside the file, then is
renamed over it.  A process killed in between leaves that temporary file,
which nothing ever reads; `remove_stale_temps` tidies such leftovers away.
"""

from __future__ import annotations

import contextlib
import errno
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


#: what stands at a path, when it is not a regular file
_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def check_regular_or_new(path: Path) -> None:
    """Raise OSError unless `path` is a regular file or nothing at all.

    Looked at with `lstat`, so a symbolic link is refused whatever it leads to:
    a file committed as a link could otherwise turn a write into one of a file
    elsewhere, and replacing a FIFO, a device or `/dev/stdout` breaks whoever uses it.
    """
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    raise OSError(errno.EEXIST, f"it is {kind}; kfsync writes only to a regular file or a new path")


def write_atomic(path: Path, text: str, *, durable: bool = True, regular_only: bool = False) -> None:
    """Write a text file (UTF-8, `\\n` line ends) so that readers see the old content or the new."""
    write_atomic_bytes(path, text.encode("utf-8"), durable=durable, regular_only=regular_only)


def write_atomic_bytes(
    path: Path, data: bytes, *, durable: bool = True, regular_only: bool = False
) -> None:
    """Write a file so that readers see the old content or the new, never half of it.

    The file keeps its permissions if it exists; a new one gets the usual ones
    (0666 less the umask), not the 0600 of a temporary file.  `durable=False`
    skips the fsync, for files whose loss in a crash costs nothing (a cache):
    it is what makes writing a hundred small files slow.  `regular_only`
    refuses (OSError) to replace anything but a regular file: see `check_regular_or_new`;
    it is checked before and again just before the rename.
    """
    if regular_only:
        check_regular_or_new(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE((path.lstat() if regular_only else path.stat()).st_mode)
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
        if regular_only:
            check_regular_or_new(path)
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
