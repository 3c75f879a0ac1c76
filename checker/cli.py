"""The ``paxchain`` command line: a click group whose commands live in ``checker/commands/``.

Each module there whose name has no underscore defines ``command`` (a ``click.Command``) named
like the module; it is imported only when that command runs (or for ``--help``), so start-up
stays small and adding a command never edits this file. Modules with an underscore
(``simulate_paxos``...) are sub-commands that their group module collects. Exit codes are shared by every command:
0 holds / confirmed, 1 violated, 2 bad input (a one-line error, never a traceback),
3 incomplete or unproven.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import click

from checker import __version__
from checker.errors import UserError

__all__ = ["main", "cli"]


class _LazyGroup(click.Group):
    """Finds commands by module name in ``checker.commands`` and imports them on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from checker import commands

        return sorted(i.name for i in pkgutil.iter_modules(commands.__path__)
                      if "_" not in i.name)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.list_commands(ctx):
            return None
        return importlib.import_module(f"checker.commands.{name}").command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="paxchain")
def cli() -> None:
    """paxchain: check consensus protocols exhaustively and with Z3; read, replay and draw
    their counterexamples."""


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning user errors into one line on stderr and exit 2."""
    try:
        # Without standalone mode click returns (not raises) the code of a click Exit.
        rc = cli.main(args=argv, prog_name="paxchain", standalone_mode=False)
    except UserError as exc:
        click.echo(f"paxchain: error: {exc}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("paxchain: interrupted", err=True)
        sys.exit(3)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.exit(1)
    except OSError as exc:  # an output path that cannot be created or written
        where = f" {exc.filename}" if exc.filename else ""
        click.echo(f"paxchain: error: cannot write{where}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    sys.exit(rc if isinstance(rc, int) else 0)
