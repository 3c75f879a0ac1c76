"""A counterexample's files: ``trace.txt``, ``trace.json``, ``trace.dot`` and ``trace.svg``.

Plus one ``<stem>.dot``/``.svg`` per extra drawing the model offers (``Model.drawings``), e.g. a
chain's block tree. SVGs are written only where graphviz's ``dot`` program exists; the ``.dot``
files always are. Every file is written atomically.
"""

from __future__ import annotations

from pathlib import Path

from checker.files import write_atomic
from checker.render_dot import dot_available, message_sequence, render_svg
from checker.render_text import trace_text
from checker.trace import Trace

__all__ = ["write_trace"]


def write_trace(trace: Trace, out_dir: str | Path, stem: str = "trace") -> list[Path]:
    """Write every format of ``trace`` into ``out_dir``; return the paths written."""
    out = Path(out_dir)
    written = [
        write_atomic(out / f"{stem}.json", trace.dumps()),
        write_atomic(out / f"{stem}.txt", trace_text(trace, f"{out / (stem + '.json')}")),
    ]
    drawings = {stem: message_sequence(trace)}
    for name, src in trace.model.drawings([s.state for s in trace.steps]).items():
        drawings[f"{stem}.{name}" if stem != "trace" else name] = src
    svg = dot_available()
    for name, src in drawings.items():
        written.append(write_atomic(out / f"{name}.dot", src))
        if svg:
            written.append(write_atomic(out / f"{name}.svg", render_svg(src)))
    return written
