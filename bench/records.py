"""Scenario 5, records export: 12 days of chat records, 144,000 of them, at the long latency.

`kfsync records --since D --until D+11 -o FILE` runs as its own process, beside
`bench/reference.py records`, the sequential script (one window after the
other, page after page, a JSON line a record), interleaved, against an
emulator that charges L per request and 2 × L for each new connection.
Compared: wall time (with the limit the network sets), CPU time per record,
peak memory (also of a 3-day export: it must not grow with the range), and the
two outputs, which must be the same bytes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from pathlib import Path
from typing import Any

from bench import harness, workload
from bench.harness import EmulatorProcess, RequestLog, Settings, median, run_timed, say
from bench.report import Row, Table, ms, secs, times, verdict
from kfsync.providers.wechat_mp.client.paging import MAX_NUMBER, WINDOWS_AT_ONCE

DAYS = 12
PER_DAY = 12_000
FIRST_DAY = dt.date(2026, 11, 1)
CHINA = dt.timezone(dt.timedelta(hours=8))
MSGLIST = "/customservice/msgrecord/getmsglist"
SPEED_UP_TARGET = 2.0
CPU_TARGET = 1.2  #: kfsync's CPU per record over the script's
MEMORY_TARGET = 64 * 2**20


def midnight(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), tzinfo=CHINA).timestamp())


def run(settings: Settings, *, days: int = DAYS, per_day: int | None = None) -> Table:
    per_day = per_day or settings.reps(PER_DAY, 1_000)
    total = days * per_day
    table = Table(f"5. Records export ({days} days, {total:,} records)")
    rounds = settings.reps(3, 1)
    long = settings.latency_ms
    start = midnight(FIRST_DAY)
    last_day = FIRST_DAY + dt.timedelta(days=days - 1)
    with harness.scratch(settings.work, "records") as folder, \
            EmulatorProcess(latency_ms=long, connection_latency_ms=2 * long) as emulator:
        say(f"records: seeding {total:,} records")
        workload.seed_records(emulator.admin, workload.records(start, days, per_day))
        log = RequestLog(emulator.admin)
        env = harness.kfsync_env(emulator.base_url, folder / "cache")

        def export(until: dt.date, out: Path) -> tuple[harness.Timed, list[dict[str, Any]]]:
            mark = log.mark()
            timed = run_timed([*harness.launcher(), "records", "--since", FIRST_DAY.isoformat(),
                               "--until", until.isoformat(), "-o", str(out)], env=env)
            if timed.code != 0:
                raise RuntimeError(f"kfsync records failed: {timed.err[-800:]}")
            return timed, log.since(mark)

        kfsync, scripts = [], []
        pages: Counter[object] = Counter()
        same = True
        for index in range(rounds):
            say(f"records: round {index + 1}/{rounds}")
            ours, theirs = folder / "kfsync.jsonl", folder / "script.jsonl"
            timed, entries = export(last_day, ours)
            kfsync.append(timed)
            pages = Counter(e["body"]["starttime"] for e in entries if e["path"] == MSGLIST)
            script = run_timed(harness.reference("records", emulator.base_url, "--since",
                                                 str(start), "--until",
                                                 str(start + days * 86400), "--out", str(theirs)))
            if script.code != 0:
                raise RuntimeError(f"the sequential records script failed: {script.err[-800:]}")
            scripts.append(script)
            same = same and ours.read_bytes() == theirs.read_bytes()
            lines = sum(1 for _ in ours.open(encoding="utf-8"))
        say("records: a 3-day export, for its memory")
        short_range = export(FIRST_DAY + dt.timedelta(days=min(days, 3) - 1), folder / "3.jsonl")[0]
    wall = median([t.wall for t in kfsync])
    script_wall = median([t.wall for t in scripts])
    windows = len(pages)
    slowest = max(pages.values(), default=0)
    waves = math.ceil(sum(pages.values()) / WINDOWS_AT_ONCE)
    limit = (1 + max(waves, slowest)) * settings.latency
    table.add(Row("records exported", f"{lines:,}", f"{total:,}", verdict=verdict(lines == total)))
    table.add(Row("output of kfsync and of the sequential script", "the same bytes" if same else
                  "different", "the same bytes, in time order", verdict=verdict(same)))
    speed_up = script_wall / wall
    table.add(Row(f"L={long} ms, kfsync records: wall time", secs(wall),
                  f"≥ {SPEED_UP_TARGET:g}× faster than the sequential script",
                  f"{times(speed_up)} faster; {times(wall / limit)} of the limit",
                  verdict(speed_up >= SPEED_UP_TARGET), timed=True))
    table.add(Row(f"L={long} ms, the sequential script: wall time", secs(script_wall),
                  ratio=f"{times(script_wall / limit)} of the limit"))
    table.add(Row("limit", ms(limit), ratio="reference"))
    cpu, script_cpu = median([t.cpu for t in kfsync]), median([t.cpu for t in scripts])
    per_record = cpu / max(lines, 1) * 1e6
    script_per_record = script_cpu / max(lines, 1) * 1e6
    table.add(Row("CPU time per record: kfsync (process start-up and imports included)",
                  f"{per_record:.2f} µs", f"≤ {CPU_TARGET} × the script's",
                  f"{times(per_record / script_per_record)} of the script's "
                  f"({script_per_record:.2f} µs)", verdict(per_record <= CPU_TARGET *
                                                          script_per_record), timed=True))
    peak = max(t.peak_rss for t in kfsync)
    table.add(Row(f"peak memory of kfsync records, {days} days", f"{peak / 2**20:.0f} MiB",
                  f"≤ {MEMORY_TARGET // 2**20} MiB", f"{peak / MEMORY_TARGET:.2f}× of the bound",
                  verdict(peak <= MEMORY_TARGET)))
    table.add(Row(f"peak memory of kfsync records, {min(days, 3)} days",
                  f"{short_range.peak_rss / 2**20:.0f} MiB", f"≤ {MEMORY_TARGET // 2**20} MiB",
                  f"{short_range.peak_rss / peak:.2f}× of the {days}-day export's",
                  verdict(short_range.peak_rss <= MEMORY_TARGET)))
    script_peak = max(t.peak_rss for t in scripts)
    table.add(Row("peak memory of the sequential script", f"{script_peak / 2**20:.0f} MiB"))
    table.note(f"Medians of {rounds} interleaved rounds; L = {long} ms per request and 2 × L for "
               f"each new connection; {per_day:,} records a day, evenly spread, in pages of "
               f"{MAX_NUMBER:,}.")
    table.note(f"limit = L × (token + max(⌈pages / W⌉, pages of the slowest window)) = {long} ms × "
               f"(1 + max(⌈{sum(pages.values())}/{WINDOWS_AT_ONCE}⌉, {slowest})) = {ms(limit)}: "
               f"{windows} windows of 24 hours, independent, fetched W = {WINDOWS_AT_ONCE} at a "
               "time; within a window each page needs the msgid the one before answered.")
    table.note("CPU per record: each process's user and system time (os.wait4) over the records "
               "exported; both parse the same pages and write the same lines.")
    return table
