"""One shard of the level-synchronous search (``paxchain.checker.level_search``).

A shard owns the states whose portable fingerprint is its index modulo the number of shards:
their visited set (``paxchain.checker.visited``), their parents per level (for traces) and its
share of the frontier. Each level it answers, in turn:

- ``generate``: expand its frontier (check the transition properties and deadlock there) and
  sort the successors by owner, the least rank per fingerprint: its *offer* to each owner is
  three int64 arrays (fingerprints, ranks, parents); the states stay with the shard;
- ``arbitrate``: of every shard's offer to it (its own included), keep the least rank per
  fingerprint, drop the visited ones, add the rest to its visited set with their parents, and
  *request* the others from the finder of each one's least rank (positions in its offer;
  without symmetry, a winner this shard also generated — an equal state, perhaps of a
  higher rank — is taken from its own candidates instead; with symmetry a fingerprint names
  an orbit, and the member to expand is the least-rank finder's, as in the sequential
  search); it returns its new states' ranks too;
- ``ship``: pack, with the codec, the states each owner requested of it;
- ``finish`` (``own`` may come first: the states it generated itself, checked while the others
  are on their way): take the new states, check the state properties and goals on them;
- ``place``: turn the new states' ranks into their places in the whole level, from every
  shard's new ranks (a transport may instead gather them in one place, compute ``places``
  there and send each shard its own: ``placed``).

So a state crosses from one process to another only when it is new and its owner did not
generate it too, or (with symmetry) not as the first member of its orbit in the level's
order (at Lamport's Paxos 3/2/0..2 with two shards, no symmetry: 39,566 of the 185,369 states,
against 153,547 candidates when every candidate crossed). Between levels a shard answers the
questions of a stop (``before``, ``new_ranks``, ``parent``), a checkpoint (``snapshot``, which
packs its frontier's states) and a check of its fingerprints (``keys``). It knows nothing of
processes or machines: ``handle(msg)`` turns a message into its reply, and the transport
(``paxchain.checker.parallel``'s queues, ``paxchain.checker.ray_search``'s actor calls) carries
both.

Ranks and events. A frontier state's rank is its place in the sequential engine's order of its
level (0, 1, 2, ... over all shards); a successor's rank is ``parent rank << SHIFT | successor
index``, which orders a level as the sequential search generates it, and fits 64 bits. An event
(a property decided, a deadlock, the state limit) is (rank, phase, property, where), its phase
one of ``EDGE, LIMIT, STATE, DEAD``, in the sequential engine's order at one rank. A shard
reports at most one state event per property for each batch it checks, the least rank there;
the coordinator keeps the least over all.

Cost per state. The model's work (successors, fingerprints, properties) is the sequential
engine's; what the shard adds is kept out of Python's per-successor loop: a level's
successors and fingerprints are collected in lists and sifted in numpy, a chunk at a time
(steps that change nothing, duplicates within the chunk), and the candidates are offered as
arrays. The owner picks the least rank per fingerprint over every offer with one sort and
adds the winners to its visited set in one batch (which drops the visited ones: a finder
does not look its own candidates up first, since its owner's look-up does the same work
again). ``clock`` holds the CPU and wall
seconds of each phase (``expand``, ``sift``, ``arbitrate``, ``ship``, ``check``) for the
benchmarks.
"""

from __future__ import annotations

import gc
import time
import traceback
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

from paxchain.checker.explicit import DEADLOCK
from paxchain.checker.portable import Codec
from paxchain.checker.result import Options
from paxchain.checker.visited import FingerprintSet, as_int64, np
from paxchain.models.model import Model, ReductionUnsound
from paxchain.models.properties import INVARIANT, QUIESCENT, SOMETIMES, TRANSITION, Property

__all__ = ["Shard", "SHIFT", "LAST", "EDGE", "LIMIT", "STATE", "DEAD", "Clock",
           "quiet_collector", "places"]

SHIFT = 20                      # bits of a rank for the successor index
LAST = (1 << SHIFT) - 1         # the index of "after every successor" (a deadlock's event)
# Event phases at one rank, in the sequential engine's order: the transition is checked, the
# state limit met, the new state checked; a deadlock comes after the state's last successor.
EDGE, LIMIT, STATE, DEAD = 0, 1, 2, 3
CHUNK = 1 << 16                 # successors sifted at once (bounds a level's transient lists)
def _empty() -> Any:
    """An empty int64 array (made when needed: numpy is imported at its first use)."""
    return np.zeros(0, dtype=np.int64)


class Clock:
    """CPU and wall seconds per phase: ``with clock("sift"): ...`` adds to ``clock.seconds``
    (phases may nest: an inner phase's seconds count in the outer one too)."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = {}

    def __call__(self, name: str) -> _Phase:
        return _Phase(self.seconds.setdefault(name, [0.0, 0.0]))


class _Phase:
    __slots__ = ("row", "start")

    def __init__(self, row: list[float]) -> None:
        self.row = row

    def __enter__(self) -> None:
        self.start = (time.process_time(), time.perf_counter())

    def __exit__(self, *exc: Any) -> None:
        cpu, wall = self.start
        self.row[0] += time.process_time() - cpu
        self.row[1] += time.perf_counter() - wall


def quiet_collector() -> None:
    """Keep Python's cyclic garbage collector off a shard's heap, which only grows.

    A level allocates a tuple or more per successor and keeps the new states; the collector's
    automatic passes scan such survivors again and again as the heap grows, and a collection
    once a level (``gc.collect(1)``) still cost a tenth of a worker's CPU (measured at
    Lamport's Paxos 3/2/0..2). So a shard process turns automatic collection off, and after
    each level moves what survived into the permanent generation (``gc.freeze()``, a list
    splice: no scan). The search's own objects hold no reference cycles; a cycle a model
    makes (an exception caught inside its code, say) stays allocated until the process ends.
    """
    gc.disable()
    gc.freeze()


@dataclass
class _Level:
    """What a worker keeps of the level it last expanded, for the questions asked at a stop."""

    ranks: list[int] = field(default_factory=list)   # the expanded states' ranks, ascending
    succs: list[int] = field(default_factory=list)   # their numbers of successors
    states: list[Any] = field(default_factory=list)
    new: Any = field(default_factory=_empty)  # the new states' ranks, ascending


@dataclass
class _Round:
    """What a shard keeps of the level under way between ``generate`` and ``finish``."""

    props: list[Property] = field(default_factory=list)  # the properties still open
    at_bound: bool = False
    events: list[tuple] = field(default_factory=list)
    level: _Level = field(default_factory=_Level)
    tally: dict[str, int] | None = None
    offered: list[list[Any]] = field(default_factory=list)  # per owner: the states offered
    own: tuple = ()  # this shard's own candidates: fingerprints, ranks, parents, states
    beyond: bool = False  # at the depth bound: a new state lies beyond it
    new_fps: Any = field(default_factory=_empty)  # the new states, by rank
    new_ranks: Any = field(default_factory=_empty)
    own_at: Any = field(default_factory=_empty)  # per new state: its place in ``own``, or -1
    need: list[tuple[Any, int]] = field(default_factory=list)  # (new states' places, finder)
    states: list[Any] | None = None  # the new states, by rank, once taken


@dataclass
class _Frontier:
    """A shard's share of a level: ranks, fingerprints (int64 arrays) and states, by rank."""

    ranks: Any = field(default_factory=_empty)
    fps: Any = field(default_factory=_empty)
    states: list[Any] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.states)


class _Candidates:
    """A level's successors that may be new, per owner: fingerprint, rank and parent arrays
    and the states, chunk by chunk."""

    def __init__(self, n: int) -> None:
        self.parts: list[list[tuple[Any, Any, Any, list[Any]]]] = [[] for _ in range(n)]

    def add(self, owner: int, fps: Any, ranks: Any, parents: Any, states: list[Any]) -> None:
        self.parts[owner].append((fps, ranks, parents, states))

    def of(self, owner: int) -> tuple[Any, Any, Any, list[Any]]:
        parts = self.parts[owner]
        if not parts:
            return _empty(), _empty(), _empty(), []
        if len(parts) == 1:
            return parts[0]
        states: list[Any] = []
        for p in parts:
            states += p[3]
        return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
                np.concatenate([p[2] for p in parts]), states)


def places(every: list[Any]) -> list[Any]:
    """Each shard's new states' places in the level (0, 1, ... over all shards, by rank), from
    every shard's ``new_ranks``: what ``Shard._place`` computes in each shard, computed once
    where they are all gathered (one sort of the level)."""
    ranks = np.concatenate([np.asarray(r, dtype=np.int64) for r in every])
    place = np.empty(len(ranks), dtype=np.int64)
    place[np.argsort(ranks, kind="stable")] = np.arange(len(ranks), dtype=np.int64)
    return np.split(place, np.cumsum([len(r) for r in every])[:-1])


def _first_of_each(fps: Any) -> tuple[Any, Any]:
    """The distinct values of ``fps`` and the index of each one's first occurrence (as
    ``np.unique(..., return_index=True)``, with a quicksort instead of its merge sort)."""
    if not len(fps):
        return fps, np.zeros(0, dtype=np.int64)
    order = np.argsort(fps)
    ordered = fps[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    return ordered[starts], np.minimum.reduceat(order, starts)


def _least_of_each(fps: Any, ranks: Any, below: int = 0) -> tuple[Any, Any]:
    """For each distinct value of ``fps`` (in ascending order), the index of its occurrence of
    least rank (ranks are distinct), and the index of one of its occurrences below ``below``,
    or -1 where it has none (one sort for both)."""
    if not len(fps):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.argsort(fps)
    ordered = fps[order]
    head = np.concatenate(([True], ordered[1:] != ordered[:-1]))
    starts = np.flatnonzero(head)
    by_fp = ranks[order]
    least = np.minimum.reduceat(by_fp, starts)
    sizes = np.diff(np.append(starts, len(order)))
    low = np.maximum.reduceat(np.where(order < below, order, -1), starts)
    return order[by_fp == np.repeat(least, sizes)], low


class Shard:
    """One shard of the search: the states whose fingerprint is ``me`` modulo ``n``."""

    def __init__(self, me: int, n: int, model: Model, codec: Codec, props: list[Property],
                 options: Options, share: dict[str, Any]) -> None:
        """``share``: the shard's part of the search — ``frontier`` (rank, fingerprint,
        state), by rank, each rank the state's place in its level; from a checkpoint also
        ``visited`` and ``parents``; with ``packed``, the frontier's states packed by the
        codec."""
        self.me, self.n, self.model, self.codec = me, n, model, codec
        self.props = {p.name: p for p in props}
        self.opt = options
        items = share["frontier"]
        states = [codec.unpack(t) for _, _, t in items] if share.get("packed") \
            else [t for _, _, t in items]
        self.frontier = _Frontier(np.array([r for r, _, _ in items], dtype=np.int64),
                                  as_int64([f for _, f, _ in items]), states)
        self.visited = FingerprintSet()
        visited = share.get("visited")
        self.visited.add_array(as_int64(visited) if visited is not None else self.frontier.fps,
                               distinct=True)
        # per depth > 0: (fingerprints, parents)
        self.parents: list[tuple[Any, Any]] = [(as_int64(f), as_int64(p))
                                               for f, p in share.get("parents", [])]
        self.level = _Level()
        self.round = _Round()  # between generate and finish
        self.coverage: dict[str, int] | None = (dict.fromkeys(model.actions(), 0)
                                                if options.coverage else None)
        self.clock = Clock()
        self.shipped = 0  # states this shard has packed for another (the benchmarks')

    def handle(self, msg: tuple) -> tuple:
        """The reply to ``msg`` (its name, then its arguments): a model's error or a failed
        premise is a reply too, which the coordinator raises."""
        try:
            return getattr(self, "_" + msg[0])(*msg[1:])  # type: ignore[no-any-return]
        except ReductionUnsound as exc:
            return ("unsound", exc.reduction, exc.detail)
        except BaseException as exc:  # a model's error: the coordinator raises it
            return ("error", exc, traceback.format_exc())

    def _generate(self, depth: int, at_bound: bool, open_props: list[str]) -> tuple:
        """Expand this shard's frontier: ``("offers", [offer for each shard])``, each offer the
        successors that shard owns and that may be new, as int64 arrays (fingerprints, ranks,
        parents), the least rank per fingerprint (None for none, and for this shard: its own
        are kept for ``arbitrate``). The states stay here until an owner asks for them."""
        clock = self.clock
        props = [self.props[x] for x in open_props if x in self.props]
        edge_props = [p for p in props if p.kind == TRANSITION]
        tally = dict.fromkeys(self.coverage, 0) if self.coverage is not None else None
        events: list[tuple[int, int, str, tuple]] = []
        frontier, self.frontier = self.frontier, _Frontier()
        deadlock = self.opt.deadlock and DEADLOCK in open_props
        key = self.codec.key
        model = self.model
        nexts = model.next_states
        ranks = frontier.ranks.tolist()
        fps = frontier.fps.tolist()
        found = _Candidates(self.n)
        counts: list[int] = []
        succs: list[Any] = []
        succ_fps: list[int] = []
        lo = 0  # the first frontier state of the chunk being collected
        with clock("expand"):
            for i, s in enumerate(frontier.states):
                out = nexts(s) if tally is None else model.next_states_tallied(s, tally)
                if type(out) is not list:
                    out = list(out)
                count = len(out)
                counts.append(count)
                if count:
                    if count > LAST:
                        raise ValueError(f"a state of {self.model.name} has more than {LAST} "
                                         "successors (the parallel engine's rank limit)")
                    succs += out
                    fp = fps[i]
                    # a step that changes nothing has its state's fingerprint (most steps
                    # of Lamport's Paxos: an equality test is cheaper than the fingerprint)
                    tfps = [fp if t == s else key(t) for t in out]
                    succ_fps += tfps
                    if edge_props:
                        edge_props = self._edges(s, out, tfps, ranks[i], fp, edge_props,
                                                 events)
                    if len(succs) >= CHUNK:
                        self._sift(frontier, lo, counts[lo:], succs, succ_fps, found)
                        lo, succs, succ_fps = i + 1, [], []
                elif deadlock:
                    events.append((ranks[i] << SHIFT | LAST, DEAD, DEADLOCK, (fps[i],)))
                    deadlock = False
            if succs:
                self._sift(frontier, lo, counts[lo:], succs, succ_fps, found)
        offers = [found.of(j) for j in range(self.n)]
        self.round = _Round(props, at_bound, events, _Level(ranks, counts, frontier.states),
                            tally, [o[3] for o in offers], offers[self.me])
        return ("offers", [o[:3] if j != self.me and len(o[0]) else None
                           for j, o in enumerate(offers)])

    def _edges(self, s: Any, out: list[Any], tfps: list[int], rank: int, fp: int,
               edge_props: list[Property], events: list[tuple]) -> list[Property]:
        """Check the transition properties on ``s``'s transitions; those still open."""
        for i, t in enumerate(out):
            for p in edge_props:
                if not p.check(s, t):
                    events.append((rank << SHIFT | i, EDGE, p.name, (fp, tfps[i])))
                    edge_props = [q for q in edge_props if q is not p]
        return edge_props

    def _sift(self, frontier: _Frontier, lo: int, counts: list[int], succs: list[Any],
              succ_fps: list[int], found: _Candidates) -> None:
        """Keep, of a chunk of successors (of frontier states ``lo`` on, ``counts`` each), the
        first occurrence of each fingerprint that is not its state's own; file them by owner
        with their ranks and parents. (Whether they are new, and which of the level's
        occurrences comes first, their owner decides: ``arbitrate``.)"""
        with self.clock("sift"):
            fps = as_int64(succ_fps)
            cnt = np.array(counts, dtype=np.int64)
            parent = np.repeat(np.arange(lo, lo + len(cnt), dtype=np.int64), cnt)
            index = np.arange(len(fps), dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt)
            # A successor equal to its state (a step that changes nothing: most of them, in
            # Lamport's Paxos) is visited, and this shard's: dropped before anything costlier.
            moved = np.flatnonzero(fps != frontier.fps[parent])
            uniq, first = _first_of_each(fps[moved])  # first: the least rank
            first = moved[first]
            owner = uniq % self.n
            par = parent[first]
            ranks = (frontier.ranks[par] << SHIFT) | index[first]
            parents = frontier.fps[par]
            cand = fps[first]
            for j in range(self.n):
                at = np.flatnonzero(owner == j) if self.n > 1 else np.arange(len(first))
                if len(at):
                    found.add(j, cand[at], ranks[at], parents[at],
                              [succs[k] for k in first[at].tolist()])

    def _arbitrate(self, offers: list[Any]) -> tuple:
        """Decide which of the successors offered to this shard (its own and ``offers``, by
        finder) are new: the least rank per fingerprint, not visited. Keeps their fingerprints,
        ranks and parents, and asks the finders for the states it needs:
        ``("requests", [positions in that finder's offer, by finder], new ranks ascending)``
        (None for none, and for this shard). Without symmetry, a winner this shard generated
        too (an equal state, perhaps of a higher rank) is taken from its own candidates."""
        r = self.round
        with self.clock("arbitrate"):
            own = r.own
            finders = [self.me] + [k for k, o in enumerate(offers)
                                   if k != self.me and o is not None and len(o[0])]
            sources = [own[:3]] + [offers[k] for k in finders[1:]]
            fps = np.concatenate([b[0] for b in sources])
            ranks = np.concatenate([b[1] for b in sources])
            # without symmetry a fingerprint names one state, and any copy of it will do; with
            # it, one orbit, whose other members list their successors in another order
            mine_too = 0 if self.opt.symmetry else len(own[0])
            win, mine = _least_of_each(fps, ranks, mine_too)
            if r.at_bound:
                r.beyond = bool(len(win)) and not self.visited.contains_array(fps[win]).all()
                win, mine = win[:0], mine[:0]
            else:
                fresh = self.visited.add_array(fps[win], distinct=True)
                win, mine = win[fresh], mine[fresh]
                by_rank = np.argsort(ranks[win], kind="stable")
                win, mine = win[by_rank], mine[by_rank]
            r.new_fps, r.new_ranks = fps[win], ranks[win]
            if not r.at_bound:
                parents = np.concatenate([b[2] for b in sources])
                self.parents.append((r.new_fps, parents[win]))
            # each new state from this shard's own candidates where it has one (an equal state),
            # else from the finder of its least rank
            r.own_at = np.where(win < len(own[0]), win, mine)
            requests: list[Any] = [None] * self.n
            other = np.flatnonzero(r.own_at < 0)
            if len(other):
                sizes = np.array([len(b[0]) for b in sources], dtype=np.int64)
                starts = np.cumsum(sizes) - sizes
                src = np.searchsorted(starts, win[other], side="right") - 1
                pos = win[other] - starts[src]
                for k in np.unique(src).tolist():
                    at = src == k
                    r.need.append((other[at], finders[k]))
                    requests[finders[k]] = pos[at]
        return ("requests", requests, r.new_ranks)

    def _ship(self, requests: list[Any]) -> tuple:
        """The states each owner asked for (``requests``: positions in this shard's offer to
        it, by owner), packed by the codec: ``("states", [payload for each shard])``."""
        r = self.round
        pack = self.codec.pack_many
        with self.clock("ship"):
            payloads: list[Any] = [None] * self.n
            for j, at in enumerate(requests):
                if at is not None and len(at):
                    states = r.offered[j]
                    payloads[j] = pack([states[k] for k in at.tolist()])
                    self.shipped += len(at)
        r.offered = []
        return ("states", payloads)

    def _own(self) -> tuple:
        """Take the new states this shard generated itself and check the state properties and
        goals on them (a transport may do this while the other states are on their way)."""
        r = self.round
        if r.states is None:
            r.states = [None] * len(r.new_fps)
            at = np.flatnonzero(r.own_at >= 0)
            own = r.own[3]
            for i, k in zip(at.tolist(), r.own_at[at].tolist()):
                r.states[i] = own[k]
            self._check(r, at)
        return ("own",)

    def _finish(self, payloads: list[Any]) -> tuple:
        """Take the new states (this shard's own candidates, and ``payloads`` from the finders
        it asked), check the state properties and goals on them: ``("level", ...)``."""
        self._own()
        r, self.round = self.round, _Round()
        states: list[Any] = r.states or []
        with self.clock("ship"):
            for need, finder in r.need:
                got = self.codec.unpack_at(payloads[finder], list(range(len(need))))
                for i, t in zip(need.tolist(), got):
                    states[i] = t
        if r.need:
            self._check(r, np.sort(np.concatenate([need for need, _ in r.need])))
        level = r.level
        level.new = r.new_ranks
        self.level = level
        self.frontier = _Frontier(r.new_ranks, r.new_fps, states)
        if self.n == 1:
            self._place([None])
        generated = sum(level.succs)
        return ("level", generated, len(states), r.beyond, r.events, r.tally,
                self.visited.nbytes, len(self.visited))

    def _check(self, r: _Round, at: Any) -> None:
        """Check the state properties and goals on the new states at ``at`` (ascending): an
        event for each property's first (least rank) state there."""
        with self.clock("check"):
            state_props = [p for p in r.props if p.kind in (INVARIANT, QUIESCENT)]
            goals = [p for p in r.props if p.kind == SOMETIMES]
            if not (state_props or goals) or r.states is None:
                return
            events, states = r.events, r.states
            for i, c, f in zip(at.tolist(), r.new_ranks[at].tolist(), r.new_fps[at].tolist()):
                t = states[i]
                if state_props:
                    for p in state_props:
                        if not p.holds_at(t):
                            events.append((c, STATE, p.name, (f,)))
                            state_props = [q for q in state_props if q is not p]
                if goals:
                    for p in goals:
                        if p.check(t):
                            events.append((c, STATE, p.name, (f,)))
                            goals = [q for q in goals if q is not p]

    def _new_ranks(self) -> tuple:
        return ("ranks", self.level.new)

    def _place(self, every: list[Any]) -> tuple:
        """Turn the new states' ranks into their places in the level: ``every`` holds each
        shard's ``new_ranks`` (this shard's may be None), ascending."""
        mine = self.frontier.ranks
        place = np.arange(len(mine), dtype=np.int64)
        for j, theirs in enumerate(every):
            if j != self.me and theirs is not None and len(theirs):
                place += np.searchsorted(theirs, mine)
        self.frontier.ranks = place
        return ("placed",)

    def _placed(self, places: Any) -> tuple:
        """The new states' places in the level, as ``places`` (from ``places``, run where
        every shard's new ranks are gathered) says."""
        self.frontier.ranks = np.asarray(places, dtype=np.int64)
        return ("placed",)

    def _before(self, rank: int, ck: int) -> tuple:
        """At a stop at event rank ``ck`` of a state of rank ``rank``: how many expanded states
        lie before it, their transitions, and the new states before ``ck``; with coverage,
        the tallies of the states up to and including ``rank`` (the sequential engine tallies
        a state's successors all at once)."""
        lv = self.level
        k = bisect_left(lv.ranks, rank)
        tally = None
        if self.coverage is not None:
            tally = dict.fromkeys(self.coverage, 0)
            upto = k + (1 if k < len(lv.ranks) and lv.ranks[k] == rank else 0)
            for s in lv.states[:upto]:
                self.model.next_states_tallied(s, tally)
        return ("before", k, sum(lv.succs[:k]), int(np.searchsorted(lv.new, ck)), tally)

    def _snapshot(self) -> tuple:
        """This worker's part of a checkpoint (``paxchain.checker.checkpoint``)."""
        pack, f = self.codec.pack, self.frontier
        return ("snapshot", {
            "visited": self.visited.values(signed=True),
            "parents": [(fs.tolist(), ps.tolist()) for fs, ps in self.parents],
            "frontier": [(r, fp, pack(t)) for r, fp, t in
                         zip(f.ranks.tolist(), f.fps.tolist(), f.states)]})

    def _keys(self, packed: list[Any]) -> tuple:
        """This shard's fingerprints of packed states (they must equal the coordinator's)."""
        return ("keys", [self.codec.key(self.codec.unpack(x)) for x in packed])

    def _parent(self, depth: int, fp: int) -> tuple:
        fps, parents = self.parents[depth - 1]
        at = np.flatnonzero(fps == fp)
        return ("parent", int(parents[at[0]]))
