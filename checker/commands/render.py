"""``paxchain render TRACE.json``: draw a trace file as an HTML viewer, SVG, dot or text.

The file is replayed first (``paxchain.checker.commands.replay.load_trace_file``): nothing is drawn from
a file whose steps do not replay on its model. At least one output is required. Every input is
checked and every output rendered in memory before the first file is written: the trace, that
the outputs are distinct files (not folders, not the input itself), and that ``dot`` exists for
``--svg``. Each output is then written atomically. Exit 0 when every output was written; 2 on
bad input (one line on stderr).
"""

from __future__ import annotations

import os

import click

from paxchain.checker import render_dot
from paxchain.checker.cli import echo
from paxchain.checker.commands.replay import load_trace_file
from paxchain.checker.render_html import trace_html
from paxchain.checker.render_text import trace_text
from paxchain.models.errors import UserError
from paxchain.checker.files import write_atomic

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
    outputs = {opt: path for opt, path in (("--html", html_out), ("--svg", svg_out),
                                           ("--dot", dot_out), ("--text", text_out)) if path}
    if not outputs:
        raise UserError("give at least one of --html, --svg, --dot, --text")
    _check_outputs(trace_file, outputs)
    if svg_out and not render_dot.dot_available():
        raise UserError("--svg needs graphviz's dot program (apt-get install graphviz)")
    trace = load_trace_file(trace_file).trace
    contents: list[tuple[str, str | bytes]] = []
    if html_out:
        contents.append((html_out, trace_html(trace)))
    if dot_out or svg_out:
        src = render_dot.message_sequence(trace)
        if dot_out:
            contents.append((dot_out, src))
        if svg_out:
            contents.append((svg_out, render_dot.render_svg(src)))
    if text_out:
        contents.append((text_out, trace_text(trace, trace_file)))
    written = [write_atomic(path, data) for path, data in contents]
    echo("wrote " + ", ".join(str(p) for p in written))


def _check_outputs(trace_file: str, outputs: dict[str, str]) -> None:
    """Bad input before anything is read or written: an output that is a folder, the input
    file itself, or the same file as another output."""
    seen: dict[str, str] = {os.path.realpath(trace_file): "the input TRACE.json"}
    for opt, path in outputs.items():
        if os.path.isdir(path):
            raise UserError(f"{opt} {path}: is a folder")
        real = os.path.realpath(path)
        if real in seen:
            raise UserError(f"{opt} {path}: is the same file as {seen[real]}")
        seen[real] = opt
