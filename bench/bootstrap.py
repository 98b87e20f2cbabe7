"""Scenario 2, bootstrap apply: 100 declared accounts (nickname, avatar, binding), nothing live.

`kfsync apply --auto-approve` runs as its own process, each time against an
emptied emulator that charges L per request and 2 × L more for each new
connection (the handshakes of HTTPS).  As in the documented workflow, `kfsync
plan` ran first: each apply starts from a copy of the cache that plan left.

- At L = 150 ms, at --parallelism 4, 8, 16 and 32, against the limit the network
  sets (`Limit`), and against `bench/reference.py`: the sequential script (the
  same calls one by one with requests.Session), checked to leave the same live
  state, and the minimal concurrent client (the same calls at the same width,
  no checks) for the picture.
- At L = 50 ms, where the CPU of two cores is part of the floor, at 4, 8 and 32
  against the minimal concurrent client of the same width.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import harness, plot, workload
from bench.harness import Counts, EmulatorProcess, RequestLog, Settings, median, run_timed, say
from bench.report import AT_FLOOR, Row, Table, floor_verdict, ms, secs, times, verdict

ACCOUNTS = 100
WIDTHS = (4, 8, 32)  #: the widths with targets
PLOT_WIDTHS = (4, 8, 16, 32)
DEFAULT_WIDTH = 8  #: apply's default --parallelism
PLAN_REQUESTS = 2  #: token, list
LIMIT_TARGET = 1.25  #: × the limit, at the long latency
FLOOR_TARGET = 1.2  #: × the minimal concurrent client, at the short latency
SPEED_UP_TARGET = 4.0  #: over the sequential script, at the long latency and the default width


@dataclass(frozen=True)
class Limit:
    """The least wall time the latency allows, term by term (in round trips of L)."""

    writes: int
    depth: int  #: longest chain of changes that wait on each other
    pictures: int  #: avatars the verification downloads (all new URLs)
    parallelism: int
    latency_ms: int

    @property
    def terms(self) -> tuple[int, int, int]:
        p = self.parallelism
        verify = 1 + math.ceil(self.pictures / p)
        return PLAN_REQUESTS, max(math.ceil(self.writes / p), self.depth), verify

    @property
    def seconds(self) -> float:
        return sum(self.terms) * self.latency_ms / 1000

    def formula(self) -> str:
        plan, writes, verify = self.terms
        p = self.parallelism
        return (f"limit(P={p}) = L × (plan {PLAN_REQUESTS} + max(⌈{self.writes}/{p}⌉, chain "
                f"{self.depth}) + verification (1 + ⌈{self.pictures}/{p}⌉)) = {self.latency_ms} ms "
                f"× ({plan} + {writes} + {verify}) = {ms(self.seconds)}")


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


@dataclass
class Bench:
    """One emulator, one shop, and what its applies measured."""

    emulator: EmulatorProcess
    folder: Path
    accounts: int

    def __post_init__(self) -> None:
        declared = workload.accounts(self.accounts, avatars=True, bindings=True)
        self.config = workload.write_shop(self.folder / "shop", declared)
        self.manifest = workload.manifest(self.folder / "shop", declared)
        self.log = RequestLog(self.emulator.admin)
        self.planned_cache = self.folder / "plan-cache"
        self.planned_cache.mkdir()
        planned = run_timed([*harness.launcher(), "plan", "-c", str(self.config), "--format",
                             "json"], env=harness.kfsync_env(self.emulator.base_url,
                                                            self.planned_cache))
        self.changes: list[dict[str, Any]] = json.loads(planned.out)["changes"]
        self.runs = 0

    def limit(self, parallelism: int) -> Limit:
        avatars = sum(1 for c in self.changes if c["action"] == "set_avatar")
        return Limit(len(self.changes), depth(self.changes), avatars, parallelism,
                     self.emulator.latency_ms)

    def _measured(self, argv: list[str], env: Mapping[str, str] | None
                  ) -> tuple[harness.Timed, Counts, int, float]:
        self.emulator.admin.reset()
        mark = self.log.mark()
        opened = harness.connections(self.emulator)
        emulator_cpu = self.emulator.cpu()
        timed = run_timed(argv, env=env)
        if timed.code != 0:
            raise RuntimeError(f"{argv[1:3]} failed (exit {timed.code}): {timed.err[-800:]}")
        emulator_cpu = self.emulator.cpu() - emulator_cpu
        # Each admin call opens a connection of its own: the count read now includes its own.
        opened = harness.connections(self.emulator) - opened - 1
        return timed, Counts.of(self.log.since(mark)), opened, emulator_cpu

    def kfsync(self, parallelism: int) -> tuple[harness.Timed, Counts, int, float]:
        self.runs += 1
        cache = self.folder / f"cache-{self.runs}"
        shutil.copytree(self.planned_cache, cache)
        measured = self._measured(
            [*harness.launcher(), "apply", "-c", str(self.config), "--auto-approve",
             "--parallelism", str(parallelism), "--format", "json"],
            harness.kfsync_env(self.emulator.base_url, cache))
        result = json.loads(measured[0].out)
        if not result.get("complete"):
            raise RuntimeError(f"apply did not converge: {measured[0].err[-800:]}")
        shutil.rmtree(cache, ignore_errors=True)
        return measured

    def script(self, width: int) -> tuple[harness.Timed, Counts, int, float]:
        return self._measured(harness.reference("apply", self.emulator.base_url, "--accounts",
                                                str(self.manifest), "--width", str(width)), None)


def run(settings: Settings, *, accounts: int | None = None) -> Table:
    accounts = accounts or settings.reps(ACCOUNTS, 20)
    table = Table(f"2. Bootstrap apply ({accounts} new accounts with nickname, avatar and binding)")
    long, short = settings.latency_ms, settings.short_latency_ms
    rounds = settings.reps(3, 1)
    walls: dict[int, list[float]] = {p: [] for p in PLOT_WIDTHS}
    cpus: dict[int, list[float]] = {p: [] for p in PLOT_WIDTHS}
    emulator_cpus: dict[int, list[float]] = {p: [] for p in PLOT_WIDTHS}
    opened: dict[int, int] = {}
    floor_long: dict[int, float] = {}
    counts: dict[int, Counts] = {}
    with harness.scratch(settings.work, "bootstrap") as folder:
        with EmulatorProcess(latency_ms=long, connection_latency_ms=2 * long) as emulator:
            bench = Bench(emulator, folder / "long", accounts)
            for index in range(rounds):
                for p in PLOT_WIDTHS:
                    say(f"bootstrap: L={long} ms, --parallelism {p}, round {index + 1}/{rounds}")
                    timed, counts[p], opened[p], emulator_cpu = bench.kfsync(p)
                    walls[p].append(timed.wall)
                    cpus[p].append(timed.cpu)
                    emulator_cpus[p].append(emulator_cpu)
                    if index == 0 and p == DEFAULT_WIDTH:
                        kfsync_state = harness.live_accounts(emulator.base_url)
            for p in PLOT_WIDTHS:
                say(f"bootstrap: L={long} ms, minimal concurrent client, width {p}")
                floor_long[p] = bench.script(p)[0].wall
            say(f"bootstrap: L={long} ms, the sequential script")
            sequential, script_counts, script_opened, _ = bench.script(1)
            script_state = harness.live_accounts(emulator.base_url)
            limits = {p: bench.limit(p) for p in PLOT_WIDTHS}
            changes = bench.changes
        short_walls: dict[int, list[float]] = {p: [] for p in WIDTHS}
        short_floor: dict[int, list[float]] = {p: [] for p in WIDTHS}
        with EmulatorProcess(latency_ms=short, connection_latency_ms=2 * short) as emulator:
            bench = Bench(emulator, folder / "short", accounts)
            for index in range(rounds):
                for p in WIDTHS:
                    say(f"bootstrap: L={short} ms, --parallelism {p}, round {index + 1}/{rounds}")
                    short_walls[p].append(bench.kfsync(p)[0].wall)
                    short_floor[p].append(bench.script(p)[0].wall)
            short_limits = {p: bench.limit(p) for p in WIDTHS}

    actions = {a: sum(1 for c in changes if c["action"] == a) for a in ("add", "set_avatar", "invite")}
    kinds = ", ".join(f"{a} {n}" for a, n in actions.items())
    table.add(Row("operations planned", f"{len(changes)} ({kinds})", f"{3 * accounts}",
                  verdict=verdict(len(changes) == 3 * accounts)))
    wall = {p: median(walls[p]) for p in PLOT_WIDTHS}
    for p in PLOT_WIDTHS:
        bound = LIMIT_TARGET * limits[p].seconds
        targeted = p in WIDTHS
        table.add(Row(f"L={long} ms, --parallelism {p}: wall time (limit {ms(limits[p].seconds)})",
                      secs(wall[p]), f"≤ {LIMIT_TARGET} × limit = {secs(bound)}" if targeted else "—",
                      f"{times(wall[p] / limits[p].seconds)} of the limit; "
                      f"{times(wall[p] / floor_long[p])} of the minimal concurrent client "
                      f"({times(floor_long[p] / limits[p].seconds)} of the limit); "
                      f"{times(sequential.wall / wall[p])} faster than the sequential script",
                      floor_verdict(wall[p], bound, AT_FLOOR * floor_long[p]) if targeted
                      else "info",
                      timed=True))
    table.add(Row(f"L={long} ms, the sequential script: wall time", secs(sequential.wall),
                  ratio=f"{times(sequential.wall / limits[DEFAULT_WIDTH].seconds)} of the limit at "
                        f"P={DEFAULT_WIDTH}"))
    speed_up = sequential.wall / wall[DEFAULT_WIDTH]
    table.add(Row(f"speed-up over the sequential script at the default --parallelism "
                  f"{DEFAULT_WIDTH}", times(speed_up), f"≥ {SPEED_UP_TARGET:g}×", times(speed_up),
                  verdict(speed_up >= SPEED_UP_TARGET), timed=True))
    same = kfsync_state == script_state and len(script_state) == accounts
    table.add(Row("live state after kfsync and after the sequential script",
                  "the same" if same else "different",
                  "the same (nicknames, invitations, picture hashes)", verdict=verdict(same)))
    for p in WIDTHS:
        floor = median(short_floor[p])
        fast = median(short_walls[p])
        table.add(Row(f"L={short} ms, --parallelism {p}: wall time (the minimal concurrent "
                      f"client: {secs(floor)}; limit {ms(short_limits[p].seconds)})", secs(fast),
                      f"≤ {FLOOR_TARGET} × the client = {secs(FLOOR_TARGET * floor)}",
                      f"{times(fast / floor)} of the client; "
                      f"{times(fast / short_limits[p].seconds)} of the limit",
                      verdict(fast <= FLOOR_TARGET * floor), timed=True))
    table.add_traffic({p: opened[p] for p in PLOT_WIDTHS}, script_opened, DEFAULT_WIDTH,
                      counts[DEFAULT_WIDTH].show(), script_counts.show())
    for p in (DEFAULT_WIDTH, 32):
        table.add(Row(f"CPU at P={p}: kfsync, the emulator",
                      f"{secs(median(cpus[p]))}, {secs(median(emulator_cpus[p]))}",
                      ratio=f"{times(median(cpus[p]) / wall[p])} and "
                            f"{times(median(emulator_cpus[p]) / wall[p])} of the wall time"))
    drawn = plot.draw_apply(settings.picture, widths=PLOT_WIDTHS, kfsync=wall,
                            limit={p: limits[p].seconds for p in PLOT_WIDTHS}, floor=floor_long,
                            sequential=sequential.wall, latency_ms=long, accounts=accounts,
                            target=LIMIT_TARGET)
    table.note(f"Medians of {rounds} rounds, each apply against an emptied emulator after "
               "`kfsync plan` (from a copy of the cache that plan left). The emulator charges L "
               "per request and 2 × L more for the first answer on each new connection, counted "
               "from when it was opened.")
    for p in PLOT_WIDTHS:
        table.note(limits[p].formula())
    table.note("The limit: the plan's token and list; the writes at P at a time, or the longest "
               "depends_on chain if longer (an add, then its avatar or invitation); the "
               "verification's list and its downloads of the new avatars at the same width. "
               "Handshakes, process start-up and CPU are not in it.")
    table.note("`bench/reference.py apply`: the sequential script makes the same calls one by one "
               "with a requests.Session (width 1); the minimal concurrent client makes them at "
               "width P on P threads, each account's avatar and invitation after its add, with no "
               "checks, no plan and no cache: the floor of this machine for those calls. Its times "
               f"at L={long} ms: " + ", ".join(f"P={p}: {secs(floor_long[p])}" for p in PLOT_WIDTHS)
               + ".")
    table.note(f"![apply time against --parallelism]({settings.picture.name})" if drawn else
               "No picture: matplotlib is not installed (`pip install -e '.[bench]'`).")
    return table
