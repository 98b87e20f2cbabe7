"""What the CLI draws on a real terminal: colour, progress bars, and when it draws neither.

Each test runs `python -m kfsync` in a subprocess on a pseudo-terminal (see
`terminal_run`), against the session's emulator on 127.0.0.1, and reads back
what the process drew.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kfsync.commands.demo import drifted_live
from kfsync.config import load_config
from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET, Emulator
from kfsync.engine import declare
from tests.helpers.terminal_run import TerminalRun, run_on_terminal

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ESCAPE = "\x1b["
#: click's bar: `label  [####    ]  2/4   50%  00:00:01`
BAR = re.compile(r"\[[# -]*\]\s+(\d+)/(\d+)\s+\d+%")
#: The cursor hiding and showing around a bar.
CURSOR = re.compile(r"\x1b\[\?25[lh]")

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A copy of examples/ (the config and its four avatar pictures)."""
    folder = tmp_path / "shop"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("ci"))
    return folder


@pytest.fixture
def env(emulator: Emulator, tmp_path: Path) -> dict[str, str]:
    """The CLI's credentials for the emulator, and a cold cache of its own."""
    (tmp_path / "home").mkdir()
    return {
        "KFSYNC_APPID": DEFAULT_APPID,
        "KFSYNC_APPSECRET": DEFAULT_SECRET,
        "KFSYNC_API_BASE": emulator.base_url,
        "KFSYNC_CACHE_DIR": str(tmp_path / "cache"),
        "HOME": str(tmp_path / "home"),
        "XDG_CACHE_HOME": str(tmp_path / "home" / ".cache"),
    }


def drifted(emulator: Emulator, shop: Path) -> None:
    """The live accounts the demo starts from: four of them with pictures to compare."""
    declared = declare(load_config(shop / "kfsync.yaml"))
    emulator.admin.seed(accounts=drifted_live("shop_cs", dict(declared.uploads),
                                              emulator.admin.now()))


def bars(drawn: str, label: str) -> list[tuple[int, int]]:
    """Every (done, total) the bar labelled `label` drew."""
    found: list[tuple[int, int]] = []
    for frame in re.split(r"[\r\n]", CURSOR.sub("", drawn)):
        if frame.lstrip().startswith(label):
            found.extend((int(a), int(b)) for a, b in BAR.findall(frame))
    return found


def no_secret(run: TerminalRun) -> None:
    assert DEFAULT_SECRET not in run.terminal + run.out + run.err


# --------------------------------------------------------------------------- colour


def test_demo_is_coloured_on_a_terminal(tmp_path: Path, env: dict[str, str]) -> None:
    run = run_on_terminal("demo", env=env, cwd=tmp_path)
    assert run.code == 0, run.terminal
    assert "\x1b[1m# Emulator at" in run.terminal  # bold headings
    assert "\x1b[33m~ update" in run.terminal  # yellow updates
    no_secret(run)


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (("demo",), {"NO_COLOR": "1"}),
        (("demo",), {"NO_COLOR": "yes please"}),
        (("demo", "--no-color"), {}),
        (("--no-color", "demo"), {}),
    ],
    ids=["NO_COLOR=1", "NO_COLOR=text", "after", "before"],
)
def test_demo_has_no_escape_codes_without_colour(tmp_path: Path, env: dict[str, str],
                                                  args: tuple[str, ...],
                                                  extra: dict[str, str]) -> None:
    run = run_on_terminal(*args, env={**env, **extra}, cwd=tmp_path)
    assert run.code == 0, run.terminal
    assert "# Emulator at" in run.terminal
    assert ESCAPE not in run.terminal


@pytest.mark.parametrize("where", ["before", "after", "NO_COLOR"])
def test_plan_colour_obeys_no_color_wherever_it_is_given(
        emulator: Emulator, shop: Path, env: dict[str, str], where: str) -> None:
    drifted(emulator, shop)
    coloured = run_on_terminal("plan", env=env, cwd=shop, on_terminal=["stdout"])
    assert "\x1b[33m~ update" in coloured.terminal
    args = {"before": ("--no-color", "plan"), "after": ("plan", "--no-color"),
            "NO_COLOR": ("plan",)}[where]
    extra = {"NO_COLOR": "1"} if where == "NO_COLOR" else {}
    run = run_on_terminal(*args, env={**env, **extra}, cwd=shop, on_terminal=["stdout"])
    assert run.code == 0, run.err
    assert "~ update" in run.terminal
    assert ESCAPE not in run.terminal


def test_the_decorations_of_a_demo_in_a_pipe_are_plain(tmp_path: Path, env: dict[str, str]) -> None:
    run = run_on_terminal("demo", env=env, cwd=tmp_path, on_terminal=["stderr"])
    assert run.code == 0
    assert ESCAPE not in run.out
    assert "# Emulator at" in run.out


# --------------------------------------------------------------------------- progress


def test_a_cold_plan_shows_its_avatars_and_pictures_progress(
        emulator: Emulator, shop: Path, env: dict[str, str]) -> None:
    drifted(emulator, shop)
    run = run_on_terminal("plan", env=env, cwd=shop, on_terminal=["stderr"])
    assert run.code == 0, run.terminal
    avatars = bars(run.terminal, "Checking avatars")
    pictures = bars(run.terminal, "Comparing live pictures")
    assert avatars[-1] == (4, 4)  # four distinct files
    assert pictures[-1] == (3, 3)  # alice, bob and dora have live pictures worth comparing
    assert {total for _, total in avatars} == {4}
    assert {total for _, total in pictures} == {3}
    assert "Plan:" in run.out  # the plan itself is on stdout, undisturbed
    assert ESCAPE + "3" not in run.out
    no_secret(run)

    warm = run_on_terminal("plan", env=env, cwd=shop, on_terminal=["stderr"])
    assert warm.code == 0
    assert "Checking avatars" not in warm.terminal  # all in the cache: nothing to wait for
    assert "Comparing live pictures" not in warm.terminal


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_shows_no_progress(emulator: Emulator, shop: Path, env: dict[str, str],
                                 where: str) -> None:
    drifted(emulator, shop)
    args = ("-q", "plan") if where == "before" else ("plan", "-q")
    run = run_on_terminal(*args, env=env, cwd=shop, on_terminal=["stderr"])
    assert run.code == 0, run.terminal
    assert run.terminal == ""
    assert "Plan:" in run.out


def test_validate_shows_the_avatars_it_normalises(shop: Path, env: dict[str, str]) -> None:
    run = run_on_terminal("validate", env=env, cwd=shop)
    assert run.code == 0, run.terminal
    assert bars(run.terminal, "Checking avatars")[-1] == (4, 4)
    assert "kfsync.yaml: valid (5 accounts, 1 absent)" in run.terminal


def test_import_shows_its_picture_downloads(emulator: Emulator, shop: Path, tmp_path: Path,
                                            env: dict[str, str]) -> None:
    drifted(emulator, shop)
    target = tmp_path / "imported"
    target.mkdir()
    run = run_on_terminal("import", env=env, cwd=target)
    assert run.code == 0, run.terminal
    assert bars(run.terminal, "Downloading avatars")[-1] == (4, 4)
    assert "Imported 6 accounts" in run.terminal
    assert sorted(p.name for p in (target / "avatars").iterdir()) == [
        "alice.jpg", "bob.jpg", "dora.jpg", "zoe.jpg"]


def seed_records(emulator: Emulator, days: int) -> int:
    """One record an hour over `days` days from 2026-11-01 00:00 CST; that start."""
    start = 1_793_462_400  # 2026-11-01 00:00+08:00
    emulator.admin.seed(records=[
        {"openid": "oCust", "opercode": 2002, "text": f"hello {hour}", "time": start + hour * 3600,
         "worker": "alice@shop_cs"} for hour in range(24 * days)])
    return start


def test_records_show_each_day_done(emulator: Emulator, tmp_path: Path,
                                    env: dict[str, str]) -> None:
    seed_records(emulator, days=3)
    run = run_on_terminal("records", "--since", "2026-11-01", "--until", "2026-11-03", "-o",
                          "out.jsonl", env=env, cwd=tmp_path)
    assert run.code == 0, run.terminal
    drawn = bars(run.terminal, "Exporting chat records")
    assert drawn[-1] == (3, 3)
    assert (1, 3) in drawn
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 72


def test_long_work_shows_the_time_left(tmp_path: Path, env: dict[str, str]) -> None:
    with Emulator(latency_ms=400) as slow:  # each window takes 0.4 s or more
        seed_records(slow, days=6)
        run = run_on_terminal("records", "--since", "2026-11-01", "--until", "2026-11-06", "-o",
                              "out.jsonl", env={**env, "KFSYNC_API_BASE": slow.base_url},
                              cwd=tmp_path)
    assert run.code == 0, run.terminal
    frames = [f for f in CURSOR.sub("", run.terminal).split("\r") if "Exporting" in f]
    assert any(re.search(r"\d+/6\s+\d+%\s+\d\d:\d\d:\d\d", frame) for frame in frames), frames


def test_records_to_the_terminal_draw_no_bar_over_them(emulator: Emulator, tmp_path: Path,
                                                       env: dict[str, str]) -> None:
    seed_records(emulator, days=1)
    run = run_on_terminal("records", "--since", "2026-11-01", "--until", "2026-11-01",
                          env=env, cwd=tmp_path)
    assert run.code == 0, run.terminal
    assert "Exporting chat records" not in run.terminal
    assert run.terminal.count('"openid": "oCust"') == 24


def test_without_a_terminal_verbose_logs_one_line_a_window(emulator: Emulator, tmp_path: Path,
                                                           env: dict[str, str]) -> None:
    seed_records(emulator, days=3)
    run = run_on_terminal("records", "-v", "--since", "2026-11-01", "--until", "2026-11-03",
                          "-o", "out.jsonl", env=env, cwd=tmp_path, on_terminal=[])
    assert run.code == 0, run.err
    lines = [line for line in run.err.splitlines() if "Exporting chat records" in line]
    assert lines == [f"INFO kfsync.progress: Exporting chat records: {n} of 3 days"
                     for n in (1, 2, 3)]
    assert "\r" not in run.err
    assert ESCAPE not in run.err

    quiet = run_on_terminal("records", "--since", "2026-11-01", "--until", "2026-11-03",
                            "-o", "out.jsonl", env=env, cwd=tmp_path, on_terminal=[])
    assert quiet.code == 0
    assert "Exporting chat records" not in quiet.err  # no -v: no lines, no bar
    assert "\r" not in quiet.err
