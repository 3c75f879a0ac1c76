"""Hash-partitioned, level-synchronous breadth-first search, apart from how its shards talk.

The parallel engine (``paxchain.checker.parallel``: forked processes and pipes) and the Ray
engine (``paxchain.checker.ray_search``: Ray actors on one machine or many) are this module's
``Shard`` and ``Coordinator`` with a transport each. Both give the verdicts, counts and
counterexamples that the sequential engine (``paxchain.checker.explicit.check``) gives for the
same options — the same distinct and generated counts, the same traces, step for step.

One exception: a model whose successor order follows per-process ids (``ActorSystem`` lists
deliveries in the order of its interned envelope ids) lists a state's successors in another
order in each shard. Its exhaustive results (every verdict, trace length and count, with
``keep_going`` too) are still the sequential ones, and a search that stops at its first
violation stops at the same depth (breadth-first: shortest), but another violation of that
depth — another trace, maybe of another property — may be met first, with other counts there.

Theory of operation. Each shard owns the states whose portable fingerprint
(``paxchain.checker.portable``) is ``i`` modulo N: only it stores them, in its compact visited
set (``paxchain.checker.visited``), with their parents, and expands them. The search is
level-synchronous: at level ``d`` every shard expands its share of the frontier
(``generate``), checks transition properties and deadlock there, and offers each owner the
fingerprints and ranks of the successors it owns — never the states; each owner decides which
are new (``arbitrate``) and asks their finders for the states of those it did not generate
itself (``ship``; with symmetry, of those whose first member in the level's order it did not
generate), checks the state properties and goals on its new states (``finish``), and reports
to the coordinator, which starts level ``d + 1`` only when every shard has finished ``d``. So
every state is found at its breadth-first depth and counterexamples stay shortest.

Same order as the sequential search. The sequential engine visits a level in the order in which
the level before generated its states. Here each state carries its *rank*: ``parent rank << 20 |
successor index``, taken from the generation that found it first (the owner keeps the least
rank over every shard's candidates), where a parent's rank is its place in its own level (after
each level the shards turn their new states' ranks into places: ``Shard._place``, or the
coordinator's ``shard.places``), so a rank fits 64 bits. Sorting a level by rank gives the
sequential order, so
the parallel search picks the same parent and the same orbit member for each state as the
sequential one (identical traces), and every event — a violation, a goal reached, the state
limit — has a rank: the first event of a level is the one the sequential search meets first.
When the search stops at it, the coordinator asks the shards how many states and transitions
lie before it, so the counts at a first violation equal the sequential engine's too.

Stopping. Time limit, memory limit and Ctrl-C are watched by the coordinator while the shards
run; any of them ends the run as *incomplete* with the counts of the last finished level, like
the sequential engine's limits (never *holds*). A reduction whose premise fails in a shard
(``ReductionUnsound``) stops the run, and ``parallel.retrying`` redoes it with the reduction off, as
``explicit.check`` does.

Checkpoints (``paxchain.checker.checkpoint``): with ``saving=(DIR, every)`` the coordinator
writes the search between two levels every ``every`` seconds, and on Ctrl-C or SIGTERM after
finishing the level under way; ``resume=DIR`` starts the shards from it.

A transport (a subclass of ``Coordinator``) supplies ``_spawn(shares)`` (start one shard per
share), ``_ask(msg, shards)`` (every reply, in order, calling ``_watch`` while it waits; a
``("expand", ...)`` message is ``generate`` on every shard, then ``arbitrate``, ``ship`` and
``finish``, each after the exchange of what the step before made, then the placing),
``_shutdown`` and, optionally, ``_memory``. A shard (``paxchain.checker.shard``) answers a
message with ``Shard.handle``.

Not supported (``Unsupported``, a ``ValueError`` of one line): depth-first search,
``fingerprints=False``, liveness properties, and symmetry for a model whose representative is
not the same in every process and that has no portable orbit key (``portable.NotPortable``;
an ``ActorSystem`` has one, ``portable_orbit_key``).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from paxchain.checker import checkpoint
from paxchain.checker.explicit import DEADLOCK
from paxchain.checker.portable import NotPortable, codec_for
from paxchain.checker.progress import near_address_limit, resident_mb
from paxchain.checker.result import (HOLDS, INCOMPLETE, STOP_INTERRUPTED, STOP_MAX_DEPTH,
                                     STOP_MAX_STATES, STOP_MEMORY_LIMIT, STOP_OUT_OF_MEMORY,
                                     STOP_TIME_LIMIT,
                                     STOP_VIOLATION, VIOLATED, Options, PropertyResult, Result,
                                     Stats, Strategy)
from paxchain.checker.shard import DEAD, EDGE, LAST, LIMIT, SHIFT, STATE, Shard
from paxchain.checker.trace import rebuild, rebuild_edge
from paxchain.checker.visited import signed64
from paxchain.models.model import Model, ReductionUnsound
from paxchain.models.properties import INVARIANT, QUIESCENT, SOMETIMES, TRANSITION, Kind, Property
from paxchain.specs.model_properties import properties_of

__all__ = ["Coordinator", "Shard", "Stop", "Unsupported", "WorkerLost", "select",
           "SHIFT", "POLL"]

_DEADLOCK_DOC = "Deadlock freedom: every reachable state has at least one enabled transition."
POLL = 0.05                     # seconds between looks at the clock, memory and progress


class Unsupported(ValueError):
    """What the parallel engine does not do for this search (one line, saying what to use);
    the sequential engine does it."""


class WorkerLost(RuntimeError):
    """A worker process ended without being asked to (one line: which, and its exit code)."""




_SAFETY = (INVARIANT, TRANSITION, SOMETIMES, QUIESCENT)


def select(model: Model, options: Options) -> list[Property]:
    """The properties the run checks: those named in ``options.only``, or every one not marked
    ``opt_in``; a selected property of another kind than ``_SAFETY`` (liveness) is refused."""
    props = properties_of(model)
    if options.only is None:
        props = [p for p in props if not getattr(p, "opt_in", False)]
    else:
        known = {p.name for p in props}
        unknown = [n for n in options.only if n not in known]
        if unknown:
            raise ValueError(f"unknown property {unknown[0]!r} for {model.name}; "
                             f"known: {', '.join(sorted(known))}")
        props = [p for p in props if p.name in options.only]
    other = [p for p in props if p.kind not in _SAFETY]
    if other:
        raise Unsupported(f"{other[0].name} is a {other[0].kind} property, which the parallel "
                         "engine does not check (it checks invariant, transition, sometimes and "
                         "quiescent properties and deadlock); check it with --workers 1")
    return props


# -- the coordinator -----------------------------------------------------------------------------

class Stop(Exception):
    """A limit or Ctrl-C met while the shards ran."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Coordinator:
    """The search over ``workers`` shards, less its transport (see the module docstring)."""

    flag = "--workers"  # the option that asked for this engine, for messages

    def __init__(self, model: Model, options: Options, workers: int,
                 saving: tuple[str, float] | None = None, resume: str | None = None) -> None:
        if workers < 1:
            raise ValueError(f"--workers must be at least 1, not {workers}")
        if options.strategy != Strategy.BFS:
            raise Unsupported(f"{self.flag} needs breadth-first search (the parallel engine is "
                             "level-synchronous); use --workers 1 with --dfs")
        if not options.fingerprints:
            raise Unsupported(f"{self.flag} keeps 64-bit fingerprints; use --workers 1 with "
                             "--exact")
        if options.symmetry and not model.has_symmetry:
            raise ValueError(f"{model.describe()} has no symmetry to reduce by")
        self.model, self.opt, self.n = model, options, workers
        props = select(model, options)
        self.props = props
        self.results = {p.name: PropertyResult(p.name, p.kind, p.summary) for p in props}
        if options.deadlock:
            self.results[DEADLOCK] = PropertyResult(DEADLOCK, Kind.DEADLOCK, _DEADLOCK_DOC)
        if not self.results:
            raise ValueError(f"nothing to check in {model.describe()}: no property is selected "
                             "(a check of nothing would hold vacuously)")
        try:
            self.codec = codec_for(model, options.symmetry)
        except NotPortable as exc:
            raise Unsupported(str(exc)) from None
        key = self.codec.key
        # as the shards keep them: signed 64-bit (a model's fingerprint may be any int)
        self.key: Callable[[Any], Hashable] = lambda s: signed64(key(s))
        self.stats = Stats()
        self.stopped_by: str | None = None
        self.coverage: dict[str, int] | None = (dict.fromkeys(model.actions(), 0)
                                                if options.coverage else None)
        self.shards: list[Any] = []  # the transport's handles, shard i at i
        self.start = 0.0
        self.last_report = 0.0
        self.visited_bytes = 0
        self.saving, self.resume = saving, resume  # (DIR, seconds between checkpoints); DIR
        self.last_save = 0.0
        self.interrupt_pending = False
        self.prior_seconds = 0.0  # resumed: the seconds the checkpointed search had taken
        self.refs: dict[str, tuple] = {}  # decided property -> how to rebuild its trace
        self.profile: list[dict[str, Any]] = []  # per shard, from its last level's reply

    # -- running ------------------------------------------------------------------------------
    def run(self) -> Result:
        self.start = self.last_report = self.last_save = time.monotonic()
        handlers = self._catch_signals() if self.saving else {}
        try:
            self._search()
        except Stop as stop:
            self.stopped_by = stop.reason
        except KeyboardInterrupt:
            self.stopped_by = STOP_INTERRUPTED
        except MemoryError:  # here, or a shard's, raised here by ``_checked``
            self.stopped_by = STOP_OUT_OF_MEMORY
        finally:
            for sig, old in handlers.items():
                signal.signal(sig, old)
            self._shutdown()
        if self.stopped_by not in (None, STOP_VIOLATION) and self.stats.checked_depth is None:
            self.stats.checked_depth = self.stats.depth
        self.stats.seconds = self.prior_seconds + time.monotonic() - self.start
        for r in self.results.values():
            if r.verdict == INCOMPLETE and self.stopped_by is None:
                if r.kind == SOMETIMES:
                    r.verdict, r.detail = VIOLATED, "no reachable state satisfies it"
                else:
                    r.verdict = HOLDS
        return Result(self.model.describe(), self.opt, self.stats, list(self.results.values()),
                      self.stopped_by, self.coverage)

    def _open(self) -> list[str]:
        return [name for name, r in self.results.items()
                if r.verdict == INCOMPLETE]

    def _initial(self) -> list[tuple[int, int, Any]] | None:
        """Level 0, checked here in order like the sequential engine; None when it stopped."""
        seen: set[int] = set()
        out = []
        state_props = [p for p in self.props if p.kind in (INVARIANT, QUIESCENT)]
        for s in self.model.initial_states():
            fp = self.key(s)
            self.stats.generated += 1
            if fp in seen:
                continue
            seen.add(fp)
            out.append((len(out), fp, s))
            for p in state_props:
                if self.results[p.name].verdict != VIOLATED and not p.holds_at(s):
                    self._settle(p.name, ("state", [fp], None))
                    if not self.opt.keep_going:
                        self.stopped_by = STOP_VIOLATION
                        self.stats.distinct = len(out)
                        self.stats.queue = len(out)
                        return None
            for p in self.props:
                if p.kind == SOMETIMES and self.results[p.name].verdict == INCOMPLETE \
                        and p.check(s):
                    self._settle(p.name, ("goal", [fp], None))
        self.stats.distinct = len(out)
        return out

    def _settle(self, name: str, ref: tuple) -> None:
        """Decide property ``name`` by an event: ``ref`` is (kind of event, fingerprint path,
        the breaking successor's fingerprint for a transition); its trace is rebuilt here."""
        tag, path, nfp = ref
        r, p = self.results[name], next((q for q in self.props if q.name == name), None)
        if tag == "goal":
            r.verdict, r.trace = HOLDS, rebuild(self.model, path, self.key, p)
        elif tag == "edge" and p is not None:
            r.verdict = VIOLATED
            r.trace = rebuild_edge(self.model, path, nfp, self.key, p)
        else:
            r.verdict = VIOLATED
            r.trace = rebuild(self.model, path, self.key, p)
            if tag == "dead":
                r.detail = "no transition is enabled in the last state"
        self.refs[name] = ref

    # -- the transport's -------------------------------------------------------------------
    def _spawn(self, shares: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def _shutdown(self) -> None:
        raise NotImplementedError

    def _ask(self, msg: tuple, shards: list[Any] | None = None) -> list[tuple]:
        raise NotImplementedError

    def _memory(self) -> float:
        """Resident megabytes of the search (here: this process's)."""
        return resident_mb()

    def _near_address_limit(self) -> bool:
        """Whether the search is near its address-space limit (here: this process)."""
        return near_address_limit()

    def _checked(self, reply: tuple) -> tuple:
        """A shard's reply, or its error raised here."""
        if reply[0] == "unsound":
            raise ReductionUnsound(reply[1], reply[2])
        if reply[0] == "error":
            raise reply[1]
        return reply

    def _watch(self) -> None:
        now = time.monotonic()
        if self.opt.time_limit is not None and now - self.start >= self.opt.time_limit:
            raise Stop(STOP_TIME_LIMIT)
        if self.opt.memory_limit is not None and self._memory() > self.opt.memory_limit:
            raise Stop(STOP_MEMORY_LIMIT)
        if self._near_address_limit():
            raise Stop(STOP_OUT_OF_MEMORY)
        if self.opt.progress and now - self.last_report >= self.opt.progress_interval:
            self.last_report = now
            self.stats.seconds = self.prior_seconds + now - self.start
            self.opt.progress(self.stats)

    # -- the search -------------------------------------------------------------------------
    def _search(self) -> None:
        if self.resume is not None:
            depth, frontier = self._restore(self.resume)
        else:
            initial = self._initial()
            if initial is None:
                return
            shares: list[dict[str, Any]] = [{"frontier": []} for _ in range(self.n)]
            for item in initial:
                shares[item[1] % self.n]["frontier"].append(item)
            self._spawn(shares)
            depth, frontier = 0, len(initial)
            self.stats.levels = [frontier]
        opt, stats = self.opt, self.stats
        stats.queue = frontier
        while frontier:
            self._checkpoint(depth, frontier)
            at_bound = opt.max_depth is not None and depth >= opt.max_depth
            stats.depth = depth
            stats.checked_depth = None
            replies = self._ask(("expand", depth, at_bound, self._open()))
            stats.checked_depth = depth  # kept only if the run stops at a limit
            self.profile = [r[8] for r in replies if len(r) > 8] or self.profile
            generated = sum(r[1] for r in replies)
            new = sum(r[2] for r in replies)
            self.visited_bytes = sum(r[6] for r in replies)
            events = sorted((e for r in replies for e in r[4]), key=lambda e: (e[0], e[1]))
            tallies = [r[5] for r in replies]
            limit = None
            if opt.max_states is not None and stats.distinct + new > opt.max_states:
                limit = self._limit_rank(opt.max_states - stats.distinct)
            stop = self._first_stop(events, limit)
            if stop is not None:
                self._stop_at(stop, events, frontier, depth)
                return
            self._record(events, None, depth)
            for t in tallies:
                self._add_tally(t)
            stats.generated += generated
            stats.distinct += new
            if at_bound:
                if any(r[3] for r in replies):
                    self.stopped_by = STOP_MAX_DEPTH
                stats.queue = 0
                stats.checked_depth = depth if self.stopped_by else None
                return
            frontier = new
            stats.queue = frontier
            stats.checked_depth = None
            if frontier:
                depth += 1
                stats.levels.append(frontier)
        stats.depth = depth
        stats.queue = 0

    def _limit_rank(self, room: int) -> int:
        """The rank of the first new state past the state limit (``room`` more fit; none when
        the initial states alone passed it, which the sequential search does not check)."""
        ranks = sorted(x for r in self._ask(("new_ranks",)) for x in r[1])
        return ranks[max(0, room)]

    def _first_stop(self, events: list[tuple], limit: int | None) -> tuple | None:
        """The event the sequential search would stop at, or None."""
        candidates = []
        if limit is not None:
            candidates.append((limit, LIMIT, None, ()))
        if not self.opt.keep_going:
            candidates += [e for e in events if self.results[e[2]].kind != SOMETIMES]
        return min(candidates, key=lambda e: (e[0], e[1])) if candidates else None

    def _record(self, events: list[tuple], stop: tuple | None, depth: int) -> None:
        """Give each property its first event of level ``depth`` (before ``stop``)."""
        for ck, phase, name, where in events:
            if stop is not None and (ck, phase) >= (stop[0], stop[1]):
                break
            r = self.results[name]
            if r.verdict == INCOMPLETE:
                self._trace(r, name, phase, where, depth)

    def _trace(self, r: PropertyResult, name: str, phase: int, where: tuple,
               depth: int) -> None:
        """Decide ``name`` by an event of level ``depth`` (a state event lies one deeper)."""
        path = self._path(where[0], depth + 1 if phase == STATE else depth)
        if phase == EDGE:
            self._settle(name, ("edge", path, where[1]))
        elif phase == DEAD:
            self._settle(name, ("dead", path, None))
        else:
            self._settle(name, ("goal" if r.kind == SOMETIMES else "state", path, None))

    def _path(self, fp: int, depth: int) -> list[Hashable]:
        """The fingerprints from an initial state to ``fp``, at ``depth``: each parent is
        asked of the worker that owns the state."""
        path = [fp]
        for d in range(depth, 0, -1):
            owner = self.shards[path[-1] % self.n]
            (reply,) = self._ask(("parent", d, path[-1]), [owner])
            path.append(reply[1])
        path.reverse()
        return path

    def _stop_at(self, stop: tuple, events: list[tuple], frontier: int, depth: int) -> None:
        """Stop where the sequential search would: counts up to ``stop``, its verdicts."""
        ck, phase = stop[0], stop[1]
        rank = ck >> SHIFT
        idx = ck & LAST
        before = self._ask(("before", rank, ck))
        expanded = sum(b[1] for b in before)
        gen_before = sum(b[2] for b in before)
        new_before = sum(b[3] for b in before)
        for b in before:
            if b[4] is not None:
                self._add_tally(b[4])
        stats = self.stats
        stats.generated += gen_before + (0 if phase == DEAD else idx + 1)
        self.stopped_by = STOP_MAX_STATES if phase == LIMIT else STOP_VIOLATION
        stats.distinct += new_before + (1 if phase == STATE else 0)
        after = frontier - expanded - (0 if phase in (EDGE, LIMIT) else 1)
        stats.queue = after + new_before + (1 if phase == STATE else 0)
        stats.depth = depth + 1 if phase == STATE else depth
        stats.checked_depth = depth if phase == LIMIT else None
        self._record(events, stop, depth)
        if phase != LIMIT:
            r = self.results[stop[2]]
            if r.verdict == INCOMPLETE:
                self._trace(r, stop[2], phase, stop[3], depth)

    def _add_tally(self, tally: dict[str, int] | None) -> None:
        if tally is None or self.coverage is None:
            return
        for k, v in tally.items():
            self.coverage[k] = self.coverage.get(k, 0) + v

    # -- checkpoints ----------------------------------------------------------------------
    def _catch_signals(self) -> dict[int, Any]:
        """While checkpointing: the first Ctrl-C or SIGTERM finishes the level under way, then
        writes a checkpoint and stops; a second stops at once."""
        if threading.current_thread() is not threading.main_thread():
            return {}

        def interrupt(signum: int, frame: Any) -> None:
            if self.interrupt_pending:
                raise KeyboardInterrupt
            self.interrupt_pending = True

        return {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}

    def _checkpoint(self, depth: int, frontier: int) -> None:
        """At a level boundary: write a checkpoint when one is due or asked for."""
        if self.saving is None:
            return
        now = time.monotonic()
        if not self.interrupt_pending and now - self.last_save < self.saving[1]:
            return
        shares = [r[1] for r in self._ask(("snapshot",))]
        checkpoint.save(self.saving[0], {
            "model": self.model.describe(), "options": checkpoint.options_key(self.opt),
            "initial_keys": [self.key(s) for s in self.model.initial_states()],
            "hash_seed": os.environ.get("PYTHONHASHSEED"), "depth": depth,
            "frontier": frontier, "stats": (self.stats.generated, self.stats.distinct),
            "coverage": self.coverage, "settled": sorted(self.refs.items()),
            "seconds": self.prior_seconds + now - self.start, "workers": shares})
        self.last_save = time.monotonic()
        if self.interrupt_pending:
            raise Stop(STOP_INTERRUPTED)

    def _restore(self, directory: str) -> tuple[int, int]:
        """Start the workers from a checkpoint; the depth and frontier size to go on from."""
        keys = [self.key(s) for s in self.model.initial_states()]
        data = checkpoint.load(directory, self.model.describe(), self.opt, keys)
        self.stats.generated, self.stats.distinct = data["stats"]
        self.prior_seconds = data["seconds"]
        self.coverage = data["coverage"]
        shares = checkpoint.regroup(data["workers"], self.n)
        # each level's size, from what the checkpoint holds: the initial states, then every
        # shard's (fingerprint, parent) log of each later level
        self.stats.levels = [len(set(keys))] + [
            sum(len(share["parents"][d][0]) for share in shares)
            for d in range(len(shares[0]["parents"]))]
        for share in shares:
            share["packed"] = True
        self._spawn(shares)
        for name, ref in data["settled"]:
            self._settle(name, ref)
        return data["depth"], data["frontier"]
