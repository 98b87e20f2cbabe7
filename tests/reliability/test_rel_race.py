"""Racing applies: two `kfsync apply` of the same config at once, each in its own process.

Nothing is added twice; what one of them finds already done (65406 on add with
the wanted nickname, 65411 or 65408 on invite to the wanted user) counts as done,
so both end in sync.  Two applies of one saved plan: the one that checks the live
list after the other changed it refuses the plan as stale (exit 3).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from kfsync.emulator import Emulator
from kfsync.errors import ExitCode
from tests.helpers.reliability import (
    Proc,
    assert_live_matches,
    assert_no_duplicates,
    cli_env,
    kfsync_argv,
    run_cli,
    wanted_accounts,
    write_shop,
)

ACCOUNTS = 20


@pytest.fixture
def race_emulator() -> Iterator[Emulator]:
    """An emulator of its own, 10 ms per request, so that two applies overlap."""
    with Emulator(latency_ms=10) as emu:
        emu.admin.freeze_clock()
        yield emu


def race(env: dict[str, str], *args: str | Path) -> list[tuple[int, str]]:
    """Start two `kfsync ARGS` at once; their exit statuses and outputs."""
    with Proc(kfsync_argv(*args), env=env) as first, Proc(kfsync_argv(*args), env=env) as second:
        return [(proc.finish(), proc.text) for proc in (first, second)]


@pytest.mark.parametrize("parallelism", ["1", "4"])
def test_two_applies_at_once_add_nothing_twice_and_both_end_in_sync(
        race_emulator: Emulator, tmp_path: Path, parallelism: str) -> None:
    wanted = wanted_accounts(ACCOUNTS)
    config = write_shop(tmp_path / "shop", wanted)
    env = cli_env(race_emulator.base_url, tmp_path / "home")  # one user, one cache directory

    ended = race(env, "apply", "-c", config, "--auto-approve", "--parallelism", parallelism)

    for code, text in ended:
        assert code == ExitCode.OK, text
        assert "Verified: the live accounts match the configuration." in text
    entries = race_emulator.admin.requests()
    assert_no_duplicates(entries, wanted)
    assert_live_matches(race_emulator.admin.state(), wanted)
    # Whatever one found the other had done was counted as done, never as failed.
    already = sum(len(re.findall(r"WeChat said 654\d\d; already so", text)) for _, text in ended)
    refused = [e for e in entries if e["errcode"] not in (0, None)]
    assert already == len(refused)
    assert {e["errcode"] for e in refused} <= {65406, 65408, 65411}


@pytest.mark.parametrize("head_start", [0, 1])
def test_two_applies_of_one_saved_plan_at_once(race_emulator: Emulator, tmp_path: Path,
                                                head_start: int) -> None:
    """The second starts with the first, or once the first made its first change."""
    wanted = wanted_accounts(ACCOUNTS)
    config = write_shop(tmp_path / "shop", wanted)
    env = cli_env(race_emulator.base_url, tmp_path / "home")
    saved = tmp_path / "plan.json"
    planned = run_cli(env, "plan", "-c", config, "--out", saved)
    assert planned.returncode == 0, planned.stderr
    args = ("apply", saved, "-c", config)
    with Proc(kfsync_argv(*args), env=env) as first:
        first.wait_for(lambda: len(first.progress()) >= head_start)
        with Proc(kfsync_argv(*args), env=env) as second:
            ended = {first.finish(): first.text, second.finish(): second.text}

    assert ExitCode.OK in ended, ended
    assert set(ended) <= {ExitCode.OK, ExitCode.REFUSED}, ended
    if ExitCode.REFUSED in ended:
        assert "saved plan is stale (the live accounts changed" in ended[ExitCode.REFUSED]
    assert_no_duplicates(race_emulator.admin.requests(), wanted)
    assert_live_matches(race_emulator.admin.state(), wanted)


def test_a_saved_plan_applied_twice_in_a_row_is_stale_the_second_time(
        race_emulator: Emulator, tmp_path: Path) -> None:
    wanted = wanted_accounts(3)
    config = write_shop(tmp_path / "shop", wanted)
    env = cli_env(race_emulator.base_url, tmp_path / "home")
    saved = tmp_path / "plan.json"
    assert run_cli(env, "plan", "-c", config, "--out", saved).returncode == 0
    assert run_cli(env, "apply", saved, "-c", config).returncode == 0
    writes = len(race_emulator.admin.requests())
    again = run_cli(env, "apply", saved, "-c", config)
    assert again.returncode == ExitCode.REFUSED, again.stderr
    assert "saved plan is stale (the live accounts changed" in again.stderr
    assert all("/kfaccount/" not in e["path"] for e in race_emulator.admin.requests()[writes:])
