"""A state graph (``paxchain.checker.state_graph``) drawn: graphviz source, and an explorer page.

``graph_dot(g)``: one node per state, numbered as explored; initial states have a double border,
states that break an invariant are red, states where a goal holds green, states the cut left
unexpanded dashed; each edge is labelled with its step and drawn red when it breaks a transition
property. A node's tooltip (shown on hover in SVG) is its whole state.

``explorer_html(g)`` is a self-contained page for walking the graph by hand (as Stateright's
Explorer does, without a server): the current state's variables with what the last step changed
highlighted, the properties it breaks, and its outgoing steps as links; the path walked so far
is kept, and Back / the path's entries go back. It loads nothing from the network and is
byte-identical for the same graph.
"""

from __future__ import annotations

import html
import json
from typing import Any

from paxchain.checker.render_text import diff_vars, format_value
from paxchain.checker.state_graph import StateGraph

__all__ = ["graph_dot", "explorer_html", "PAGE_STYLE"]


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _state_text(g: StateGraph, i: int) -> str:
    return "\n".join(f"{k} = {format_value(v)}" for k, v in g.model.to_vars(g.states[i]).items())


def _title(g: StateGraph) -> str:
    m = g.model
    n, e = len(g.states), len(g.edges)
    whole = ("the whole reachable graph" if g.complete
             else f"cut at {n} states: {len(g.unexpanded)} not fully expanded (dashed)")
    return f"{m.describe()}: {n} states, {e} steps; {whole}"


def graph_dot(g: StateGraph) -> str:
    """The graph as graphviz ``dot`` source (module docstring)."""
    lines = ["digraph states {", f'  label="{_esc(_title(g))}"; labelloc=t;',
             '  node [shape=circle, fontname="Helvetica", fontsize=10, style=filled, '
             'fillcolor=white];', '  edge [fontname="Helvetica", fontsize=8];']
    for i in range(len(g.states)):
        attrs = [f'tooltip="{_esc(_state_text(g, i))}"']
        note = [f"{n}!" for n in g.fails.get(i, ())] + [f"{n}" for n in g.reaches.get(i, ())]
        attrs.append(f'label="{i}' + ("\\n" + _esc(" ".join(note)) if note else "") + '"')
        if i in g.initial:
            attrs.append("peripheries=2")
        if i in g.fails:
            attrs.append('fillcolor="#f4cccc", color="#cc0000"')
        elif i in g.reaches:
            attrs.append('fillcolor="#d9ead3"')
        if i in g.unexpanded:
            attrs.append('style="filled,dashed"')
        lines.append(f"  s{i} [{', '.join(attrs)}];")
    for e in g.edges:
        attrs = [f'label="{_esc(str(e.label))}"']
        if e.breaks:
            attrs += ['color="#cc0000"', 'fontcolor="#cc0000"', "penwidth=2"]
        lines.append(f"  s{e.src} -> s{e.dst} [{', '.join(attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _data(g: StateGraph) -> dict[str, Any]:
    """What the page's script reads: per state its variables (as text), its problems and its
    outgoing steps with the lines each step changes."""
    vars_ = [g.model.to_vars(s) for s in g.states]
    out: list[dict[str, Any]] = []
    for i, v in enumerate(vars_):
        out.append({"vars": [[k, format_value(x)] for k, x in v.items()],
                    "fails": list(g.fails.get(i, ())), "reaches": list(g.reaches.get(i, ())),
                    "cut": i in g.unexpanded, "next": []})
    for e in g.edges:
        out[e.src]["next"].append({"to": e.dst, "step": str(e.label), "breaks": list(e.breaks),
                                   "changes": diff_vars(vars_[e.src], vars_[e.dst])})
    return {"title": _title(g), "initial": g.initial, "states": out}


# Shared with the explorer server's page (paxchain.checker.explore_page).
PAGE_STYLE = """body{font-family:Helvetica,Arial,sans-serif;margin:1em;max-width:100em}
h1{font-size:1.1em}.cols{display:flex;gap:2em;align-items:flex-start}
.cols>div{flex:1;min-width:0}table{border-collapse:collapse}td{padding:1px 8px;
vertical-align:top;font-family:monospace;white-space:pre-wrap;word-break:break-word}
.changed{background:#fff2cc}.bad{color:#c00;font-weight:bold}.good{color:#070}
li{margin:2px 0}a{cursor:pointer;color:#15c}#path a{margin-right:.4em}"""

_SCRIPT = """const G=JSON.parse(document.getElementById('graph').textContent);
let path=[];
function esc(s){return s.replace(/[&<>]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;'})[c]);}
function go(i,via){path.push({i:i,via:via});show();}
function back(n){path=path.slice(0,n+1);show();}
function show(){const cur=path[path.length-1],s=G.states[cur.i];
 const changed=new Set((cur.via?cur.via.changes:[]).map(c=>c.split(/[ :\\[]/)[0]));
 document.getElementById('state').innerHTML='<h2>State '+cur.i+'</h2><table>'+
  s.vars.map(v=>'<tr class="'+(changed.has(v[0])?'changed':'')+'"><td>'+esc(v[0])+
  '</td><td>'+esc(v[1])+'</td></tr>').join('')+'</table>'+
  (s.fails.length?'<p class="bad">breaks: '+esc(s.fails.join(', '))+'</p>':'')+
  (s.reaches.length?'<p class="good">goal reached: '+esc(s.reaches.join(', '))+'</p>':'');
 document.getElementById('next').innerHTML='<h2>Steps ('+s.next.length+')</h2>'+
  (s.cut?'<p class="bad">not fully expanded: the graph was cut here</p>':'')+
  (s.next.length?'':'<p>none: no step is enabled (a deadlock or the end of the run)</p>')+
  '<ol>'+s.next.map((e,k)=>'<li><a onclick="go('+e.to+',G.states['+cur.i+'].next['+k+'])">'+
  esc(e.step)+'</a> &rarr; '+e.to+(e.breaks.length?' <span class="bad">breaks '+
  esc(e.breaks.join(', '))+'</span>':'')+'<br><small>'+esc(e.changes.join('; '))+
  '</small></li>').join('')+'</ol>';
 document.getElementById('path').innerHTML='Path: '+path.map((p,n)=>'<a onclick="back('+n+
  ')">'+(n?esc(p.via.step)+' &rarr; ':'')+p.i+'</a>').join(' ');}
document.getElementById('start').innerHTML='Initial states: '+G.initial.map(i=>
 '<a onclick="path=[];go('+i+',null)">'+i+'</a>').join(' ');
go(G.initial[0],null);"""


def explorer_html(g: StateGraph) -> str:
    """The explorer page (module docstring)."""
    data = json.dumps(_data(g), sort_keys=True).replace("</", "<\\/")
    title = html.escape(_title(g))
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>"
            f"<style>{PAGE_STYLE}</style></head><body><h1>{title}</h1>"
            "<p id=\"start\"></p><p id=\"path\"></p>"
            "<div class=\"cols\"><div id=\"state\"></div><div id=\"next\"></div></div>"
            f"<script type=\"application/json\" id=\"graph\">{data}</script>"
            f"<script>{_SCRIPT}</script></body></html>\n")
