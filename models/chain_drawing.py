"""The block tree of a chain-system trace, as graphviz source (``ChainSystem.drawings``).

Every block that appears anywhere in the trace's states (chains, side blocks, orphans, persisted
chains, messages in flight) is a box labelled with its short hash, height, miner and timestamp,
with an edge to its parent; genesis is at the top and heights grow downwards. In the last state
each node's tip is marked by a node-coloured tag pointing at it, and a node whose persisted
chain ends elsewhere (a crash between a handler's send and its write, say) gets a "disk" tag at
the tip on its disk; a block carried by a message still in flight lists the senders and
receivers ("in flight n1>n2"); blocks that are orphans of some node are dashed. The first
height at which two nodes' chains differ (the fork point of the deepest disagreement) is
highlighted: the blocks at that height on the nodes' chains are red, and a note names the nodes
and the height.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from paxchain.impl.chain_block import Block

__all__ = ["block_tree", "first_divergence"]

_PALETTE = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


def first_divergence(chains: Sequence[Sequence[Block]]) -> tuple[int, list[int]] | None:
    """The least height at which two of ``chains`` differ, and the chains that disagree there.

    Heights are positions in the chains, which are the blocks' heights for chains that start at
    genesis (a seeded bug can adopt one that does not). A chain that ends below that height
    does not disagree (it is a prefix). ``None`` when every chain is a prefix of every other.
    """
    best: tuple[int, list[int]] | None = None
    for i, a in enumerate(chains):
        for j, b in enumerate(chains):
            if j <= i:
                continue
            for h, (x, y) in enumerate(zip(a, b)):
                if x != y:
                    if best is None or h < best[0]:
                        best = (h, [i, j])
                    elif h == best[0]:
                        best[1].extend(k for k in (i, j) if k not in best[1])
                    break
    return best


def _q(text: str) -> str:
    """A dot string; ``\\n`` in ``text`` stays a line break, quotes are escaped."""
    return '"' + text.replace('"', '\\"') + '"'


def block_tree(model: Any, states: Sequence[Any]) -> str:
    """Graphviz source of the block tree of ``states`` (a trace of ``model``, a
    ``ChainSystem``), last state's view marked."""
    blocks: set[Block] = set()
    for s in states:
        blocks |= model.state_blocks(s)
    last = states[-1]
    nodes = model.node_states(last)
    names = model.names
    chains = [st.chain for st in nodes]
    div = first_divergence(chains)
    red: set[Block] = set()
    if div is not None:
        h, which = div
        red = {chains[i][h] for i in which if len(chains[i]) > h}
    orphan_any = set().union(*(st.orphans for st in nodes))
    flying: dict[Block, list[str]] = {}
    for src, dst, msg in model.network(last):
        b = getattr(msg, "block", None)
        if isinstance(b, Block):
            flying.setdefault(b, []).append(f"{src}>{dst}")
    lines = ["digraph blocktree {", "  rankdir=TB;",
             '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", '
             'fontname="Helvetica", fontsize=10];', '  edge [dir=back, color="#666666"];']
    by_height: dict[int, list[Block]] = {}
    for b in sorted(blocks, key=lambda b: (b.height, b.hash)):
        by_height.setdefault(b.height, []).append(b)
        text = (f"{b.short}\\nh={b.height} {b.miner}\\nt={b.timestamp}"
                if b.height else f"genesis {b.short}\\nt={b.timestamp}")
        if b in flying:
            text += "\\nin flight " + " ".join(sorted(set(flying[b])))
        attrs = [f"label={_q(text)}"]
        if b in red:
            attrs.append('fillcolor="#f4cccc", color="#cc0000", penwidth=2')
        elif any(b in st.chain for st in nodes):
            attrs.append('fillcolor="#e8f0fe"')
        if b in orphan_any:
            attrs.append('style="rounded,filled,dashed"')
        lines.append(f"  b_{b.hash[:16]} [{', '.join(attrs)}];")
    for b in sorted(blocks, key=lambda b: (b.height, b.hash)):
        parent = next((p for p in blocks if p.hash == b.parent), None)
        if parent is not None:
            lines.append(f"  b_{parent.hash[:16]} -> b_{b.hash[:16]};")
    for _height, row in sorted(by_height.items()):
        lines.append("  { rank=same; " + " ".join(f"b_{b.hash[:16]};" for b in row) + " }")
    for i, (name, st) in enumerate(zip(names, nodes)):
        color = _PALETTE[i % len(_PALETTE)]
        lines.append(f'  tip_{name} [label={_q(name + " tip")}, shape=cds, fillcolor="{color}", '
                     f'fontcolor="#ffffff"];')
        lines.append(f'  b_{st.tip.hash[:16]} -> tip_{name} [dir=forward, style=dashed, '
                     f'color="{color}", constraint=false];')
    for i, (name, st, p) in enumerate(zip(names, nodes, model.durables(last))):
        disk = p[0][-1] if p is not None and p[0] else model.rules.genesis
        if disk != st.tip and disk in blocks:
            color = _PALETTE[i % len(_PALETTE)]
            lines.append(f'  disk_{name} [label={_q(name + " disk")}, shape=cylinder, '
                         f'fillcolor="#ffffff", color="{color}", fontcolor="{color}"];')
            lines.append(f'  b_{disk.hash[:16]} -> disk_{name} [dir=forward, style=dotted, '
                         f'color="{color}", constraint=false];')
    if div is not None:
        h, which = div
        who = ", ".join(names[i] for i in sorted(which))
        lines.append(f"  note [shape=note, fillcolor=\"#fff2cc\", label="
                     f"{_q(f'chains of {who} first differ at height {h}')}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
