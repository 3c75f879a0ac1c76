"""``paxchain run MODEL``: run a protocol's handlers for real, one OS process per node over UDP
on 127.0.0.1.

MODEL is found like ``paxchain simulate``'s (``DriverGroup``): a registry model that has a
driver, or the driver's own name; its command is ``checker/commands/run_NAME.py``'s
``subcommand``.
"""

from __future__ import annotations

import click

from paxchain.checker.commands.simulate import DriverGroup

__all__ = ["command"]


@click.group("run", cls=DriverGroup, subcommand_metavar="MODEL [OPTIONS]...")
def command() -> None:
    """Run a protocol on real sockets on 127.0.0.1, with optional injected faults. MODEL: a
    model with a driver (paxos-system, chain) or the driver's name (paxos, chain)."""
