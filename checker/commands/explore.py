"""``paxchain explore MODEL``: walk a model's states in a browser, from a local server.

Serves the explorer (``paxchain.checker.explore_server``) on 127.0.0.1 — a free port unless
``--port`` — prints its URL and opens it in a browser unless ``--no-browser``. States are
expanded as they are visited, never the whole space up front. Ctrl-C stops the server; exit 0.

``--dump-graph FILE.dot`` first writes the whole reachable state graph as graphviz source, as
TLC's ``-dump dot`` does (``paxchain.checker.state_graph`` and ``render_graph``, as
``paxchain graph --dot`` writes it), cut at ``--max-states`` (the file then says so).
Bad input (an unknown model, variant or parameter; a port in use) is one line, exit 2.
"""

from __future__ import annotations

import webbrowser

import click

from paxchain.checker.cli import echo
from paxchain.checker.commands.check import parse_pairs
from paxchain.checker.driver_cli import model_options
from paxchain.checker.explore_server import make_server
from paxchain.checker.files import write_atomic
from paxchain.checker.render_graph import graph_dot
from paxchain.checker.state_graph import explore
from paxchain.models import registry
from paxchain.models.errors import UserError

__all__ = ["command"]


@click.command("explore")
@click.argument("model")
@model_options
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Serve on this port of 127.0.0.1 (0: a free one).")
@click.option("--no-browser", is_flag=True, help="Print the URL only; do not open a browser.")
@click.option("--dump-graph", "dump", type=click.Path(dir_okay=False), default=None,
              metavar="FILE.dot",
              help="First write the whole reachable state graph as graphviz source (for small "
                   "models; TLC's -dump dot).")
@click.option("--max-states", type=click.IntRange(min=1), default=2000, show_default=True,
              help="With --dump-graph: cut the graph after this many states (the file says so).")
def command(model, params, variant, port, no_browser, dump, max_states) -> None:
    """Walk MODEL's states in a browser, from a local server (Ctrl-C stops it)."""
    m = registry.build(model, parse_pairs(params), variant)
    if dump is not None:
        g = explore(m, max_states)
        write_atomic(dump, graph_dot(g))
        whole = "the whole reachable graph" if g.complete else (
            f"cut at --max-states {max_states}: not the whole space")
        echo(f"{m.describe()}: {len(g.states)} states, {len(g.edges)} steps ({whole}); "
             f"wrote {dump}")
    try:
        server = make_server(m, port)
    except OSError as exc:
        raise UserError(f"cannot serve on 127.0.0.1:{port}: {exc.strerror or exc}") from None
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    echo(f"exploring {m.describe()} at {url} (Ctrl-C stops)")
    try:
        if not no_browser:
            webbrowser.open(url)
        server.serve_forever()
    except KeyboardInterrupt:
        echo("stopped")
    finally:
        server.server_close()
