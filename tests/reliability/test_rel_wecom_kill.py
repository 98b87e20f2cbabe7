"""SIGKILL a WeCom apply after its Nth write, at seeded N, and rerun: the corp ends as declared.

`kfsync apply` runs in a subprocess against a WeCom emulator with latency; the
request log says how many writes (uploads, adds, servicer calls) the emulator
has made for it, and after the Nth the process is killed, with no chance to
finish the call under way or to remember anything.  The emulator allows two
accounts of one name, so an add made just before a kill, whose answer never
arrived, would become a duplicate if the rerun added blindly: it finds the
account by name instead.
"""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kfsync.providers.wecom.emulator import WeComEmulator
from tests.helpers.rel_wecom import (
    assert_wecom_live_matches,
    assert_wecom_no_duplicates,
    seed_corp,
    wecom_accounts,
    wecom_env,
    write_wecom_shop,
    writes,
)
from tests.helpers.reliability import Proc, kfsync_argv, run_cli

ACCOUNTS = 12  #: 36 writes: an upload and an add for each, and its servicers


@pytest.fixture
def slow_wecom() -> Iterator[WeComEmulator]:
    """A WeCom emulator of its own, 15 ms per request, so that an apply takes long enough to kill."""
    with WeComEmulator(latency_ms=15) as emu:
        emu.admin.freeze_clock()
        seed_corp(emu.admin)
        yield emu


def kill_after_writes(emu: WeComEmulator, env: dict[str, str], config: Path, count: int) -> str:
    """Start an apply and SIGKILL it once the emulator has made `count` more writes; its output."""
    before = writes(emu.admin.requests())
    with Proc(kfsync_argv("apply", "-c", config, "--auto-approve"), env=env) as proc:
        deadline = time.monotonic() + 60
        while proc.process.poll() is None and time.monotonic() < deadline:
            if writes(emu.admin.requests()) - before >= count:
                proc.kill()
                break
            time.sleep(0.002)
        ended = proc.finish()
    assert ended == -signal.SIGKILL, f"the apply ended by itself ({ended}): {proc.text}"
    return proc.text


@pytest.mark.parametrize("seed", [3, 4])
def test_an_apply_killed_after_seeded_writes_is_finished_by_a_rerun(
        slow_wecom: WeComEmulator, tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    wanted = wecom_accounts(ACCOUNTS)
    config = write_wecom_shop(tmp_path / "shop", wanted)
    env = wecom_env(slow_wecom.base_url, tmp_path / "home")
    # The first kill falls between an upload and the add that takes its media_id.
    for count in (1, rng.randint(2, 9), rng.randint(2, 9)):
        output = kill_after_writes(slow_wecom, env, config, count)
        assert "Traceback" not in output

    rerun = run_cli(env, "apply", "-c", config, "--auto-approve")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    entries = slow_wecom.admin.requests()
    # Every write made at least once; an upload whose add a kill cut off is made again, though a
    # kill that lands just after the add went out (the machine's timing decides) wastes none.
    assert writes(entries) >= ACCOUNTS * 3
    assert_wecom_no_duplicates(entries, wanted)
    assert_wecom_live_matches(slow_wecom.admin.state(), wanted)
    again = run_cli(env, "plan", "-c", config, "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No changes." in again.stdout
