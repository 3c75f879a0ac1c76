"""The ``paxchain`` command line: a click group whose commands live in ``checker/commands/``.

Each module there whose name has no underscore defines ``command`` (a ``click.Command``) named
like the module; it is imported only when that command runs (or for ``--help``), so start-up
stays small and adding a command never edits this file. Modules with an underscore
(``simulate_paxos``...) are sub-commands that their group module collects. Exit codes are
shared by every command: 0 holds / confirmed, 1 violated, 2 bad input (one line on stderr,
``paxchain: error: ...``, never a traceback — click's usage errors too), 3 incomplete or
unproven (a limit, Ctrl-C or SIGTERM, running out of memory). A reader closing stdout early
(``paxchain ... | head -1``) never changes the code: commands print through ``echo`` and record
their verdict with ``verdict``. ``--plugin`` (repeatable) loads user files that register bug
variants (``paxchain.impl.variants.load_plugins``) before the command runs.
"""

from __future__ import annotations

import difflib
import importlib
import io
import os
import pkgutil
import signal
import sys
from typing import Any

import click

from paxchain.checker import commands
from paxchain.checker.version import __version__
from paxchain.impl.variants import load_plugins as load
from paxchain.models.errors import UserError

__all__ = ["main", "cli", "echo", "verdict", "load_plugins"]


class _LazyGroup(click.Group):
    """Finds commands by module name in ``paxchain.checker.commands`` and imports them on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(i.name for i in pkgutil.iter_modules(commands.__path__)
                      if "_" not in i.name)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.list_commands(ctx):
            return None
        return importlib.import_module(f"paxchain.checker.commands.{name}").command

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        """As click's, but an unknown command names the known ones and the nearest."""
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            known = self.list_commands(ctx)
            near = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise click.UsageError(f"No such command {name!r} (known: {', '.join(known)}){hint}",
                                   ctx)
        return super().resolve_command(ctx, args)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="paxchain")
@click.option("--plugin", "plugins", multiple=True, metavar="PATH_OR_MODULE",
              help="Load a plugin first (a .py file or a module name; repeatable): it may "
                   "register bug variants. Child processes load it too.")
def cli(plugins: tuple[str, ...]) -> None:
    """paxchain: check consensus protocols exhaustively and with Z3; read, replay and draw
    their counterexamples."""
    if plugins:
        load_plugins(plugins, None, "--plugin")


def load_plugins(specs, base: str | None, where: str) -> None:
    """``paxchain.impl.variants.load_plugins``, with a missing or broken plugin as bad input
    (``UserError`` naming ``where`` it was asked for)."""
    try:
        load(list(specs), base)
    except ValueError as exc:
        raise UserError(f"{where}: {exc}") from None


# -- standard output that may be closed early (``paxchain ... | head -1``) ---------------------

_verdict: int | None = None
_stdout_closed = False


def verdict(code: int) -> int:
    """Record the exit code of the command's verdict before its output is printed, so that a
    reader closing the pipe early cannot change it; returns ``code``."""
    global _verdict
    _verdict = code
    return code


def echo(message: str = "", **kwargs) -> None:
    """``click.echo`` that survives a closed stdout: once the reader is gone, stdout goes to
    ``/dev/null`` and the command carries on to its own verdict and exit code."""
    if _stdout_closed and not kwargs.get("err"):
        return
    try:
        click.echo(message, **kwargs)
    except BrokenPipeError:
        if not kwargs.get("err"):
            _close_stdout()


def _close_stdout() -> None:
    """Point stdout at /dev/null so no later write or the final flush fails (the pattern of
    Python's ``signal`` documentation, "Note on SIGPIPE")."""
    global _stdout_closed
    _stdout_closed = True
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass  # not a real file (a test's capture): nothing will be flushed to a pipe


# -- the entry point ---------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and exit with its code (see the module docstring).

    Bad input — user errors and click usage errors alike — is one line on stderr, exit 2; an
    interrupt or running out of memory outside the engines (which handle both themselves) is
    one line, exit 3; a closed stdout keeps the verdict's code (3 when no verdict was reached).
    """
    _terminate_as_interrupt()
    code = _run(argv)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _close_stdout()
        if _verdict is None:
            code = 3
    except (OSError, ValueError):
        pass
    sys.exit(code)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _default_terminate() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _terminate_as_interrupt() -> None:
    """SIGTERM (a CI runner's timeout, ``kill``) ends a run as Ctrl-C does: *incomplete*, exit
    3, with what was checked — not killed without a word. Only over the default action, in the
    main thread; forked children (the parallel engine's workers, the random walkers) get the
    default back, as their parent stops them with SIGTERM."""
    try:
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _interrupt)
            os.register_at_fork(after_in_child=_default_terminate)
    except ValueError:  # not the main thread
        pass


def _run(argv: list[str] | None) -> int:
    global _verdict, _stdout_closed
    _verdict, _stdout_closed = None, False
    try:
        # Without standalone mode click returns (not raises) the code of a click Exit.
        rc = cli.main(args=argv, prog_name="paxchain", standalone_mode=False)
    except SystemExit as exc:
        return _exit_code(exc.code)
    except UserError as exc:
        return _error(f"paxchain: error: {exc}", 2)
    except click.exceptions.Abort:
        return _error("paxchain: interrupted", 3)
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()
        return exc.exit_code
    except click.BadParameter as exc:
        if exc.param is None or isinstance(exc, click.MissingParameter):
            return _usage_error(exc)
        # one style with paxchain's own errors: "--tie: 'x' is not one of ..."
        name = (exc.param.opts[0] if isinstance(exc.param, click.Option)
                else exc.param.human_readable_name)
        return _error(f"paxchain: error: {name}: {_one_line(exc.message)}", 2)
    except click.UsageError as exc:
        return _usage_error(exc)
    except click.ClickException as exc:
        return _error(f"paxchain: error: {_one_line(exc.format_message())}", exc.exit_code)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except BrokenPipeError:
        _close_stdout()
        return _verdict if _verdict is not None else 3
    except MemoryError:
        return _error("paxchain: out of memory: the run is incomplete", 3)
    except OSError as exc:  # an output path that cannot be created or written
        where = f" {exc.filename}" if exc.filename else ""
        return _error(f"paxchain: error: cannot write{where}: {exc.strerror or exc}", 2)
    return rc if isinstance(rc, int) else 0


def _usage_error(exc: click.UsageError) -> int:
    hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
    return _error(f"paxchain: error: {_one_line(exc.format_message())}{hint}", 2)


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    return _error(str(code), 1)  # sys.exit("message"): Python's own convention


def _error(line: str, code: int) -> int:
    echo(line, err=True)
    return code


def _one_line(text: str) -> str:
    return " ".join(text.split())
