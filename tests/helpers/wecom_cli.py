"""The CLI against the WeCom emulator, for the command tests: credentials, a corp, one run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kfsync.providers.wecom.emulator import DEFAULT_CORPID, DEFAULT_SECRET, WeComEmulator
from tests.helpers.cli_run import Run, run_from, run_main
from tests.helpers.e2e import seeded_jpeg

SALES = "wkSales0001"
AFTER = "wkAfter0002"
SLASH = "wkSlash0003"
CONSOLE_ONLY = "wkConsole0004"


def account(open_kfid: str, name: str, seed: int | None = 1, **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"open_kfid": open_kfid, "name": name, **extra}
    if seed is not None:
        found["avatar_base64"] = seeded_jpeg(seed)
    return found


def seed_corp(emu: WeComEmulator, *accounts: dict[str, Any]) -> None:
    """Members, departments, and the accounts given (else a managed three and one that is not)."""
    emu.admin.seed(
        users=[{"userid": u} for u in ("zhangsan", "lisi", "wang.wu")],
        departments=[{"department_id": 2}, {"department_id": 10}],
        accounts=list(accounts) or [
            account(SALES, "售前咨询", 1, servicers=[
                {"userid": "zhangsan"}, {"userid": "lisi"}, {"department_id": 10},
                {"department_id": 2}]),
            account(AFTER, "After-sales", 2),
            account(SLASH, "VIP/大客户", 3, servicers=[{"userid": "wang.wu"}]),
            account(CONSOLE_ONLY, "Console only", None, manage_privilege=False),
        ],
    )


def point_at(wecom: WeComEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> WeComEmulator:
    """The CLI's WeCom credentials pointed at `wecom` (and no AppID), from an empty `tmp_path`."""
    run_from(monkeypatch, tmp_path, wecom.base_url,
             {"KFSYNC_CORPID": DEFAULT_CORPID, "KFSYNC_CORPSECRET": DEFAULT_SECRET},
             unset=("KFSYNC_APPID", "KFSYNC_APPSECRET"))
    return wecom


def runner(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """`kfsync ARGS`; no secret and no traceback in anything it prints."""

    def run(*args: str) -> Run:
        done = run_main(capsys, *args)
        assert DEFAULT_SECRET not in done.text
        assert "access_token" not in done.text
        assert "Traceback" not in done.text
        return done

    return run


def fails(run: Any, *args: str) -> str:
    """A run that must fail with one line on stderr and nothing on stdout; the message."""
    done = run(*args)
    assert (done.code, done.out) == (1, ""), done.err
    assert done.err.startswith("kfsync: error: "), done.err
    assert done.err.count("\n") == 1, done.err
    return str(done.err.removeprefix("kfsync: error: ").rstrip("\n"))


