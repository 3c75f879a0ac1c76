"""Message-sequence charts of traces, as graphviz source.

One lane (column) per actor, in the model's ``lanes()`` order, steps top to bottom: step ``i``
is a box in the lane of its label, on row ``i``. Each message a step sends is an arrow from that
step to every later step that reads it; lane events (crash, restart, drop, timer) change the
box's shape and colour. The last step and a note with the final state and the broken property
are highlighted. Only ``Label`` fields are used, so any model with labelled lanes is drawn.

A lasso (``Trace.loop``): the steps of its loop are drawn orange (``_LOOP_STYLE``) and a bold
orange arrow, "back to state L", runs from the last step to the first step of the loop; a
stutter's last step says the run stays there forever.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import graphviz

from paxchain.models.errors import UserError
from paxchain.checker.render_text import format_value, loop_text
from paxchain.checker.trace import Trace

__all__ = ["message_sequence", "render_svg", "dot_available", "DotFailed"]

_EVENT_STYLE = {
    "crash": {"shape": "octagon", "fillcolor": "#f4cccc"},
    "restart": {"shape": "house", "fillcolor": "#d9ead3"},
    "drop": {"shape": "box", "fillcolor": "#eeeeee", "style": "rounded,filled,dashed"},
    "duplicate": {"shape": "box", "fillcolor": "#fff2cc"},
    "timer": {"shape": "box", "fillcolor": "#cfe2f3"},
}
_LOOP_STYLE = {"fillcolor": "#fce5cd", "color": "#e69138", "penwidth": "2"}
_PALETTE = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
            "#ff7f0e"]


def dot_available() -> bool:
    """Whether graphviz's ``dot`` program is installed (needed for SVG, not for .dot)."""
    return shutil.which("dot") is not None


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _wrap(text: str, width: int = 60) -> str:
    out, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    out.append(line)
    return "\\l".join(out) + "\\l"


def message_sequence(trace: Trace) -> str:
    """The trace's message-sequence chart as graphviz ``dot`` source."""
    model = trace.model
    steps = trace.steps
    lanes = list(model.lanes())
    for step in steps[1:]:
        lane = step.label.lane if step.label else None
        if lane and lane not in lanes:
            lanes.append(lane)
    if not lanes:
        lanes = ["system"]
    broken = trace.outcome == "violation"
    n = len(steps) - 1
    loop = trace.loop
    shape = ""
    if loop is not None:
        shape = (", then stutters forever" if loop == n
                 else f" (lasso: loop back to state {loop})")
    g = graphviz.Digraph("trace", graph_attr={
        "rankdir": "TB", "newrank": "true", "nodesep": "0.35", "ranksep": "0.25",
        "fontname": "Helvetica", "labelloc": "t", "fontsize": "14",
        "label": _esc(f"{model.describe()} — {trace.prop} "
                      f"{'violated' if broken else 'reached'} in {len(steps) - 1} steps{shape}"),
    }, node_attr={"fontname": "Helvetica", "fontsize": "10"},
        edge_attr={"fontname": "Helvetica", "fontsize": "8"})
    rows = len(steps)
    # Lane heads and lifelines: a node per (lane, row), chained vertically.
    for li, lane in enumerate(lanes):
        g.node(f"h{li}", _esc(lane), shape="box", style="filled,bold", fillcolor="#dddddd")
        prev = f"h{li}"
        for r in range(1, rows):
            step = steps[r]
            name = f"n{li}_{r}"
            if step.label is not None and (step.label.lane or lanes[0]) == lane:
                attrs = {"shape": "box", "style": "rounded,filled", "fillcolor": "white"}
                for ev in step.label.events:
                    attrs.update(_EVENT_STYLE.get(ev, {}))
                text = f"{r}. {step.label}"
                if loop is not None and r > loop:
                    attrs.update(_LOOP_STYLE)
                if r == rows - 1:
                    attrs.update({"fillcolor": "#f4cccc" if broken else "#d9ead3",
                                  "penwidth": "2", "color": "#cc0000" if broken else "#38761d"})
                    if loop == n:
                        text += " (then no step: stays here forever)"
                g.node(name, _esc(text), **attrs)
            else:
                g.node(name, "", shape="point", width="0.03", color="#999999")
            g.edge(prev, name, style="dashed", color="#bbbbbb", arrowhead="none", weight="100")
            prev = name
    with g.subgraph() as heads:  # keep the lanes in the model's order, left to right
        heads.attr(rank="same")
        for li in range(len(lanes)):
            heads.node(f"h{li}")
        for li in range(1, len(lanes)):
            heads.edge(f"h{li - 1}", f"h{li}", style="invis", weight="10")
    for r in range(1, rows):
        with g.subgraph() as same:
            same.attr(rank="same")
            for li in range(len(lanes)):
                same.node(f"n{li}_{r}")
    # Messages: from the step that first sent each to every later step that reads it.
    lane_index = {lane: i for i, lane in enumerate(lanes)}
    sent_at: dict[Any, int] = {}
    colour: dict[Any, str] = {}
    for r in range(1, rows):
        label = steps[r].label
        if label is None:
            continue
        here = f"n{lane_index.get(label.lane or lanes[0], 0)}_{r}"
        for msg in label.reads:
            if msg in sent_at:
                src_r = sent_at[msg]
                src_label = steps[src_r].label
                src = f"n{lane_index.get(src_label.lane or lanes[0], 0)}_{src_r}"
                g.edge(src, here, _esc(str(msg)), color=colour[msg], fontcolor=colour[msg],
                       constraint="false")
        for msg in label.sends:
            if msg not in sent_at:
                sent_at[msg] = r
                colour[msg] = _PALETTE[len(colour) % len(_PALETTE)]
    if loop is not None and loop < n:
        lane_of = [lane_index.get((st.label.lane if st.label else None) or lanes[0], 0)
                   for st in steps]
        g.edge(f"n{lane_of[n]}_{n}", f"n{lane_of[loop + 1]}_{loop + 1}",
               _esc(f"back to state {loop}"), color="#e69138", fontcolor="#e69138",
               penwidth="2.5", style="bold", constraint="false")
    # The final state and the broken property.
    final = model.to_vars(steps[-1].state)
    lines = [f"{'VIOLATED' if broken else 'REACHED'}: {trace.prop}", trace.summary]
    if trace.explanation:
        lines.append(trace.explanation)
    if loop is not None:
        lines.append(loop_text(trace))
    lines.append("")
    lines.append("final state:")
    lines += [f"{k} = {format_value(v)}" for k, v in final.items()]
    text = "".join(_wrap(_esc(line), 90) if line else "\\l" for line in lines)
    g.node("final", text, shape="note", style="filled",
           fillcolor="#fde9e9" if broken else "#eaf5e4",
           color="#cc0000" if broken else "#38761d", penwidth="2", fontsize="9")
    g.edge(f"n0_{rows - 1}" if rows > 1 else "h0", "final", style="invis", weight="100")
    return g.source


class DotFailed(UserError):
    """graphviz's ``dot`` could not draw a source (or is missing); the message is one line."""


def render_svg(dot_source: str) -> bytes:
    """SVG bytes of a drawing (needs the ``dot`` program); ``DotFailed`` when ``dot`` is missing
    or fails — its complaint is in the one-line message, nothing else is printed."""
    exe = shutil.which("dot")
    if exe is None:
        raise DotFailed("graphviz's dot program is not installed (apt-get install graphviz)")
    try:
        proc = subprocess.run([exe, "-Tsvg"], input=dot_source.encode("utf-8"),
                              capture_output=True, check=False)
    except OSError as exc:
        raise DotFailed(f"cannot run graphviz's dot: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        why = proc.stderr.decode("utf-8", "replace").strip()[:300] or f"exit {proc.returncode}"
        raise DotFailed(f"graphviz's dot failed: {why}")
    return proc.stdout
