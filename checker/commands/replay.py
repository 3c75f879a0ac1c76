"""``paxchain replay FILE``: re-execute a trace file against its model, trusting nothing.

Every state is rebuilt through the model, every step must be an enabled transition with the
recorded label and result, and the last state (or step) must break the named property.
Exit 1: the violation is confirmed. Exit 0: a witness (a goal reached) is confirmed.
Exit 2: the file is malformed, names an unknown model, or a step does not replay — checked
before anything is written. ``--out DIR`` writes the replayed trace's files as one set
(``paxchain.checker.artifacts.write_trace``). ``--shorten`` first deletes steps while the run
still shows its outcome (``paxchain.checker.steps.shorten``; the result is re-executed, and
1-minimal, not claimed shortest); ``--as-test FILE`` writes the trace as a pytest test
(``paxchain.checker.render_pytest``), ``-`` for stdout.
"""

from __future__ import annotations

import sys

import click

from paxchain.checker.artifacts import write_trace
from paxchain.checker.cli import echo, verdict
from paxchain.checker.files import read_json
from paxchain.checker.files import write_atomic
from paxchain.checker.render_pytest import pasteable, test_source
from paxchain.checker.render_text import param_text, trace_text
from paxchain.checker.steps import shorten
from paxchain.checker.trace import read_meta, replay
from paxchain.models import registry
from paxchain.models.errors import UserError
from paxchain.models.values import TraceError, decode

__all__ = ["command", "load_trace_file"]


def load_trace_file(path: str):
    """The replayed trace in ``path`` (a ``Replayed``), or a one-line ``UserError``.

    The file is read strictly (``paxchain.checker.files.read_json``: depth, integer size and NaN/inf are
    bounded before anything else reads it), its header checked field by field
    (``paxchain.checker.trace.read_meta``) and every step re-executed on the model it names."""
    data = read_json(path)
    meta = read_meta(data)
    params = {}
    for name, value in meta.get("params", {}).items():
        try:
            params[name] = _param_text(value)
        except TraceError as exc:
            raise TraceError(f"trace #meta params {name}: {exc}") from None
    model = registry.build(meta["model"], params, meta.get("variant"))
    return replay(model, data)


def _param_text(value) -> str:
    """A parameter as it was given on the command line (trace files store it as a value)."""
    return param_text(decode(value))


@click.command("replay")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--text", "show", is_flag=True, help="Print the replayed trace as text.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Write the replayed trace in every format here.")
@click.option("--shorten", "shorten_it", is_flag=True,
              help="Delete steps while the run still shows its outcome (for depth-first or "
                   "simulator traces); the rest of the output is of the shorter trace.")
@click.option("--as-test", "as_test", type=click.Path(dir_okay=False, allow_dash=True),
              default=None, metavar="FILE",
              help="Write the trace as a pytest test to paste into a suite (- for stdout).")
def command(file, show, out, shorten_it, as_test) -> None:
    """Replay a trace FILE step by step against its model."""
    done = load_trace_file(file)
    trace = done.trace
    n = len(trace.steps) - 1
    if as_test is not None and not pasteable(trace):
        raise UserError(f"a {trace.kind} counterexample is an infinite run: it cannot be a test")
    if shorten_it:
        trace = shorten(trace)
    # a confirmed witness is 0, a confirmed violation 1: recorded before any output, so that a
    # reader closing stdout early cannot change it (``paxchain.checker.cli``)
    code = verdict(0 if done.outcome == "witness" else 1)
    if shorten_it:
        m = len(trace.steps) - 1
        echo(f"shortened from {n} to {m} steps: each is re-executed, and no single step can "
             "be deleted" if m < n else f"no step of the {n} can be deleted")
        n = m
    if show:
        echo(trace_text(trace, file))
    if out:
        write_trace(trace, out)
    if as_test == "-":
        echo(test_source(trace), nl=False)
    elif as_test is not None:
        write_atomic(as_test, test_source(trace))
    if done.outcome == "witness":
        echo(f"replayed {n} steps of {trace.model.describe()}: each is an enabled "
             f"transition; the last state reaches {trace.prop}.")
    else:
        echo(f"replayed {n} steps of {trace.model.describe()}: each is an enabled "
             f"transition; confirmed: {trace.prop} ({trace.kind}) is violated"
             + (f" — {trace.explanation}" if trace.explanation else "") + ".")
    sys.exit(code)
