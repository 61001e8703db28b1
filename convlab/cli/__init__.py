"""The command line: one module per sub-command, each owning its flags."""

from convlab.cli.commands import main

__all__ = ["main"]
