"""``paxchain graph MODEL``: the reachable state graph of a small instance, to draw or browse.

Explores the whole graph (``paxchain.checker.state_graph``) up to ``--max-states`` and writes it
as graphviz source (``--dot``), SVG (``--svg``, needs ``dot``) and/or an explorer page
(``--html``). Everything is rendered in memory and checked before the first file is written;
each file is written atomically. Exit 0 when the whole graph was written, 3 when it was cut at
``--max-states`` (the files say so: they are not the whole space), 2 on bad input.
"""

from __future__ import annotations

import click

from paxchain.checker.cli import echo, verdict
from paxchain.checker.commands.check import parse_pairs
from paxchain.checker.driver_cli import model_options
from paxchain.checker.files import write_atomic
from paxchain.checker.render_dot import DotFailed, dot_available, render_svg
from paxchain.checker.render_graph import explorer_html, graph_dot
from paxchain.checker.state_graph import explore
from paxchain.models import registry
from paxchain.models.errors import UserError

__all__ = ["command"]


@click.command("graph")
@click.argument("model")
@model_options
@click.option("--max-states", type=click.IntRange(min=1), default=2000, show_default=True,
              help="Cut the graph after this many states (then exit 3: not the whole space).")
@click.option("--symmetry", is_flag=True, help="One state per orbit of the model's symmetry.")
@click.option("--dot", "dot_out", type=click.Path(dir_okay=False), default=None,
              help="Write the graph as graphviz source.")
@click.option("--svg", "svg_out", type=click.Path(dir_okay=False), default=None,
              help="Write the graph as SVG (needs graphviz's dot; hover a state to see it).")
@click.option("--html", "html_out", type=click.Path(dir_okay=False), default=None,
              help="Write an explorer page: walk the graph step by step in a browser.")
def command(model, params, variant, max_states, symmetry, dot_out, svg_out, html_out) -> None:
    """Explore MODEL's reachable states and write the graph (--dot, --svg, --html)."""
    outputs = {o: p for o, p in (("--dot", dot_out), ("--svg", svg_out), ("--html", html_out))
               if p is not None}
    if not outputs:
        raise UserError("give at least one of --dot FILE, --svg FILE, --html FILE")
    if len(set(outputs.values())) < len(outputs):
        raise UserError("each output needs its own file")
    if svg_out is not None and not dot_available():
        raise UserError("--svg needs graphviz's dot program (apt-get install graphviz)")
    m = registry.build(model, parse_pairs(params), variant)
    try:
        g = explore(m, max_states, symmetry)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    source = graph_dot(g)
    files: dict[str, str | bytes] = {}
    if dot_out is not None:
        files[dot_out] = source
    if svg_out is not None:
        try:
            files[svg_out] = render_svg(source)
        except DotFailed as exc:
            raise UserError(f"dot could not draw the graph: {exc}") from None
    if html_out is not None:
        files[html_out] = explorer_html(g)
    code = verdict(0 if g.complete else 3)
    for path, content in files.items():
        write_atomic(path, content)
    whole = "the whole reachable graph" if g.complete else (
        f"cut at --max-states {max_states}: not the whole space")
    echo(f"{m.describe()}: {len(g.states)} states, {len(g.edges)} steps ({whole}); "
         f"wrote {', '.join(files)}")
    raise SystemExit(code)
