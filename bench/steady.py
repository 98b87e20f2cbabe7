"""Scenario 1, plan of a shop in sync: 100 accounts with avatars and bindings.

`kfsync plan` runs as its own process against the emulator:
- warm (its picture cache filled by an earlier plan), at the short latency
  with no charge for connections: its floor is what its imports cost plus the
  two round trips, measured in the same rounds, interleaved;
- cold (a new, empty cache each time), at the long latency with 2 × L for each
  new connection, against the limit the network sets: the token, the list, and
  the 100 live pictures downloaded at `--parallelism` (8) at a time.
Both are compared with `bench/reference.py plan`, the sequential script that
makes the same calls one by one (it has no cache: it downloads every picture).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from bench import harness, startup, workload
from bench.harness import Counts, EmulatorProcess, RequestLog, Settings, median, run_timed, say
from bench.report import Row, Table, floor_verdict, ms, times, verdict

ACCOUNTS = 100
WIDTH = 8  #: plan's default --parallelism
WARM_TARGET = 1.15  #: × (import floor + 2L)
COLD_TARGET = 1.3  #: × the limit
#: The libraries a plan cannot run without (the CLI, the YAML parser, the HTTP client), timed alone.
DEPENDENCY_FLOOR = "import click, yaml, requests"
#: Loading the config with an empty cache: every avatar decoded and normalised.  No call may be
#: made before the config is known valid, so a cold plan cannot be faster than this plus the limit.
COLD_LOAD = ("import sys; from pathlib import Path; from kfsync.config import load_config; "
             "from kfsync.cache import Cache; "
             "load_config(sys.argv[1], cache=Cache(Path(sys.argv[2])))")


class Shop:
    """A shop in sync on one emulator, and how to plan it."""

    def __init__(self, emulator: EmulatorProcess, config: Path, seed: list[dict[str, object]],
                 manifest: Path) -> None:
        self.emulator = emulator
        self.config = config
        self.manifest = manifest
        workload.seed(emulator.admin, seed)
        self.log = RequestLog(emulator.admin)

    def plan(self, cache: Path) -> tuple[harness.Timed, Counts]:
        mark = self.log.mark()
        timed = run_timed([*harness.launcher(), "plan", "-c", str(self.config),
                           "--detailed-exitcode", "--parallelism", str(WIDTH)],
                          env=harness.kfsync_env(self.emulator.base_url, cache))
        if timed.code != 0:
            raise RuntimeError(f"the live side is not in sync (exit {timed.code}): "
                               f"{timed.out[-500:]}{timed.err[-500:]}")
        return timed, Counts.of(self.log.since(mark))

    def imports(self, cache: Path) -> list[str]:
        """The kfsync modules a plan imports, in the order it imports them."""
        timed = run_timed([*harness.launcher()[:1], "-X", "importtime", *harness.launcher()[1:],
                           "plan", "-c", str(self.config), "--parallelism", str(WIDTH)],
                          env=harness.kfsync_env(self.emulator.base_url, cache))
        return [name for name in startup.imported(timed.err)
                if (name == "kfsync" or name.startswith("kfsync.")) and name != "kfsync.__main__"]

    def script(self) -> harness.Timed:
        timed = run_timed(harness.reference("plan", self.emulator.base_url, "--accounts",
                                            str(self.manifest)))
        if timed.code != 0:
            raise RuntimeError(f"the sequential plan script failed: {timed.err[-500:]}")
        return timed


def run(settings: Settings, *, accounts: int | None = None) -> Table:
    accounts = accounts or settings.reps(ACCOUNTS, 20)
    table = Table(f"1. Plan of a shop in sync ({accounts} accounts, avatars and bindings)")
    rounds = settings.reps(7, 2)
    cold_rounds = settings.reps(3, 1)
    long, short = settings.latency_ms, settings.short_latency_ms
    with harness.scratch(settings.work, "steady") as folder:
        declared = workload.accounts(accounts, avatars=True, bindings=True)
        config = workload.write_shop(folder / "shop", declared)
        manifest = workload.manifest(folder / "shop", declared)
        seed = workload.in_sync_seed(folder / "shop", declared)
        with EmulatorProcess(latency_ms=short) as emulator:
            shop = Shop(emulator, config, seed, manifest)
            warm_cache = folder / "warm-cache"
            shop.plan(warm_cache)  # fills the warm cache
            modules = shop.imports(warm_cache)
            import_floor = "import " + ", ".join(modules)
            dependencies, floor, warm = [], [], []
            warm_counts = None
            for index in range(rounds):
                say(f"steady: warm plan, round {index + 1}/{rounds}")
                dependencies.append(run_timed([sys.executable, "-c", DEPENDENCY_FLOOR]).wall)
                floor.append(run_timed([sys.executable, "-c", import_floor]).wall)
                timed, warm_counts = shop.plan(warm_cache)
                warm.append(timed)
            say("steady: the sequential script, at the short latency")
            short_script = shop.script().wall
        with EmulatorProcess(latency_ms=long, connection_latency_ms=2 * long) as emulator:
            shop = Shop(emulator, config, seed, manifest)
            cold, cold_scripts, cold_loads = [], [], []
            cold_counts = None
            for index in range(cold_rounds):
                say(f"steady: cold plan, round {index + 1}/{cold_rounds}")
                timed, cold_counts = shop.plan(folder / f"cold-cache-{index}")
                cold.append(timed.wall)
                cold_scripts.append(shop.script().wall)
                cold_loads.append(run_timed([sys.executable, "-c", COLD_LOAD, str(config),
                                             str(folder / f"cold-load-{index}")]).wall)
    assert warm_counts is not None
    assert cold_counts is not None
    warm_wall = median([t.wall for t in warm])
    floor_wall = median(floor) + 2 * settings.short_latency
    dependency_floor = median(dependencies) + 2 * settings.short_latency
    bound = WARM_TARGET * floor_wall
    table.add(Row("warm plan: requests", warm_counts.show(), "≤ 2 requests, 0 pictures",
                  verdict=verdict(warm_counts.total <= 2 and warm_counts.pictures == 0)))
    table.add(Row(f"L={short} ms, warm plan: wall time", ms(warm_wall),
                  f"≤ {WARM_TARGET} × (import floor + 2L) = {ms(bound)}",
                  f"{times(warm_wall / floor_wall)} of the import floor + 2L; "
                  f"{times(short_script / warm_wall)} faster than the sequential script",
                  verdict(warm_wall <= bound), timed=True))
    table.add(Row("import floor: all the warm plan imports, kfsync's own too, plus 2L",
                  ms(floor_wall), ratio="reference"))
    table.add(Row("dependency floor: click, yaml and requests alone, plus 2L", ms(dependency_floor),
                  ratio=f"{times(dependency_floor / floor_wall)} of the import floor"))
    table.add(Row("warm plan: CPU time", ms(median([t.cpu for t in warm])),
                  ratio=f"{times(median([t.cpu for t in warm]) / warm_wall)} of its wall time"))
    table.add(Row(f"L={short} ms, the sequential script (token, list, {accounts} pictures one by "
                  "one)", ms(short_script), ratio=f"{times(short_script / floor_wall)} of the "
                  "import floor + 2L"))
    pictures = cold_counts.pictures
    limit = (2 + math.ceil(pictures / WIDTH)) * settings.latency
    cold_wall = median(cold)
    script_wall = median(cold_scripts)
    cold_load = median(cold_loads)
    cold_floor = cold_load + limit
    table.add(Row("cold plan: requests", cold_counts.show(), f"{accounts} pictures",
                  verdict=verdict(pictures == accounts)))
    # The floor: the config's load is CPU before the first call, which the network cannot hide.
    table.add(Row(f"L={long} ms, cold plan at --parallelism {WIDTH}: wall time", ms(cold_wall),
                  f"≤ {COLD_TARGET} × limit = {ms(COLD_TARGET * limit)}",
                  f"{times(cold_wall / limit)} of the limit; "
                  f"{times(script_wall / cold_wall)} faster than the sequential script",
                  floor_verdict(cold_wall, COLD_TARGET * limit, COLD_TARGET * cold_floor),
                  timed=True))
    table.add(Row(f"L={long} ms, the sequential script", ms(script_wall),
                  ratio=f"{times(script_wall / limit)} of the limit"))
    table.add(Row("cold floor: loading the config with its avatars new, plus the limit",
                  ms(cold_floor), ratio=f"{times(cold_wall / cold_floor)}: the cold "
                  f"plan over it; the load alone {ms(cold_load)}"))
    table.note(f"Warm: medians of {rounds} interleaved rounds at L = {short} ms, no charge per "
               f"connection; cold: medians of {cold_rounds} at L = {long} ms and 2 × L for each "
               f"new connection; launcher `{harness.describe_launcher()}`.")
    table.note(f"Import floor: `python -c \"import kfsync.cli, …\"` with the {len(modules)} kfsync "
               "modules the warm plan imports (read from its `-X importtime` report; they import "
               "the libraries it uses), plus 2L: its imports with no work, and its two round "
               "trips. Dependency floor: `python -c "
               f"\"{DEPENDENCY_FLOOR}\"`, the CLI framework, the YAML parser and the HTTP client "
               "alone.")
    table.note(f"limit(cold) = L × (token + list + ⌈{pictures}/{WIDTH}⌉ downloads) = "
               f"{long} ms × (2 + {math.ceil(pictures / WIDTH)}) = {ms(limit)}")
    table.note("Cold floor: `python -c` loading the config into an empty cache (every declared "
               "avatar decoded and normalised), plus the limit: no call is made before the config "
               "is known valid, so the network's part cannot start earlier (the client connects "
               "meanwhile).")
    table.note("The live side is seeded exactly in sync: each avatar as kfsync uploads it, which "
               "the emulator re-encodes as the CDN does; bindings accepted.")
    return table
