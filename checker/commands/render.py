"""``paxchain render TRACE.json``: draw a trace file as an HTML viewer, SVG, dot or text.

The file is replayed first (``checker.commands.replay.load_trace_file``): nothing is drawn from
a file whose steps do not replay on its model. At least one output is required. Exit 0 when
every output was written; 2 on bad input (one line on stderr).
"""

from __future__ import annotations

import click

from checker.errors import UserError
from checker.files import write_atomic

__all__ = ["command"]


@click.command("render")
@click.argument("trace_file", metavar="TRACE.json", type=click.Path(dir_okay=False))
@click.option("--html", "html_out", type=click.Path(dir_okay=False), default=None,
              help="A self-contained HTML viewer (step list, state diffs, chart, ←/→ keys).")
@click.option("--svg", "svg_out", type=click.Path(dir_okay=False), default=None,
              help="The message-sequence chart as SVG (needs graphviz's dot).")
@click.option("--dot", "dot_out", type=click.Path(dir_okay=False), default=None,
              help="The message-sequence chart as graphviz source.")
@click.option("--text", "text_out", type=click.Path(dir_okay=False), default=None,
              help="The trace as text with per-step changes.")
def command(trace_file, html_out, svg_out, dot_out, text_out) -> None:
    """Render a replayed TRACE.json as --html, --svg, --dot and/or --text."""
    if not any((html_out, svg_out, dot_out, text_out)):
        raise UserError("give at least one of --html, --svg, --dot, --text")
    from checker.commands.replay import load_trace_file
    from checker.render_dot import dot_available, message_sequence, render_svg

    trace = load_trace_file(trace_file).trace
    written = []
    if html_out:
        from checker.render_html import trace_html

        written.append(write_atomic(html_out, trace_html(trace)))
    if dot_out or svg_out:
        src = message_sequence(trace)
        if dot_out:
            written.append(write_atomic(dot_out, src))
        if svg_out:
            if not dot_available():
                raise UserError("--svg needs graphviz's dot program (apt-get install graphviz)")
            written.append(write_atomic(svg_out, render_svg(src)))
    if text_out:
        from checker.render_text import trace_text

        written.append(write_atomic(text_out, trace_text(trace, trace_file)))
    click.echo("wrote " + ", ".join(str(p) for p in written))
