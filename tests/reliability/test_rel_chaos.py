"""Chaos apply: bootstrap 40 accounts while a fifth of all WeChat requests fail in every way we know."""

from __future__ import annotations

import pytest

from tests.helpers.cli_run import run_main
from tests.helpers.reliability import (
    CHAOS_KINDS,
    Workspace,
    assert_faults_met,
    assert_live_matches,
    assert_no_duplicates,
    assert_plan_in_sync,
    wanted_accounts,
    write_shop,
)

ACCOUNTS = 40
RATE = 0.2


@pytest.mark.usefixtures("patient_retries")
@pytest.mark.parametrize(("seed", "parallelism"), [(101, 1), (202, 4), (303, 8)])
def test_bootstrap_converges_in_one_run_under_chaos(
        workspace: Workspace, capsys: pytest.CaptureFixture[str], seed: int, parallelism: int) -> None:
    wanted = wanted_accounts(ACCOUNTS)
    config = write_shop(workspace.folder, wanted)
    admin = workspace.emulator.admin
    admin.random_faults("*", rate=RATE, seed=seed, kinds=CHAOS_KINDS)

    applied = run_main(capsys, "apply", "-c", config, "--auto-approve", "--parallelism", str(parallelism))

    assert applied.code == 0, applied.text
    assert (f"Apply complete: {ACCOUNTS} added, 0 updated, 0 deleted, {ACCOUNTS} invited, "
            f"{ACCOUNTS} avatars set") in applied.out
    entries = admin.requests()
    assert_faults_met(entries, CHAOS_KINDS, RATE)
    assert_no_duplicates(entries, wanted)
    assert_live_matches(admin.state(), wanted)

    admin.random_faults("*", rate=0)
    assert_plan_in_sync(capsys, config)
