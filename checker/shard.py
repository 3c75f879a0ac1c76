"""One shard of the level-synchronous search (``paxchain.checker.level_search``).

A shard owns the states whose portable fingerprint is its index modulo the number of shards:
their visited set (``paxchain.checker.visited``), their parents per level (for traces) and its
share of the frontier. Each level it answers ``generate`` (expand its frontier: check the
transition properties and deadlock there, and sort the successors by owner, the least rank per
fingerprint) and then ``absorb`` (keep the new states among the successors every shard sent it,
check the state properties and goals on them); between levels, the questions of a stop
(``before``, ``new_ranks``, ``parent``), a checkpoint (``snapshot``) and a check of its
fingerprints (``keys``). It knows nothing of processes or machines: ``handle(msg)`` turns a
message into its reply, and the transport (``paxchain.checker.parallel``'s pipes and queues,
``paxchain.checker.ray_search``'s actor calls) carries both.

Ranks and events: a state's rank is ``parent rank << SHIFT | successor index``; an event (a
property decided, a deadlock, the state limit) is (rank, phase, property, where), its phase one
of ``EDGE, LIMIT, STATE, DEAD``, in the sequential engine's order at one rank.
"""

from __future__ import annotations

import traceback
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

from paxchain.checker.explicit import DEADLOCK
from paxchain.checker.portable import Codec
from paxchain.checker.result import Options
from paxchain.checker.visited import FingerprintSet, np
from paxchain.models.model import Model, ReductionUnsound
from paxchain.models.properties import INVARIANT, QUIESCENT, SOMETIMES, TRANSITION, Property

__all__ = ["Shard", "SHIFT", "LAST", "EDGE", "LIMIT", "STATE", "DEAD"]

SHIFT = 20                      # bits of a rank for the successor index
LAST = (1 << SHIFT) - 1         # the index of "after every successor" (a deadlock's event)
# Event phases at one rank, in the sequential engine's order: the transition is checked, the
# state limit met, the new state checked; a deadlock comes after the state's last successor.
EDGE, LIMIT, STATE, DEAD = 0, 1, 2, 3


@dataclass
class _Level:
    """What a worker keeps of the level it last expanded, for the questions asked at a stop."""

    ranks: list[int] = field(default_factory=list)   # the expanded states' ranks, ascending
    succs: list[int] = field(default_factory=list)   # their numbers of successors
    states: list[Any] = field(default_factory=list)
    new: list[int] = field(default_factory=list)     # the ranks of the new states, ascending


class Shard:
    """One shard of the search: the states whose fingerprint is ``me`` modulo ``n``."""

    def __init__(self, me: int, n: int, model: Model, codec: Codec, props: list[Property],
                 options: Options, share: dict[str, Any]) -> None:
        """``share``: the shard's part of the search — ``frontier`` (rank, fingerprint,
        state), by rank; from a checkpoint also ``visited`` and ``parents``; with ``packed``,
        the frontier's states packed by the codec."""
        self.me, self.n, self.model, self.codec = me, n, model, codec
        self.props = {p.name: p for p in props}
        self.opt = options
        frontier = share["frontier"]
        if share.get("packed"):
            frontier = [(r, f, codec.unpack(t)) for r, f, t in frontier]
        self.visited = FingerprintSet()
        self.visited.add_many(share.get("visited") or [fp for _, fp, _ in frontier],
                              distinct=True)
        # per depth > 0: (fingerprints, parents)
        self.parents: list[tuple[Any, Any]] = [_pairs(f, p) for f, p in share.get("parents", [])]
        self.frontier = frontier                  # (rank, fingerprint, state), by rank
        self.level = _Level()
        self.pending: tuple = ()                  # between generate and absorb
        self.coverage: dict[str, int] | None = (dict.fromkeys(model.actions(), 0)
                                                if options.coverage else None)

    def handle(self, msg: tuple) -> tuple:
        """The reply to ``msg`` (its name, then its arguments): a model's error or a failed
        premise is a reply too, which the coordinator raises."""
        try:
            return getattr(self, "_" + msg[0])(*msg[1:])  # type: ignore[no-any-return]
        except ReductionUnsound as exc:
            return ("unsound", exc.reduction, exc.detail)
        except BaseException as exc:  # a model's error: the coordinator raises it
            return ("error", exc, traceback.format_exc())

    def _nexts(self, state: Any, tally: dict[str, int] | None) -> Any:
        if tally is None:
            return self.model.next_states(state)
        return self.model.next_states_tallied(state, tally)

    def _generate(self, depth: int, at_bound: bool, open_props: list[str]) -> tuple:
        """Expand this shard's frontier: ``("batches", [batch for each shard])``, the
        successors each other shard owns as (fingerprint, rank, parent, packed state), the
        least rank per fingerprint (None for this shard: its own are kept for ``absorb``)."""
        opt, n, me, key = self.opt, self.n, self.me, self.codec.key
        props = [self.props[x] for x in open_props if x in self.props]
        edge_props = [p for p in props if p.kind == TRANSITION]
        state_props = [p for p in props if p.kind in (INVARIANT, QUIESCENT)]
        goals = [p for p in props if p.kind == SOMETIMES]
        tally = dict.fromkeys(self.coverage, 0) if self.coverage is not None else None
        outs: list[dict[int, tuple[int, int, Any]]] = [{} for _ in range(n)]
        events: list[tuple[int, int, str, tuple]] = []
        level = _Level()
        frontier, self.frontier = self.frontier, []
        deadlock = opt.deadlock and DEADLOCK in open_props
        for rank, fp, s in frontier:
            base = rank << SHIFT
            count = 0
            for t in self._nexts(s, tally):
                tfp = key(t)
                ck = base | count
                count += 1
                if edge_props:
                    for p in edge_props:
                        if not p.check(s, t):
                            events.append((ck, EDGE, p.name, (fp, tfp)))
                            edge_props = [q for q in edge_props if q is not p]
                d = outs[tfp % n]
                if tfp not in d:
                    d[tfp] = (ck, fp, t)
            if count > LAST:
                raise ValueError(f"a state of {self.model.name} has more than {LAST} "
                                 "successors (the parallel engine's rank limit)")
            if deadlock and not count:
                events.append((base | LAST, DEAD, DEADLOCK, (fp,)))
                deadlock = False
            level.ranks.append(rank)
            level.succs.append(count)
            level.states.append(s)
        self.pending = (outs[me], at_bound, events, level, tally, state_props, goals)
        pack = self.codec.pack
        return ("batches", [None if j == me else
                            [(f, c, p, pack(t)) for f, (c, p, t) in outs[j].items()]
                            for j in range(n)])

    def _absorb(self, batches: list[list[tuple] | None]) -> tuple:
        """Keep the new states among this shard's own successors and those the others sent
        (``batches``), check the state properties and goals on them: ``("level", ...)``."""
        mine, at_bound, events, level, tally, state_props, goals = self.pending
        self.pending = ()
        unpack = self.codec.unpack
        for batch in batches:
            for f, c, p, payload in batch or ():
                cur = mine.get(f)
                if cur is None or c < cur[0]:
                    mine[f] = (c, p, _Packed(payload))
        fps = list(mine)
        beyond = False
        new: list[tuple[int, int, int, Any]] = []
        if at_bound:
            beyond = not all(self.visited.contains_many(fps))
        else:
            for f, is_new in zip(fps, self.visited.add_many(fps, distinct=True)):
                if is_new:
                    c, p, t = mine[f]
                    new.append((c, f, p, unpack(t.payload) if isinstance(t, _Packed) else t))
            new.sort(key=lambda x: x[0])
            self.parents.append(_pairs([x[1] for x in new], [x[2] for x in new]))
        for c, f, _, t in new:
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
        level.new = [x[0] for x in new]
        self.level = level
        self.frontier = [(c, f, t) for c, f, _, t in new]
        generated = sum(level.succs)
        return ("level", generated, len(new), beyond, events, tally, self.visited.nbytes,
                len(self.visited))

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
        return ("before", k, sum(lv.succs[:k]), bisect_left(lv.new, ck), tally)

    def _snapshot(self) -> tuple:
        """This worker's part of a checkpoint (``paxchain.checker.checkpoint``)."""
        pack = self.codec.pack
        return ("snapshot", {
            "visited": self.visited.values(signed=True),
            "parents": [(list(map(int, f)), list(map(int, p))) for f, p in self.parents],
            "frontier": [(r, f, pack(t)) for r, f, t in self.frontier]})

    def _keys(self, packed: list[Any]) -> tuple:
        """This shard's fingerprints of packed states (they must equal the coordinator's)."""
        return ("keys", [self.codec.key(self.codec.unpack(x)) for x in packed])

    def _new_ranks(self) -> tuple:
        return ("ranks", self.level.new)

    def _parent(self, depth: int, fp: int) -> tuple:
        fps, parents = self.parents[depth - 1]
        return ("parent", _find_parent(fps, parents, fp))


@dataclass
class _Packed:
    payload: Any


def _pairs(fps: list[int], parents: list[int]) -> tuple[Any, Any]:
    """A level's (fingerprint, parent) log: two int64 arrays (16 bytes a state) with numpy."""
    if np is not None:
        return np.array(fps, dtype=np.int64), np.array(parents, dtype=np.int64)
    return fps, parents


def _find_parent(fps: Any, parents: Any, fp: int) -> int:
    if np is not None:
        at = np.flatnonzero(fps == fp)
        return int(parents[at[0]])
    return int(parents[fps.index(fp)])
