"""The benchmark harness (bench/), exercised in its smallest pieces: no timing is asserted here."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # bench/ is not installed; it sits beside kfsync/ in the checkout
    sys.path.append(str(ROOT))

from bench import bootstrap, growth, harness, hostile, report, soak, startup, steady, workload  # noqa: E402
from bench.harness import Settings  # noqa: E402


def test_the_ideal_is_computed_term_by_term() -> None:
    ideal = bootstrap.Ideal(operations=300, depth=2, pictures=100, parallelism=8, latency_ms=50)
    assert ideal.terms == (2, 2, 38, 14)
    assert ideal.seconds == pytest.approx(2.8)
    assert "50 ms × (2 + 2 + 38 + 14) = 2800 ms" in ideal.formula()


def test_the_critical_path_is_the_longest_depends_on_chain() -> None:
    changes = [
        {"id": "delete:a", "depends_on": []},
        {"id": "add:a", "depends_on": ["delete:a"]},
        {"id": "set_avatar:a", "depends_on": ["add:a"]},
        {"id": "add:b", "depends_on": ["delete:gone"]},  # not in the plan: no wait
    ]
    assert bootstrap.depth(changes) == 3
    assert bootstrap.depth([]) == 0


def test_importtime_reports_are_parsed_into_heavy_modules() -> None:
    text = ("import time: self [us] | cumulative | imported package\n"
            "import time:       120 |        300 |   requests\n"
            "import time:        80 |         80 |     PIL.Image\n"
            "import time:        10 |         10 | kfsync.cli\n")
    found = startup.imported(text)
    assert found == {"requests": 300, "PIL.Image": 80, "kfsync.cli": 10}
    assert startup.heavy(found) == ["requests", "PIL.Image"]
    assert startup.show([]) == "none"


def test_the_cli_imports_no_heavy_library() -> None:
    done = harness.run_timed([sys.executable, "-X", "importtime", "-c", "import kfsync.cli"])
    assert done.code == 0
    assert startup.heavy(startup.imported(done.err)) == []


def test_an_account_added_twice_without_a_delete_is_found() -> None:
    def entry(path: str, account: str, errcode: int | None = 0,
              fault: str | None = None) -> dict[str, object]:
        return {"path": path, "body": {"kf_account": account}, "errcode": errcode, "fault": fault}

    ok = [entry(soak.ADD, "a"), entry(soak.DELETE, "a"), entry(soak.ADD, "a"),
          entry(soak.ADD, "b", fault="drop:before"), entry(soak.ADD, "b"), entry(soak.ADD, "b", 65406)]
    assert soak.added_twice(ok) == []
    twice = [entry(soak.ADD, "a", fault="drop:after"), entry(soak.ADD, "a")]
    assert soak.added_twice(twice) == ["a: added twice"]


def test_a_small_soak_finds_no_divergence(tmp_path: Path) -> None:
    tally, _ = soak.soak(Settings(tmp_path, quick=True), operations=10, max_runs=3, seconds=20)
    assert tally.runs >= 1
    assert tally.divergences == []


def test_growth_runs_on_small_sizes(tmp_path: Path) -> None:
    table = growth.run(Settings(tmp_path, quick=True), sizes=(10, 30))
    target = next(row for row in table.rows if row.figure.startswith("target: plan() CPU at 30"))
    assert target.verdict == "PASS"
    assert any(row.figure == "plan() growth 10 → 30" for row in table.rows)


def test_a_plan_in_sync_makes_two_requests(tmp_path: Path) -> None:
    with harness.EmulatorProcess() as emulator:
        config = workload.in_sync_shop(tmp_path / "shop", emulator.admin, 3)
        log = harness.RequestLog(emulator.admin)
        mark = log.mark()
        env = harness.kfsync_env(emulator.base_url, tmp_path / "cache")
        done = harness.run_timed([*harness.launcher(), "plan", "-c", str(config), "--detailed-exitcode"],
                                 env=env)
        counts = harness.Counts.of(log.since(mark))
    assert done.code == 0, done.err
    assert (counts.token, counts.listing, counts.pictures, counts.writes) == (1, 1, 3, 0)


def test_results_are_written_as_markdown_tables(tmp_path: Path) -> None:
    table = report.Table("1. Example")
    table.add(report.Row("requests", "2", "≤ 2", verdict=report.verdict(True)))
    table.add(report.Row("wall", report.ms(0.25), "≤ 300 ms", report.times(0.83), report.verdict(False)))
    table.note("a note")
    text = report.document([table], command="python bench/run.py --quick", settings={"mode": "quick"})
    assert "| requests | 2 | ≤ 2 | — | PASS |" in text
    assert "| wall | 250 ms | ≤ 300 ms | 0.83× | FAIL |" in text
    assert "| 1. Example | FAIL |" in text
    assert "| cpu model |" in text
    assert "- a note" in text
    assert steady.ACCOUNTS == 100


def test_hostile_pictures_are_made_and_a_peak_rss_is_read(tmp_path: Path) -> None:
    config = hostile.hostile_shop(tmp_path / "shop", 14, 300)
    assert len(list((tmp_path / "shop" / "avatars").iterdir())) == 14
    env = harness.kfsync_env("http://127.0.0.1:9", tmp_path / "cache")
    code, _, peak = hostile.peak_rss([*harness.launcher(), "validate", "-c", str(config)], env)
    assert code == 1  # the hostile ones are refused
    assert 0 < peak < hostile.MEMORY_TARGET
