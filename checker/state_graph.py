"""A model's reachable state graph, explored in full for drawing and browsing.

``explore(model, max_states)`` is a breadth-first search that keeps every state and every
labelled edge (what TLC's ``-dump dot`` writes and Stateright's Explorer browses). States are
numbered in discovery order, so state 0 is the first initial state and every state's number is
at most its breadth-first distance order. For each state it records which of the model's state
properties fail there (invariants, quiescent properties) and which goals hold; for each edge,
which transition properties it breaks.

It is meant for small instances: past ``max_states`` states the graph is cut, the unexpanded
states are marked, and ``complete`` is False — a partial graph is never presented as the whole
space. With ``symmetry`` each state stands for its orbit (the model's representative).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from collections.abc import Hashable
from typing import Any

from paxchain.models.model import Label, Model
from paxchain.models.properties import LIVENESS, SOMETIMES, TRANSITION
from paxchain.specs.model_properties import properties_of

__all__ = ["StateGraph", "Edge", "Judge", "explore"]


class Judge:
    """Which of a model's properties a state or a step decides, as the graph records them:
    ``fails(s)`` the state properties (invariants, quiescent) broken at ``s``, ``reaches(s)``
    the goals (sometimes) that hold there, ``breaks(s, t)`` the transition properties the step
    from ``s`` to ``t`` breaks. Liveness properties are about runs, not states: none here.
    The explorer server (``paxchain.checker.explore_server``) judges states one at a time
    with it."""

    def __init__(self, model: Model) -> None:
        props = properties_of(model)
        self.state_props = [p for p in props if p.kind not in (SOMETIMES, TRANSITION, *LIVENESS)]
        self.goals = [p for p in props if p.kind == SOMETIMES]
        self.edge_props = [p for p in props if p.kind == TRANSITION]

    def fails(self, state: Any) -> tuple[str, ...]:
        return tuple(p.name for p in self.state_props if not p.holds_at(state))

    def reaches(self, state: Any) -> tuple[str, ...]:
        return tuple(p.name for p in self.goals if p.check(state))

    def breaks(self, state: Any, nxt: Any) -> tuple[str, ...]:
        return tuple(p.name for p in self.edge_props if not p.check(state, nxt))


@dataclass(frozen=True)
class Edge:
    src: int
    dst: int
    label: Label
    breaks: tuple[str, ...] = ()  # transition properties this step breaks


@dataclass
class StateGraph:
    model: Model
    states: list[Any] = field(default_factory=list)
    initial: list[int] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    fails: dict[int, tuple[str, ...]] = field(default_factory=dict)    # invariants broken there
    reaches: dict[int, tuple[str, ...]] = field(default_factory=dict)  # goals that hold there
    unexpanded: set[int] = field(default_factory=set)
    complete: bool = True

    def successors(self, i: int) -> list[Edge]:
        return [e for e in self.edges if e.src == i]


def explore(model: Model, max_states: int, symmetry: bool = False) -> StateGraph:
    """The graph of ``model``'s reachable states, cut after ``max_states`` (module docstring)."""
    if max_states < 1:
        raise ValueError("max_states must be at least 1")
    if symmetry and not model.has_symmetry:
        raise ValueError(f"{model.describe()} has no symmetry to reduce by")
    canon = model.representative if symmetry else (lambda s: s)
    judge = Judge(model)  # liveness properties are about runs: the graph does not colour them
    g = StateGraph(model)
    index: dict[Hashable, int] = {}

    def add(state: Any) -> int | None:
        key = canon(state)
        if key in index:
            return index[key]
        if len(g.states) >= max_states:
            g.complete = False
            return None
        i = index[key] = len(g.states)
        g.states.append(state)
        failed, reached = judge.fails(state), judge.reaches(state)
        if failed:
            g.fails[i] = failed
        if reached:
            g.reaches[i] = reached
        queue.append(i)
        return i

    queue: deque[int] = deque()
    for s in model.initial_states():
        i = add(s)
        if i is not None and i not in g.initial:
            g.initial.append(i)
    while queue:
        i = queue.popleft()
        state = g.states[i]
        for label, t in model.successors(state):
            j = add(t)
            if j is None:
                g.unexpanded.add(i)
                continue
            g.edges.append(Edge(i, j, label, judge.breaks(state, t)))
    return g
