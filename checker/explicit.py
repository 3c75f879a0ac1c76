"""Explicit-state search: breadth-first (default, shortest counterexamples) or depth-first.

The visited set maps each state's fingerprint to its parent's fingerprint, so no history lives
inside states and a counterexample is rebuilt afterwards by re-running the model's labelled
successors along the fingerprint path (``paxchain.checker.trace.rebuild``). With symmetry on, the
fingerprint is that of the model's orbit representative; the rebuilt trace still consists of
real, non-canonical states, each a genuine successor of the one before.

Properties are evaluated on every newly discovered state (invariants, quiescent properties,
goals) and on every generated transition (transition properties), until each is violated.

Stopping: every ``_TICK`` expansions the search reads the clock and, with
``Options.memory_limit``, the resident memory; past either limit it stops. Ctrl-C
(``KeyboardInterrupt``) and running out of memory (``MemoryError``, after which the big
structures are released so the report can still be built) stop it too. Each of these returns
a ``Result`` whose ``stopped_by`` names the reason, with the statistics so far and the
undecided properties *incomplete* — never an exception, never *holds*. Checking nothing (no
property selected and no deadlock check) is refused with ``ValueError``: it would hold vacuously.

Liveness properties (``eventually``, ``leads_to``) are checked by ``paxchain.checker.liveness``
on a graph of their own; ``check`` runs both engines on the properties each checks and merges
the verdicts into one ``Result`` (the statistics are the safety search's, the liveness
search's are ``Result.liveness_stats``; with liveness properties alone, they are its own).
A property marked ``opt_in`` is checked only when named in ``Options.only``.
"""

from __future__ import annotations

import gc
import time
from dataclasses import replace
from collections.abc import Callable, Hashable
from typing import Any

from paxchain.models.model import Model, ReductionUnsound
from paxchain.checker.progress import near_address_limit, over_memory
from paxchain.models.properties import INVARIANT, QUIESCENT, SOMETIMES, TRANSITION, Kind, Property
from paxchain.checker.result import (HOLDS, INCOMPLETE, STOP_INTERRUPTED, STOP_MAX_DEPTH,
                            STOP_MAX_STATES, STOP_MEMORY_LIMIT, STOP_OUT_OF_MEMORY,
                            STOP_TIME_LIMIT, STOP_VIOLATION, VIOLATED, Options, PropertyResult,
                            Result, Stats, Strategy)
from paxchain.checker.liveness import SYMMETRY_REFUSED, check_liveness
from paxchain.checker.trace import rebuild, rebuild_edge
from paxchain.specs.model_properties import properties_of
from paxchain.models.subsumption import CoverTable, PackedCoverTable
from paxchain.checker.levels import ListLevel, SpilledLevel
from paxchain.checker.visited import ParentLog, ParentMap, signed64

__all__ = ["check", "selected", "reachable_states", "explored_states", "engine_only",
           "DEADLOCK"]

DEADLOCK = "deadlock_free"
_DEADLOCK_DOC = "Deadlock freedom: every reachable state has at least one enabled transition."
_TICK = 512  # expansions between clock (and memory) readings
# Reductions that this engine applies (through model hooks) and the parallel ones do not, with
# the model parameter that switches each off.
_SEQUENTIAL_ONLY = ("subsumption",)
_SWITCH = {"subsumption": "subsume"}


def check(model: Model, options: Options | None = None) -> Result:
    """Search ``model``'s reachable states under ``options`` and return the verdicts.

    A reduction whose premise fails for the code under check (``ReductionUnsound``, raised by
    the model at the state where it fails) is switched off and the search starts again; the
    result lists the reductions in force and why any is off (``Result.reductions``).
    Liveness properties go to ``paxchain.checker.liveness`` (module docstring).
    """
    options = options or Options()
    props = selected(model, options.only)
    live = [p for p in props if p.liveness]
    if not live:
        return _check_safety(model, options)
    safe = tuple(p.name for p in props if not p.liveness)
    if not safe and not options.deadlock:
        return check_liveness(model, live, options)
    if options.symmetry:  # refused before the safety search, not after it
        raise ValueError(SYMMETRY_REFUSED)
    result = _check_safety(model, replace(options, only=safe))
    if result.stopped_by is not None and result.stopped_by != STOP_VIOLATION or (
            result.stopped_by == STOP_VIOLATION and not options.keep_going):
        # Cut short (or stopped at the first violation): the liveness search is not run.
        result.properties += [PropertyResult(p.name, p.kind, p.summary) for p in live]
        return result
    lres = check_liveness(model, live, options)
    result.properties += lres.properties
    result.stopped_by = lres.stopped_by
    result.liveness_stats = lres.stats
    result.assumptions = lres.assumptions
    result.reductions += [f"for liveness: {text}" for text in lres.reductions]
    return result


def selected(model: Model, only: tuple[str, ...] | None) -> list[Property]:
    """The properties of ``model`` a run checks: those named in ``only`` (an unknown name is a
    ``ValueError``), or every one that is not ``opt_in``."""
    props = properties_of(model)
    if only is None:
        return [p for p in props if not p.opt_in]
    known = {p.name for p in props}
    unknown = [n for n in only if n not in known]
    if unknown:
        raise ValueError(f"unknown property {unknown[0]!r} for {model.name}; "
                         f"known: {', '.join(sorted(known))}")
    return [p for p in props if p.name in only]


def _check_safety(model: Model, options: Options) -> Result:
    """``check`` for properties other than liveness: the search below, redone without a
    reduction whose premise fails."""
    return retrying(model, options, _sequential)


def _sequential(model: Model, options: Options) -> Result:
    """One sequential search (this module's engine)."""
    return _Search(model, options).run()


def engine_only(model: Model) -> list[str]:
    """The reductions in force that only the sequential search applies (it asks the model's
    ``covering``); the parallel and Ray engines refuse a model with any of them in force."""
    return [r.name for r in model.reductions() if r.active and r.name in _SEQUENTIAL_ONLY]


def retrying(model: Model, options: Options,
             run: Callable[[Model, Options], Result]) -> Result:
    """``run(model, options)`` until no reduction's premise fails: a reduction whose premise
    fails (``ReductionUnsound``) is switched off and the search redone from the start; the
    result lists the reductions in force, and why any is off. Every engine's one loop."""
    symmetry_off = ""
    # The parallel and Ray engines (both retry through ``parallel.retrying``) keep visited sets
    # of their own and do not ask ``covering``: refused rather than claimed. Random sampling
    # keeps none, so a subsumption has nothing to leave out there.
    if getattr(run, "__module__", "") == "paxchain.checker.parallel" and engine_only(model):
        from paxchain.checker.level_search import Unsupported  # it imports this module
        names = engine_only(model)
        raise Unsupported(f"{', '.join(names)} is applied by the sequential search only: "
                          f"use one worker, or switch it off ("
                          + ", ".join(f"-p {_SWITCH.get(n, n)}=0" for n in names) + ")")
    while True:
        try:
            result = run(model, options)
        except ReductionUnsound as exc:
            if exc.reduction == "symmetry":
                options = replace(options, symmetry=False)
                symmetry_off = f"symmetry off (premise failed: {exc.detail})"
                model = model.without_reduction("symmetry", symmetry_off)
            else:
                model = model.without_reduction(exc.reduction, f"premise failed: {exc.detail}")
            continue
        result.reductions = [r.text() for r in model.reductions()
                             if r.name != "symmetry" or options.symmetry]
        result.reductions += [symmetry_off] if symmetry_off else []
        return result


def reachable_states(model: Model, limit: int | None = None) -> set:
    """Every state reachable from ``model``'s initial states (breadth-first, whole states, no
    properties), or the first ``limit``-or-so of them; for cross-checks in tests and tools."""
    seen = set(model.initial_states())
    frontier = list(seen)
    while frontier and (limit is None or len(seen) < limit):
        found = []
        for s in frontier:
            for t in model.next_states(s):
                if t not in seen:
                    seen.add(t)
                    found.append(t)
        frontier = found
    return seen


def explored_states(model: Model, options: Options | None = None) -> set:
    """The whole states a search explores with the model's reductions in force (symmetry off,
    full states kept instead of fingerprints): what a reduction leaves of the reachable states,
    for the tests that compare what the properties read with ``reachable_states``."""
    search = _Search(model, replace(options or Options(keep_going=True), fingerprints=False,
                                    symmetry=False))
    search.run()
    return set(search.seen)


class _Search:
    def __init__(self, model: Model, options: Options) -> None:
        self.model = model
        self.opt = options
        props = [p for p in selected(model, options.only) if not p.liveness]
        self.props = props
        self.results = {p.name: PropertyResult(p.name, p.kind, p.summary) for p in props}
        if options.deadlock:
            self.results[DEADLOCK] = PropertyResult(DEADLOCK, Kind.DEADLOCK, _DEADLOCK_DOC)
        if not self.results:
            raise ValueError(f"nothing to check in {model.describe()}: no property is selected "
                             "(a check of nothing would hold vacuously)")
        self.state_props = [p for p in props if p.kind in (INVARIANT, QUIESCENT)]
        self.goal_props = [p for p in props if p.kind == SOMETIMES]
        self.edge_props = [p for p in props if p.kind == TRANSITION]
        self.stats = Stats()
        self.stopped_by: str | None = None
        self.coverage: dict[str, int] | None = None
        self.nexts = model.next_states
        if options.coverage:
            self.coverage = dict.fromkeys(model.actions(), 0)
            self.nexts = self._counting_nexts()
        # fingerprint (or state) -> its parent's; a ``ParentLog`` with ``compact``.
        self.seen: ParentMap | ParentLog = ParentMap()
        self._new_level: Callable[[], ListLevel | SpilledLevel] = ListLevel
        if options.symmetry and not model.has_symmetry:
            raise ValueError(f"{model.describe()} has no symmetry to reduce by")
        canon = model.representative if options.symmetry else None
        self.canon = canon
        # State subsumption (``paxchain.models.subsumption``): a new state that an explored twin
        # covers is left out.
        covering = getattr(model, "covering", None)
        self.cover = covering() if covering is not None else None
        self.covers = CoverTable(options.fingerprints) if self.cover is not None else None
        if self.cover is not None and options.deadlock:
            raise ValueError("subsumption does not preserve deadlocks (a covered state may have "
                             "fewer steps than its twin): add -p subsume=0 to --deadlock")
        if self.cover is not None and canon is not None:
            canon = self.canon = _last_one(canon)  # ``_covered`` reads the one ``key`` made
        if options.fingerprints:
            fingerprint = model.fingerprint
            self.key: Callable[[Any], Hashable] = (
                (lambda s: fingerprint(canon(s))) if canon else fingerprint)
        else:
            self.key = canon if canon else (lambda s: s)
        if options.compact:
            self._compact()

    def _compact(self) -> None:
        """``Options.compact``: the same search in flat tables and files (``ParentLog``,
        ``PackedCoverTable``, ``SpilledLevel``), for runs of 10**8 states."""
        if self.opt.strategy != Strategy.BFS:
            raise ValueError("--compact is for breadth-first search (it spills each level to "
                             "disk): drop --dfs")
        if not self.opt.fingerprints:
            raise ValueError("--compact keeps 64-bit fingerprints: drop --exact")
        self.seen = ParentLog()
        fingerprint = self.key
        self.key = lambda s: signed64(fingerprint(s))  # type: ignore[arg-type]
        if self.covers is not None:
            self.covers = PackedCoverTable()  # type: ignore[assignment]
        self._new_level = SpilledLevel

    def _covered(self, state: Any) -> bool:
        """Whether an explored twin covers ``state`` (then it is left out); otherwise ``state``
        is recorded as explored (the caller adds it to the visited set)."""
        rep = self.canon(state) if self.canon is not None else state
        key, budgets, contents = self.cover(rep)
        twin = self.covers.find(key, budgets, contents)
        if twin is None:
            return False
        self.model.check_cover(rep, *twin)  # type: ignore[attr-defined]
        return True

    def _counting_nexts(self):
        tally, tallied = self.coverage, self.model.next_states_tallied
        return lambda state: tallied(state, tally)

    # -- bookkeeping --------------------------------------------------------------------
    def _open(self, props: list[Property]) -> list[Property]:
        return [p for p in props if self.results[p.name].verdict != VIOLATED]

    def _violate(self, name: str, trace: Any, detail: str = "") -> None:
        r = self.results[name]
        r.verdict, r.trace, r.detail = VIOLATED, trace, detail

    def _discover(self, state: Any, fp: Hashable) -> bool:
        """Check state properties at a new state; True when the search should stop."""
        for p in self.state_props:  # a violated property leaves state_props (_open)
            if not p.holds_at(state):
                self._violate(p.name, rebuild(self.model, self._path(fp), self.key, p))
                self.state_props = self._open(self.state_props)
                if not self.opt.keep_going:
                    return True
        for p in self.goal_props:
            if p.check(state):
                r = self.results[p.name]
                r.verdict, r.trace = HOLDS, rebuild(self.model, self._path(fp), self.key, p)
                self.goal_props = [g for g in self.goal_props if g is not p]
        return False

    def _edge(self, state: Any, fp: Hashable, nxt: Any, nfp: Hashable) -> bool:
        for p in self.edge_props:
            if self.results[p.name].verdict != VIOLATED and not p.check(state, nxt):
                trace = rebuild_edge(self.model, self._path(fp), nfp, self.key, p)
                self._violate(p.name, trace)
                self.edge_props = self._open(self.edge_props)
                if not self.opt.keep_going:
                    return True
        return False

    def _deadlock(self, fp: Hashable) -> bool:
        if self.results[DEADLOCK].verdict == VIOLATED:
            return False
        self._violate(DEADLOCK, rebuild(self.model, self._path(fp), self.key, None),
                      "no transition is enabled in the last state")
        return not self.opt.keep_going

    def _path(self, fp: Hashable) -> list[Hashable]:
        return self.seen.path(fp)  # type: ignore[arg-type, return-value]

    def _over_limit(self, now: float, start: float) -> bool:
        """At a tick: True (and ``stopped_by`` set) when the time or memory limit is passed.

        A tick also moves what the search allocated since the last one into the collector's
        permanent generation (``gc.freeze``, a list splice): the visited set and the queue only
        grow, and without it every full collection rescans them (about a seventh of the CPU of
        Lamport's Paxos 3/2/0..2). Young objects are still collected; ``run`` unfreezes.
        """
        gc.freeze()
        if self.opt.time_limit is not None and now - start >= self.opt.time_limit:
            self.stopped_by = STOP_TIME_LIMIT
            return True
        if over_memory(self.opt.memory_limit):
            self.stopped_by = STOP_MEMORY_LIMIT
            return True
        if near_address_limit():
            self.stopped_by = STOP_OUT_OF_MEMORY
            return True
        # Not ``stopped_by is not None``: a state met beyond the depth bound sets it and the
        # search goes on (depth-first backtracks; breadth-first finishes the last level).
        return False

    def _progress(self, start: float, queue: int) -> None:
        self.stats.seconds = time.monotonic() - start
        self.stats.queue = queue
        if self.opt.progress:
            self.opt.progress(self.stats)

    # -- the search ---------------------------------------------------------------------
    def run(self) -> Result:
        start = time.monotonic()
        queue_left = 0
        searches = {Strategy.BFS: self._bfs, Strategy.DFS: self._dfs}
        if self.opt.strategy not in searches:
            raise ValueError(f"unknown search strategy {self.opt.strategy.value!r}")
        try:
            queue_left = searches[self.opt.strategy](start)
        except (KeyboardInterrupt, MemoryError) as exc:
            self.stopped_by = _stop_reason(exc)
            queue_left = self.stats.queue
        finally:
            gc.unfreeze()  # the search froze its survivors at every tick (_over_limit)
        self.stats.seconds = time.monotonic() - start
        self.stats.queue = queue_left
        self.stats.distinct = len(self.seen)
        if self.stopped_by in (STOP_MEMORY_LIMIT, STOP_OUT_OF_MEMORY):
            self.seen = ParentMap()  # free the visited set before anyone builds a report
        for r in self.results.values():
            if r.verdict == INCOMPLETE and self.stopped_by is None:
                # Exhaustive: an undisproved invariant holds, an unreached goal fails.
                if r.kind == SOMETIMES:
                    r.verdict, r.detail = VIOLATED, "no reachable state satisfies it"
                else:
                    r.verdict = HOLDS
        return Result(self.model.describe(), self.opt, self.stats,
                      list(self.results.values()), self.stopped_by, self.coverage)

    def _initial(self) -> tuple[list[Any], list[Hashable]]:
        states, fps = [], []
        for s in self.model.initial_states():
            fp = self.key(s)
            self.stats.generated += 1
            if fp in self.seen or self.covers is not None and self._covered(s):
                continue
            self.seen[fp] = None
            states.append(s)
            fps.append(fp)
            if self._discover(s, fp):
                self.stopped_by = STOP_VIOLATION
                break
        return states, fps

    def _bfs(self, start: float) -> int:
        opt, stats, seen, key = self.opt, self.stats, self.seen, self.key
        nexts, covers = self.nexts, self.covers
        roots, rfps = self._initial()
        if self.stopped_by:
            return len(roots)
        level = self._new_level()
        for root, rfp in zip(roots, rfps):
            level.append(root, rfp)
        del roots, rfps
        stats.levels = [len(level)]
        max_states = opt.max_states
        deadlock = opt.deadlock
        depth = 0
        last_report = start
        i, new = 0, self._new_level()
        try:
            while len(level):
                at_bound = opt.max_depth is not None and depth >= opt.max_depth
                stats.depth = depth
                for i, (s, fp) in enumerate(level):
                    if i % _TICK == 0:
                        now = time.monotonic()
                        if self._over_limit(now, start):
                            return len(level) - i + len(new)
                        if now - last_report >= opt.progress_interval:
                            last_report = now
                            stats.distinct = len(seen)
                            self._progress(start, len(level) - i + len(new))
                    any_succ = False
                    for t in nexts(s):
                        any_succ = True
                        stats.generated += 1
                        tfp = key(t)
                        if self.edge_props and self._edge(s, fp, t, tfp):
                            self.stopped_by = STOP_VIOLATION
                            return len(level) - i + len(new)
                        if tfp in seen:
                            continue
                        if at_bound:
                            # A new state lies beyond the depth bound: the search is not exhaustive.
                            self.stopped_by = STOP_MAX_DEPTH
                            continue
                        if covers is not None and self._covered(t):
                            continue
                        if max_states is not None and len(seen) >= max_states:
                            self.stopped_by = STOP_MAX_STATES
                            return len(level) - i + len(new)
                        seen[tfp] = fp
                        new.append(t, tfp)
                        if self._discover(t, tfp):
                            self.stopped_by = STOP_VIOLATION
                            stats.depth = depth + 1
                            return len(level) - i - 1 + len(new)
                    if deadlock and not any_succ and self._deadlock(fp):
                        self.stopped_by = STOP_VIOLATION
                        return len(level) - i - 1 + len(new)
                if at_bound:
                    break
                level.close()
                level, i, new = new, 0, self._new_level()
                if len(level):
                    depth += 1
                    stats.levels.append(len(level))
        except (KeyboardInterrupt, MemoryError) as exc:
            self.stopped_by = _stop_reason(exc)
            stats.depth = depth
            return len(level) - i + len(new)
        finally:
            level.close()  # release them (or their files) before the report
            new.close()
            if self.stopped_by not in (None, STOP_VIOLATION):
                # Every state at depth <= ``depth`` was discovered (and checked), and every
                # transition out of a shallower one, before the first at ``depth`` was expanded.
                stats.checked_depth = depth
        stats.depth = depth
        return 0

    def _dfs(self, start: float) -> int:
        roots, rfps = self._initial()
        if self.stopped_by:
            return len(roots)
        stack: list[tuple[Any, Hashable, Any]] = []
        for root, rfp in zip(reversed(roots), reversed(rfps)):
            stack.append((root, rfp, None))
        try:
            return self._dfs_loop(stack, start)
        except (KeyboardInterrupt, MemoryError) as exc:
            self.stopped_by = _stop_reason(exc)
            left = len(stack)
            stack.clear()
            return left

    def _dfs_loop(self, stack: list, start: float) -> int:
        opt, stats, seen, key = self.opt, self.stats, self.seen, self.key
        nexts = self.nexts
        ticks = 0
        last_report = start
        while stack:
            s, fp, it = stack[-1]
            if it is None:
                # First visit: expand (unless at the depth bound) and check for deadlock.
                succs = list(nexts(s))
                depth = len(stack) - 1
                stats.depth = max(stats.depth, depth)
                if opt.deadlock and not succs and self._deadlock(fp):
                    self.stopped_by = STOP_VIOLATION
                    return len(stack)
                it = iter(succs)
                stack[-1] = (s, fp, it)
                ticks += 1
                if ticks % _TICK == 1:
                    now = time.monotonic()
                    if self._over_limit(now, start):
                        return len(stack)
                    if now - last_report >= opt.progress_interval:
                        last_report = now
                        stats.distinct = len(seen)
                        self._progress(start, len(stack))
            at_bound = opt.max_depth is not None and len(stack) - 1 >= opt.max_depth
            pushed = False
            for t in it:
                stats.generated += 1
                tfp = key(t)
                if self.edge_props and self._edge(s, fp, t, tfp):
                    self.stopped_by = STOP_VIOLATION
                    return len(stack)
                if tfp in seen:
                    continue
                if at_bound:
                    self.stopped_by = STOP_MAX_DEPTH
                    continue
                if self.covers is not None and self._covered(t):
                    continue
                if opt.max_states is not None and len(seen) >= opt.max_states:
                    self.stopped_by = STOP_MAX_STATES
                    return len(stack)
                seen[tfp] = fp
                if self._discover(t, tfp):
                    self.stopped_by = STOP_VIOLATION
                    return len(stack)
                stack.append((t, tfp, None))
                pushed = True
                break
            if not pushed:
                stack.pop()
        return 0


def _last_one(f: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``f``, remembering its last argument (by identity) and result."""
    last: list[Any] = [None, None]

    def once(x: Any) -> Any:
        if x is not last[0]:
            last[0], last[1] = x, f(x)
        return last[1]

    return once


def _stop_reason(exc: BaseException) -> str:
    """Why an exception stopped the search: Ctrl-C, or memory ran out."""
    return STOP_OUT_OF_MEMORY if isinstance(exc, MemoryError) else STOP_INTERRUPTED
