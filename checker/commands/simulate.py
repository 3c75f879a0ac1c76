"""``paxchain simulate MODEL``: run a protocol in the seeded deterministic simulator.

MODEL is a registry model that has a driver (``paxchain.models.drivers``: ``paxos-system``,
``chain``) or the driver's own name (``paxos``, ``chain``, the short spellings). A driver
``NAME``'s command is the ``subcommand`` of ``checker/commands/simulate_NAME.py``; a model
without a driver is one line, exit 2. Same seed and parameters, same output byte for byte.
"""

from __future__ import annotations

import importlib

import click

from paxchain.models.drivers import DRIVERS, driver
from paxchain.models.registry import BadInput

__all__ = ["command", "DriverGroup"]


class DriverGroup(click.Group):
    """The drivers of the model registry as sub-commands: ``list_commands`` names them,
    ``get_command`` takes a driver's name or any model name and finds the driver's command in
    ``paxchain.checker.commands.<group>_<driver>``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(d.name for d in DRIVERS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        d = driver(name)
        try:
            module = importlib.import_module(f"paxchain.checker.commands.{self.name}_{d.name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"paxchain.checker.commands.{self.name}_{d.name}":
                raise
            raise BadInput(f"the {d.name} driver cannot {self.name}") from None
        return module.subcommand


@click.group("simulate", cls=DriverGroup, subcommand_metavar="MODEL [OPTIONS]...")
def command() -> None:
    """Run a protocol's real handlers in a seeded simulator with latency, loss, duplication,
    pauses, clock skew and crashes. MODEL: a model with a driver (paxos-system, chain) or
    the driver's name (paxos, chain)."""
