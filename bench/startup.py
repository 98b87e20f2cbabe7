"""Scenario 4, start-up: which heavy libraries each command imports, and what starting costs.

`python -X importtime` runs `import kfsync.cli` and the real commands
(`--version`, `validate` and `plan` of a 100-account file with avatars, plan
against the emulator with a warm cache); its report on stderr is parsed into the
set of modules imported.  Then `kfsync --version` and `kfsync validate` are
timed as ratios to `python -c pass`, interleaved, median of N runs.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable

from bench import harness, workload
from bench.harness import EmulatorProcess, Settings, median, run_timed, say
from bench.report import Row, Table, ms, times, verdict

#: The libraries a command should import only when it uses them.
HEAVY = ("requests", "jsonschema", "deepdiff", "PIL.Image")
#: `import time: SELF | CUMULATIVE | NAME`.  Either time can be negative: an import made in
#: another thread meanwhile is subtracted from the one the main thread was timing.
_LINE = re.compile(r"^import time:\s+(-?\d+)\s+\|\s+(-?\d+)\s+\|( *)(\S+)\s*$")


def imported(importtime_report: str) -> dict[str, int]:
    """Module -> cumulative microseconds, from `python -X importtime` output on stderr.

    Every line naming a module counts, whatever its times; the header does not.
    """
    found: dict[str, int] = {}
    for line in importtime_report.splitlines():
        match = _LINE.match(line)
        if match:
            found[match[4]] = int(match[2])
    return found


def heavy(modules: Iterable[str]) -> list[str]:
    names = set(modules)
    return [name for name in HEAVY if name in names]


def show(names: Iterable[str]) -> str:
    shown = ", ".join(names)
    return shown or "none"


def run(settings: Settings, *, accounts: int = 100) -> Table:
    table = Table("4. Start-up: heavy imports per command, and start-up time")
    python = [sys.executable]
    kfsync = harness.launcher()
    runs = settings.reps(15, 3)
    with harness.scratch(settings.work, "startup") as folder, \
            EmulatorProcess(latency_ms=0) as emulator:
        config = workload.in_sync_shop(folder / "shop", emulator.admin, accounts)
        env = harness.kfsync_env(emulator.base_url, folder / "cache")
        plan = ["plan", "-c", str(config)]
        if run_timed([*kfsync, *plan], env=env).code != 0:  # fills the cache
            raise RuntimeError("kfsync plan failed on the start-up shop")
        cases = {
            "`import kfsync.cli`": ([*python, "-X", "importtime", "-c", "import kfsync.cli"], ()),
            "`kfsync --version`": ([*python, "-X", "importtime", *kfsync[1:], "--version"], ()),
            "`kfsync validate` (100 accounts, avatars)": (
                [*python, "-X", "importtime", *kfsync[1:], "validate", "-c", str(config)],
                ("jsonschema", "PIL.Image")),
            "`kfsync plan` (in sync, warm cache)": (
                [*python, "-X", "importtime", *kfsync[1:], *plan], ("requests",)),
            "`kfsync records` (one day, none there)": (
                [*python, "-X", "importtime", *kfsync[1:], "records", "--since", "2026-11-01",
                 "--until", "2026-11-01"], ("requests",)),
        }
        for name, (argv, allowed) in cases.items():
            report = run_timed(argv, env=env)
            if report.code != 0:
                raise RuntimeError(f"{name} failed: {report.err[-500:]}")
            found = heavy(imported(report.err))
            if not imported(report.err):
                raise RuntimeError(f"{name}: no import times were read from its report")
            table.add(Row(f"heavy imports of {name}", show(found), f"only: {show(allowed)}",
                          verdict=verdict(set(found) <= set(allowed))))
        bare, version, validate = [], [], []
        for index in range(runs):
            if index % 5 == 0:
                say(f"startup: run {index + 1}/{runs}")
            bare.append(run_timed([*python, "-c", "pass"]).wall)
            version.append(run_timed([*kfsync, "--version"]).wall)
            validate.append(run_timed([*kfsync, "validate", "-c", str(config)], env=env).wall)
    reference = median(bare)
    table.add(Row("`python -c pass`", ms(reference), ratio="reference"))
    table.add(Row("`kfsync --version`", ms(median(version)), ratio=times(median(version) / reference)))
    table.add(Row("`kfsync validate` (100 accounts, avatars)", ms(median(validate)),
                  ratio=times(median(validate) / reference)))
    table.note(f"Heavy libraries looked for: {', '.join(HEAVY)} (PIL.Image is Pillow's image "
               "code; the bare `PIL` package, which only holds the version the avatar cache key "
               "names, costs about a millisecond).")
    table.note(f"Times: medians of {runs} interleaved runs; launcher `{harness.describe_launcher()}`."
               " validate checks every avatar file (decodes it), with no cache: it runs offline "
               "in CI.")
    return table
