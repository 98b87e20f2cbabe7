"""`kfsync validate`: check a kfsync.yaml offline, without credentials.

The problems are the command's result and go to stdout, one per line, as
text (`FILE:LINE:COL: message`), JSON, or GitHub workflow annotations; a
one-line summary goes to stderr.  Exit 0 when valid, 1 when not.

A valid file may still earn warnings (`FILE:LINE:COL: warning: message` on
stderr, whatever the format, even with -q): what the file says is allowed but
is likely to fail live, such as more WeCom accounts than an unverified corp may
hold.  Warnings never change the exit status.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from kfsync.commands._globals import note
from kfsync.commands._options import config_option, format_option
from kfsync.commands._progress import shown
from kfsync.config import Config, load_config
from kfsync.errors import ConfigError, ExitCode, Problem
from kfsync.textsafe import json_escapes, visible


def _github_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotation(problem: Problem) -> str:
    """`::error file=…,line=…,col=…::message`, escaped by GitHub's workflow-command rules."""
    return (
        f"::error file={_github_property(problem.file)},line={problem.line},"
        f"col={problem.column},title=kfsync validate::{_github_data(problem.message)}"
    )


def _summary(config: Config) -> str:
    return f"valid ({len(config.accounts)} accounts, {len(config.absent)} absent)"


@click.command("validate")
@config_option
@format_option(
    ("text", "json", "github"),
    "text: FILE:LINE:COL: message; json: one document; github: workflow annotations.",
    dest="output",
)
def command(config_path: Path, output: str) -> ExitCode:
    """Check a kfsync.yaml without credentials or network.

    Reports every problem at once with its line and column: YAML syntax,
    unknown keys, wrong values, conflicting policy, WeChat limits, and avatar
    files that are missing, outside the file's folder, or not images.
    """
    path = str(config_path)
    warnings: list[Problem] = []
    try:
        with shown("Checking avatars", "files") as advance:
            config = load_config(config_path, progress=advance, warnings=warnings)
    except ConfigError as exc:
        problems = exc.problems
        if output == "json":
            document = {"file": path, "valid": False, "problems": [p.to_dict() for p in problems]}
            click.echo(json_escapes(json.dumps(document, ensure_ascii=False, indent=2)))
        else:
            for problem in problems:
                click.echo(visible(github_annotation(problem) if output == "github" else str(problem)))
        count = len(problems)
        click.echo(f"{visible(path)}: invalid, {count} problem{'s' if count != 1 else ''}", err=True)
        return ExitCode.ERROR
    for warning in warnings:
        click.echo(visible(f"{warning.file}:{warning.line}:{warning.column}: warning: "
                           f"{warning.message}"), err=True)
    if output == "json":
        document = {
            "file": path,
            "valid": True,
            "accounts": len(config.accounts),
            "absent": len(config.absent),
            "problems": [],
        }
        click.echo(json_escapes(json.dumps(document, ensure_ascii=False, indent=2)))
    if output == "text":  # the result itself
        click.echo(f"{visible(path)}: {_summary(config)}")
    else:
        note(f"{visible(path)}: {_summary(config)}")
    return ExitCode.OK
