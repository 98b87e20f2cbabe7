"""`-o/--out` of `accounts` and `import` writes only a regular file or a new path, as `plan --out`.

Replacing a FIFO, a device, a socket or a symbolic link breaks whoever uses it (as
root, `-o /dev/full` replaced the device); even `import --force` refuses them,
before any call, and leaves what stands at the path as it was.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from kfsync.emulator import Emulator
from tests.security.test_sec_plan_inputs import OUT_TARGETS

Fails = Callable[..., str]
Run = Callable[..., tuple[int, str, str]]


def _seed(emu: Emulator) -> None:
    emu.admin.seed(accounts=[{"kf_account": "alice@shop_cs", "kf_nick": "Alice"},
                             {"kf_account": "bob@shop_cs", "kf_nick": "Bob"}])


def _refused(fails: Fails, emu: Emulator, target: Path, kind: str, *argv: str) -> None:
    victim = target.parent / "victim.txt"
    if not victim.exists():
        victim.write_text("keep me\n", encoding="utf-8")
    before = os.lstat(target)
    message = fails(*argv)
    if os.path.isdir(target):  # click's own check of the option comes first
        assert message.endswith(f"File '{target}' is a directory."), message
    else:
        assert message == (f"cannot write {target}: it is {kind}; "
                           "kfsync writes only to a regular file or a new path")
    after = os.lstat(target)
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)  # not replaced
    assert victim.read_text(encoding="utf-8") == "keep me\n"
    assert emu.admin.requests() == []  # refused before any call


@pytest.mark.parametrize("fmt", ["json", "table", "html"])
@pytest.mark.parametrize("name", list(OUT_TARGETS))
def test_accounts_out_only_to_a_regular_file_or_a_new_path(
        ops_env: Emulator, ops_fails: Fails, tmp_path: Path, name: str, fmt: str) -> None:
    _seed(ops_env)
    make, kind = OUT_TARGETS[name]
    target = tmp_path / "accounts.out"
    make(target)
    _refused(ops_fails, ops_env, target, kind, "accounts", "--format", fmt, "-o", str(target))


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["plain", "force"])
@pytest.mark.parametrize("name", list(OUT_TARGETS))
def test_import_out_only_to_a_regular_file_or_a_new_path(
        ops_env: Emulator, ops_fails: Fails, tmp_path: Path, name: str, force: list[str]) -> None:
    _seed(ops_env)
    make, kind = OUT_TARGETS[name]
    target = tmp_path / "kfsync.yaml"
    make(target)
    _refused(ops_fails, ops_env, target, kind, "import", "-o", str(target), *force)
    assert not (tmp_path / "kfsync.schema.json").exists()


@pytest.mark.parametrize("name", ["fifo", "symlink-to-dev-null", "char-device"])
def test_import_force_never_replaces_the_schema_file_when_it_is_no_file(
        ops_env: Emulator, ops_fails: Fails, tmp_path: Path, name: str) -> None:
    _seed(ops_env)
    make, kind = OUT_TARGETS[name]
    target = tmp_path / "kfsync.schema.json"
    make(target)
    before = os.lstat(target)
    assert ops_fails("import", "--force") == (
        f"cannot write {target.name}: it is {kind}; kfsync writes only to a regular file or a new path")
    assert os.lstat(target).st_ino == before.st_ino
    assert not (tmp_path / "kfsync.yaml").exists()


def test_accounts_and_import_still_replace_a_regular_file(
        ops_env: Emulator, ops_run: Run, tmp_path: Path) -> None:
    _seed(ops_env)
    listing = tmp_path / "accounts.json"
    listing.write_text("old\n", encoding="utf-8")
    assert ops_run("accounts", "--format", "json", "-o", str(listing))[0] == 0
    assert '"alice@shop_cs"' in listing.read_text(encoding="utf-8")
    config = tmp_path / "kfsync.yaml"
    config.write_text("old\n", encoding="utf-8")
    assert ops_run("import", "--force")[0] == 0
    assert "alice" in config.read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("name", list(OUT_TARGETS))
def test_records_out_only_to_a_regular_file_or_a_new_path(
        ops_env: Emulator, ops_fails: Fails, tmp_path: Path, name: str, fmt: str) -> None:
    make, kind = OUT_TARGETS[name]
    target = tmp_path / "records.out"
    make(target)
    _refused(ops_fails, ops_env, target, kind, "records", "--since", "2026-11-01",
             "--until", "2026-11-02", "--format", fmt, "-o", str(target))


def test_records_out_replaces_a_regular_file_whole(
        ops_env: Emulator, ops_run: Run, tmp_path: Path) -> None:
    target = tmp_path / "records.jsonl"
    target.write_text("old\n", encoding="utf-8")
    code, _, err = ops_run("records", "--since", "2026-11-01", "--until", "2026-11-02",
                           "-o", str(target))
    assert code == 0, err
    assert target.read_text(encoding="utf-8") == ""  # no records that day: the old text is gone
    assert [p.name for p in tmp_path.iterdir()] == ["records.jsonl"]  # no temporary file left
