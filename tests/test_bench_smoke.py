"""The benchmark harness (bench/), exercised in its smallest pieces: no timing is asserted here."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # bench/ is not installed; it sits beside kfsync/ in the checkout
    sys.path.append(str(ROOT))

from bench import (  # noqa: E402
    bootstrap,
    growth,
    harness,
    hostile,
    records,
    report,
    soak,
    startup,
    steady,
    wecom,
    workload,
)
from bench.harness import Settings  # noqa: E402


def test_the_limit_is_computed_term_by_term() -> None:
    limit = bootstrap.Limit(writes=300, depth=2, pictures=100, parallelism=8, latency_ms=50)
    assert limit.terms == (2, 38, 14)
    assert limit.seconds == pytest.approx(2.7)
    assert "50 ms × (2 + 38 + 14) = 2700 ms" in limit.formula()
    # The writes at P at a time, or the dependency chain when it is longer: never both.
    wide = bootstrap.Limit(writes=300, depth=2, pictures=100, parallelism=32, latency_ms=150)
    assert wide.terms == (2, 10, 5)
    chained = bootstrap.Limit(writes=6, depth=3, pictures=2, parallelism=32, latency_ms=150)
    assert chained.terms == (2, 3, 2)


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


def test_imports_made_in_a_thread_are_found_despite_negative_times() -> None:
    # An import in another thread is subtracted from what the main thread was timing.
    text = ("import time:      -412 |       1830 |   kfsync.reconcile\n"
            "import time:      2105 |      -7520 |     requests\n"
            "import time:        -3 |         -3 | jsonschema\n")
    assert startup.heavy(startup.imported(text)) == ["requests", "jsonschema"]


def test_a_heavy_library_imported_in_a_thread_is_caught(tmp_path: Path) -> None:
    script = tmp_path / "threaded.py"
    script.write_text("import threading\n"
                      "t = threading.Thread(target=lambda: __import__('requests'))\n"
                      "t.start()\nimport json, csv, decimal\nt.join()\n", encoding="utf-8")
    done = harness.run_timed([sys.executable, "-X", "importtime", str(script)])
    assert done.code == 0
    assert "requests" in startup.heavy(startup.imported(done.err))


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
    assert table.works is False
    timed = report.Table("2. Timed")
    timed.add(report.Row("wall", "9 s", "≤ 1 s", verdict=report.verdict(False), timed=True))
    assert (timed.passed, timed.works) == (False, True)


def test_the_reference_script_exports_what_kfsync_exports(tmp_path: Path) -> None:
    with harness.EmulatorProcess() as emulator:
        start = records.midnight(records.FIRST_DAY)
        workload.seed_records(emulator.admin, workload.records(start, 2, 50))
        env = harness.kfsync_env(emulator.base_url, tmp_path / "cache")
        ours = harness.run_timed([*harness.launcher(), "records", "--since", "2026-11-01",
                                  "--until", "2026-11-02", "-o", str(tmp_path / "a")], env=env)
        theirs = harness.run_timed(harness.reference(
            "records", emulator.base_url, "--since", str(start), "--until", str(start + 2 * 86400),
            "--out", str(tmp_path / "b")))
    assert (ours.code, theirs.code) == (0, 0), ours.err + theirs.err
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()
    assert len((tmp_path / "a").read_text(encoding="utf-8").splitlines()) == 100


def test_hostile_pictures_are_made_and_a_peak_rss_is_read(tmp_path: Path) -> None:
    config = hostile.hostile_shop(tmp_path / "shop", 14, 300)
    assert len(list((tmp_path / "shop" / "avatars").iterdir())) == 14
    env = harness.kfsync_env("http://127.0.0.1:9", tmp_path / "cache")
    code, _, peak = hostile.peak_rss([*harness.launcher(), "validate", "-c", str(config)], env)
    assert code == 1  # the hostile ones are refused
    assert 0 < peak < hostile.MEMORY_TARGET


def test_the_wecom_limit_is_counted_from_the_request_log() -> None:
    def entry(path: str) -> dict[str, object]:
        return {"path": path}

    log = [entry(wecom.TOKEN), entry(wecom.LIST), entry(wecom.SERVICER_LIST),
           *[entry("/cgi-bin/media/upload"), entry("/cgi-bin/kf/account/add"),
             entry("/cgi-bin/kf/servicer/add")] * 4,
           entry(wecom.LIST), *[entry(wecom.SERVICER_LIST)] * 5,
           *[entry("/wwhead/abc/0")] * 4, *[entry(wecom.LINK)] * 8]
    tally = wecom.Tally.of(log)
    assert (tally.token, tally.plan_lists, tally.plan_reads, tally.writes) == (1, 1, 1, 12)
    assert (tally.after_lists, tally.after_reads, tally.links, tally.other) == (1, 9, 8, 0)
    assert tally.total == len(log)
    limit = wecom.Limit(tally, chain=3, parallelism=8, latency_ms=150)
    # plan 1 + 1 + ⌈1/8⌉; writes max(⌈12/8⌉, 3); after 1 + ⌈(9 + 8)/8⌉
    assert limit.terms == (3, 3, 4)
    assert limit.seconds == pytest.approx(1.5)
    assert "150 ms × (3 + 3 + 4) = 1500 ms" in limit.formula()
    assert wecom.Limit(tally, chain=3, parallelism=2, latency_ms=150).terms == (3, 6, 10)
    assert wecom.Tally.of([entry("/cgi-bin/kf/sync_msg")]).other == 1


def test_a_wecom_chain_counts_the_upload_before_an_add_or_a_new_picture() -> None:
    changes: list[dict[str, Any]] = [
        {"id": "add:a", "action": "add", "after": {"name": "a"}, "depends_on": []},
        {"id": "servicers:a", "action": "servicers", "depends_on": ["add:a"]},
        {"id": "update:b", "action": "update", "after": {"name": "b"}, "depends_on": []},
        {"id": "update:c", "action": "update", "after": {"avatar": "c.png"}, "depends_on": []},
    ]
    assert wecom.chain(changes) == 3  # upload, add, then servicer/add
    assert wecom.chain(changes[2:]) == 2
    assert wecom.chain(changes[2:3]) == 1
    assert wecom.chain([]) == 0


def _wecom_script(folder: Path, emulator: harness.EmulatorProcess, count: int,
                  width: int, *, seeded: bool = True) -> harness.Timed:
    from kfsync.providers.wecom.emulator import WeComAdmin

    accounts = wecom.declared(count)
    wecom.write_corp(folder, accounts)
    admin = WeComAdmin(emulator.base_url)
    admin.reset()
    if seeded:
        wecom.seed(admin, accounts)
    else:  # the console's account only: no users, no departments
        admin.seed(accounts=[wecom.CONSOLE_ACCOUNT])
    return harness.run_timed(harness.reference(
        "wecom-apply", emulator.base_url, "--accounts", str(wecom.manifest(folder, accounts)),
        "--width", str(width)))


def test_the_wecom_script_leaves_the_same_state_one_by_one_and_at_width(tmp_path: Path) -> None:
    states = {}
    with harness.EmulatorProcess(provider="wecom") as emulator:
        for width in (1, 4):
            done = _wecom_script(tmp_path, emulator, 3, width)
            assert done.code == 0, done.err
            assert done.out.strip() == "9"  # servicers re-read: 2 users and 1 department each
            states[width] = wecom.live_state(emulator.base_url)
    assert states[1] == states[4]
    assert len(states[1]) == 4  # and the console's account
    users, departments, phash, scenes = states[1]["客服00001"]
    assert (users, departments, scenes) == (("u00002", "u00003"), ("3",), ("app", "web"))
    assert phash is not None
    assert states[1][wecom.CONSOLE_ACCOUNT["name"]] == ((), (), None, ())


def test_the_wecom_script_stops_on_a_failed_servicer_item(tmp_path: Path) -> None:
    with harness.EmulatorProcess(provider="wecom") as emulator:
        done = _wecom_script(tmp_path, emulator, 2, 1, seeded=False)
    assert done.code == 1
    assert "servicer/add failed" in done.err
    assert "60111" in done.err


def test_the_wecom_scenario_runs_kfsync_and_the_script_to_the_same_state(tmp_path: Path) -> None:
    table = wecom.run(Settings(tmp_path, latency_ms=10, quick=True), accounts=2)
    rows = {row.figure.split(":")[0]: row for row in table.rows}
    assert rows["changes planned; writes and links of one apply"].value == (
        "4 (add 2, servicers 2); 6 writes, 4 links")
    assert rows["live state after kfsync and after the sequential script"].verdict == "PASS"
    assert table.works  # the times are not judged here
    assert any(note.startswith("limit(P=8) = L × (plan (token 1 + list 1 + ⌈1/8⌉)")
               for note in table.notes)
