"""Chaos apply: bootstrap 40 accounts while a fifth of all WeChat requests fail in every way we know."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.helpers.cli_run import run_main
from tests.helpers.reliability import (
    CHAOS_KINDS,
    Workspace,
    assert_live_matches,
    assert_no_duplicates,
    wanted_accounts,
    write_shop,
)

ACCOUNTS = 40


@pytest.mark.usefixtures("patient_retries")
@pytest.mark.parametrize(("seed", "parallelism"), [(101, 1), (202, 4), (303, 8)])
def test_bootstrap_converges_in_one_run_under_chaos(
        workspace: Workspace, capsys: pytest.CaptureFixture[str], seed: int, parallelism: int) -> None:
    wanted = wanted_accounts(ACCOUNTS)
    config = write_shop(workspace.folder, wanted)
    admin = workspace.emulator.admin
    admin.random_faults("*", rate=0.2, seed=seed, kinds=CHAOS_KINDS)

    applied = run_main(capsys, "apply", "-c", config, "--auto-approve", "--parallelism", str(parallelism))

    assert applied.code == 0, applied.text
    assert (f"Apply complete: {ACCOUNTS} added, 0 updated, 0 deleted, {ACCOUNTS} invited, "
            f"{ACCOUNTS} avatars set") in applied.out
    entries = admin.requests()
    faults = Counter(e["fault"] for e in entries if e["fault"])
    assert set(faults) == set(CHAOS_KINDS), faults  # every kind of fault was met
    assert 0.1 < sum(faults.values()) / len(entries) < 0.3
    assert_no_duplicates(entries, wanted)
    assert_live_matches(admin.state(), wanted)

    admin.random_faults("*", rate=0)
    again = run_main(capsys, "plan", "-c", config, "--detailed-exitcode")
    assert again.code == 0, again.text
    assert "No changes." in again.out
