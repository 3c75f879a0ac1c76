"""Random simulation (TLC's ``-simulate``): seeded random runs of a model, checking properties.

``check(model, options, walks, seed, workers)`` samples runs ``1 .. walks``, each from a
randomly chosen initial state, taking a randomly chosen enabled step until
``options.max_depth`` steps (default ``DEFAULT_DEPTH``) or a state with no step. Every state met
is checked against the invariants and quiescent properties, every step against the transition
properties, and a goal reached on a run is a witness. A violation comes back with the run that
found it, up to the violating state — a genuine run, usually far longer than the shortest
(``--minimize`` shortens it), and its detail names the run ("broken by random run 6 (seed 1)").
Sampling stops after the first run that breaks a property (all of them with ``keep_going``).

Faults. Picked uniformly, fault steps (a crash of any node, a crash point inside any handler,
a drop or duplicate of any message) are most of the enabled steps, so a run spends its fault
budget in its first few steps and never has the crash that a bug needs later. So each run first
draws a *fault rate* from ``FAULT_RATES`` (swarm testing, Groce et al., ISSTA 2012: runs that
differ in which features they use find more than runs that all use all): ``None`` picks
uniformly among all enabled steps, a number ``p`` takes a fault step with probability ``p``
(when faults and other steps are both enabled) and otherwise another step, uniformly within
the kind chosen. ``is_fault`` reads the fault vocabulary of ``paxchain.models.faults`` from
the step's label.

Run ``r`` draws from its own generator, seeded by ``(seed, r)``, and picks among the enabled
steps in the order of their labels' text, not the order the model lists them (for actor
systems that order follows ids interned per process). So a run is a function of the model, the
seed and its number: ``workers`` forked processes share the runs out (worker ``w`` takes runs
``w + 1``, ``w + 1 + workers``, ...), the lowest-numbered breaking run wins, and the result —
which run, which trace — is the same for any number of workers (tested on the shipped models;
steps with equal labels keep the model's order, which a user's model could make
process-dependent). Distinct states are counted by fingerprints that mean the same in every
worker (the parallel engine's, ``paxchain.checker.portable.codec_for``). A worker sends its
violations and witnesses as trace files, and they are replayed on the parent's model
(``paxchain.checker.trace.replay``) before they are reported: nothing a worker says is trusted.
The counts (runs, states) are of the runs up to the one that stopped the sampling.

It never claims *holds*: a property no run broke is *incomplete*, and the result says how many
runs of how many steps were sampled (``STOP_SAMPLED``). Liveness properties are not checked by
finite runs and stay incomplete. The time limit, the memory limit and Ctrl-C end the sampling
early, as incomplete. A reduction whose premise fails on a run is switched off and the sampling
starts again (``explicit.retrying``).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import random
import time
from dataclasses import dataclass, field
from typing import Any

from paxchain.checker.explicit import engine_only, retrying, selected
from paxchain.checker.portable import codec_for
from paxchain.checker.progress import over_memory
from paxchain.checker.result import (HOLDS, STOP_INTERRUPTED, STOP_MEMORY_LIMIT, STOP_SAMPLED,
                                     STOP_TIME_LIMIT, VIOLATED, Options, PropertyResult, Result,
                                     Stats)
from paxchain.checker.trace import Step, Trace, explain, replay
from paxchain.models.faults import FAULTS, RESTART
from paxchain.models.model import Label, Model, ReductionUnsound
from paxchain.models.properties import INVARIANT, QUIESCENT, SOMETIMES, TRANSITION

__all__ = ["check", "DEFAULT_DEPTH", "DEFAULT_WALKS"]

DEFAULT_DEPTH = 100
DEFAULT_WALKS = 1000
# Each run's fault rate (swarm testing): None is a uniform choice among all enabled steps.
FAULT_RATES: tuple[float | None, ...] = (None, 0.0, 0.01, 0.03, 0.1, 0.3)


def check(model: Model, options: Options | None = None, walks: int = DEFAULT_WALKS,
          seed: int = 0, workers: int = 1) -> Result:
    """Sample runs ``1 .. walks`` of ``model`` with ``workers`` processes (module docstring)."""
    if walks < 1:
        raise ValueError("the number of random runs must be at least 1")
    if workers < 1:
        raise ValueError("the number of workers must be at least 1")
    result = retrying(model, options or Options(),
                      lambda m, o: _sample(m, o, walks, seed, workers))
    # Reductions that only the exhaustive search applies (subsumption: it needs a visited
    # set) are not in force here, whatever the model says.
    idle = {f"{name} on" for name in engine_only(model)}
    result.reductions = [text for text in result.reductions if text not in idle]
    return result


@dataclass
class _Run:
    """What one run found: traces of broken properties and reached goals, and its counts."""

    number: int
    broken: dict[str, Trace] = field(default_factory=dict)
    goals: dict[str, Trace] = field(default_factory=dict)
    generated: int = 0
    depth: int = 0
    fingerprints: set[int] = field(default_factory=set)


class _Sampler:
    """Runs of one model in one process: ``run(r)`` is run number ``r``."""

    def __init__(self, model: Model, options: Options, seed: int) -> None:
        self.model, self.seed = model, seed
        self.depth = options.max_depth if options.max_depth is not None else DEFAULT_DEPTH
        props = selected(model, options.only)  # as the exhaustive search selects them
        if not props:
            raise ValueError(f"nothing to check in {model.describe()}: no property is selected")
        self.props = props
        self.states = [p for p in props if p.kind in (INVARIANT, QUIESCENT)]
        self.edges = [p for p in props if p.kind == TRANSITION]
        self.goal_props = [p for p in props if p.kind == SOMETIMES]
        self.initial = list(model.initial_states())
        # What counts distinct states; in a worker, the parallel engine's portable key.
        self.key = model.fingerprint
        self.open: set[str] = {p.name for p in props}  # not broken by an earlier run
        self.reached: set[str] = set()                 # goals with a witness already

    def run(self, number: int) -> _Run:
        model, out = self.model, _Run(number)
        rng = random.Random(f"{self.seed}/{number}")
        rate = rng.choice(FAULT_RATES)
        s = rng.choice(self.initial)
        steps = [Step(None, s)]
        self._at_state(steps, out)
        for _ in range(self.depth):
            succ = sorted(model.successors(s), key=lambda x: str(x[0]))
            out.generated += 1
            if not succ:
                break
            label, t = _pick(rng, succ, rate)
            for p in self.edges:
                if p.name in self.open and p.name not in out.broken and not p.check(s, t):
                    out.broken[p.name] = Trace(model, p.name, p.kind, p.summary,
                                               steps + [Step(label, t)], explain(p, s, t))
            steps.append(Step(label, t))
            s = t
            self._at_state(steps, out)
            out.depth = max(out.depth, len(steps) - 1)
        self.open -= set(out.broken)
        self.reached |= set(out.goals)
        return out

    def _at_state(self, steps: list[Step], out: _Run) -> None:
        s = steps[-1].state
        out.fingerprints.add(self.key(s))
        for p in self.states:
            if p.name in self.open and p.name not in out.broken and not p.holds_at(s):
                out.broken[p.name] = Trace(self.model, p.name, p.kind, p.summary, list(steps),
                                           explain(p, s))
        for p in self.goal_props:
            if p.name not in self.reached and p.name not in out.goals and p.check(s):
                out.goals[p.name] = Trace(self.model, p.name, p.kind, p.summary, list(steps))


def is_fault(label: Label) -> bool:
    """A step of the fault vocabulary (``paxchain.models.faults``): a drop, a duplicate, a
    crash, or a step cut short by a crash point; a restart is recovery, not a fault."""
    return (label.action in FAULTS and label.action != RESTART) or "crash" in label.events


def _pick(rng: random.Random, succ: list, rate: float | None) -> tuple:
    """One step: with ``rate`` None uniformly; else a fault with probability ``rate`` (when
    both faults and other steps are enabled), uniformly within the kind chosen."""
    if rate is not None:
        faults = [x for x in succ if is_fault(x[0])]
        if faults and len(faults) < len(succ):
            succ = faults if rng.random() < rate else [x for x in succ if not is_fault(x[0])]
    return succ[rng.randrange(len(succ))]


class _Stop:
    """Why the sampling ended early: a limit, checked between runs."""

    def __init__(self, options: Options) -> None:
        self.options, self.start = options, time.monotonic()

    def __call__(self) -> str | None:
        limit = self.options.time_limit
        if limit is not None and time.monotonic() - self.start >= limit:
            return STOP_TIME_LIMIT
        if over_memory(self.options.memory_limit):
            return STOP_MEMORY_LIMIT
        return None


def _sample(model: Model, options: Options, walks: int, seed: int, workers: int) -> Result:
    sampler = _Sampler(model, options, seed)  # ValueError on nothing to check, before forking
    start = time.monotonic()
    if workers == 1:
        runs, stopped = _sequential(sampler, options, walks)
    else:
        runs, stopped = _parallel(sampler, options, walks, workers)
    return _result(sampler, options, runs, stopped, seed, time.monotonic() - start)


def _sequential(sampler: _Sampler, options: Options, walks: int) -> tuple[list[_Run], str | None]:
    runs: list[_Run] = []
    stop = _Stop(options)
    try:
        for number in range(1, walks + 1):
            runs.append(sampler.run(number))
            if runs[-1].broken and not options.keep_going:
                return runs, None
            why = stop()
            if why:
                return runs, why
    except KeyboardInterrupt:
        return runs, STOP_INTERRUPTED
    return runs, None


def _parallel(sampler: _Sampler, options: Options, walks: int,
              workers: int) -> tuple[list[_Run], str | None]:
    """Fork ``workers`` samplers; gather their runs; rebuild each trace by replaying it here."""
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    best = ctx.Value("q", walks + 1)  # the lowest run number that broke a property so far
    procs = [ctx.Process(target=_worker, args=(sampler, options, walks, workers, w, best, queue),
                         daemon=True) for w in range(workers)]
    for p in procs:
        p.start()
    reports: list[dict] = []
    stopped: str | None = None
    done = 0
    try:
        while done < workers:
            msg = queue.get()
            if msg["kind"] == "done":
                done += 1
                stopped = stopped or msg["stopped"]
            elif msg["kind"] == "unsound":
                raise ReductionUnsound(msg["reduction"], msg["detail"])
            else:
                reports.append(msg)
    except KeyboardInterrupt:
        stopped = STOP_INTERRUPTED
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join()
    reports.sort(key=lambda m: m["number"])
    if not options.keep_going:
        first = next((m["number"] for m in reports if m["broken"]), None)
        if first is not None:
            reports = [m for m in reports if m["number"] <= first]
            stopped = None  # sampling ended because a run broke a property, as in one process
    return [_rebuilt(sampler, m) for m in reports], stopped


def _worker(sampler: _Sampler, options: Options, walks: int, workers: int, w: int,
            best: Any, queue: Any) -> None:
    stopped = None
    sampler.key = codec_for(sampler.model, symmetry=False).key
    try:
        stop = _Stop(options)
        for number in range(w + 1, walks + 1, workers):
            if number > best.value and not options.keep_going:
                break
            run = sampler.run(number)
            if run.broken:
                with best.get_lock():
                    best.value = min(best.value, number)
            queue.put({"kind": "run", "number": number, "generated": run.generated,
                       "depth": run.depth, "fingerprints": run.fingerprints,
                       "broken": {n: t.dumps() for n, t in run.broken.items()},
                       "goals": {n: t.dumps() for n, t in run.goals.items()}})
            stopped = stop()
            if stopped:
                break
    except ReductionUnsound as exc:
        queue.put({"kind": "unsound", "reduction": exc.reduction, "detail": exc.detail})
    except KeyboardInterrupt:
        stopped = STOP_INTERRUPTED
    queue.put({"kind": "done", "stopped": stopped})


def _rebuilt(sampler: _Sampler, msg: dict) -> _Run:
    """A worker's run, its traces replayed on this process's model (never trusted)."""
    def trace(text: str) -> Trace:
        return replay(sampler.model, json.loads(text)).trace

    return _Run(msg["number"], {n: trace(t) for n, t in msg["broken"].items()},
                {n: trace(t) for n, t in msg["goals"].items()}, msg["generated"], msg["depth"],
                msg["fingerprints"])


def _result(sampler: _Sampler, options: Options, runs: list[_Run], stopped: str | None,
            seed: int, seconds: float) -> Result:
    results = {p.name: PropertyResult(p.name, p.kind, p.summary) for p in sampler.props}
    stats, seen = Stats(), set()
    for run in runs:  # in run order: each property's first breaking run, each goal's first
        stats.generated += run.generated
        stats.depth = max(stats.depth, run.depth)
        seen |= run.fingerprints
        for name, trace in run.broken.items():
            r = results[name]
            if r.verdict != VIOLATED:
                r.verdict, r.trace = VIOLATED, trace
                r.detail = f"broken by random run {run.number:,} (seed {seed})"
        for name, trace in run.goals.items():
            r = results[name]
            if r.verdict != HOLDS:
                r.verdict, r.trace = HOLDS, trace
    stats.distinct, stats.seconds = len(seen), seconds
    n = len(runs)
    for r in results.values():
        if r.verdict not in (VIOLATED, HOLDS):
            r.detail = (f"not broken in {n:,} random run{'s' if n != 1 else ''} of up to "
                        f"{sampler.depth} steps (seed {seed}); random simulation proves nothing")
    return Result(sampler.model.describe(), options, stats, list(results.values()),
                  stopped or STOP_SAMPLED, engine="random")
