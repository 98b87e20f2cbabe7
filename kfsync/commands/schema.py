"""`kfsync schema`: print the JSON Schema of kfsync.yaml, exactly as shipped."""

from __future__ import annotations

import click

from kfsync.config.resources import schema_bytes
from kfsync.errors import ExitCode


@click.command("schema")
def command() -> ExitCode:
    """Print the JSON Schema (Draft 2020-12) of kfsync.yaml.

    Point an editor at it for completion and checks while typing, e.g. with
    the comment `# yaml-language-server: $schema=kfsync.schema.json`.
    """
    click.echo(schema_bytes().decode("utf-8"), nl=False)
    return ExitCode.OK
