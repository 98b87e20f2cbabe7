"""One set of conventions: global options anywhere, the same flag for the same thing, one time rule.

And chat-record ranges that WeChat cannot answer, refused before any call.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kfsync.emulator import Emulator
from kfsync.errors import UsageError
from kfsync.providers.wechat_mp.client import KfClient

Run = Callable[..., tuple[int, str, str]]
Fails = Callable[..., str]

CONFIG = "version: 1\nofficial_account:\n  wechat_id: shop_cs\naccounts:\n  alice:\n    nickname: Alice\n"
NOV_1_CST = 1_793_462_400  # 2026-11-01 00:00+08:00


def seed_invitation(emu: Emulator) -> int:
    """bob@shop_cs with a waiting invitation that expires at noon (+08:00) in ten days or so."""
    expires = (emu.admin.now() // 86400 + 10) * 86400 + 4 * 3600  # 04:00 UTC is 12:00 CST
    emu.admin.seed(accounts=[{"kf_account": "bob@shop_cs", "kf_nick": "Bob", "invite_wx": "bob_wx1",
                              "invite_status": "waiting", "invite_expire_time": expires}])
    return expires


def seed_records(emu: Emulator) -> None:
    emu.admin.seed(records=[{"openid": "oCust", "opercode": 2002, "text": f"hi {hour}",
                             "time": NOV_1_CST + hour * 3600, "worker": "alice@shop_cs"}
                            for hour in range(24)])


def calls(emu: Emulator) -> list[str]:
    """The WeChat-side paths the emulator was asked for (not its admin API)."""
    return [r["path"] for r in emu.admin.requests() if not r["path"].startswith("/_emulator/")]


# --------------------------------------------------------------------------- global options


@pytest.mark.parametrize(
    "argv",
    [
        ("-q", "records", "--since", "2026-11-01", "--until", "2026-11-01"),
        ("records", "--since", "2026-11-01", "--until", "2026-11-01", "-q"),
        ("records", "-q", "--since", "2026-11-01", "--until", "2026-11-01"),
    ],
    ids=["before", "after", "between"],
)
def test_quiet_works_before_or_after_the_command(ops_env: Emulator, ops_run: Run,
                                                 argv: tuple[str, ...]) -> None:
    seed_records(ops_env)
    code, out, err = ops_run(*argv)
    assert code == 0, err
    assert len(out.splitlines()) == 24
    assert err == ""


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_leaves_out_the_notes_for_people(ops_env: Emulator, ops_run: Run, tmp_path: Path,
                                               where: str) -> None:
    (tmp_path / "kfsync.yaml").write_text(CONFIG)

    def quiet(*argv: str) -> tuple[int, str, str]:
        return ops_run(*(("-q", *argv) if where == "before" else (*argv, "-q")))

    for argv, said in (
        (("accounts",), "No kf accounts yet"),
        (("session", "waiting"), "No customer is waiting"),
        (("validate", "--format", "json"), "kfsync.yaml: valid"),
        (("plan", "-o", "saved.json"), "Saved the plan to saved.json"),
        (("import", "-o", "imported.yaml", "--force"), "Imported 1 account"),
    ):
        if argv[0] == "import":
            seed_invitation(ops_env)
        assert said in ops_run(*argv)[2], argv  # the control case
        code, _, err = quiet(*argv)
        assert (code, err) == (0, ""), argv
    code, out, err = quiet("validate")
    assert (code, out, err) == (0, "kfsync.yaml: valid (1 accounts, 0 absent)\n", "")  # the result


def levels(err: str) -> set[str]:
    return {line.split(" ", 1)[0] for line in err.splitlines() if line[:1].isupper()}


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_and_debug_work_before_or_after_the_command(ops_env: Emulator, ops_run: Run,
                                                            where: str) -> None:
    seed_records(ops_env)
    command = ("records", "--since", "2026-11-01", "--until", "2026-11-01")
    for flags, level in ((("-v",), "INFO"), (("-vv",), "DEBUG"), (("--debug",), "DEBUG"),
                         (("-v", "-v"), "DEBUG")):
        argv = (*flags, *command) if where == "before" else (*command, *flags)
        code, _, err = ops_run(*argv)
        assert code == 0, err
        assert level in levels(err), (flags, err)
        if level == "INFO":
            assert "DEBUG" not in levels(err)


def test_verbose_counts_across_both_places(ops_env: Emulator, ops_run: Run) -> None:
    code, _, err = ops_run("-v", "accounts", "-v")
    assert code == 0
    assert "DEBUG" in levels(err)


def test_every_command_takes_the_global_options(capsys: pytest.CaptureFixture[str]) -> None:
    from kfsync.cli import COMMANDS, main

    for name in COMMANDS:
        argv = ["session", "list", "--help"] if name == "session" else [name, "--help"]
        code = main(argv)
        out = capsys.readouterr().out
        assert code == 0
        for option in ("-v, --verbose", "-q, --quiet", "--debug", "--no-color", "--tz ZONE"):
            assert option in out, (name, option)


def test_no_color_after_the_command_and_before(ops_env: Emulator, ops_run: Run,
                                               tmp_path: Path) -> None:
    (tmp_path / "kfsync.yaml").write_text(CONFIG)
    for argv in (("--no-color", "plan"), ("plan", "--no-color"), ("demo", "--no-color")):
        code, _, err = ops_run(*argv)
        assert code == 0, err


# --------------------------------------------------------------------------- the same flag


@pytest.mark.parametrize("flag", ["-o", "--out"])
def test_plan_writes_its_file_with_o_or_out(ops_env: Emulator, ops_run: Run, tmp_path: Path,
                                            flag: str) -> None:
    (tmp_path / "kfsync.yaml").write_text(CONFIG)
    code, _, err = ops_run("plan", flag, "saved.json")
    assert code == 0, err
    assert json.loads((tmp_path / "saved.json").read_text())["changes"]


@pytest.mark.parametrize("flag", ["-o", "--out", "--output"])
def test_records_write_their_file_with_o_out_or_the_old_output(
        ops_env: Emulator, ops_run: Run, tmp_path: Path, flag: str) -> None:
    seed_records(ops_env)
    code, out, err = ops_run("records", "--since", "2026-11-01", "--until", "2026-11-01", flag,
                             "r.jsonl")
    assert (code, out) == (0, ""), err
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 24


@pytest.mark.parametrize("flag", ["-o", "--out", "--output"])
def test_import_writes_its_file_with_o_out_or_the_old_output(
        ops_env: Emulator, ops_run: Run, tmp_path: Path, flag: str) -> None:
    seed_invitation(ops_env)
    code, _, err = ops_run("import", flag, "team.yaml")
    assert code == 0, err
    assert "bob:" in (tmp_path / "team.yaml").read_text()


def test_the_human_format_is_text_everywhere_and_table_an_alias(
        ops_env: Emulator, ops_run: Run, tmp_path: Path) -> None:
    seed_invitation(ops_env)
    (tmp_path / "kfsync.yaml").write_text(CONFIG)
    for command in (("accounts",), ("online",), ("session", "waiting"), ("plan",),
                    ("validate",)):
        as_text = ops_run(*command, "--format", "text")
        assert as_text[0] == 0, as_text
        assert ops_run(*command, "--format", "table") == as_text, command
        assert ops_run(*command, "--format", "TABLE") == as_text, command
        assert ops_run(*command) == as_text, command  # the default


def test_help_names_text_not_table(ops_run: Run) -> None:
    for command in ("accounts", "online", "plan", "apply", "validate"):
        _, out, _ = ops_run(command, "--help")
        assert "[text|" in out, command


# --------------------------------------------------------------------------- one time rule


def in_zone(timestamp: int, zone: str) -> str:
    """`2026-11-01 04:00+00:00`: how people are shown a time (no seconds here: on the hour)."""
    return datetime.fromtimestamp(timestamp, ZoneInfo(zone)).isoformat(sep=" ", timespec="minutes")


def test_times_default_to_china_standard_time_with_their_offset(ops_env: Emulator,
                                                                ops_run: Run) -> None:
    expires = seed_invitation(ops_env)
    code, out, _ = ops_run("accounts")
    assert code == 0
    shown = in_zone(expires, "Asia/Shanghai")
    assert shown.endswith(" 12:00+08:00")
    assert f"waiting for bob_wx1 until {shown}" in out


@pytest.mark.parametrize(
    ("how", "zone"),
    [
        (("--tz", "UTC"), "UTC"),
        (("--tz", "Europe/Berlin"), "Europe/Berlin"),
        (("--tz", "America/New_York"), "America/New_York"),
        (("KFSYNC_TZ", "UTC"), "UTC"),
        (("KFSYNC_TZ", "Asia/Kolkata"), "Asia/Kolkata"),
    ],
)
def test_tz_and_kfsync_tz_choose_the_zone(ops_env: Emulator, ops_run: Run,
                                          monkeypatch: pytest.MonkeyPatch,
                                          how: tuple[str, str], zone: str) -> None:
    shown = in_zone(seed_invitation(ops_env), zone)
    assert not shown.endswith("+08:00")
    if how[0] == "KFSYNC_TZ":
        monkeypatch.setenv(*how)
        argv: tuple[str, ...] = ("accounts",)
    else:
        argv = ("accounts", *how)
    code, out, _ = ops_run(*argv)
    assert code == 0
    assert f"until {shown}" in out
    if how[0] == "--tz":
        assert ops_run(how[0], how[1], "accounts") == (code, out, "")  # before the command too


def test_tz_wins_over_kfsync_tz(ops_env: Emulator, ops_run: Run,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    expires = seed_invitation(ops_env)
    monkeypatch.setenv("KFSYNC_TZ", "Europe/Berlin")
    assert f"until {in_zone(expires, 'UTC')}" in ops_run("accounts", "--tz", "UTC")[1]


def test_tz_reaches_plan_and_records(ops_env: Emulator, ops_run: Run, tmp_path: Path) -> None:
    expires = seed_invitation(ops_env)
    config = CONFIG + "  bob:\n    nickname: Bob\n    wechat: bob_wx1\n"
    (tmp_path / "kfsync.yaml").write_text(config)
    code, out, err = ops_run("plan", "--tz", "UTC")
    assert code == 0, err
    assert f"pending until {in_zone(expires, 'UTC')}" in out
    seed_records(ops_env)
    code, out, err = ops_run("--tz", "UTC", "records", "--since", "2026-11-01T00:00+08:00",
                             "--until", "2026-11-01T01:00+08:00", "--format", "csv")
    assert code == 0, err
    assert out.splitlines()[1].startswith("2026-10-31T16:00:00+00:00,1793462400,")


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_machine_formats_carry_the_offset(ops_env: Emulator, ops_run: Run, fmt: str) -> None:
    seed_records(ops_env)
    code, out, _ = ops_run("records", "--since", "2026-11-01T00:00+08:00", "--until",
                           "2026-11-02T00:00+08:00", "--format", fmt, "--tz", "Asia/Kolkata")
    assert code == 0
    first = out.splitlines()[1 if fmt == "csv" else 0]
    assert "2026-10-31T21:30:00+05:30" in first


@pytest.mark.parametrize("zone", ["Mars/Olympus", "+08:00", "Asia/../etc/passwd"])
def test_an_unknown_zone_is_one_clean_error_anywhere(ops_env: Emulator, ops_fails: Fails,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     zone: str) -> None:
    assert ops_fails("accounts", "--tz", zone).startswith(f"unknown time zone {zone!r}")
    assert ops_fails("--tz", zone, "session", "waiting").startswith("unknown time zone")
    monkeypatch.setenv("KFSYNC_TZ", zone)
    assert ops_fails("accounts").startswith(f"KFSYNC_TZ: unknown time zone {zone!r}")
    assert calls(ops_env) == []


# --------------------------------------------------------------------------- WeChat's range


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (("--since", "1900-01-01"), "--since '1900-01-01' is before 1970-01-01 00:00 UTC"),
        (("--since", "0001-01-01"), "--since '0001-01-01' is "),
        (("--since", "1969-12-31T23:59:59Z"), "is before 1970-01-01 00:00 UTC"),
        (("--since", "1960-01-01", "--until", "1965-01-01"), "is before 1970-01-01 00:00 UTC"),
        (("--since", "2999-01-01"), "--since '2999-01-01' is in the future"),
        (("--since", "2026-11-01", "--until", "9999-12-31"),
         "--until '9999-12-31' is outside the dates WeChat can answer"),
        (("--since", "9999-12-31T23:59:59-12:00"), "is in the future: WeChat has no records"),
    ],
)
def test_dates_outside_what_wechat_answers_are_refused_before_any_call(
        ops_env: Emulator, ops_fails: Fails, tmp_path: Path, argv: tuple[str, ...],
        reason: str) -> None:
    for legacy in ((), ("--legacy",)):
        message = ops_fails("records", *argv, *legacy, "-o", "r.jsonl")
        assert reason in message
        assert "65416" not in message
        assert "millisecond" not in message
    assert calls(ops_env) == []
    assert list(tmp_path.iterdir()) == []


def test_an_until_in_the_future_stops_at_now(ops_env: Emulator, ops_run: Run) -> None:
    seed_records(ops_env)
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=2)).date().isoformat()
    code, out, err = ops_run("records", "--since", "2026-11-01", "--until", tomorrow)
    assert code == 0, err
    assert len(out.splitlines()) == 24
    windows = [p for p in calls(ops_env) if p.endswith("getmsglist")]
    days = -(-(datetime.now(timezone.utc).timestamp() - NOV_1_CST) // 86400)
    assert len(windows) == days  # one call a day up to now, none for the days to come


@pytest.mark.parametrize(("start", "end"), [(-1, 10), (-10**9, 0), (0, 10**10), (0, 1_700_000_000_000)])
def test_the_client_refuses_ranges_wechat_cannot_answer(ops_env: Emulator, start: int,
                                                        end: int) -> None:
    with KfClient() as client:
        for walk in (client.iter_records, client.iter_legacy_records):
            with pytest.raises(UsageError, match="unix seconds"):
                walk(start, end)
    assert calls(ops_env) == []
