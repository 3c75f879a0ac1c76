"""Liveness under fairness: ``eventually`` and ``leads_to`` properties, lasso counterexamples.

Theory of operation (as TLC's liveness checking and SPIN's fair cycles, on a small explicit
graph):

1. **Graph.** Every reachable state is explored breadth-first with its labelled successors
   (``Model.successors``), kept whole (not fingerprinted: the loop is searched in this graph).
   A ``Priority`` assumption (``paxchain.models.fairness``) removes the steps it holds back
   before anything else looks at them. Each step carries the fairness keys it takes; each
   state, the keys enabled there (those of the steps it offers).
2. **Pending monitor.** For each property a product with one bit, "the obligation is
   pending": for ``eventually P`` it starts as ``not P`` and stays set while ``P`` stays false;
   for ``leads_to(P, Q)`` it is set by a ``P`` state without ``Q`` and cleared by a ``Q``
   state. A violation is a fair run that from some point on stays pending.
3. **Fair cycles.** Strongly connected components of the pending part (iterative Tarjan: no
   recursion limit) are kept when fair, Emerson–Lei style: a component in which some *weak*
   key is enabled in every state but taken by none of its steps has no fair cycle at all; the
   states where a *strong* key is enabled but which no step of the component takes are
   removed, and the rest is split into components again. A pending state with no successor
   at all is a violation too: the run stutters there forever, and no assumption asks for a
   step that is not enabled.
4. **Lasso.** The counterexample is the shortest prefix (breadth-first) to the cycle, then a
   loop inside the fair component that meets every obligation: for each key enabled in it, a
   step taking that key or a visit to a state where it is not enabled. A stutter is a prefix
   whose last state has no step (``Trace.loop`` is its index).

Soundness of combinations. Model reductions (``Model.reductions()``: dead-message burial,
no-op pruning, tallies, history compaction) are argued for safety; the liveness engine
switches every active one off (``without_reduction(name, "liveness is checked")``), and
refuses symmetry with one line. The exception is a reduction a model lists in
``liveness_exact``: a bisimulation whose premise the model checks on every state it expands
and whose fairness keys no renaming changes, so that a run and its image meet the same
obligations (``paxchain.models.ballot_quotient``'s renaming of rounds). A model may also offer
``lasso_note(steps, loop)``, whose text the engine appends to a lasso's explanation. Limits
and Ctrl-C end the run *incomplete*, never *holds*: a lasso found in the explored part before
that is still reported (each of its states was fully expanded, so it is a real fair run), but
no property is declared to hold.

Costs. The graph keeps whole states and every labelled step (the loop is searched in it, and
fairness reads the labels), so it is for small bounds; ``Options.fingerprints`` and
``strategy`` do not apply (exploration is always breadth-first, for shortest prefixes).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

from paxchain.checker.progress import over_memory
from paxchain.checker.result import (HOLDS, INCOMPLETE, STOP_INTERRUPTED, STOP_MAX_DEPTH,
                                     STOP_MAX_STATES, STOP_MEMORY_LIMIT, STOP_OUT_OF_MEMORY,
                                     STOP_TIME_LIMIT, VIOLATED, Options, PropertyResult, Result,
                                     Stats)
from paxchain.checker.trace import Step, Trace
from paxchain.models.fairness import (STRONG, WEAK, FairnessError, kept_steps, split,
                                      step_keys)
from paxchain.models.model import Label, Model
from paxchain.models.properties import EVENTUALLY, Property
from paxchain.specs.model_properties import properties_of

__all__ = ["check_liveness", "without_reductions", "SYMMETRY_REFUSED", "lasso_obligations"]

SYMMETRY_REFUSED = ("liveness properties are not checked with --symmetry: a cycle of orbit "
                    "representatives need not be a cycle of the system; run without it")
_TICK = 256  # expansions between clock (and memory) readings
Key = tuple[int, Hashable]  # (index of the fairness assumption, the instance's key)


def without_reductions(model: Model) -> tuple[Model, list[str]]:
    """``model`` with every active reduction of its own switched off, and the texts saying so
    (symmetry is the engine's option, refused separately) — but those the model names in
    ``liveness_exact``: bisimulations whose premise it checks itself and whose fairness keys
    it keeps exact (``paxchain.models.ballot_quotient``), which liveness may keep."""
    keep = set(getattr(model, "liveness_exact", ()))
    for r in model.reductions():
        if r.active and r.name != "symmetry" and r.name not in keep:
            model = model.without_reduction(r.name, "liveness is checked")
    return model, [r.text() for r in model.reductions() if r.name != "symmetry"]


# -- the graph --------------------------------------------------------------------------------

class _Graph:
    """The reachable states, their filtered successors and the fairness keys of each."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.fair, self.priorities = split(model.fairness(), model.name)
        self.strength = [a.strength for a in self.fair]
        self.states: list[Any] = []
        self.index: dict[Any, int] = {}
        self.succ: list[list[tuple[int, frozenset[Key]]]] = []  # per expanded state
        self.offered: list[frozenset[Key]] = []
        self.depth: list[int] = []
        self.inits: list[int] = []
        self.edges = 0

    def steps(self, state: Any) -> list[tuple[Label, Any]]:
        """The steps the liveness graph keeps from ``state``: every successor but those a
        ``Priority`` holds back (a slow step while an urgent one is enabled)."""
        return kept_steps(list(self.model.successors(state)), self.priorities)

    def add(self, state: Any, depth: int) -> tuple[int, bool]:
        sid = self.index.get(state)
        if sid is not None:
            return sid, False
        sid = self.index[state] = len(self.states)
        self.states.append(state)
        self.depth.append(depth)
        return sid, True

    def expand(self, sid: int) -> list[Any]:
        """Record ``sid``'s steps; returns its successor states."""
        s = self.states[sid]
        steps = self.steps(s)
        edges, targets = [], []
        offered: set[Key] = set()
        for label, t in steps:
            ks = step_keys(self.fair, label)
            offered |= ks
            targets.append(t)
            edges.append((t, ks))
        self._check_enabled(s, offered)
        out = []
        for t, ks in edges:
            tid, _ = self.add(t, self.depth[sid] + 1)
            out.append((tid, ks))
        self.succ.append(out)
        self.offered.append(frozenset(offered))
        self.edges += len(out)
        return targets

    def _check_enabled(self, state: Any, offered: set[Key]) -> None:
        for i, f in enumerate(self.fair):
            if f.enabled is None:
                continue
            declared = set(f.enabled(state))
            missing = [k for j, k in offered if j == i and k not in declared]
            if missing:
                raise FairnessError(
                    f"{self.model.name}: fairness {f.name}: a step with key {missing[0]!r} is "
                    "offered at a state where enabled(state) does not name it; enabled() must "
                    "name every key a step offers")


def explore(graph: _Graph, opt: Options, stats: Stats, start: float) -> str | None:
    """Breadth-first over the whole graph within ``opt``'s bounds; why it stopped, or None."""
    last_report = start
    depth = 0
    for s in graph.model.initial_states():
        sid, new = graph.add(s, 0)
        stats.generated += 1
        if new:
            graph.inits.append(sid)
    expanded = 0
    try:
        while expanded < len(graph.states):
            sid = expanded
            depth = graph.depth[sid]
            if opt.max_depth is not None and depth >= opt.max_depth:
                # Not expanded: its successors would lie beyond the bound (unless it has none).
                if any(True for _ in graph.steps(graph.states[sid])):
                    return STOP_MAX_DEPTH
            if expanded % _TICK == 0:
                now = time.monotonic()
                if opt.time_limit is not None and now - start >= opt.time_limit:
                    return STOP_TIME_LIMIT
                if over_memory(opt.memory_limit):
                    return STOP_MEMORY_LIMIT
                if opt.progress and now - last_report >= opt.progress_interval:
                    last_report = now
                    stats.distinct, stats.depth = len(graph.states), depth
                    stats.queue, stats.seconds = len(graph.states) - expanded, now - start
                    opt.progress(stats)
            targets = graph.expand(sid)
            stats.generated += len(targets)
            expanded += 1
            if opt.max_states is not None and len(graph.states) > opt.max_states:
                return STOP_MAX_STATES
        return None
    finally:
        stats.depth = max(depth, stats.depth)


# -- strongly connected components ------------------------------------------------------------

def sccs(nodes: Iterable[int], succ: Callable[[int], Iterable[int]]) -> list[list[int]]:
    """Tarjan's strongly connected components of the subgraph on ``nodes`` (``succ`` lists a
    node's successors; those outside ``nodes`` are ignored), iteratively."""
    inside = set(nodes)
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in sorted(inside):
        if root in index:
            continue
        work = [(root, iter([v for v in succ(root) if v in inside]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            pushed = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter([x for x in succ(w) if x in inside])))
                    pushed = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if pushed:
                continue
            work.pop()
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
    return out


# -- the product with the pending bit ---------------------------------------------------------

@dataclass
class _Product:
    """Nodes ``2 * state + bit`` reachable in the product of the graph and the monitor."""

    graph: _Graph
    prop: Property

    def __post_init__(self) -> None:
        g, p = self.graph, self.prop
        self.check_memo: dict[int, bool] = {}
        self.trigger_memo: dict[int, bool] = {}
        self.parent: dict[int, tuple[int, int] | None] = {}  # node -> (parent node, edge index)
        self.depth: dict[int, int] = {}  # node -> steps from an initial node (breadth-first)
        self.order: list[int] = []
        queue: deque[int] = deque()
        for sid in g.inits:
            node = 2 * sid + self._start(sid)
            if node not in self.parent:
                self.parent[node] = None
                self.depth[node] = 0
                queue.append(node)
        while queue:
            node = queue.popleft()
            self.order.append(node)
            sid, bit = divmod(node, 2)
            if sid >= len(g.succ) or (bit == 0 and p.kind == EVENTUALLY):
                continue  # not expanded (a limit), or nothing more can be pending
            for i, (tid, _) in enumerate(g.succ[sid]):
                nxt = 2 * tid + self._next(bit, tid)
                if nxt not in self.parent:
                    self.parent[nxt] = (node, i)
                    self.depth[nxt] = self.depth[node] + 1
                    queue.append(nxt)

    def _q(self, sid: int) -> bool:
        v = self.check_memo.get(sid)
        if v is None:
            v = self.check_memo[sid] = bool(self.prop.check(self.graph.states[sid]))
        return v

    def _p(self, sid: int) -> bool:
        v = self.trigger_memo.get(sid)
        if v is None:
            trig = self.prop.trigger
            v = self.trigger_memo[sid] = bool(trig(self.graph.states[sid])) if trig else True
        return v

    def _start(self, sid: int) -> int:
        return int(self._p(sid) and not self._q(sid))

    def _next(self, bit: int, tid: int) -> int:
        if self.prop.kind == EVENTUALLY:
            return int(bit == 1 and not self._q(tid))
        return int((bit == 1 or self._p(tid)) and not self._q(tid))

    def succ(self, node: int) -> list[tuple[int, int, frozenset[Key]]]:
        """``(next node, edge index, keys)`` of an expanded node's steps."""
        sid, bit = divmod(node, 2)
        return [(2 * tid + self._next(bit, tid), i, ks)
                for i, (tid, ks) in enumerate(self.graph.succ[sid])]

    def path_to(self, node: int) -> list[tuple[int, int]]:
        """``[(node, edge index into it), ...]`` from an initial node (edge -1) to ``node``."""
        out = []
        cur: int | None = node
        while cur is not None:
            link = self.parent[cur]
            out.append((cur, -1 if link is None else link[1]))
            cur = None if link is None else link[0]
        out.reverse()
        return out


# -- fair components --------------------------------------------------------------------------

def _fair_part(prod: _Product, comp: list[int]) -> set[int] | None:
    """A fair sub-component of the pending component ``comp`` (Emerson–Lei), or None."""
    g = prod.graph
    work = [set(comp)]
    while work:
        c = work.pop()
        edges = [(u, v, ks) for u in c for v, _, ks in prod.succ(u) if v in c]
        if not edges:
            continue  # one state and no step back to itself: no cycle
        taken: set[Key] = set().union(*(ks for _, _, ks in edges))
        offered = [g.offered[u // 2] for u in c]
        everywhere = frozenset.intersection(*offered)
        if any(g.strength[k[0]] == WEAK and k not in taken for k in everywhere):
            continue  # a weak key enabled throughout and never taken: no fair cycle in c
        anywhere = frozenset.union(*offered)
        unmet = {k for k in anywhere - taken if g.strength[k[0]] == STRONG}
        if not unmet:
            return c
        rest = [u for u in c if not (g.offered[u // 2] & unmet)]
        work += [set(x) for x in sccs(rest, lambda u: [v for v, _, _ in prod.succ(u)])]
    return None


def lasso_obligations(graph: _Graph, comp: set[int], prod: _Product
                      ) -> list[tuple[str, Key, int, int]]:
    """What a loop through fair component ``comp`` must do: for each key enabled somewhere in
    it, ``("take", key, u, edge)`` (a step of ``comp`` taking it) or ``("avoid", key, u, -1)``
    (a state of ``comp`` where it is not enabled)."""
    out = []
    anywhere = frozenset.union(*(graph.offered[u // 2] for u in comp))
    for k in sorted(anywhere, key=repr):
        step = next(((u, i) for u in sorted(comp) for v, i, ks in prod.succ(u)
                     if v in comp and k in ks), None)
        if step is not None:
            out.append(("take", k, step[0], step[1]))
        else:
            u = next(u for u in sorted(comp) if k not in graph.offered[u // 2])
            out.append(("avoid", k, u, -1))
    return out


def _walk_to(prod: _Product, comp: set[int], src: int, dst: int) -> list[tuple[int, int]]:
    """Shortest ``[(node, edge index into it), ...]`` from ``src`` (excluded) to ``dst``
    inside ``comp``."""
    if src == dst:
        return []
    parent: dict[int, tuple[int, int]] = {src: (-1, -1)}
    queue = deque([src])
    while queue:
        u = queue.popleft()
        for v, i, _ in prod.succ(u):
            if v in comp and v not in parent:
                parent[v] = (u, i)
                if v == dst:
                    out = []
                    cur = v
                    while cur != src:
                        p, e = parent[cur]
                        out.append((cur, e))
                        cur = p
                    return out[::-1]
                queue.append(v)
    raise AssertionError("a strongly connected component is connected")


def _loop(prod: _Product, comp: set[int], entry: int) -> list[tuple[int, int]]:
    """A loop from ``entry`` back to it inside ``comp`` that meets every obligation."""
    g = prod.graph
    path: list[tuple[int, int]] = []
    cur = entry
    taken: set[Key] = set()
    visited = {entry}
    for what, key, u, i in lasso_obligations(g, comp, prod):
        if (what == "take" and key in taken) or (
                what == "avoid" and any(key not in g.offered[x // 2] for x in visited)):
            continue
        leg = _walk_to(prod, comp, cur, u)
        if what == "take":
            v, _, ks = prod.succ(u)[i]
            leg.append((v, i))
        for node, e in leg:
            prev = path[-1][0] if path else entry
            taken |= prod.succ(prev)[e][2]
            visited.add(node)
            path.append((node, e))
        cur = path[-1][0] if path else entry
    if not path:  # no obligation: any step inside, then back
        v, i, _ = next((v, i, ks) for v, i, ks in prod.succ(entry) if v in comp)
        path.append((v, i))
        cur = v
    path += _walk_to(prod, comp, cur, entry)
    return path


# -- the check --------------------------------------------------------------------------------

def _trace(prod: _Product, nodes: list[tuple[int, int]], loop: int, explanation: str) -> Trace:
    """The trace along product ``nodes`` (each with the index of the edge into it), rebuilt
    with the model's labels; ``loop`` is the index of the state the last one returns to."""
    g, p = prod.graph, prod.prop
    steps = [Step(None, g.states[nodes[0][0] // 2])]
    for (node, e) in nodes[1:]:
        prev = steps[-1].state
        label, t = g.steps(prev)[e]
        if t != g.states[node // 2]:
            raise AssertionError("successors() is not deterministic")
        steps.append(Step(label, t))
    return Trace(g.model, p.name, p.kind, p.summary, steps, explanation, loop=loop)


def _names(graph: _Graph) -> str:
    names = [f.name for f in graph.fair] + [p.name for p in graph.priorities]
    return ", ".join(names) if names else "no fairness assumption"


def _judge(graph: _Graph, prop: Property, complete: bool) -> PropertyResult:
    r = PropertyResult(prop.name, prop.kind, prop.summary)
    prod = _Product(graph, prop)
    expanded = len(graph.succ)
    pending = [n for n in prod.order if n % 2 == 1 and n // 2 < expanded]
    best: tuple[int, Any] | None = None  # (prefix length, candidate)
    for n in pending:
        if not graph.succ[n // 2]:
            best = (prod.depth[n], ("stutter", n))
            break  # breadth-first order: the first terminal one has the shortest prefix
    for comp in sccs(pending, lambda u: [v for v, _, _ in prod.succ(u)]):
        fair = _fair_part(prod, comp)
        if fair is None:
            continue
        entry = min(fair, key=lambda x: (prod.depth[x], x))
        if best is None or prod.depth[entry] < best[0]:
            best = (prod.depth[entry], ("cycle", entry, fair))
    what = "reaches it" if prop.kind == EVENTUALLY else "reaches it after each trigger"
    if best is not None:
        cand = best[1]
        prefix = prod.path_to(cand[1])
        if cand[0] == "stutter":
            k = len(prefix) - 1
            trace = _trace(prod, prefix, k, f"state {k} has no enabled step: the run stays "
                           "there forever")
        else:
            loop = _loop(prod, cand[2], cand[1])
            k = len(prefix) - 1
            trace = _trace(prod, prefix + loop, k,
                           f"the steps after state {k} return to it and repeat forever; the "
                           "loop is fair and the property stays pending")
            note = getattr(graph.model, "lasso_note", None)  # a quotient's word on its loop
            if note is not None:
                trace.explanation += note([(s.label, s.state) for s in trace.steps], k)
        r.verdict, r.trace = VIOLATED, trace
    elif complete:
        r.verdict = HOLDS
        r.detail = (f"every fair run {what}, under {_names(graph)}; {len(pending):,} of "
                    f"{len(prod.order):,} monitor states pending")
    return r


def check_liveness(model: Model, props: Sequence[Property], options: Options) -> Result:
    """Check the liveness ``props`` of ``model`` (see the module docstring); every active
    reduction of the model is switched off first, symmetry is refused (``ValueError``)."""
    if options.symmetry:
        raise ValueError(SYMMETRY_REFUSED)
    model, reductions = without_reductions(model)
    props = _bound(model, props)
    start = time.monotonic()
    stats = Stats()
    graph = _Graph(model)
    stopped: str | None = None
    results = {p.name: PropertyResult(p.name, p.kind, p.summary) for p in props}
    try:
        stopped = explore(graph, options, stats, start)
        for p in props:
            results[p.name] = _judge(graph, p, stopped is None)
    except KeyboardInterrupt:
        stopped = STOP_INTERRUPTED
    except MemoryError:
        stopped = STOP_OUT_OF_MEMORY
    stats.distinct = len(graph.states)
    stats.queue = len(graph.states) - len(graph.succ)
    if stopped == STOP_OUT_OF_MEMORY:
        graph = _Graph(model)  # release the big structures before the report
    stats.seconds = time.monotonic() - start
    if stopped is not None:
        for r in results.values():
            if r.verdict != VIOLATED:
                r.verdict, r.detail = INCOMPLETE, ""
    result = Result(model.describe(), options, stats, list(results.values()), stopped, None,
                    reductions=reductions)
    result.assumptions = [a.text() for a in model.fairness()]
    return result


def _bound(model: Model, props: Sequence[Property]) -> list[Property]:
    """``props`` as the (possibly rebuilt) ``model`` offers them: switching a reduction off
    builds a new instance, and properties are bound to the instance they read."""
    wanted = {p.name for p in props}
    fresh = {p.name: p for p in properties_of(model)}
    return [fresh.get(p.name, p) for p in props if p.name in wanted]
