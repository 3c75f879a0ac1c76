"""Runs of a model written as step texts, and shortening a counterexample by deleting steps.

A *step text* is a label as the trace text prints it (``Phase2a(b=1, v=v1)``): a run is the
initial state plus a list of them. ``follow(model, texts)`` re-executes such a run, each step
among the successors of the state before; when several successors print the same text (a
crash point, say), every choice is tried, so a run that exists is found.

``shorten(trace)`` (Hypothesis's shrinking, for traces): a depth-first or simulator trace may
be longer than needed. Chunks of steps, halves first down to single steps, are deleted while
what is left still replays and still shows the outcome (the property broken, or the goal
reached), and the run is cut at the first state that shows it. The result is a genuine run of
the model (every step re-executed) and *1-minimal*: deleting any one of its steps loses the
outcome or the run. It is not claimed shortest: only a breadth-first search guarantees that.

``embed(model, moves, prop)`` takes a run given as *moves* (each a list of alternative step
sequences, some skippable: how ``paxchain.models.sim_steps`` writes a simulated run) and
re-executes it in the model, up to the first state that shows ``prop``: a simulator-found
violation becomes a run of the model, which ``shorten`` then takes further. Each step it keeps
is a transition of the model; nothing of the simulator is trusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from paxchain.checker.trace import Step, Trace, explain
from paxchain.models.model import Model
from paxchain.models.properties import LIVENESS, SOMETIMES, TRANSITION, Kind, Property
from paxchain.specs.model_properties import properties_of

__all__ = ["follow", "shows", "shorten", "embed", "Embedded", "Stuck"]


@dataclass(frozen=True)
class Stuck:
    """A run that cannot go on: step ``index`` (1-based) is not enabled after the ones before."""

    index: int
    text: str


def follow(model: Model, texts: Sequence[str], start: Any = None) -> list[Step] | Stuck:
    """The steps of the run that takes ``texts`` in turn from ``start`` (default: each initial
    state, in the model's order), or where the longest attempt got stuck."""
    starts = [start] if start is not None else list(model.initial_states())
    furthest = Stuck(1, texts[0]) if texts else Stuck(0, "")
    for s0 in starts:
        found = _search(model, s0, texts)
        if isinstance(found, list):
            return found
        if found.index > furthest.index:
            furthest = found
    return furthest


def _search(model: Model, s0: Any, texts: Sequence[str]) -> list[Step] | Stuck:
    """Depth-first over the successors whose label prints as the next text (iterative: a run
    may be longer than Python's recursion limit). ``stack[d]`` holds the untried choices for
    step ``d + 1``; ``path[:d + 1]`` is the run up to the state they start from."""
    if not texts:
        return [Step(None, s0)]

    def choices(state: Any, text: str) -> Iterator[Step]:
        return (Step(lb, t) for lb, t in model.successors(state) if str(lb) == text)

    path = [Step(None, s0)]
    stack = [choices(s0, texts[0])]
    furthest = 1
    while stack:
        nxt = next(stack[-1], None)
        if nxt is None:
            stack.pop()
            continue
        depth = len(stack)
        del path[depth:]
        path.append(nxt)
        if depth == len(texts):
            return path
        furthest = max(furthest, depth + 1)
        stack.append(choices(nxt.state, texts[depth]))
    return Stuck(furthest, texts[furthest - 1])


@dataclass(frozen=True)
class Embedded:
    """A run ``embed`` re-executed: ``steps`` (initial state first), how many moves it took
    (``used``, up to the one that showed the property) and how many of those were no step of
    the model (``skipped``)."""

    steps: list[Step]
    used: int
    skipped: int


class _Move(Protocol):
    alternatives: tuple[tuple[str, ...], ...]
    skippable: bool


def _take(model: Model, state: Any, texts: Sequence[str]) -> list[Step] | None:
    """The steps that take ``texts`` in turn from ``state`` (the first successor printing as
    each text), or None where one is not enabled."""
    out: list[Step] = []
    for text in texts:
        nxt = next((Step(lb, t) for lb, t in model.successors(state) if str(lb) == text), None)
        if nxt is None:
            return None
        out.append(nxt)
        state = nxt.state
    return out


def embed(model: Model, moves: Sequence[_Move], prop: Property) -> Embedded | Stuck:
    """Re-execute ``moves`` from the model's first initial state until a state shows
    ``prop`` (module docstring): each move takes its first alternative whose every text is
    enabled in turn; a skippable move with none is passed over. ``Stuck`` names the first
    move (1-based) that is neither; a run that never shows ``prop`` is returned whole."""
    path = [Step(None, next(iter(model.initial_states())))]
    skipped = 0
    for i, move in enumerate(moves, start=1):
        for alt in move.alternatives:
            got = _take(model, path[-1].state, alt)
            if got is not None:
                break
        else:
            if move.skippable:
                skipped += 1
                continue
            return Stuck(i, " then ".join(move.alternatives[0]) if move.alternatives else "")
        for step in got:
            path.append(step)
            if shows(prop, path[-2:]) == 1:
                return Embedded(path, i, skipped)
    return Embedded(path, len(moves), skipped)


def _property(model: Model, name: str, kind: Kind) -> Property:
    for p in properties_of(model):
        if p.name == name and p.kind == kind:
            return p
    raise ValueError(f"{model.name} has no {kind} property {name!r}")


def shows(prop: Property, steps: Sequence[Step]) -> int | None:
    """The number of steps after which the run first shows ``prop``'s outcome (broken, or for a
    goal reached), or None. A liveness property is never shown by a finite run: ``ValueError``."""
    if prop.kind in LIVENESS:
        raise ValueError(f"{prop.name} is a {prop.kind} property: no finite run breaks it")
    for i, step in enumerate(steps):
        if prop.kind == TRANSITION:
            if i and not prop.check(steps[i - 1].state, step.state):
                return i
        elif prop.kind == SOMETIMES:
            if prop.check(step.state):
                return i
        elif not prop.holds_at(step.state):
            return i
    return None


def shorten(trace: Trace) -> Trace:
    """``trace`` with steps deleted while it still shows its outcome (module docstring).

    Returned unchanged: traces of the engine's deadlock check (a deadlock is a property of the
    last state's successors, which deleting steps before it rarely keeps) and liveness lassos
    (an infinite run: its loop must close, which deleting steps does not keep).
    """
    if trace.kind == Kind.DEADLOCK or trace.kind in LIVENESS:
        return trace
    model, prop = trace.model, _property(trace.model, trace.prop, trace.kind)
    start = trace.steps[0].state
    best = list(trace.steps)
    at = shows(prop, best)
    if at is None:
        raise ValueError(f"the trace does not show {trace.prop}: nothing to shorten")
    best = best[:at + 1]
    chunk = max(1, (len(best) - 1) // 2)
    while chunk >= 1:
        i = 1
        while i < len(best):
            texts = [str(s.label) for s in best[1:i] + best[i + chunk:]]
            run = follow(model, texts, start)
            cut = shows(prop, run) if isinstance(run, list) else None
            if isinstance(run, list) and cut is not None:
                best = run[:cut + 1]
            else:
                i += chunk
        chunk //= 2
    if len(best) == len(trace.steps):
        explanation = trace.explanation
    elif prop.kind == SOMETIMES:
        explanation = ""
    else:
        last = (best[-2].state, best[-1].state) if prop.kind == TRANSITION else (best[-1].state,)
        explanation = explain(prop, *last)
    return Trace(model, trace.prop, trace.kind, trace.summary, best, explanation)

