"""Scenario 2, bootstrap apply: 100 declared accounts (nickname, avatar, binding), nothing live.

`kfsync apply --auto-approve` runs as its own process at `--parallelism 8` and
`--parallelism 1`, interleaved, each time against an emptied emulator.  As in
the documented workflow, `kfsync plan` ran first: each apply starts from a copy
of the cache that plan left (the declared avatars' fingerprints; the live side
is empty, so no live picture).  One more apply at `--parallelism 8` starts from
no cache at all.  Wall times are compared with an ideal computed from the plan
itself (operations and their longest dependency chain) and the latency.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import harness, workload
from bench.harness import Counts, EmulatorProcess, RequestLog, Settings, median, run_timed, say
from bench.report import Row, Table, ms, secs, times, verdict

ACCOUNTS = 100
#: kfsync.downloads.fetch_pictures downloads pictures with a pool this large.
PICTURE_WORKERS = 8
PLAN_REQUESTS = 2  #: token, list


@dataclass(frozen=True)
class Ideal:
    """The best wall time the latency allows, term by term (in requests of latency L)."""

    operations: int
    depth: int  #: longest chain of changes that wait on each other
    pictures: int  #: avatars the verification downloads (all new URLs)
    parallelism: int
    latency_ms: int

    @property
    def terms(self) -> tuple[int, int, int, int]:
        verify = 1 + math.ceil(self.pictures / PICTURE_WORKERS)
        return (PLAN_REQUESTS, self.depth, math.ceil(self.operations / self.parallelism), verify)

    @property
    def seconds(self) -> float:
        return sum(self.terms) * self.latency_ms / 1000

    def formula(self) -> str:
        plan, depth, rounds, verify = self.terms
        return (f"ideal(P={self.parallelism}) = L × (plan {PLAN_REQUESTS} + critical path "
                f"{self.depth} + ⌈{self.operations}/{self.parallelism}⌉ + verify (1 + "
                f"⌈{self.pictures}/{PICTURE_WORKERS}⌉)) = {self.latency_ms} ms × ({plan} + {depth} "
                f"+ {rounds} + {verify}) = {ms(self.seconds)}")


def depth(changes: Sequence[Mapping[str, Any]]) -> int:
    """The longest chain of `depends_on` among the plan's changes, in changes."""
    by_id = {str(c["id"]): c for c in changes}
    memo: dict[str, int] = {}

    def chain(change_id: str) -> int:
        if change_id not in memo:
            needs = [d for d in by_id[change_id]["depends_on"] if d in by_id]
            memo[change_id] = 1 + max((chain(d) for d in needs), default=0)
        return memo[change_id]

    return max((chain(i) for i in by_id), default=0)


def run(settings: Settings, *, accounts: int = ACCOUNTS) -> Table:
    table = Table(f"2. Bootstrap apply ({accounts} new accounts with nickname, avatar and binding)")
    rounds = {8: settings.reps(5, 1), 1: settings.reps(3, 1)}
    walls: dict[int, list[float]] = {8: [], 1: []}
    cpus: dict[int, list[float]] = {8: [], 1: []}
    emulator_cpus: dict[int, list[float]] = {8: [], 1: []}
    counts: dict[int, Counts] = {}
    with harness.scratch(settings.work, "bootstrap") as folder, \
            EmulatorProcess(latency_ms=settings.latency_ms) as emulator:
        declared = workload.accounts(accounts, avatars=True, bindings=True)
        config = workload.write_shop(folder / "shop", declared)
        log = RequestLog(emulator.admin)
        planned_cache = folder / "plan-cache"
        planned_cache.mkdir()
        planned = run_timed([*harness.launcher(), "plan", "-c", str(config), "--format", "json"],
                            env=harness.kfsync_env(emulator.base_url, planned_cache))
        changes = json.loads(planned.out)["changes"]
        avatars = sum(1 for c in changes if c["action"] == "set_avatar")

        def apply(parallelism: int, cache: Path) -> tuple[harness.Timed, float]:
            """One apply from an empty live side: it, and the emulator's CPU seconds meanwhile."""
            emulator.admin.reset()
            mark = log.mark()
            emulator_cpu = emulator.cpu()
            timed = run_timed([*harness.launcher(), "apply", "-c", str(config), "--auto-approve",
                               "--parallelism", str(parallelism), "--format", "json"],
                              env=harness.kfsync_env(emulator.base_url, cache))
            result = json.loads(timed.out) if timed.out.strip() else {}
            if timed.code != 0 or not result.get("complete"):
                raise RuntimeError(f"apply did not converge (exit {timed.code}): {timed.err[-800:]}")
            counts[parallelism] = Counts.of(log.since(mark))
            return timed, emulator.cpu() - emulator_cpu

        for index in range(max(rounds.values())):
            for parallelism in (8, 1):
                if index >= rounds[parallelism]:
                    continue
                say(f"bootstrap: --parallelism {parallelism}, round {index + 1}")
                cache = folder / f"cache-{parallelism}-{index}"
                shutil.copytree(planned_cache, cache)
                timed, emulator_cpu = apply(parallelism, cache)
                walls[parallelism].append(timed.wall)
                cpus[parallelism].append(timed.cpu)
                emulator_cpus[parallelism].append(emulator_cpu)
        say("bootstrap: --parallelism 8 without a cache")
        cold = apply(8, folder / "no-cache")[0].wall
    ideal = {p: Ideal(len(changes), depth(changes), avatars, p, settings.latency_ms) for p in (8, 1)}
    fast, slow = median(walls[8]), median(walls[1])
    actions = {a: sum(1 for c in changes if c["action"] == a) for a in ("add", "set_avatar", "invite")}
    kinds = ", ".join(f"{a} {n}" for a, n in actions.items())
    table.add(Row("operations planned", f"{len(changes)} ({kinds})", f"{3 * accounts}",
                  verdict=verdict(len(changes) == 3 * accounts)))
    table.add(Row("ideal at --parallelism 8", ms(ideal[8].seconds), ratio="reference"))
    bound = 1.3 * ideal[8].seconds
    table.add(Row("apply --parallelism 8: wall time", secs(fast), f"≤ 1.3 × ideal = {secs(bound)}",
                  f"{times(fast / ideal[8].seconds)} of ideal", verdict(fast <= bound)))
    table.add(Row("apply --parallelism 1: wall time", secs(slow),
                  ratio=f"{times(slow / ideal[1].seconds)} of ideal(P=1)"))
    table.add(Row("speed-up of --parallelism 8 over 1", times(slow / fast), "≥ 5×", times(slow / fast),
                  verdict(slow / fast >= 5)))
    table.add(Row("apply --parallelism 8, no plan before (no cache): wall time", secs(cold),
                  ratio=f"{times(cold / ideal[8].seconds)} of ideal"))
    table.add(Row("apply --parallelism 8: requests", counts[8].show()))
    table.add(Row("apply --parallelism 8: CPU time of kfsync", secs(median(cpus[8])),
                  ratio=f"{times(median(cpus[8]) / fast)} of its wall time"))
    table.add(Row("apply --parallelism 8: CPU time of the emulator", secs(median(emulator_cpus[8])),
                  ratio=f"{times(median(emulator_cpus[8]) / fast)} of the apply's wall time"))
    table.note(f"Medians of {rounds[8]} (P=8) and {rounds[1]} (P=1) interleaved runs, each against an "
               f"emptied emulator with latency L = {settings.latency_ms} ms, after `kfsync plan` (each "
               "from a copy of the cache that plan left); the no-cache run is one run.")
    for p in (8, 1):
        table.note(ideal[p].formula())
    table.note("The plan's own requests: token and list; the verification after apply: list, then "
               f"the {avatars} new avatars downloaded in batches of the download pool "
               f"({PICTURE_WORKERS}); the critical path is the longest depends_on chain of the plan "
               "(add, then its avatar or invitation).  Process start-up and CPU are not in the ideal.")
    return table
