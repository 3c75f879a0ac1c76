"""A counterexample as one self-contained HTML page: step list, state with changes highlighted,
message-sequence chart with the current step highlighted, keyboard navigation.

Contract of ``trace_html(trace)``: the page loads nothing from the network (CSS, script and SVG
are inline), works from ``file://``, and is byte-identical for the same trace. Each state is
pre-rendered (so the page reads without script); the script only shows one at a time:

- ``#steps li.step`` — one per state (``data-i``), the selected one has class ``current``;
- ``#states .state`` — one per state, all but the selected one ``hidden``; changed parts
  (map entries, set elements added or removed, scalars) carry class ``changed``;
- ``#chart svg g.node`` — graphviz nodes; the selected step's node (titled ``n{lane}_{row}``,
  as ``paxchain.checker.render_dot`` names them) gets class ``current``;
- ``#chart .viewport`` — the chart is scaled to fit it (the default), and can be zoomed (the
  + and − buttons, the mouse wheel, keys + and −) and panned (drag); ``#fit`` (or key f)
  fits it again. Zoom and pan change the SVG's ``viewBox`` only;
- ``section.drawing`` — one per extra drawing of the model (``Model.drawings``, e.g. a chain's
  block tree), drawn *at the current step*: ``.frame`` elements pre-rendered from
  ``model.drawings(states[:i + 1])``, one per distinct drawing, each listing in
  ``data-steps`` the steps it shows; all but the current step's frame are ``hidden``;
- ``#broken`` — the broken property (or the goal reached), shown at the last step only;
- a lasso (``Trace.loop``): the steps of its loop carry class ``loop`` and the list ends with
  ``li.loop-back`` ("back to state L", a link that selects state L); the chart draws the loop
  orange with its arrow back (``paxchain.checker.render_dot``); a stutter says so there.

Layout: steps, state and chart side by side from 1,100 px wide (the chart column holds the
drawings under the chart), each panel scrolling on its own, so the state and the whole chart
are on screen together; narrower windows stack them.

Keys: → / ↓ / j next, ← / ↑ / k previous, Home first, End last. Without graphviz's ``dot``
the chart is replaced by its dot source and a note.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any

from paxchain.checker.render_dot import (dot_available, message_sequence, render_svg,
                                         step_node_names)
from paxchain.checker.render_text import (format_value, loop_text, reproduce_command,
                                          short_hashes)
from paxchain.checker.trace import Trace

__all__ = ["trace_html", "step_nodes"]

_MISSING = object()


def step_nodes(trace: Trace) -> list[str | None]:
    """The graphviz node name of each step in ``message_sequence(trace)`` (None for state 0),
    as ``paxchain.checker.render_dot`` names them."""
    return step_node_names(trace)


def _svg(dot_source: str) -> str:
    """Inline SVG of a drawing, or its dot source when ``dot`` is missing or fails."""
    if dot_available():
        try:
            svg = render_svg(dot_source).decode("utf-8")
            svg = re.sub(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->", "", svg, flags=re.S)
            return svg.strip()
        except Exception as exc:  # a drawing must never hide the trace
            note = f"graphviz failed ({type(exc).__name__}); the dot source follows."
    else:
        note = "graphviz's dot program is not installed; the dot source follows."
    return (f'<p class="note">{html.escape(note)}</p>'
            f'<pre class="dot">{html.escape(dot_source)}</pre>')


def _shown(value: Any) -> str:
    """``value`` as the state panel shows it: its text with 64-hex hashes cut to 8 digits, as
    everywhere else in the viewer (the whole text on hover where something was cut)."""
    text = format_value(value)
    short = short_hashes(text)
    if short == text:
        return html.escape(text)
    return f'<span title="{html.escape(text)}">{html.escape(short)}</span>'


def _value_html(var: str, old: Any, new: Any) -> str:
    if isinstance(new, Mapping) and (old is _MISSING or isinstance(old, Mapping)):
        rows = []
        for k, v in new.items():
            ov = _MISSING if old is _MISSING else old.get(k, _MISSING)
            changed = old is not _MISSING and ov != v
            was = (f' <span class="was">was {_shown(ov)}</span>'
                   if changed and ov is not _MISSING else "")
            rows.append(f'<tr class="{"changed" if changed else ""}"><th>{_shown(k)}'
                        f'</th><td>{_shown(v)}{was}</td></tr>')
        return f'<table class="map">{"".join(rows)}</table>'
    if isinstance(new, (set, frozenset)) and (old is _MISSING or isinstance(old, (set, frozenset))):
        items = []
        for x in sorted(new, key=format_value):
            added = old is not _MISSING and x not in old
            items.append(f'<li class="{"changed added" if added else ""}">{_shown(x)}</li>')
        if old is not _MISSING:
            for x in sorted(old - new, key=format_value):
                items.append(f'<li class="changed removed">{_shown(x)}</li>')
        return f'<ul class="set">{"".join(items) or "<li class=empty>(empty)</li>"}</ul>'
    changed = old is not _MISSING and old != new
    was = f' <span class="was">was {_shown(old)}</span>' if changed else ""
    return f'<span class="{"changed" if changed else ""}">{_shown(new)}</span>{was}'


def _state_html(i: int, trace: Trace, prev: dict | None, cur: dict, hidden: bool) -> str:
    e = html.escape
    step = trace.steps[i]
    if step.label is None:
        title = "State 0 (initial)"
    else:
        lane = f" [{step.label.lane}]" if step.label.lane else ""
        title = short_hashes(f"After step {i}: {step.label}{lane}")
    rows = []
    for var, value in cur.items():
        old = _MISSING if prev is None else prev.get(var, _MISSING)
        changed = prev is not None and old != value
        rows.append(f'<div class="var{" changed-var" if changed else ""}"><h3>{e(var)}</h3>'
                    f'{_value_html(var, old, value)}</div>')
    return (f'<div class="state" data-i="{i}"{" hidden" if hidden else ""}>'
            f'<h2>{e(title)}</h2>{"".join(rows)}</div>')


def _drawings_html(trace: Trace) -> str:
    """The model's extra drawings, each as frames at every step (see the module docstring)."""
    e = html.escape
    states = [s.state for s in trace.steps]
    frames: dict[str, dict[str, list[int]]] = {}  # name -> dot source -> the steps it shows
    for i in range(len(states)):
        for name, src in trace.model.drawings(states[:i + 1]).items():
            frames.setdefault(name, {}).setdefault(src, []).append(i)
    out = []
    for name, by_src in frames.items():
        parts = []
        for src, steps in by_src.items():
            hidden = "" if 0 in steps else " hidden"
            parts.append(f'<div class="frame" data-steps="{" ".join(map(str, steps))}"{hidden}>'
                         f'{_svg(src)}</div>')
        out.append(f'<section class="drawing" data-name="{e(name)}"><h2>{e(name)} '
                   f'<span class="at">at step <span class="at-i">0</span></span></h2>'
                   f'{"".join(parts)}</section>')
    return "".join(out)


def trace_html(trace: Trace) -> str:
    """The viewer page for ``trace`` (see the module docstring)."""
    e = html.escape
    m = trace.model
    n = len(trace.steps) - 1
    broken = trace.outcome == "violation"
    what = "violated" if broken else "reached"
    title = f"{m.describe()} — {trace.prop} {what} in {n} step{'s' if n != 1 else ''}"
    steps_html, states_html = [], []
    prev = None
    for i, step in enumerate(trace.steps):
        cur = m.to_vars(step.state)
        text = "initial state" if step.label is None else str(step.label)
        lane = f' <span class="lane">{e(step.label.lane)}</span>' if step.label and step.label.lane else ""
        in_loop = trace.loop is not None and i > trace.loop
        steps_html.append(f'<li class="step{" loop" if in_loop else ""}" data-i="{i}" '
                          f'id="step-{i}"><span class="num">{i}.</span> {e(text)}{lane}</li>')
        states_html.append(_state_html(i, trace, prev, cur, hidden=i != 0))
        prev = cur
    drawings = _drawings_html(trace)
    if trace.loop is not None:
        steps_html.append(f'<li class="loop-back"><a href="#step-{trace.loop}" '
                          f'data-go="{trace.loop}">↺ {e(loop_text(trace))}</a></li>')
    explanation = f"<p>{e(trace.explanation)}</p>" if trace.explanation else ""
    if trace.loop is not None:
        explanation += f'<p class="loop-text">{e(loop_text(trace))}</p>'
    data = json.dumps({"nodes": step_nodes(trace), "last": n}, ensure_ascii=False)
    return _PAGE.format(
        title=e(title), css=_CSS, js=_JS, data=data.replace("</", "<\\/"),
        summary=e(trace.summary), steps="".join(steps_html), states="".join(states_html),
        chart=_svg(message_sequence(trace)), drawings=drawings,
        broken_class="violated" if broken else "reached",
        broken_head=e(f"{what.upper()}: {trace.prop} ({trace.kind})"),
        explanation=explanation, reproduce=e(reproduce_command(trace)), n=n)


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style></head>
<body>
<header><h1>{title}</h1><p class="summary">{summary}</p>
<p class="help">← / → step through · Home / End first / last · click a step or a box in the chart
· f fit, + / − zoom, drag to pan · <span id="position">step 0 of {n}</span></p></header>
<main>
<nav id="steps" aria-label="steps"><ol>{steps}</ol></nav>
<section id="state-panel">
<div id="broken" class="{broken_class}" hidden><strong>{broken_head}</strong>
<p>{summary}</p>{explanation}<p class="repro">Reproduce: <code>{reproduce}</code></p></div>
<div id="states">{states}</div>
</section>
<div id="right">
<section id="chart"><h2>Message sequence <span class="tools"><button type="button" id="fit"
title="fit the whole chart (f)">Fit</button><button type="button" id="zoom-in"
title="zoom in (+, or the mouse wheel)">+</button><button type="button" id="zoom-out"
title="zoom out (−)">−</button> <span class="hint">drag to pan</span></span></h2>
<div class="viewport">{chart}</div></section>
{drawings}
</div>
</main>
<script type="application/json" id="trace-data">{data}</script>
<script>{js}</script>
</body></html>
"""

_CSS = """
html,body{height:100%}
body{font:14px/1.4 system-ui,Helvetica,Arial,sans-serif;margin:0;color:#222;background:#fafafa;
display:flex;flex-direction:column}
header{padding:6px 16px;background:#fff;border-bottom:1px solid #ddd;flex:none}
h1{font-size:17px;margin:2px 0}h2{font-size:15px;margin:2px 0 6px}h3{font-size:13px;margin:0 0 2px}
.summary{margin:2px 0}.help{color:#666;font-size:12px;margin:2px 0}
main{flex:1;min-height:0;display:grid;gap:10px;padding:10px;
grid-template-columns:minmax(180px,230px) minmax(300px,1fr) minmax(360px,1.6fr)}
#steps{overflow:auto;background:#fff;border:1px solid #ddd;min-height:0}
#steps ol{list-style:none;margin:0;padding:0}
.step{padding:4px 8px;border-bottom:1px solid #eee;cursor:pointer;font-family:monospace;font-size:12px}
.step:hover{background:#f0f4ff}
.step.current{background:#ffe8b3;font-weight:bold;border-left:4px solid #e69138}
.step.loop{background:#fdf3e7;border-left:4px solid #e69138}
.loop-back{padding:4px 8px;font-size:12px;color:#b45f06}.loop-back a{color:#b45f06}
.lane{color:#888}.num{color:#888;display:inline-block;min-width:2em}
#state-panel,#chart,.drawing{background:#fff;border:1px solid #ddd;padding:8px;min-height:0}
#state-panel{overflow:auto}
#right{display:flex;flex-direction:column;gap:10px;min-height:0;min-width:0}
#chart{flex:3 1 0;display:flex;flex-direction:column;min-width:0}
.drawing{flex:2 1 0;display:flex;flex-direction:column;min-width:0}
.viewport,.frame{flex:1;min-height:0;overflow:hidden;position:relative}
.viewport{cursor:grab;touch-action:none}.viewport.panning{cursor:grabbing}
.viewport.static{overflow:auto;cursor:auto}
.viewport svg,.frame svg{display:block;width:100%;height:100%}
.tools{float:right;font-weight:normal}.tools button{font:13px system-ui,sans-serif;min-width:2em;
margin-left:4px;padding:1px 8px;cursor:pointer}.hint,.at{color:#888;font-size:12px;font-weight:normal}
.var{margin:6px 0}.map{border-collapse:collapse;font-family:monospace;font-size:12px}
.map th{text-align:left;padding:1px 8px 1px 0;color:#555;font-weight:normal}
.map td{padding:1px 4px}
.set{margin:0;padding-left:18px;font-family:monospace;font-size:12px}
.changed{background:#fff2a8}tr.changed td,tr.changed th{background:#fff2a8}
.added::before{content:"+ ";color:#38761d}.removed{text-decoration:line-through;color:#999}
.was{color:#999;font-size:11px}
#broken{padding:8px;margin-bottom:8px;border:2px solid}
#broken.violated{border-color:#cc0000;background:#fde9e9}
#broken.reached{border-color:#38761d;background:#eaf5e4}
g.node.current polygon,g.node.current ellipse,g.node.current path{stroke:#e69138;stroke-width:4}
g.node{cursor:pointer}.note{color:#a61c00}pre.dot{font-size:11px;max-height:300px;overflow:auto}
@media (max-width:1100px){body{display:block}main{display:block}
main>*{margin-bottom:10px}#steps{max-height:40vh}#chart{height:75vh}.drawing{height:60vh}}
"""

_JS = """
(function(){
  var data = JSON.parse(document.getElementById('trace-data').textContent);
  var steps = Array.prototype.slice.call(document.querySelectorAll('#steps li.step'));
  var states = Array.prototype.slice.call(document.querySelectorAll('#states .state'));
  var frames = Array.prototype.slice.call(document.querySelectorAll('.drawing .frame'));
  var nodes = {};
  document.querySelectorAll('#chart g.node').forEach(function(g){
    var t = g.querySelector('title'); if (t) nodes[t.textContent.trim()] = g;
  });
  // Fit, zoom and pan: the chart's SVG fills its viewport; only its viewBox changes.
  var port = document.querySelector('#chart .viewport');
  var svg = port && port.querySelector('svg');
  var home = null, box = null;
  function show(){ svg.setAttribute('viewBox', box.join(' ')); }
  function fit(){ if (svg) { box = home.slice(); show(); } }
  function zoom(f, px, py){
    if (!svg) return;
    var r = port.getBoundingClientRect();
    var fx = px === undefined ? 0.5 : (px - r.left) / r.width;
    var fy = py === undefined ? 0.5 : (py - r.top) / r.height;
    var w = box[2] / f, h = box[3] / f;
    box = [box[0] + (box[2] - w) * fx, box[1] + (box[3] - h) * fy, w, h]; show();
  }
  function scale(){  // viewBox units per screen pixel (the SVG keeps its aspect: meet)
    var r = port.getBoundingClientRect();
    return Math.max(box[2] / r.width, box[3] / r.height);
  }
  if (svg) {
    var vb = svg.getAttribute('viewBox');
    home = vb ? vb.split(/[ ,]+/).map(Number) : null;
    if (home && home.length === 4) {
      svg.removeAttribute('width'); svg.removeAttribute('height');
      svg.setAttribute('preserveAspectRatio', 'xMidYMid meet');
      fit();
      var drag = null;
      port.addEventListener('pointerdown', function(ev){
        if (ev.button !== 0) return;
        drag = {x: ev.clientX, y: ev.clientY, box: box.slice(), k: scale(), moved: false};
      });
      window.addEventListener('pointermove', function(ev){
        if (!drag) return;
        var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
        if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
        drag.moved = true; port.classList.add('panning');
        box = [drag.box[0] - dx * drag.k, drag.box[1] - dy * drag.k, box[2], box[3]]; show();
      });
      window.addEventListener('pointerup', function(){
        if (drag && drag.moved) port.dataset.dragged = '1';
        drag = null; port.classList.remove('panning');
      });
      port.addEventListener('wheel', function(ev){
        ev.preventDefault(); zoom(ev.deltaY < 0 ? 1.2 : 1 / 1.2, ev.clientX, ev.clientY);
      }, {passive: false});
    } else { svg = null; }
  }
  if (!svg && port) port.classList.add('static');
  document.getElementById('fit').addEventListener('click', fit);
  document.getElementById('zoom-in').addEventListener('click', function(){ zoom(1.25); });
  document.getElementById('zoom-out').addEventListener('click', function(){ zoom(1 / 1.25); });
  function reveal(g){  // pan (never zoom) so that the current step's box is in view
    if (!svg) return;
    var r = g.getBoundingClientRect(), p = port.getBoundingClientRect(), k = scale();
    var dx = 0, dy = 0;
    if (r.left < p.left) dx = r.left - p.left - 20; else if (r.right > p.right) dx = r.right - p.right + 20;
    if (r.top < p.top) dy = r.top - p.top - 20; else if (r.bottom > p.bottom) dy = r.bottom - p.bottom + 20;
    if (dx || dy) { box = [box[0] + dx * k, box[1] + dy * k, box[2], box[3]]; show(); }
  }
  var current = 0;
  function select(i){
    i = Math.max(0, Math.min(steps.length - 1, i)); current = i;
    steps.forEach(function(li, j){
      li.classList.toggle('current', j === i);
      if (j === i) li.setAttribute('aria-current', 'step'); else li.removeAttribute('aria-current');
    });
    states.forEach(function(d, j){ d.hidden = j !== i; });
    frames.forEach(function(f){ f.hidden = f.dataset.steps.split(' ').indexOf(String(i)) < 0; });
    document.querySelectorAll('.drawing .at-i').forEach(function(s){ s.textContent = i; });
    Object.keys(nodes).forEach(function(k){ nodes[k].classList.remove('current'); });
    var name = data.nodes[i];
    if (name && nodes[name]) { nodes[name].classList.add('current'); reveal(nodes[name]); }
    document.getElementById('broken').hidden = i !== data.last;
    document.getElementById('position').textContent = 'step ' + i + ' of ' + data.last;
    if (steps[i].scrollIntoView) steps[i].scrollIntoView({block: 'nearest'});
  }
  document.addEventListener('keydown', function(ev){
    var k = ev.key;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (k === 'ArrowRight' || k === 'ArrowDown' || k === 'j') select(current + 1);
    else if (k === 'ArrowLeft' || k === 'ArrowUp' || k === 'k') select(current - 1);
    else if (k === 'Home') select(0);
    else if (k === 'End') select(data.last);
    else if (k === 'f') fit();
    else if (k === '+' || k === '=') zoom(1.25);
    else if (k === '-') zoom(1 / 1.25);
    else return;
    ev.preventDefault();
  });
  steps.forEach(function(li, j){ li.addEventListener('click', function(){ select(j); }); });
  document.querySelectorAll('.loop-back a').forEach(function(a){
    a.addEventListener('click', function(ev){ ev.preventDefault(); select(+a.dataset.go); });
  });
  data.nodes.forEach(function(name, j){
    if (name && nodes[name]) nodes[name].addEventListener('click', function(){
      if (port && port.dataset.dragged) { delete port.dataset.dragged; return; }
      select(j);
    });
  });
  select(0);
})();
"""
