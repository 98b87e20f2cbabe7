"""What `plan` and `apply` are given besides the config: `--allow-delete` names that match
nothing, hostile `--out` paths and hostile plan files; over real HTTP to the emulator."""

from __future__ import annotations

import json
import os
import socket
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from kfsync.planfile import MAX_PLAN_BYTES, MAX_PLAN_DEPTH
from tests.helpers.security import Shop, assert_one_line_error, seeded

# --------------------------------------------------------------------------- --allow-delete names


@pytest.mark.usefixtures("deleting")
@pytest.mark.parametrize(
    ("names", "stray"),
    [
        ("yan,zed,zedd", "zedd@shop_cs"),
        ("yan,zed@other_oa", "zed@other_oa"),
        ("yan,zed,bob", "bob@shop_cs"),
        ("yan,zed,nobody@shop_cs", "nobody@shop_cs"),
        ("YAN,zed", "YAN@shop_cs"),
    ],
    ids=["typo", "other-official-account", "an-account-kept", "full-name-of-nobody", "other-case"],
)
def test_allow_delete_names_that_match_nothing_are_refused_everywhere(
        shop: Shop, tmp_path: Path, names: str, stray: str) -> None:
    accepts = "which the plan does not delete or rebind; it accepts yan,zed"
    saved = tmp_path / "plan.json"
    for run in (shop.plan("--allow-delete", names), shop.plan("--out", saved, "--allow-delete", names),
                shop.apply("--auto-approve", "--allow-delete", names)):
        assert run.code == 3, run.text
        assert f"names {stray}, {accepts}" in run.err
    assert not saved.exists()
    assert shop.plan("--out", saved, "--allow-delete", "yan,zed").code == 0
    applied = shop.run("apply", saved, "-c", shop.config, "--allow-delete", names)
    assert applied.code == 3, applied.text
    assert f"names {stray}, {accepts}" in applied.err
    assert shop.writes() == []


def test_allow_delete_for_a_plan_that_deletes_nothing_is_refused(shop: Shop) -> None:
    shop.write_config({"bob": {"nickname": "Bob"}})
    shop.seed(seeded("bob", "Bob"))
    for run in (shop.plan("--allow-delete", "bob"), shop.apply("--auto-approve", "--allow-delete", "bob")):
        assert run.code == 3, run.text
        assert "names bob@shop_cs, which the plan does not delete or rebind; " \
               "it deletes nothing, so it accepts none" in run.err
    assert shop.plan("--allow-delete", " , ").code == 0  # no name at all is no consent


# --------------------------------------------------------------------------- --out targets


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _socket(path: Path) -> None:
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.close()


def _char_device(path: Path) -> None:
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # what /dev/null is
    except PermissionError:
        pytest.skip("no permission to make a device node here")


OUT_TARGETS: dict[str, tuple[Callable[[Path], None], str]] = {
    "fifo": (_fifo, "a named pipe (FIFO)"),
    "char-device": (_char_device, "a character device"),
    "directory": (lambda p: p.mkdir(), "a directory"),
    "socket": (_socket, "a socket"),
    "dangling-symlink": (lambda p: p.symlink_to(p.parent / "nowhere.json"), "a symbolic link"),
    "symlink-to-dev-stdout": (lambda p: p.symlink_to("/dev/stdout"), "a symbolic link"),
    "symlink-to-dev-null": (lambda p: p.symlink_to("/dev/null"), "a symbolic link"),
    "symlink-to-a-regular-file": (lambda p: p.symlink_to(p.parent / "victim.txt"), "a symbolic link"),
    "symlink-to-a-directory": (lambda p: p.symlink_to(p.parent), "a symbolic link"),
}


@pytest.mark.parametrize("late", [False, True], ids=["at-start", "at-write"])
@pytest.mark.parametrize("name", list(OUT_TARGETS))
def test_plan_out_writes_only_a_regular_file_or_a_new_path(
        shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, late: bool) -> None:
    make, kind = OUT_TARGETS[name]
    shop.write_config({"alice": {"nickname": "Alice"}})
    shop.seed(seeded("alice", "Old"))
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n", encoding="utf-8")
    out = tmp_path / "plan.json"
    if late:  # the path turns bad while the plan is made: the write itself refuses it
        monkeypatch.setattr("kfsync.planfile.check_target", lambda path: None)
    make(out)
    before = os.lstat(out)
    line = assert_one_line_error(shop.plan("--out", out))
    assert line == (f"kfsync: error: {out}: cannot write the saved plan: it is {kind}; "
                    "kfsync writes only to a regular file or a new path")
    after = os.lstat(out)
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)  # not replaced
    assert victim.read_text(encoding="utf-8") == "keep me\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    if not late:
        assert shop.requests() == []  # refused before reading anything


def test_plan_out_replaces_a_regular_file_and_creates_a_new_one(shop: Shop, tmp_path: Path) -> None:
    shop.write_config({"alice": {"nickname": "Alice"}})
    shop.seed(seeded("alice", "Old"))
    existing = tmp_path / "old-plan.json"
    existing.write_text("old\n", encoding="utf-8")
    existing.chmod(0o640)
    for out in (existing, tmp_path / "new" / "plan.json"):
        assert shop.plan("--out", out).code == 0
        assert json.loads(out.read_text(encoding="utf-8"))["changes"][0]["id"] == "update:alice@shop_cs"
    assert stat.S_IMODE(existing.stat().st_mode) == 0o640


# --------------------------------------------------------------------------- hostile JSON


def _nested(depth: int, opening: str, closing: str) -> str:
    return opening * depth + closing * depth


def _inside_the_plan(path: Path, depth: int) -> str:
    document = json.loads(path.read_text(encoding="utf-8"))
    text = json.dumps(document)
    return text.replace('"avatar_digests": {}', '"avatar_digests": {"x": ' + _nested(depth, "[", "]") + "}")


HOSTILE_JSON: dict[str, tuple[Callable[[Path], str], str]] = {
    "arrays-100k-deep": (lambda p: _nested(100_000, "[", "]"), "nested more than 16 levels deep"),
    "objects-100k-deep": (lambda p: '{"a":' * 100_000 + "1" + "}" * 100_000,
                          "nested more than 16 levels deep"),
    "mixed-1k-deep": (lambda p: '{"a":[' * 1000 + "]}" * 1000, "nested more than 16 levels deep"),
    "just-over-the-limit": (lambda p: _nested(MAX_PLAN_DEPTH + 1, "[", "]"),
                            "nested more than 16 levels deep"),
    "deep-inside-a-real-plan": (lambda p: _inside_the_plan(p, 900), "nested more than 16 levels deep"),
    "duplicate-keys": (lambda p: p.read_text(encoding="utf-8").replace(
        '"format_version": 1,', '"format_version": 1, "format_version": 1,'),
        "the key 'format_version' appears twice"),
    "nan": (lambda p: p.read_text(encoding="utf-8").replace('"format_version": 1', '"format_version": NaN'),
            "NaN is not a JSON number"),
    "not-utf8": (lambda p: "\udcff", "not UTF-8: byte 0xff"),
}


@pytest.mark.parametrize("name", list(HOSTILE_JSON))
def test_a_hostile_plan_file_is_a_one_line_error(shop: Shop, reviewed: Path, name: str) -> None:
    make, message = HOSTILE_JSON[name]
    hostile = reviewed.parent / "hostile.json"
    hostile.write_bytes(make(reviewed).encode("utf-8", "surrogateescape"))
    read_before = len(shop.requests())
    line = assert_one_line_error(shop.run("apply", hostile, "-c", shop.config), code=1)
    assert line.startswith(f"kfsync: error: {hostile}: not a saved kfsync plan (")
    assert message in line
    assert len(line) < 400
    assert len(shop.requests()) == read_before


def test_a_huge_plan_file_is_refused_unread(shop: Shop, reviewed: Path) -> None:
    huge = reviewed.parent / "huge.json"
    with huge.open("wb") as handle:  # sparse: no disk and no memory spent
        handle.truncate(MAX_PLAN_BYTES + 1)
    read_before = len(shop.requests())
    line = assert_one_line_error(shop.run("apply", huge, "-c", shop.config), code=1)
    assert line == f"kfsync: error: {huge}: not a saved kfsync plan (over 64 MiB)"
    assert len(shop.requests()) == read_before
