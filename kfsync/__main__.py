"""`python -m kfsync` runs the command line."""

from kfsync.cli import entry

entry()
