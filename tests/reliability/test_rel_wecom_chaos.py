"""Chaos apply on WeCom: bootstrap a corp while a fifth of all requests fail in every way WeCom can.

Transient errcodes (-1, 45033, 6000), a gateway's 502, and answers lost before
or after the work was done, at a seeded rate.  The client's retries are the
usual four, so a call can fail for good: then apply exits non-zero and is run
again, as a user would.  However many runs it takes, the corp ends exactly as
declared: an add whose answer was lost is settled by re-reading (never by a
second blind add), so each name is added once, and no servicer is lost.
"""

from __future__ import annotations

import pytest

from tests.helpers.cli_run import Run, run_main
from tests.helpers.rel_wecom import (
    ADD,
    WECOM_CHAOS_KINDS,
    WeComWorkspace,
    assert_wecom_live_matches,
    assert_wecom_no_duplicates,
    wecom_accounts,
    write_wecom_shop,
)
from tests.helpers.reliability import assert_faults_met, assert_plan_in_sync

ACCOUNTS = 16
RATE = 0.3
RUNS = 8  #: applies before giving up; at this rate one to three do


@pytest.mark.parametrize(("seed", "parallelism"), [(15, 1), (16, 4), (17, 8)])
def test_a_bootstrap_under_chaos_converges_by_rerunning_apply(
        wecom_workspace: WeComWorkspace, capsys: pytest.CaptureFixture[str], seed: int,
        parallelism: int) -> None:
    wanted = wecom_accounts(ACCOUNTS)
    config = write_wecom_shop(wecom_workspace.folder, wanted)
    admin = wecom_workspace.emulator.admin
    admin.fault(ADD, 2, drop="after")  # whatever the seed, two adds are made but not answered
    admin.random_faults("*", rate=RATE, seed=seed, kinds=WECOM_CHAOS_KINDS)

    runs: list[Run] = []
    while len(runs) < RUNS and (not runs or runs[-1].code != 0):
        runs.append(run_main(capsys, "apply", "-c", config, "--auto-approve",
                             "--parallelism", str(parallelism)))
        assert "Traceback" not in runs[-1].text
        assert runs[-1].code in (0, 1, 4), runs[-1].text
    assert runs[-1].code == 0, "\n".join(r.text for r in runs)
    # It made the last changes and verified them, or found none left.
    assert ("Verified: the live accounts match the configuration." in runs[-1].out
            or "No changes." in runs[-1].out), runs[-1].text

    entries = admin.requests()
    assert_faults_met(entries, WECOM_CHAOS_KINDS, RATE)
    lost_adds = [e for e in entries if e["path"] == ADD and e["fault"] == "drop:after"]
    assert_wecom_no_duplicates(entries, wanted)
    assert_wecom_live_matches(admin.state(), wanted)

    admin.random_faults("*", rate=0)
    assert_plan_in_sync(capsys, config)
    assert len(lost_adds) >= 2  # and yet each of their names was added once
