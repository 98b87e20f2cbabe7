"""The emulator restarted mid-apply from its --state file: the apply may fail, the rerun converges."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path

import pytest

from kfsync.errors import ExitCode
from tests.helpers.reliability import (
    EmulatorProcess,
    Proc,
    assert_live_matches,
    cli_env,
    free_port,
    kfsync_argv,
    run_cli,
    wanted_accounts,
    write_shop,
    write_target,
)

ACCOUNTS = 20


@pytest.mark.parametrize(("seed", "how"), [(21, "kill"), (22, "term")])
def test_an_apply_across_an_emulator_restart_is_finished_by_a_rerun(
        tmp_path: Path, seed: int, how: str) -> None:
    rng = random.Random(seed)
    wanted = wanted_accounts(ACCOUNTS)
    config = write_shop(tmp_path / "shop", wanted)
    state = tmp_path / "emulator" / "state.json"
    state.parent.mkdir()
    emulator = EmulatorProcess(port=free_port(), state=state, latency_ms=15)
    env = cli_env(emulator.base_url, tmp_path / "home")
    try:
        emulator.start()
        with Proc(kfsync_argv("apply", "-c", config, "--auto-approve"), env=env) as apply:
            stop_after = rng.randrange(1, 3 * ACCOUNTS)
            apply.wait_for(lambda: len(apply.progress()) >= stop_after)
            emulator.kill() if how == "kill" else emulator.stop()
            # Answered before it went down, so saved: none of these is made again.
            made_before = sum(" … ok " in line for line in apply.progress())
            saved = json.loads(state.read_text(encoding="utf-8"))  # whole, whatever the moment
            assert saved["format"] == 1
            emulator.start()
            ended = apply.finish()
        assert ended in (ExitCode.OK, ExitCode.ERROR, ExitCode.INCOMPLETE), apply.text
        leftovers = [p.name for p in state.parent.iterdir() if p != state]
        assert all(re.fullmatch(r"\.state\.json\.\w+", name) for name in leftovers), leftovers

        rerun = run_cli(env, "apply", "-c", config, "--auto-approve")
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        # The rerun made only what was still missing, each once, and nothing was refused.
        writes = [e for e in emulator.admin.requests() if "/kfaccount/" in e["path"]]
        assert all(e["errcode"] == 0 for e in writes), writes
        made = Counter(write_target(e) for e in writes)
        assert set(made.values()) <= {1}, made
        assert len(writes) <= 3 * ACCOUNTS - made_before
        live = emulator.admin.state()
        assert_live_matches(live, wanted)
        assert len({a["kf_id"] for a in live["accounts"]}) == ACCOUNTS
    finally:
        emulator.kill()
