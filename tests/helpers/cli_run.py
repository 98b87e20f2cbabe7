"""The CLI for the test helpers of every folder: its environment, and one run in this process."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET


@dataclass(frozen=True)
class Run:
    """One CLI run: its exit status and what it printed."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run_main(capsys: Any, *args: str | os.PathLike[str]) -> Run:
    """`kfsync ARGS` in this process (`capsys` is pytest's fixture), to the end."""
    from kfsync.cli import main

    capsys.readouterr()
    code = main([os.fspath(a) for a in args])
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def point_cli_at(monkeypatch: Any, api_base: str, folder: Path) -> Path:
    """Give the CLI the emulator's credentials and `folder`'s own home and cache; its cache folder.

    Settings from outside (a token, a token mode, NO_COLOR, a step summary) are removed.
    """
    home = folder / "home"
    home.mkdir()
    for variable in ("KFSYNC_ACCESS_TOKEN", "KFSYNC_TOKEN_MODE", "KFSYNC_PLAN_KEY", "NO_COLOR",
                     "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("KFSYNC_APPID", DEFAULT_APPID)
    monkeypatch.setenv("KFSYNC_APPSECRET", DEFAULT_SECRET)
    monkeypatch.setenv("KFSYNC_API_BASE", api_base)
    monkeypatch.setenv("KFSYNC_CACHE_DIR", str(folder / "cache"))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    return folder / "cache"


def run_from(monkeypatch: Any, folder: Path, api_base: str, credentials: Mapping[str, str],
             unset: tuple[str, ...] = ()) -> None:
    """Run the CLI from `folder` with `credentials`, against `api_base`, its cache in `folder`.

    A token, a token mode, NO_COLOR and the variables in `unset` are removed.
    """
    monkeypatch.chdir(folder)
    for name in (*unset, "KFSYNC_ACCESS_TOKEN", "KFSYNC_TOKEN_MODE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**credentials, "KFSYNC_API_BASE": api_base,
                        "KFSYNC_CACHE_DIR": str(folder / "cache")}.items():
        monkeypatch.setenv(name, value)
