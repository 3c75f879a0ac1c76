"""Message-sequence charts of traces, as graphviz source.

One lane (column) per actor, in the model's ``lanes()`` order, steps top to bottom: step ``i``
is a box in the lane of its label, on row ``i`` (node ``n{lane}_{i}``). Each message is an
arrow from the box of the step that sent it to the box of every later step that reads it
(drawn from the latest send before the read, as a network may carry copies). Messages already
in flight in the initial state (a proposer's first Prepare, sent when it starts) come from a
row 0 "start" box (node ``s{lane}``) on the sender's lane: the lane a message's ``src`` field
names. Arrow labels are short — the message's type and ballot (``Prepare (1,0)``), or its
fields when they are short — each a plaintext node ``l{k}`` put along its arrow where it covers
no box and no other label; boxes name the action without what the arrow already says;
the full label or message is the ``tooltip`` (shown on hover in SVG and the HTML viewer). Lane
events (crash, restart, drop, duplicate, timer) change the box's shape and colour: the marks on
a lane; other events (``found 17bcb8ff h=2``) are a second line in the box.

Lanes are placed, not left to graphviz: each lane is as wide as its widest box (text widths
estimated from Helvetica's metrics, with a margin for the fonts that stand in for it), and
neighbouring lanes are a gap apart, so no box reaches another lane's line. Positions are
pinned (``layout=neato``, ``pos="x,y!"``), so ``dot -Tsvg`` draws the source as it is. A
lifeline runs from box to box of its lane, and arrows are drawn over the boxes: an arrow that
passes another step's box is seen to pass it, not to start there.

The last step and a note are highlighted: the note names the broken property (or the goal
reached), its summary, the values that break it (the property's ``explain``) and what the last
step changed — not the whole state. 64-hex chain hashes are shortened to 8 digits everywhere.

A lasso (``Trace.loop``): the steps of its loop are drawn orange (``_LOOP_STYLE``) and a bold
orange arrow, "back to state L", runs from the last step to the first step of the loop; a
stutter's last step says the run stays there forever.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from paxchain.models.errors import UserError
from paxchain.models.values import Record
from paxchain.checker.render_text import final_note_lines, short_hashes
from paxchain.checker.trace import Trace

__all__ = ["message_sequence", "render_svg", "dot_available", "DotFailed", "chart_lanes",
           "step_node_names", "short_message", "short_label", "text_width"]

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
_BALLOT_FIELDS = ("ballot", "bal", "b")
_VALUE_FIELDS = ("value", "val", "v")
_ROUTING_FIELDS = ("src", "dst", "sent")
_SHORT = 22  # a message whose fields print in this many characters is shown whole

# Geometry, in inches (graphviz's unit for pos and width).
_FONT = 10.0        # points, step boxes
_ROW = 0.62         # from one row to the next
_GAP = 0.45         # between the widest boxes of neighbouring lanes
_SLACK = 1.18       # estimated text width x this: room for wider stand-in fonts
_PAD = 0.32         # a box's left plus right margin

# Helvetica's advance widths (1/1000 em) for ASCII 32..126; other characters count as 1 em.
_WIDTHS = [278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
           556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
           1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
           667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
           333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
           556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584]


def text_width(text: str, fontsize: float = _FONT) -> float:
    """An upper estimate of ``text``'s width in inches (Helvetica metrics, with slack)."""
    em = sum(_WIDTHS[ord(c) - 32] if 32 <= ord(c) < 127 else 1000 for c in text)
    return em / 1000 * fontsize / 72 * _SLACK


def dot_available() -> bool:
    """Whether graphviz's ``dot`` program is installed (needed for SVG, not for .dot)."""
    return shutil.which("dot") is not None


def _lit(text: str) -> str:
    """A dot string of plain text; a newline in it is a line break."""
    return ('"' + short_hashes(text).replace("\\", "\\\\").replace('"', '\\"')
            .replace("\n", "\\n") + '"')


def _wrap(text: str, width: int) -> list[str]:
    out, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    out.append(line)
    return out


def _compact(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ",".join(_compact(v) for v in value) + ")"
    if isinstance(value, Record):
        return short_message(value)
    return "None" if value is None else str(value)


def short_message(msg: Any) -> str:
    """A message as an arrow label: its type and ballot (``Prepare (1,0)``, ``1a bal=0``), and
    value when it carries one (``Accept (1,0) v1``); without a ballot its fields when short
    (``get_tip``), else its type and first field (``block 0977fe91``). Routing fields (src,
    dst, sent) are left out: the arrow shows them."""
    if not isinstance(msg, Record):
        return short_hashes(str(msg))
    inner = dict(msg.fields).get("msg")
    if isinstance(inner, Record):  # an envelope
        return short_message(inner)
    fields = [(k, v) for k, v in msg.fields if k not in _ROUTING_FIELDS]
    if not fields:
        return msg.kind
    names = dict(fields)
    parts = [msg.kind]
    ballot = next((k for k in _BALLOT_FIELDS if names.get(k) is not None), None)
    if ballot is not None:
        b = names[ballot]
        parts.append(_compact(b) if isinstance(b, tuple) else f"{ballot}={_compact(b)}")
        value = next((k for k in _VALUE_FIELDS if names.get(k) is not None), None)
        if value is not None:
            parts.append(_compact(names[value]))
    else:  # no ballot: the fields, or the first one's value when they are long
        whole = f"{msg.kind}(" + ", ".join(f"{k}={_compact(v)}" for k, v in fields) + ")"
        if len(whole) <= _SHORT:
            return short_hashes(whole)
        parts.append(_compact(fields[0][1]))
    return short_hashes(" ".join(parts))


def short_label(label: Any, arrow: bool) -> str:
    """A step's box text: the action without what the lane or the arrow already says
    (arguments naming the lane, the sender when an arrow comes in), messages shortened."""
    args = []
    for k, v in label.args:
        if v == label.lane and k in ("a", "node", "dst", "acc", "acceptor"):
            continue
        if k == "src" and arrow:
            continue
        args.append((k, v))
    if len(args) == 1 and args[0][0] == "msg":
        return short_hashes(f"{label.action} {_compact(args[0][1])}")
    inner = ", ".join(f"{k}={_compact(v)}" for k, v in args)
    return short_hashes(f"{label.action}({inner})")


def chart_lanes(trace: Trace) -> list[str]:
    """The chart's lanes, left to right: the model's, then any other a label names."""
    lanes = list(trace.model.lanes())
    for step in trace.steps[1:]:
        lane = step.label.lane if step.label else None
        if lane and lane not in lanes:
            lanes.append(lane)
    return lanes or ["system"]


def step_node_names(trace: Trace) -> list[str | None]:
    """The graphviz node of each step's box (None for state 0): ``n{lane index}_{step}``."""
    lanes = chart_lanes(trace)
    return [None] + [f"n{lanes.index((s.label.lane if s.label else None) or lanes[0])}_{r}"
                     for r, s in enumerate(trace.steps[1:], start=1)]


def _messages(trace: Trace, lanes: list[str], nodes: list[str | None]
              ) -> tuple[list[tuple[str, str, Any]], list[int]]:
    """Arrows ``(from node, to node, message)`` and the lanes with start-up sends: a message
    read that no earlier step sent was in flight in the initial state, sent by the lane its
    ``src`` field names when it started (no arrow when it names none)."""
    arrows: list[tuple[str, str, Any]] = []
    starts: list[int] = []
    last_sent: dict[Any, int] = {}
    for r, step in enumerate(trace.steps[1:], start=1):
        label = step.label
        if label is None:
            continue
        for msg in label.reads:
            if msg in last_sent:
                arrows.append((nodes[last_sent[msg]], nodes[r], msg))
                continue
            src = dict(msg.fields).get("src") if isinstance(msg, Record) else None
            if src in lanes:  # in flight from the start: sent when its sender started
                li = lanes.index(src)
                if li not in starts:
                    starts.append(li)
                arrows.append((f"s{li}", nodes[r], msg))
        for msg in label.sends:
            last_sent[msg] = r
    return arrows, sorted(starts)


def _step_boxes(trace: Trace, lanes: list[str], nodes: list[str | None],
                fed: set[str | None]) -> dict[str, tuple[int, int, str, dict[str, str]]]:
    """Each step's box: ``{node: (lane index, row, text, graphviz attributes)}``; ``fed`` are
    the boxes an arrow comes into (their text leaves out the sender)."""
    n = len(trace.steps) - 1
    broken = trace.outcome == "violation"
    loop = trace.loop
    boxes: dict[str, tuple[int, int, str, dict[str, str]]] = {}
    for r, step in enumerate(trace.steps[1:], start=1):
        label = step.label
        if label is None:
            continue
        li = lanes.index(label.lane or lanes[0])
        attrs = {"shape": "box", "style": "rounded,filled", "fillcolor": "white"}
        extra = []
        for ev in label.events:
            if ev in _EVENT_STYLE:
                attrs.update(_EVENT_STYLE[ev])
            elif ev.lower() != label.action.lower():
                extra.append(short_hashes(ev))
        if loop is not None and r > loop:
            attrs.update(_LOOP_STYLE)
        text = f"{r}. {short_label(label, nodes[r] in fed)}"
        if r == n:
            attrs.update({"fillcolor": "#f4cccc" if broken else "#d9ead3", "penwidth": "2",
                          "color": "#cc0000" if broken else "#38761d"})
            if loop == n:
                extra.append("then no step: stays here forever")
        tip = f"{r}. {label}" + (f" [{label.lane}]" if label.lane else "")
        if label.events:
            tip += " — " + ", ".join(label.events)
        attrs["tooltip"] = short_hashes(tip)
        boxes[nodes[r]] = (li, r, "\n".join([text] + extra), attrs)
    return boxes


def message_sequence(trace: Trace) -> str:
    """The trace's message-sequence chart as graphviz source (see the module docstring)."""
    model = trace.model
    steps = trace.steps
    lanes = chart_lanes(trace)
    nodes = step_node_names(trace)
    n = len(steps) - 1
    broken = trace.outcome == "violation"
    loop = trace.loop
    arrows, starts = _messages(trace, lanes, nodes)

    # Box texts first: they decide the lanes' widths.
    boxes = _step_boxes(trace, lanes, nodes, {b for _, b, _ in arrows})
    for li in starts:
        boxes[f"s{li}"] = (li, 0, "start", {
            "shape": "box", "style": "rounded,filled,dashed", "fillcolor": "#f3f3f3",
            "tooltip": f"{lanes[li]} starts: messages in flight in the initial state"})

    def width(text: str, size: float = _FONT) -> float:
        return max(text_width(line, size) for line in text.split("\n")) + _PAD

    lane_w = [width(lane, 11) + 0.1 for lane in lanes]
    for li, _, text, _ in boxes.values():
        lane_w[li] = max(lane_w[li], width(text))
    xs, x = [], 0.0
    for li, w in enumerate(lane_w):
        x += (w / 2) if li == 0 else (lane_w[li - 1] / 2 + _GAP + w / 2)
        xs.append(round(x, 2))
    top = 0.0
    # Rows below the heads (the start row, then the steps), each as tall as its tallest box.
    tall = [1] * (n + 1)
    for _li, r, text, attrs in boxes.values():
        lines = text.count("\n") + 1 + (1 if attrs["shape"] in ("house", "octagon") else 0)
        tall[r] = max(tall[r], lines)
    ys, at = [], top
    for r in range(n + 1):
        if r == 0 and not starts:
            ys.append(at)
            continue
        at -= _ROW + 0.16 * (tall[r] - 1) + (0.16 * (tall[r - 1] - 1) if r else 0)
        ys.append(round(at, 2))

    def y(row: int) -> float:
        return ys[row]

    shape = ""
    if loop is not None:
        shape = (", then stutters forever" if loop == n
                 else f" (lasso: loop back to state {loop})")
    title = ("\n".join(_wrap(model.describe(), 100)) + f"\n{trace.prop} {'violated' if broken else 'reached'} in "
             f"{n} step{'s' if n != 1 else ''}{shape}")
    out = ["digraph trace {",
           f'  graph [layout=neato, splines=line, outputorder=nodesfirst, fontname="Helvetica", '
           f"labelloc=t, fontsize=14, label={_lit(title)}];",
           f'  node [fontname="Helvetica", fontsize={_FONT:g}, height=0.3];',
           '  edge [fontname="Helvetica", fontsize=8, arrowsize=0.7];']
    bottom = y(n) - _ROW * 0.6
    for li, lane in enumerate(lanes):
        out.append(f'  h{li} [label={_lit(lane)}, shape=box, style="filled,bold", '
                   f'fillcolor="#dddddd", fontsize=11, pos="{xs[li]},{top}!", '
                   f'tooltip={_lit("lane " + lane)}];')
        out.append(f'  f{li} [label="", shape=point, width=0.03, color="#999999", '
                   f'pos="{xs[li]},{round(bottom, 2)}!"];')
        # The lifeline runs from box to box of its lane, so it never crosses one of them and
        # the arrows can be drawn over the boxes (an arrow that passes a box is seen to).
        stops = [f"h{li}"] + [name for name, (lj, r, _, _) in
                              sorted(boxes.items(), key=lambda kv: kv[1][1]) if lj == li]
        for a, b in zip(stops, stops[1:] + [f"f{li}"]):
            out.append(f'  {a} -> {b} [style=dashed, color="#bbbbbb", arrowhead=none];')
    for name, (li, r, text, attrs) in boxes.items():
        lines = text.split("\n")
        label = "\\n".join(_lit(line)[1:-1] for line in lines)
        extra = "".join(f", {k}={_lit(v)}" for k, v in attrs.items())
        out.append(f'  {name} [label="{label}"{extra}, pos="{xs[li]},{y(r)}!"];')
    # Arrow labels are nodes of their own, each put along its arrow where it covers no box
    # and no other label (graphviz would centre it, often on another step's box).
    def rect(cx: float, cy: float, w: float, h: float) -> tuple[float, float, float, float]:
        return (cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2)

    def meets(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
        return not (a[1] <= b[0] or b[1] <= a[0] or a[3] <= b[2] or b[3] <= a[2])

    taken = [rect(xs[li], y(r), width(text), 0.3 + 0.16 * text.count("\n"))
             for li, r, text, _ in boxes.values()]
    taken += [rect(x, top, width(lane, 11), 0.32) for x, lane in zip(xs, lanes)]
    centre = {name: (xs[li], y(r)) for name, (li, r, _, _) in boxes.items()}
    colour: dict[Any, str] = {}
    for k, (a, b, msg) in enumerate(arrows):
        c = colour.setdefault(msg, _PALETTE[len(colour) % len(_PALETTE)])
        text, whole = short_message(msg), str(msg)
        out.append(f"  {a} -> {b} [tooltip={_lit(whole)}, color=\"{c}\"];")
        (x0, y0), (x1, y1) = centre[a], centre[b]
        w, h = text_width(text, 8) + 0.06, 0.15
        spot = None
        for t in (0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.18, 0.82):
            cx, cy = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t + 0.09
            if not any(meets(rect(cx, cy, w, h), other) for other in taken):
                spot = (cx, cy)
                break
        cx, cy = spot or (x0 + (x1 - x0) / 2, y0 + (y1 - y0) / 2 + 0.09)
        taken.append(rect(cx, cy, w, h))
        out.append(f"  l{k} [label={_lit(text)}, shape=plaintext, fontsize=8, fontcolor=\"{c}\", "
                   f"width={w:.2f}, height={h:.2f}, margin=0, tooltip={_lit(whole)}, "
                   f'pos="{round(cx, 2)},{round(cy, 2)}!"];')
    if loop is not None and loop < n:
        out.append(f"  {nodes[n]} -> {nodes[loop + 1]} [label={_lit(f'back to state {loop}')}, "
                   'color="#e69138", fontcolor="#e69138", penwidth=2.5, style=bold];')
    # The note: what the property reads, below the chart at the left.
    note = final_note_lines(trace)
    wrapped = [w for line in note for w in (_wrap(line, 96) if line else [""])]
    note_w = max(text_width(line, 9) for line in wrapped) + _PAD
    note_h = 0.16 * len(wrapped) + 0.15
    label = "".join(_lit(line)[1:-1] + "\\l" for line in wrapped)
    out.append(f'  final [label="{label}", shape=note, style=filled, '
               f'fillcolor="{"#fde9e9" if broken else "#eaf5e4"}", '
               f'color="{"#cc0000" if broken else "#38761d"}", penwidth=2, fontsize=9, '
               f'width={note_w:.2f}, height={note_h:.2f}, '
               f'pos="{round(note_w / 2 + 0.05, 2)},{round(bottom - 0.3 - note_h / 2, 2)}!"];')
    out.append("}")
    return "\n".join(out) + "\n"


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
