"""SIGKILL at seeded points: a rerun finishes a killed apply, and no file kfsync writes is ever half there.

`kfsync apply` runs in a subprocess against an emulator with latency, and is
killed after a seeded share of its progress lines (and a seeded few
milliseconds more, to land inside a request); the last kill lands in the
verification, while live pictures are fingerprinted and cached.  The file
writer is tested on its own too: a subprocess rewriting a large plan file in a
loop is killed at seeded moments, and the file is always one whole version.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kfsync.emulator import Emulator
from kfsync.errors import ExitCode
from kfsync.planfile import load_plan
from tests.helpers.reliability import (
    Proc,
    Wanted,
    assert_live_matches,
    assert_no_duplicates,
    cli_env,
    kfsync_argv,
    run_cli,
    served_frozen,
    wanted_accounts,
    write_shop,
)

ACCOUNTS = 24
#: What an interrupted `write_atomic` may leave: `.NAME.RANDOM.tmp`, never a name kfsync reads.
TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.[A-Za-z0-9_]+\.tmp$")


@pytest.fixture
def slow_emulator() -> Iterator[Emulator]:
    """An emulator of its own, 15 ms per request, so that an apply takes long enough to be killed."""
    yield from served_frozen(Emulator(latency_ms=15))


def assert_cache_is_whole(cache: Path) -> None:
    """Each cache entry parses, each kept upload has its name's sha256; any other file is an
    interrupted write's temp file, never read."""
    for path in cache.iterdir() if cache.exists() else ():
        temp = TEMP_NAME.match(path.name)
        if temp:
            assert re.fullmatch(r"[0-9a-f]{64}\.(json|jpg)", temp["name"]), path.name
            continue
        assert re.fullmatch(r"[0-9a-f]{64}\.(json|jpg)", path.name), path.name
        if path.suffix == ".jpg":
            assert hashlib.sha256(path.read_bytes()).hexdigest() == path.stem, path.name
            continue
        entry = json.loads(path.read_text(encoding="utf-8"))
        assert set(entry) == {"v", "url", "phash"}, entry


def kill_apply(env: dict[str, str], config: Path, share: float, extra_ms: float,
               sig: signal.Signals = signal.SIGKILL) -> tuple[int, str]:
    """Start an apply, signal it after `share` of its progress lines and `extra_ms`: status, output."""
    with Proc(kfsync_argv("apply", "-c", config, "--auto-approve"), env=env) as proc:
        proc.wait_for(lambda: bool(proc.progress()))
        started = proc.progress()
        if started:
            total = int(started[0].split("/", 1)[1].split("]", 1)[0])  # `[1/72] add …`
            wanted = max(1, round(share * total))
            proc.wait_for(lambda: len(proc.progress()) >= wanted)
        time.sleep(extra_ms / 1000)
        if proc.process.poll() is None:
            proc.process.send_signal(sig)
        return proc.finish(), proc.text


@pytest.mark.parametrize("seed", [7, 8])
def test_an_apply_killed_at_seeded_points_is_finished_by_a_rerun(
        slow_emulator: Emulator, tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    wanted: list[Wanted] = wanted_accounts(ACCOUNTS)
    config = write_shop(tmp_path / "shop", wanted)
    env = cli_env(slow_emulator.base_url, tmp_path / "home")
    cache = tmp_path / "home" / "cache"
    # Three kills somewhere in the apply, then one in the verification that follows it.
    kills = [(rng.random(), rng.uniform(0, 30)) for _ in range(3)] + [(1.0, rng.uniform(0, 60))]
    for share, extra_ms in kills:
        ended, output = kill_apply(env, config, share, extra_ms)
        assert ended in (-signal.SIGKILL, 0), output
        assert_cache_is_whole(cache)

    rerun = run_cli(env, "apply", "-c", config, "--auto-approve")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert_cache_is_whole(cache)
    entries = slow_emulator.admin.requests()
    assert_no_duplicates(entries, wanted)
    assert_live_matches(slow_emulator.admin.state(), wanted)
    again = run_cli(env, "plan", "-c", config, "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr


PAD = 4_000_000  #: bytes of padding: most of the writer's time goes into writing the file
def test_an_apply_interrupted_by_ctrl_c_says_so_and_a_rerun_finishes_it(
        slow_emulator: Emulator, tmp_path: Path) -> None:
    wanted = wanted_accounts(8)
    config = write_shop(tmp_path / "shop", wanted)
    env = cli_env(slow_emulator.base_url, tmp_path / "home")
    ended, output = kill_apply(env, config, random.Random(9).random(), 0, signal.SIGINT)
    assert ended in (ExitCode.INTERRUPTED, ExitCode.OK), output
    if ended == ExitCode.INTERRUPTED:  # reading, or applying (then with what is left to do)
        assert output.splitlines()[-1].startswith("kfsync: interrupted"), output
    assert "Traceback" not in output
    rerun = run_cli(env, "apply", "-c", config, "--auto-approve")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert_no_duplicates(slow_emulator.admin.requests(), wanted)
    assert_live_matches(slow_emulator.admin.state(), wanted)


_WRITER = """
import json, sys
from pathlib import Path
from kfsync.files import write_atomic

path = Path(sys.argv[1])
PAD = int(sys.argv[2])
for generation in range(1, 10**6):
    write_atomic(path, json.dumps({"generation": generation, "pad": str(generation % 10) * PAD}))
    print(generation, flush=True)
"""


def assert_whole_plan_file(path: Path, written: int) -> int:
    """The file holds one whole version, the last one finished or the one after it."""
    document = json.loads(path.read_text(encoding="utf-8"))
    generation = int(document["generation"])
    assert document["pad"] == str(generation % 10) * PAD
    assert written <= generation <= written + 1
    return generation


def test_a_file_written_atomically_is_old_or_new_whatever_the_moment_of_the_kill(tmp_path: Path) -> None:
    rng = random.Random(11)
    path = tmp_path / "plan.json"
    for _ in range(8):
        with Proc([sys.executable, "-c", _WRITER, str(path), str(PAD)]) as writer:
            # The writer prints each generation once it is in place.
            writer.wait_for(lambda: len(writer.out) >= 2)
            time.sleep(rng.uniform(0, 0.1))
            writer.kill()
            writer.finish()
            assert_whole_plan_file(path, int(writer.out[-1]))
    for leftover in (p.name for p in tmp_path.iterdir() if p.name != "plan.json"):
        temp = TEMP_NAME.fullmatch(leftover)
        assert temp is not None, leftover
        assert temp["name"] == "plan.json"


def test_a_reader_never_sees_half_a_plan_file(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    with Proc([sys.executable, "-c", _WRITER, str(path), str(PAD)]) as writer:
        writer.wait_for(lambda: len(writer.out) >= 1)
        seen: set[int] = set()
        while len(seen) < 5:
            document = json.loads(path.read_text(encoding="utf-8"))
            assert document["pad"] == str(document["generation"] % 10) * PAD
            seen.add(document["generation"])
    assert len(seen) >= 5


def test_a_leftover_temp_file_is_never_read_as_the_plan(tmp_path: Path) -> None:
    """A kill inside `plan --out` can leave `.plan.json.X.tmp`; apply reads only the file it is given."""
    path = tmp_path / "plan.json"
    (tmp_path / ".plan.json.abc123.tmp").write_text('{"saved": {"half', encoding="utf-8")
    with pytest.raises(Exception, match="cannot read the saved plan"):
        load_plan(path)
