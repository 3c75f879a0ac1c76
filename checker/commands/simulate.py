"""``paxchain simulate``: run a protocol in the seeded deterministic simulator.

A click group; each target is a module ``checker/commands/simulate_<target>.py`` that defines a
module-level ``subcommand`` (a ``click.Command``), found with ``pkgutil`` so that adding a target
never edits this file. Same seed and parameters, same output byte for byte.
"""

from __future__ import annotations

import importlib
import pkgutil

import click

__all__ = ["command", "add_subcommands"]


def add_subcommands(group: click.Group, prefix: str) -> None:
    """Add ``subcommand`` of every module ``paxchain.checker.commands.<prefix><target>`` to ``group``."""
    from paxchain.checker import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        if info.name.startswith(prefix) and len(info.name) > len(prefix):
            module = importlib.import_module(f"paxchain.checker.commands.{info.name}")
            sub = getattr(module, "subcommand", None)
            if isinstance(sub, click.Command):
                group.add_command(sub)


@click.group("simulate")
def command() -> None:
    """Run a protocol's real handlers in a seeded simulator with latency, loss, duplication,
    pauses, clock skew and crashes."""


add_subcommands(command, "simulate_")
