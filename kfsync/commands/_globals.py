"""The global options (-v, -q, --debug, --no-color, --tz), accepted before or after the command.

Every command gets the same `click.Option` objects (see `add_global_options`),
so `kfsync -q plan` and `kfsync plan -q` mean the same and every `--help` lists
them.  Each option's callback updates the one `Settings` of the run, kept on
the root context; logging, colour, progress and the display time zone are
decided from it, here and nowhere else.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from typing import Any, TextIO

import click

from kfsync.redact import RedactingFilter
from kfsync.textsafe import visible

#: Set on a command once it carries the global options, so that adding them is idempotent.
_MARK = "_kfsync_global_options"


@dataclass
class Settings:
    """What the global options say for this run (--tz goes to `kfsync.timefmt`, which owns the zone)."""

    verbose: int = 0
    quiet: bool = False
    debug: bool = False
    no_color: bool = False


def settings() -> Settings:
    """The settings of the run under way (defaults outside a command, e.g. in library use)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return Settings()
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        root.obj = Settings()
    return root.obj


def use_color(stream: TextIO | None = None) -> bool:
    """Colour only on a terminal, and never with NO_COLOR (any value) or --no-color."""
    if settings().no_color or os.environ.get("NO_COLOR"):
        return False
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def bold(text: str, stream: TextIO | None = None) -> str:
    """`text` in bold when colour is on for `stream` (stdout by default), else as it is."""
    return click.style(text, bold=True) if use_color(stream) else text


def note(message: str) -> None:
    """A line for people on stderr (a summary, a hint), which -q leaves out."""
    if not settings().quiet:
        click.echo(message, err=True)


def show_progress() -> bool:
    """Progress bars only on a terminal's stderr, and never with -q."""
    return not settings().quiet and sys.stderr.isatty()


def configure_logging(current: Settings) -> None:
    level = logging.WARNING
    if current.quiet:
        level = logging.ERROR
    elif current.debug or current.verbose >= 2:
        level = logging.DEBUG
    elif current.verbose == 1:
        level = logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(_OneLineFormatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("kfsync")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


class _OneLineFormatter(logging.Formatter):
    """Each log message on one line, its outside text (errmsg, nicknames, ...) escaped.

    A traceback (`--debug`) keeps its own lines: it is added after the message.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = visible(record.message)
        return super().formatMessage(record)


def _update(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if not value:  # not given at this level: leave what an earlier level said
        return
    current = settings()
    name = param.name
    if name == "verbose":
        current.verbose += int(value)
    elif name == "tz":
        from kfsync.timefmt import choose_zone

        choose_zone(str(value))
    else:
        setattr(current, str(name), True)
    configure_logging(current)


def _options() -> list[click.Option]:
    """Fresh option objects (click binds each parameter to one command)."""
    common: dict[str, Any] = {"expose_value": False, "callback": _update, "is_eager": True}
    return [
        click.Option(["-v", "--verbose"], count=True, help="More log output (-vv for debug).",
                     **common),
        click.Option(["-q", "--quiet"], is_flag=True,
                     help="Only errors on stderr: no progress, no notes.", **common),
        click.Option(["--debug"], is_flag=True,
                     help="Debug logs, and tracebacks for internal errors.", **common),
        click.Option(["--no-color"], is_flag=True,
                     help="Never colour the output (as does NO_COLOR).", **common),
        click.Option(["--tz"], metavar="ZONE",
                     help="Time zone of the times shown and read (an IANA name, or UTC) "
                          "[default: KFSYNC_TZ, else Asia/Shanghai].", **common),
    ]


def add_global_options(command: click.Command) -> click.Command:
    """Give `command` (and, for a group, each of its subcommands) the global options, once."""
    if not getattr(command, _MARK, False):
        command.params.extend(_options())
        setattr(command, _MARK, True)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            add_global_options(sub)
    return command
