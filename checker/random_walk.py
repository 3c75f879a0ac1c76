"""Random simulation (TLC's ``-simulate``): seeded random runs of a model, checking properties.

``check(model, options, walks, seed)`` starts ``walks`` runs, each from a randomly chosen
initial state, taking a randomly chosen enabled step until ``options.max_depth`` steps (default
``DEFAULT_DEPTH``) or a state with no step. Every state met is checked against the invariants
and quiescent properties, every step against the transition properties, and a goal reached on a
run is a witness. A violation comes back with the run that found it, up to the violating state —
a genuine run, usually far longer than the shortest (``--minimize`` shortens it), and its
detail names the run that found it ("broken by random run 6 (seed 1)").

It never claims *holds*: a property no run broke is *incomplete*, and the result says how many
runs of how many steps were sampled (``STOP_SAMPLED``). Liveness properties are not checked by
finite runs and stay incomplete. The same seed gives the same runs. The time limit, the memory
limit and Ctrl-C end the sampling early, as incomplete.
"""

from __future__ import annotations

import random
import time

from paxchain.checker.explicit import retrying, selected
from paxchain.checker.progress import over_memory
from paxchain.checker.result import (HOLDS, STOP_INTERRUPTED, STOP_MEMORY_LIMIT, STOP_SAMPLED,
                                     STOP_TIME_LIMIT, VIOLATED, Options, PropertyResult, Result,
                                     Stats)
from paxchain.checker.trace import Step, Trace, explain
from paxchain.models.model import Model
from paxchain.models.properties import INVARIANT, QUIESCENT, SOMETIMES, TRANSITION, Property

__all__ = ["check", "DEFAULT_DEPTH", "DEFAULT_WALKS"]

DEFAULT_DEPTH = 100
DEFAULT_WALKS = 1000


def check(model: Model, options: Options | None = None, walks: int = DEFAULT_WALKS,
          seed: int = 0) -> Result:
    """Sample ``walks`` random runs of ``model`` (module docstring). A reduction whose premise
    fails on a run is switched off and the sampling starts again (``explicit.retrying``)."""
    if walks < 1:
        raise ValueError("the number of random runs must be at least 1")
    return retrying(model, options or Options(), lambda m, o: _sample(m, o, walks, seed))


def _sample(model: Model, options: Options, walks: int, seed: int) -> Result:
    depth = options.max_depth if options.max_depth is not None else DEFAULT_DEPTH
    props = selected(model, options.only)  # as the exhaustive search selects them
    if not props:
        raise ValueError(f"nothing to check in {model.describe()}: no property is selected")
    results = {p.name: PropertyResult(p.name, p.kind, p.summary) for p in props}
    states_props = [p for p in props if p.kind in (INVARIANT, QUIESCENT)]
    edges = [p for p in props if p.kind == TRANSITION]
    goals = [p for p in props if p.kind == SOMETIMES]
    rng = random.Random(seed)
    initial = list(model.initial_states())
    stats = Stats()
    seen: set[int] = set()
    stopped: str | None = None
    start = time.monotonic()

    def open_(ps: list[Property]) -> list[Property]:
        return [p for p in ps if results[p.name].verdict != VIOLATED]

    def found(p: Property, trace: Trace) -> None:
        r = results[p.name]
        r.verdict, r.trace = VIOLATED, trace
        r.detail = f"broken by random run {runs:,} (seed {seed})"

    def at_state(steps: list[Step]) -> None:
        s = steps[-1].state
        seen.add(model.fingerprint(s))
        for p in open_(states_props):
            if not p.holds_at(s):
                found(p, Trace(model, p.name, p.kind, p.summary, list(steps), explain(p, s)))
        for p in goals:
            if results[p.name].verdict != HOLDS and p.check(s):
                r = results[p.name]
                r.verdict, r.trace = HOLDS, Trace(model, p.name, p.kind, p.summary, list(steps))

    runs = 0
    try:
        while runs < walks:
            runs += 1
            s = rng.choice(initial)
            steps = [Step(None, s)]
            at_state(steps)
            for _ in range(depth):
                succ = list(model.successors(s))
                stats.generated += 1
                if not succ:
                    break
                label, t = succ[rng.randrange(len(succ))]
                for p in open_(edges):
                    if not p.check(s, t):
                        found(p, Trace(model, p.name, p.kind, p.summary,
                                       steps + [Step(label, t)], explain(p, s, t)))
                steps.append(Step(label, t))
                s = t
                at_state(steps)
                stats.depth = max(stats.depth, len(steps) - 1)
            if not options.keep_going and any(r.verdict == VIOLATED for r in results.values()):
                break
            if options.time_limit is not None and time.monotonic() - start >= options.time_limit:
                stopped = STOP_TIME_LIMIT
                break
            if over_memory(options.memory_limit):
                stopped = STOP_MEMORY_LIMIT
                break
    except KeyboardInterrupt:
        stopped = STOP_INTERRUPTED
    stats.distinct = len(seen)
    stats.seconds = time.monotonic() - start
    for r in results.values():
        if r.verdict not in (VIOLATED, HOLDS):
            r.detail = (f"not broken in {runs:,} random run{'s' if runs != 1 else ''} of up to "
                        f"{depth} steps (seed {seed}); random simulation proves nothing")
    return Result(model.describe(), options, stats, list(results.values()),
                  stopped or STOP_SAMPLED, engine="random")
