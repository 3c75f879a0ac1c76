"""``paxchain simulate MODEL``: run a protocol in the seeded deterministic simulator.

MODEL is a registry model that has a driver (``paxchain.models.drivers``: ``paxos-system``,
``chain``), the driver's own name (``paxos``, ``chain``, the short spellings), or any other
actor-system model, a model of one's own included (``FILE.py:FACTORY``, ``MODULE:FACTORY``;
also given as ``--model MODEL``), which the generic driver ``actors`` runs. A driver
``NAME``'s command is the ``subcommand`` of ``checker/commands/simulate_NAME.py``; a model
without a driver is one line, exit 2. Same seed and parameters, same output byte for byte.
"""

from __future__ import annotations

import importlib
import importlib.util

import click

from paxchain.models.drivers import ACTORS, DRIVERS, driver
from paxchain.models.registry import BadInput

__all__ = ["command", "DriverGroup"]


class DriverGroup(click.Group):
    """The drivers of the model registry as sub-commands: ``list_commands`` names those this
    group has a command for, ``get_command`` takes a driver's name or any model name and finds
    the driver's command in ``paxchain.checker.commands.<group>_<driver>``. ``--model MODEL``
    before the options is the same as MODEL (``paxchain check``'s spelling)."""

    def _module(self, name: str) -> str:
        return f"paxchain.checker.commands.{self.name}_{name}"

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(d.name for d in DRIVERS + (ACTORS,)
                      if importlib.util.find_spec(self._module(d.name)) is not None)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args[:1] == ["--model"]:
            if len(args) == 1:
                raise BadInput("--model takes a MODEL (FILE.py:FACTORY, MODULE:FACTORY or a "
                               "model's name)")
            args = args[1:]
        elif args and args[0].startswith("--model="):
            args = [args[0].partition("=")[2]] + args[1:]
        return super().parse_args(ctx, args)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        d = driver(name)
        try:
            module = importlib.import_module(self._module(d.name))
        except ModuleNotFoundError as exc:
            if exc.name != self._module(d.name):
                raise
            if d is ACTORS:
                raise BadInput(f"{name}: `{self.name}` has no driver for a model without a "
                               f"protocol driver of its own; `paxchain simulate {name}` runs "
                               f"its actors in the simulator") from None
            raise BadInput(f"the {d.name} driver cannot {self.name}") from None
        sub: click.Command = module.subcommand
        return sub


@click.group("simulate", cls=DriverGroup, subcommand_metavar="MODEL [OPTIONS]...")
def command() -> None:
    """Run a protocol's real handlers in a seeded simulator with latency, loss, duplication,
    pauses, clock skew and crashes. MODEL: a model with a driver (paxos-system, chain), the
    driver's name (paxos, chain), or any actor-system model, your own included
    (FILE.py:FACTORY, MODULE:FACTORY, or --model MODEL): its actors run, and its own safety
    properties judge the run."""
