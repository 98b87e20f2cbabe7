"""`kfsync demo`: the whole workflow against its own emulator, leaving nothing behind."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from kfsync.cli import main
from kfsync.emulator import DEFAULT_SECRET


def test_demo_plans_applies_and_ends_in_sync_writing_nothing_outside_a_temp_dir(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        sent_tokens: set[str]) -> None:
    home, temp, work = tmp_path / "home", tmp_path / "tmp", tmp_path / "work"
    for folder in (home, temp, work):
        folder.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.delenv("KFSYNC_CACHE_DIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(temp))

    code = main(["demo", "--no-color"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    plan, rest = out.split("$ kfsync apply --auto-approve")
    applied, again = rest.split("$ kfsync plan")
    assert re.search(r"Plan: \d+ to add, \d+ to change, \d+ to delete", plan)
    assert re.search(r"\[1/\d+\] \w+ \w+@shop_cs … ok \(\d+ ms\)", applied)
    assert "Apply complete:" in applied
    again, steps = again.split("Next steps with your own Official Account:")
    assert again.rstrip().endswith("No changes. The live accounts match the configuration.")
    assert [line.split(".")[0].strip() for line in steps.splitlines() if line[:4].strip()[:1].isdigit()
            ] == ["1", "2", "3"]
    assert "kfsync import" in steps
    assert "kfsync plan" in steps
    assert "examples/ci/github-actions.yml" in steps
    assert "kfsync-demo-" not in out + err  # the temporary folder, deleted at the end, is not named
    assert sent_tokens
    for secret in (DEFAULT_SECRET, *sent_tokens):
        assert secret not in out + err
    assert [p for p in (home, temp, work) if any(p.iterdir())] == []
