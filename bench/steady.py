"""Scenario 1, steady-state plan: 100 accounts in sync, with avatars and bindings.

`kfsync plan` runs as its own process against the emulator (with latency), with
a cold picture cache (a new, empty folder each time) and a warm one (filled by
an earlier plan).  The requests come from the emulator's log; the wall time is
compared with `kfsync --version` measured in the same rounds, interleaved.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench import harness, workload
from bench.harness import Counts, EmulatorProcess, RequestLog, Settings, median, run_timed, say
from bench.report import Row, Table, ms, times, verdict

ACCOUNTS = 100
#: The libraries a plan cannot run without (the CLI, the YAML parser, the HTTP client), timed alone:
#: with the two round trips, the floor under a warm plan's wall time whatever kfsync does.
DEPENDENCY_FLOOR = "import click, yaml, requests"
#: All that the warm plan imports, kfsync's own modules included, timed alone.
IMPORT_FLOOR = ("import kfsync.cli, kfsync.providers.wechat_mp.provider, "
                "kfsync.providers.wechat_mp.client.api, kfsync.config, kfsync.engine, kfsync.render, "
                "kfsync.planfile")


def run(settings: Settings, *, accounts: int = ACCOUNTS) -> Table:
    table = Table(f"1. Steady-state plan ({accounts} accounts in sync, avatars and bindings)")
    rounds = settings.reps(7, 2)
    with harness.scratch(settings.work, "steady") as folder, \
            EmulatorProcess(latency_ms=settings.latency_ms) as emulator:
        config = workload.in_sync_shop(folder / "shop", emulator.admin, accounts)
        log = RequestLog(emulator.admin)
        warm_cache = folder / "warm-cache"
        plan = [*harness.launcher(), "plan", "-c", str(config), "--detailed-exitcode"]

        def plan_once(cache: Path) -> tuple[harness.Timed, Counts]:
            mark = log.mark()
            timed = run_timed(plan, env=harness.kfsync_env(emulator.base_url, cache))
            if timed.code != 0:
                raise RuntimeError(f"the live side is not in sync (exit {timed.code}): "
                                   f"{timed.out[-500:]}{timed.err[-500:]}")
            return timed, Counts.of(log.since(mark))

        plan_once(warm_cache)  # fills the warm cache
        version, dependencies, floor, cold, warm = [], [], [], [], []
        cold_counts = warm_counts = None
        for index in range(rounds):
            say(f"steady: round {index + 1}/{rounds}")
            version.append(run_timed([*harness.launcher(), "--version"]).wall)
            dependencies.append(run_timed([sys.executable, "-c", DEPENDENCY_FLOOR]).wall)
            floor.append(run_timed([sys.executable, "-c", IMPORT_FLOOR]).wall)
            timed, cold_counts = plan_once(folder / f"cold-cache-{index}")
            cold.append(timed)
            timed, warm_counts = plan_once(warm_cache)
            warm.append(timed)
    assert cold_counts is not None
    assert warm_counts is not None
    latency = settings.latency
    start_up = median(version)
    warm_wall = median([t.wall for t in warm])
    cold_wall = median([t.wall for t in cold])
    budget = 2 * latency + start_up
    bound = 1.5 * budget

    table.add(Row("`kfsync --version` start-up (V)", ms(start_up), ratio="reference"))
    table.add(Row("warm plan: requests", warm_counts.show(), "≤ 2 requests, 0 pictures",
                  verdict=verdict(warm_counts.total <= 2 and warm_counts.pictures == 0)))
    dependency_floor = median(dependencies) + 2 * latency
    table.add(Row(
        "warm plan: wall time",
        ms(warm_wall),
        f"≤ 1.5 × (2 × {settings.latency_ms} ms + V) = {ms(bound)}",
        f"{times(warm_wall / budget)} of (2L + V); {times(warm_wall / dependency_floor)} of the "
        "dependency floor",
        verdict(warm_wall <= bound),
    ))
    table.add(Row("warm plan: CPU time", ms(median([t.cpu for t in warm])),
                  ratio=f"{times(median([t.cpu for t in warm]) / start_up)} of V"))
    table.add(Row("cold plan: requests", cold_counts.show()))
    table.add(Row("cold plan: wall time", ms(cold_wall), ratio=f"{times(cold_wall / warm_wall)} of warm"))
    table.add(Row("dependency floor: their imports alone, plus 2L", ms(dependency_floor),
                  ratio=f"{times(dependency_floor / budget)} of (2L + V); "
                        f"{times(dependency_floor / bound)} of the wall-time bound"))
    floor_wall = median(floor) + 2 * latency
    table.add(Row("import floor: all the warm plan imports, kfsync's own too, plus 2L", ms(floor_wall),
                  ratio=f"{times(floor_wall / budget)} of (2L + V); "
                        f"{times(warm_wall / floor_wall)}: the warm plan over it"))
    table.note(f"Medians of {rounds} interleaved rounds; latency L = {settings.latency_ms} ms per "
               f"request; launcher `{harness.describe_launcher()}`.")
    table.note("The live side is seeded exactly in sync: each avatar as kfsync uploads it, which "
               "the emulator re-encodes as the CDN does; bindings accepted.")
    table.note(f"Dependency floor: `python -c \"{DEPENDENCY_FLOOR}\"`, the CLI framework, the YAML "
               "parser and the HTTP client, with no work at all, plus the two round trips: no plan "
               "built on them can be faster.  Where it is above the bound, the target cannot be "
               "met with these libraries on this machine.")
    table.note(f"Import floor: `python -c \"{IMPORT_FLOOR}\"`.")
    return table
