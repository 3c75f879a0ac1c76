"""``paxchain run``: run a protocol's handlers for real, one OS process per node over UDP on
127.0.0.1.

A click group; each target is a module ``checker/commands/run_<target>.py`` defining a
module-level ``subcommand``, discovered like ``paxchain simulate``'s targets.
"""

from __future__ import annotations

import click

from paxchain.checker.commands.simulate import add_subcommands

__all__ = ["command"]


@click.group("run")
def command() -> None:
    """Run a protocol on real sockets on 127.0.0.1, with optional injected faults."""


add_subcommands(command, "run_")
