"""Results: one table per scenario (figure, target, ratio, verdict), the machine, and RESULTS.md."""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

#: "FAIL, at the floor": the target is missed, and so is it by this machine's floor for the same
#: work, measured in the same run (the minimal client, or the part that cannot overlap the network),
#: which kfsync is within `AT_FLOOR` of: the target is out of reach here, not kfsync's doing.
Verdict = Literal["PASS", "FAIL", "FAIL, at the floor", "info"]
#: Within this of its measured floor, a time that misses its target is at the floor.
AT_FLOOR = 1.05


@dataclass(frozen=True)
class Row:
    """One line of a scenario's table."""

    figure: str  #: what was measured
    value: str  #: the measured value, with its unit
    target: str = "—"
    ratio: str = "—"  #: the value over its same-run reference (or over the target's bound)
    verdict: Verdict = "info"
    timed: bool = False  #: a time target: the quick mode reports it but does not fail on it


@dataclass
class Table:
    """A scenario's result: its rows and the notes that say how they were measured."""

    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def add_traffic(self, opened: Mapping[int, int], script_opened: int, width: int,
                    requests: str, script_requests: str) -> None:
        """An apply scenario's traffic rows, each beside the sequential script's figure.

        The connections one apply opened at each width, and the requests of one at `width`.
        """
        self.add(Row("connections opened by one apply",
                     ", ".join(f"P={p}: {count}" for p, count in opened.items()),
                     ratio=f"the sequential script: {script_opened}"))
        self.add(Row(f"requests of one apply at P={width}", requests,
                     ratio=f"the sequential script: {script_requests}"))

    @property
    def passed(self) -> bool:
        return all(row.verdict in ("PASS", "info") for row in self.rows)

    @property
    def explained(self) -> bool:
        """Every target passed, or missed only where the measured floor misses it too."""
        return all(row.verdict != "FAIL" for row in self.rows)

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "FAIL, at the floor" if self.explained else "FAIL"

    @property
    def works(self) -> bool:
        """Every target that is not a time passed: what the quick mode checks."""
        return all(row.verdict != "FAIL" for row in self.rows if not row.timed)

    def markdown(self) -> str:
        lines = [f"## {self.title}", "", "| figure | value | target | ratio | verdict |",
                 "|---|---|---|---|---|"]
        lines += [f"| {r.figure} | {r.value} | {r.target} | {r.ratio} | {r.verdict} |"
                  for r in self.rows]
        if self.notes:
            lines.append("")
            lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"


def verdict(ok: bool) -> Verdict:
    return "PASS" if ok else "FAIL"


def floor_verdict(value: float, bound: float, floor_bound: float) -> Verdict:
    """PASS within `bound`; "FAIL, at the floor" within `floor_bound`, the bound this machine's
    measured floor for the same work allows (when it is above `bound`); else FAIL."""
    if value <= bound:
        return "PASS"
    return "FAIL, at the floor" if value <= max(bound, floor_bound) else "FAIL"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def secs(seconds: float) -> str:
    return f"{seconds:.2f} s"


def times(ratio: float) -> str:
    return f"{ratio:.2f}×"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, str]:
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": str(os.cpu_count()),
        "cpu model": cpu_model(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
    }


def document(tables: list[Table], *, command: str, settings: dict[str, str]) -> str:
    """RESULTS.md: how it was run, on what, and every table."""
    lines = ["# kfsync benchmark results", "",
             f"Written by `{command}`. Every time is shown beside a ratio to a reference "
             "measured in the same run: the machine is shared and noisy, so bare times from "
             "different runs do not compare.", ""]
    lines += ["| machine | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in {**machine(), **settings}.items()]
    lines += ["", "| scenario | verdict |", "|---|---|"]
    lines += [f"| {t.title} | {t.verdict} |" for t in tables]
    lines.append("")
    return "\n".join(lines) + "\n" + "\n".join(t.markdown() for t in tables)


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)
