"""The `kfsync` command line: the group, lazy command loading, and the one error handler.

Each command lives in its own module under `kfsync.commands` and is imported
only when it runs, so that `kfsync --version` or `kfsync validate` never pay
for `requests`, `deepdiff` or Pillow.  Commands return an `ExitCode`; every
`KfsyncError` becomes one line on stderr and its exit code, never a traceback.
"""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Sequence

import click

from kfsync import __version__
from kfsync.commands._globals import add_global_options, configure_logging, settings
from kfsync.errors import ExitCode, KfsyncError
from kfsync.redact import redact
from kfsync.textsafe import visible
from kfsync.timefmt import display_zone

#: command name -> (module under kfsync.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "accounts": ("accounts", "List the live kf accounts with their binding and invitation."),
    "apply": ("apply", "Make the changes of a plan, then verify nothing is left."),
    "demo": ("demo", "Run the whole workflow against an embedded emulator."),
    "emulator": ("emulator", "Serve a local emulator of the WeChat kf API."),
    "import": ("import_", "Write a kfsync.yaml that describes the live accounts."),
    "online": ("online", "List the agents online now, with their accepted sessions."),
    "plan": ("plan", "Show the WeChat calls that would bring the live accounts in line."),
    "records": ("records", "Export chat records for any time range, as JSON lines or CSV."),
    "schema": ("schema", "Print the JSON Schema of kfsync.yaml."),
    "session": ("session", "Create, close and inspect customer sessions."),
    "validate": ("validate", "Check a kfsync.yaml without credentials or network."),
}


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module = importlib.import_module(f"kfsync.commands.{COMMANDS[cmd_name][0]}")
        command = module.command
        assert isinstance(command, click.Command)
        return add_global_options(command)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@add_global_options
@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="kfsync")
def group() -> None:
    """Manage the customer-service accounts of a WeChat Official Account as code.

    The global options work before or after the command: `kfsync -q plan`
    and `kfsync plan -q` are the same.
    """
    configure_logging(settings())
    display_zone()  # a KFSYNC_TZ that names no zone is refused before any work


def _fail(message: str) -> None:
    """One line on stderr: secrets masked, and controls, line breaks, bidi marks escaped,
    so that no errmsg or file name can forge a CI annotation or rewrite the terminal."""
    click.echo(f"kfsync: error: {visible(redact(message))}", err=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit status; the only place that turns errors into codes."""
    from kfsync.timefmt import choose_zone

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    choose_zone(None)  # each run starts from KFSYNC_TZ or the default
    try:
        result = group.main(args=args, prog_name="kfsync", standalone_mode=False)
    except KfsyncError as exc:
        _fail(str(exc))
        return int(exc.exit_code)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.NoArgsIsHelpError as exc:
        # `kfsync` or `kfsync session` alone: the help is the answer, not an error.
        click.echo(exc.format_message())
        return int(ExitCode.OK)
    except click.Abort:
        click.echo("kfsync: interrupted", err=True)
        return int(ExitCode.INTERRUPTED)
    except click.ClickException as exc:
        # Click's own usage errors exit 2, which kfsync reserves for "changes pending".
        _fail(exc.format_message())
        return int(ExitCode.ERROR)
    except KeyboardInterrupt:
        click.echo("kfsync: interrupted", err=True)
        return int(ExitCode.INTERRUPTED)
    except Exception as exc:
        if debug:
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc}; rerun with --debug and report it")
        return int(ExitCode.INTERNAL)
    if result is None:
        return int(ExitCode.OK)
    return int(result)


def entry() -> None:
    """Console-script entry point."""
    code = main()
    # On the way out the interpreter's collector would walk every object left, only to free
    # memory the process is about to give back; it skips frozen ones (30-50 ms of a plan).
    gc.freeze()
    sys.exit(code)
