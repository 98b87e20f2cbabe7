"""The CLI's one error handler: exceptions become one line and an exit code."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from kfsync import __version__, cli
from kfsync.errors import ConfigError, ExitCode, KfsyncError, OutcomeUnknownError, Problem
from kfsync.redact import register_secret


def _install(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    """Register a throwaway command `boom` that raises `exc`."""

    @click.command()
    def boom() -> None:
        raise exc

    class Module:
        command = boom

    monkeypatch.setitem(cli.COMMANDS, "boom", ("boom", "raise"))
    monkeypatch.setitem(sys.modules, "kfsync.commands.boom", Module)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == ExitCode.OK
    assert __version__ in capsys.readouterr().out


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == ExitCode.OK
    out = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert name in out


def test_unknown_command_is_an_error_not_changes_pending(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["no-such-command"]) == ExitCode.ERROR
    assert "No such command" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("exc", "code", "text"),
    [
        (KfsyncError("plain failure", hint="do this"), ExitCode.ERROR, "plain failure (do this)"),
        (
            ConfigError([Problem("k.yaml", 3, 5, "bad"), Problem("k.yaml", 4, 1, "worse")]),
            ExitCode.ERROR,
            "k.yaml:3:5: bad (and 1 more)",
        ),
        (OutcomeUnknownError("lost answer", endpoint="/x"), ExitCode.ERROR, "lost answer"),
        (KeyboardInterrupt(), ExitCode.INTERRUPTED, "interrupted"),
        (click.Abort(), ExitCode.INTERRUPTED, "interrupted"),
        (RuntimeError("bug"), ExitCode.INTERNAL, "internal error: RuntimeError: bug; rerun with --debug"),
    ],
)
def test_errors_become_one_line_and_exit_code(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    exc: BaseException,
    code: ExitCode,
    text: str,
) -> None:
    _install(monkeypatch, exc)
    assert cli.main(["boom"]) == code
    err = capsys.readouterr().err
    assert text in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_debug_reraises_internal_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    _install(monkeypatch, RuntimeError("bug"))
    with pytest.raises(RuntimeError, match="bug"):
        cli.main(["--debug", "boom"])


def test_error_text_is_redacted(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    register_secret("CLI-SECRET-VALUE-42")
    _install(monkeypatch, KfsyncError("failed with CLI-SECRET-VALUE-42 and access_token=abc"))
    assert cli.main(["boom"]) == ExitCode.ERROR
    err = capsys.readouterr().err
    assert "CLI-SECRET-VALUE-42" not in err
    assert "access_token=abc" not in err


def test_start_up_imports_no_heavy_dependencies() -> None:
    code = (
        "import sys, kfsync.cli\n"
        "heavy = [m for m in ('requests', 'jsonschema', 'deepdiff', 'PIL', 'yaml') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("argv", [[], ["session"]])
def test_no_subcommand_prints_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == ExitCode.OK
    captured = capsys.readouterr()
    assert captured.out.startswith("Usage: kfsync")
    assert "error" not in captured.err
