"""Counterexamples to induction (``paxchain.checker.induction.Cti``) as text and as graphviz drawings.

The text follows mypyvy's printout: universe, rigid symbols, state 0, the step, state 1.

The drawing puts the pre-state and post-state side by side, each a cluster: the universe's elements are nodes (one
colour per sort, each sort on a row of its own, the rows ordered so that sorts the edges join
are neighbours: fewer crossings; a sort with edges inside it other than an order's is laid out
along them instead); a unary relation is written inside its elements' nodes; a
binary relation or a unary function is an edge labelled with its name; a relation or function
of higher arity is a small box per tuple, labelled with the symbol's name (the whole tuple on
hover), with an edge to each argument labelled with the symbol's name and the argument's sort
(``sent1b.Ballot``; a sort's second argument ``sent1b.Ballot#2``), never a bare position. An
order relation named in ``orders`` is drawn as its covering edges only. Tuples the step added
are red, tuples it removed dashed grey. The title names the action and the broken conjunct.
Knows no protocol.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # induction.Cti.text() renders with this module
    from paxchain.checker.induction import Cti

__all__ = ["cti_dot", "cti_text"]

_COLOURS = ("#dbe9f6", "#fde2c8", "#d9f0d3", "#eadcf0", "#f6f1c1", "#f4d4d4")


def cti_text(cti: Cti) -> str:
    """The counterexample as text: universe, rigid symbols, state 0, the step, state 1."""
    lines = []
    what = f"{cti.action} breaks {cti.conjunct}" if cti.action else cti.conjunct
    lines.append(f"counterexample to induction ({cti.kind}): {what}"
                 + ("" if cti.verified else "  [NOT confirmed by the evaluator]"))
    lines.append("universe:")
    for s, es in cti.structure.universe.items():
        lines.append(f"  {s}: {', '.join(es) if es else '(empty)'}")
    lines.append("rigid:")
    pre = cti.view(False)
    for n in cti.rigid:
        lines.append(f"  {n} = {_show(pre[n])}")
    lines.append("state 0:")
    for n in cti.state:
        lines.append(f"  {n} = {_show(pre[n])}")
    if cti.action is not None:
        args = ", ".join(f"{k}={v}" for k, v in cti.args.items())
        lines.append(f"transition {cti.action}({args})")
        lines.append("state 1:")
        post = cti.view(True)
        for n in cti.state:
            mark = "" if post[n] == pre[n] else "   (changed)"
            lines.append(f"  {n} = {_show(post[n])}{mark}")
    return "\n".join(lines) + "\n"


def _show(v: Any) -> str:
    if isinstance(v, set):
        items = sorted("(" + ", ".join(t) + ")" if len(t) != 1 else t[0] for t in v)
        return "{" + ", ".join(items) + "}"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{','.join(k)}: {x}" for k, x in sorted(v.items())) + "}"
    return str(v)


def _q(text: str) -> str:
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped + '"'


def _tuples(value: Any) -> set[tuple]:
    """A table as a set of tuples: a relation's rows, a function's (args..., result) rows."""
    if isinstance(value, set):
        return set(value)
    if isinstance(value, dict):
        return {k + (v,) for k, v in value.items() if v is not False}
    return {(value,)}


def _hasse(rows: set[tuple]) -> set[tuple]:
    strict = {(x, y) for x, y in rows if x != y}
    return {(x, y) for x, y in strict
            if not any((x, z) in strict and (z, y) in strict for _, z in strict)}


def _sort_rows(cti: Cti, sort_of: Mapping[str, str], orders: set[str]) -> list[str]:
    """The sorts drawn as rows, top to bottom, in the order that keeps the elements that edges
    join closest: the least sum over pairs of sorts of (edges between them) x (rows apart);
    ties keep the universe's order (up to 7 sorts, 5,040 orders; more keep the universe's
    order). A sort with edges inside it (``parent`` between blocks), other than an order's, is
    no row: dot lays its elements out along those edges."""
    weight: dict[tuple[str, str], int] = {}
    inner: set[str] = set()
    for side in (False, True) if cti.action is not None else (False,):
        view = cti.view(side)
        for name in cti.rigid + cti.state:
            v = view[name]
            if not isinstance(v, (set, dict)):
                continue
            for row in _tuples(v):
                sorts = [sort_of[x] for x in row if x in sort_of]
                if len(row) == 2 and len(sorts) == 2 and sorts[0] == sorts[1] \
                        and name not in orders and row[0] != row[1]:
                    inner.add(sorts[0])
                for a in sorts:
                    for b in sorts:
                        if a != b:
                            weight[a, b] = weight.get((a, b), 0) + 1
    sorts = list(cti.structure.universe)
    if len(sorts) > 7:  # too many orders to try: the universe's own
        return [srt for srt in sorts if srt not in inner]

    def cost(order: tuple[str, ...]) -> int:
        at = {srt: i for i, srt in enumerate(order)}
        return sum(w * abs(at[a] - at[b]) for (a, b), w in weight.items())

    best = min(itertools.permutations(sorts), key=cost)  # the first of the cheapest
    return [srt for srt in best if srt not in inner]


def _arg_names(name: str, row: tuple, sort_of: Mapping[str, str]) -> list[str]:
    """Edge labels of a tuple's arguments: ``sent1b.Acceptor``, ``sent1b.Ballot#2``..."""
    seen: dict[str, int] = {}
    out = []
    for el in row:
        srt = sort_of.get(el, "value")
        seen[srt] = seen.get(srt, 0) + 1
        out.append(f"{name}.{srt}" + (f"#{seen[srt]}" if seen[srt] > 1 else ""))
    return out


def cti_dot(cti: Cti, orders: Mapping[str, str] | None = None) -> str:
    """The dot source of ``cti`` (see the module docstring)."""
    orders = dict(orders or {})
    what = f"{cti.action} breaks {cti.conjunct}" if cti.action else \
        f"{cti.kind}: {cti.conjunct} fails"
    args = ", ".join(f"{k}={v}" for k, v in cti.args.items())
    title = f"counterexample to induction: {what}" + (f"\n{cti.action}({args})" if cti.action else "")
    lines = ["digraph cti {", f"  label={_q(title)}; labelloc=t; fontsize=16; newrank=true;",
             "  node [shape=ellipse, style=filled, fontsize=11]; edge [fontsize=9];"]
    sides = [("pre", "state 0 (before)", cti.view(False))]
    if cti.action is not None:
        sides.append(("post", "state 1 (after)", cti.view(True)))
    sort_of = {e: s for s, es in cti.structure.universe.items() for e in es}
    colour = {s: _COLOURS[i % len(_COLOURS)] for i, s in enumerate(cti.structure.universe)}
    pre_view = sides[0][2]
    order_rels = set(orders.values())
    rows_of_sorts = _sort_rows(cti, sort_of, order_rels)
    for side, heading, view in sides:
        lines.append(f"  subgraph cluster_{side} {{ label={_q(heading)}; style=rounded;")
        for srt in rows_of_sorts:  # one row per sort
            members = " ".join(_q(f"{side}:{e}") for e in cti.structure.universe[srt])
            if members:
                lines.append(f"    {{ rank=same; {members} }}")
        for upper, lower in zip(rows_of_sorts, rows_of_sorts[1:]):  # rows in that order
            a, b = cti.structure.universe[upper], cti.structure.universe[lower]
            if a and b:
                lines.append(f"    {_q(side + ':' + a[0])} -> {_q(side + ':' + b[0])} "
                             "[style=invis, weight=5];")
        unary: dict[str, list[str]] = {}
        values: list[str] = []
        for name in cti.rigid + cti.state:
            v = view[name]
            if isinstance(v, set) and all(len(t) == 1 for t in v):
                for (e,) in v:
                    unary.setdefault(e, []).append(name)
            elif isinstance(v, dict) and any(x not in sort_of for x in v.values()):
                # a function into integers (or Booleans): written inside its argument's node
                for args, x in v.items():
                    if len(args) == 1:
                        unary.setdefault(args[0], []).append(f"{name}={x}")
            elif not isinstance(v, (set, dict)) and (v not in sort_of or name in cti.state):
                values.append(f"{name}={v}")
        if values:
            lines.append(f"    {_q(side + ':#values')} [shape=note, label={_q(', '.join(values))}];")
        for e, s in sort_of.items():
            extra = "\n" + "\n".join(unary[e]) if e in unary else ""
            lines.append(f"    {_q(side + ':' + e)} [label={_q(e + extra)}, "
                         f"fillcolor={_q(colour[s])}, tooltip={_q(s)}];")
        k = 0
        for name in cti.rigid + cti.state:
            value = view[name]
            if not isinstance(value, (set, dict)) or (
                    isinstance(value, dict) and any(x not in sort_of for x in value.values())):
                # a constant (its element is named after it) or an integer-valued function
                continue
            rows = _tuples(value)
            if name in order_rels:
                rows = _hasse(rows)
            before = _tuples(pre_view[name])
            if name in order_rels:
                before = _hasse(before)
            added = rows - before if side == "post" else set()
            removed = before - rows if side == "post" else set()
            for row in sorted(rows | removed):
                style = ("color=red, fontcolor=red, penwidth=2" if row in added else
                         "color=grey, fontcolor=grey, style=dashed" if row in removed else "")
                if len(row) == 1:
                    continue
                if len(row) == 2:
                    # An order's covering edges join one row (one sort): a flat edge, which
                    # dot labels badly; its label goes beside it (xlabel).
                    key = "xlabel" if name in order_rels else "label"
                    lines.append(f"    {_q(side + ':' + row[0])} -> {_q(side + ':' + row[1])} "
                                 f"[{key}={_q(name)}{', ' + style if style else ''}];")
                    continue
                k += 1
                hub = f"{side}:{name}#{k}"
                whole = f"{name}({', '.join(row)})"
                lines.append(f"    {_q(hub)} [shape=box, style={'dashed' if row in removed else 'solid'}, "
                             f"label={_q(name)}, tooltip={_q(whole)}, fontsize=9, height=0.2"
                             f"{', color=red, fontcolor=red' if row in added else ''}];")
                for el, arg in zip(row, _arg_names(name, row, sort_of)):
                    lines.append(f"    {_q(hub)} -> {_q(side + ':' + el)} [label={_q(arg)}, "
                                 f"arrowsize=0.5{', ' + style if style else ''}];")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"
