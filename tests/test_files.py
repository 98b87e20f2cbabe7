"""Atomic writes: exact bytes, no temporary files left, the permissions a file normally gets;
and the leftovers of killed writes tidied away."""

from __future__ import annotations

import errno
import os
import re
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kfsync import files
from kfsync.cache import Cache
from kfsync.files import (
    STALE_AFTER,
    check_regular_or_new,
    remove_stale_temps,
    write_atomic,
    write_atomic_bytes,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_bytes_and_text_are_written_exactly(tmp_path: Path) -> None:
    write_atomic_bytes(tmp_path / "sub/a.bin", b"\x00\xff\r\n")
    write_atomic(tmp_path / "b.txt", "小美\n")
    assert (tmp_path / "sub/a.bin").read_bytes() == b"\x00\xff\r\n"
    assert (tmp_path / "b.txt").read_bytes() == "小美\n".encode()
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.bin", "b.txt", "sub"]


@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o027, 0o640)])
def test_a_new_file_gets_the_umask_permissions_not_0600(
        tmp_path: Path, umask: int, expected: int) -> None:
    old = os.umask(umask)
    files._umask.cache_clear()  # the mask is read once per process; this test changes it
    try:
        write_atomic(tmp_path / "new.yaml", "x")
        write_atomic_bytes(tmp_path / "new.bin", b"x")
    finally:
        os.umask(old)
        files._umask.cache_clear()
    assert mode(tmp_path / "new.yaml") == expected
    assert mode(tmp_path / "new.bin") == expected


def test_an_existing_file_keeps_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "kept.yaml"
    path.write_text("old")
    path.chmod(0o640)
    write_atomic(path, "new")
    assert (path.read_text(), mode(path)) == ("new", 0o640)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "kept.yaml"
    path.write_text("old")

    def refuse(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, "new")
    assert [p.name for p in tmp_path.iterdir()] == ["kept.yaml"]
    assert path.read_text() == "old"


def test_only_a_durable_write_is_synced_to_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", synced.append)
    write_atomic(tmp_path / "cache.json", "{}", durable=False)
    assert synced == []
    assert (tmp_path / "cache.json").read_text() == "{}"
    write_atomic(tmp_path / "kfsync.yaml", "x")
    assert len(synced) == 1


def leftover(folder: Path, name: str, age: float, random: str = "k2x_9q0z") -> Path:
    """A temporary file as a killed write leaves it, `age` seconds old."""
    path = folder / f".{name}.{random}.tmp"
    path.write_bytes(b"half a fi")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_stale_leftovers_of_killed_writes_are_removed_and_nothing_else(tmp_path: Path) -> None:
    old = leftover(tmp_path, "plan.json", 2 * STALE_AFTER)
    other = leftover(tmp_path, "other.json", 2 * STALE_AFTER)
    fresh = leftover(tmp_path, "plan.json", 60, "a1b2c3d4")  # a write may still be under way
    (tmp_path / ".plan.json.notours.tmp.bak").write_text("x")
    (tmp_path / "plan.json").write_text("{}")
    assert remove_stale_temps(tmp_path, "plan.json") == 1
    assert not old.exists()
    assert other.exists()
    assert fresh.exists()
    assert remove_stale_temps(tmp_path) == 1
    assert not other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".plan.json.a1b2c3d4.tmp", ".plan.json.notours.tmp.bak", "plan.json"]
    assert remove_stale_temps(tmp_path / "missing") == 0


def test_the_picture_cache_tidies_its_folder_before_its_first_write(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    old = leftover(cache_dir, "0" * 64 + ".json", 2 * STALE_AFTER)
    cache = Cache(cache_dir)
    assert cache.live.get("https://example.com/a.jpg") is None
    assert old.exists()  # reading tidies nothing
    cache.live.put("https://example.com/a.jpg", "f" * 64)
    assert not old.exists()
    assert cache.live.get("https://example.com/a.jpg") == "f" * 64


def _fifo(path: Path) -> None:
    os.mkfifo(path)


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (_fifo, "a named pipe (FIFO)"),
        (lambda p: p.mkdir(), "a directory"),
        (lambda p: p.symlink_to(p.parent / "target.txt"), "a symbolic link"),
        (lambda p: p.symlink_to("/dev/null"), "a symbolic link"),
        (lambda p: p.symlink_to(p.parent / "missing"), "a symbolic link"),
    ],
    ids=["fifo", "directory", "link-to-a-regular-file", "link-to-a-device", "dangling-link"],
)
def test_regular_only_refuses_to_replace_anything_but_a_regular_file(
        tmp_path: Path, make: Callable[[Path], None], kind: str) -> None:
    (tmp_path / "target.txt").write_text("keep\n")
    path = tmp_path / "out.json"
    make(path)
    with pytest.raises(OSError, match=f"^.*it is {re.escape(kind)}; kfsync writes only") as caught:
        write_atomic(path, "new\n", regular_only=True)
    assert caught.value.errno == errno.EEXIST
    assert (tmp_path / "target.txt").read_text() == "keep\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "target.txt"]


def test_regular_only_replaces_a_regular_file_and_creates_a_new_one(tmp_path: Path) -> None:
    (tmp_path / "old.json").write_text("old\n")
    for name in ("old.json", "new.json"):
        check_regular_or_new(tmp_path / name)
        write_atomic(tmp_path / name, "new\n", regular_only=True)
        assert (tmp_path / name).read_text() == "new\n"


def test_regular_only_checks_again_just_before_the_rename(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out.json"
    real_chmod = os.chmod

    def swap_in_a_fifo(target: str, mode: int) -> None:  # between the first check and the rename
        real_chmod(target, mode)
        os.mkfifo(path)

    monkeypatch.setattr("kfsync.files.os.chmod", swap_in_a_fifo)
    with pytest.raises(OSError, match="named pipe"):
        write_atomic(path, "new\n", regular_only=True)
    assert stat.S_ISFIFO(os.lstat(path).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]
