"""State subsumption for actor systems: a state that can do no more than one already explored
is not explored again.

Theory of operation. Two states of an ``ActorSystem`` are *twins* when they agree on every node
entry, the history and the outputs, and differ only in the remaining fault budgets and the
network's contents. Say ``t ≤ u`` when ``t``'s budgets are at most ``u``'s, each one, and
``t``'s network is contained in ``u``'s (as a set on the ``duplicating`` network, as a multiset
on the ``budgeted`` one). Then ``u`` *simulates* ``t``, for any handlers whatever:

- a ``Deliver`` of an envelope in ``t``'s network is one of ``u``'s too, runs the same handler
  on the same node entry, and leaves the successors twins again with ``≤`` (the same sends are
  added to both networks; a consuming delivery takes one copy from each); a no-op delivery is
  a no-op in both (it depends on the entry and the envelope alone), and so is a buried
  envelope (``dead`` reads only the receiver's entry);
- a ``Timer`` and a ``Restart`` depend on the node entry alone;
- a ``Crash``, a crash point, a ``Drop`` or a ``Duplicate`` is gated by its budget, which ``u``
  has at least as much of, and takes one from each (a drop or duplicate of an envelope in
  ``t``'s network is one of ``u``'s).

So every run from ``t`` is matched, step for step, by a run from ``u`` whose states have the
same node entries, histories and outputs. The properties read nothing else — the model's
``projection``, which leaves out the network and the budgets, is what they read (its
contract; ``noop`` pruning rests on the same one) — so the runs agree on every invariant,
every goal and every transition property, at every step. The engine therefore leaves out a
state that some explored twin covers (``≤``): its verdicts are those of the twin's future,
and with breadth-first search the twin was found no deeper, so counterexamples stay shortest.
Depth-first, the twin may still be on the stack when it covers a state; the verdicts stand
all the same, since when the search ends every explored state has been expanded: by induction
on the length of a run from a covered state, each step is matched by one from its twin, whose
successor was explored or is covered in turn (covering is transitive), so every projection
and every transition the run reaches is one the search checked.
The premise that the properties do not read the budgets or the network is checked on each
state left out: its projection must equal the projection of the same state with the covering
twin's budgets and network (``ReductionUnsound("subsumption", ...)`` otherwise).

What it does not preserve: deadlock (a covered state may have fewer steps than its twin: the
engine refuses ``--deadlock`` with it), the number of distinct states (it is the point), and
anything on an ordered network (``fifo``, ``sequence``: adding an envelope there changes
which deliveries are enabled; it is off there).

Measured (``benchmarks/reductions.py``): at ``acceptors=3 proposers=1 max_rounds=1
crashes=1`` 240 of 1,861 states are twins with a smaller crash budget alone; with the
network's inclusion too, 576. Breadth-first search gains from the first kind only: a twin with
more messages in flight took more steps to build, so it is found *after* the one it covers
(at ``proposers=2 max_rounds=1 crashes=0`` 70 % of the states are covered by some reachable
twin, and the search leaves out none of them). Depth-first search meets the deeper twin first
and gains from both kinds: at ``proposers=2 max_rounds=1 crashes=1`` it explores 46,736 states
where breadth-first explores 149,981.

Partial-order reduction: not built (issue 13), because on this model it cannot pay while it
keeps what the properties read. Every reduction here must keep the set of reachable
projections (the reduced-versus-full tests compare it), so no such search can explore fewer
states than there are distinct projections, and a persistent set may only postpone steps
that leave the projection unchanged. ``benchmarks/reductions.py``'s ``visibility_*`` rows
count both: with one proposer no step leaves paxos-system's projection unchanged without a
crash (1.8 % with one); with two, a fifth do, but each only adds messages, so its successor
covers it (taking such steps eagerly is the reduction this points to; it lengthens
counterexamples). Narrowed to what the safety properties read (not the proposers' entries),
a quarter to two thirds of the steps are quiet, but they are proposer steps, and a
proposer's quiet step is dependent on the Promise an acceptor can still send it, whose
sending step is visible: the stubborn-set closure then holds every enabled step.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Hashable
from typing import Any

from paxchain.models.model import Model, Reduction, ReductionUnsound

__all__ = ["Subsuming", "Cover", "CoverTable", "PackedCoverTable"]

# What ``Subsuming.covering()`` returns: state -> (key, budgets, contents). Two states are
# twins when their keys are equal; ``contents`` is a bitmask of envelope ids (set network) or
# a sorted tuple of them (multiset network).
Cover = Callable[[tuple], tuple[Hashable, tuple[int, ...], Any]]


class Subsuming:
    """Mixin for ``ActorSystem`` subclasses: the ``subsumption`` reduction (module docstring).

    The subclass sets ``self.subsume`` (a model parameter, ``subsume=0`` switches it off) and
    lists ``subsumption_reduction()`` among its reductions; the engine asks ``covering()``.
    """

    subsume: bool = True
    off: dict[str, str]

    def _subsumption_off(self) -> str | None:
        """Why subsumption cannot be used for this model, or None."""
        if not self.subsume:
            return self.off.get("subsumption", "by a parameter")
        net = self.net  # type: ignore[attr-defined]
        if net.ordered:
            return f"the {net.name} network is ordered: adding an envelope is not harmless"
        if type(self).projection is Model.projection:  # type: ignore[comparison-overlap]
            return "the model does not say what its properties read (projection)"
        return None

    def without_reduction(self, name: str, why: str) -> Model:
        """Subsumption off (the engine stops asking ``covering``); any other: the model's."""
        if name == "subsumption":
            self.subsume = False
            self.off = {**self.off, name: why}
            return self  # type: ignore[return-value]
        return super().without_reduction(name, why)  # type: ignore[misc]

    def subsumption_reduction(self) -> Reduction:
        why = self._subsumption_off()
        return Reduction("subsumption", why is None, why or "")

    def covering(self) -> Cover | None:
        """The cover function of the states (None when the reduction is off)."""
        if self._subsumption_off() is not None:
            return None
        b, base = self.budgets_at, self.network_at  # type: ignore[attr-defined]
        h = self.history_at  # type: ignore[attr-defined]
        if self.net.consumes:  # type: ignore[attr-defined]  # a multiset
            return lambda s: (s[:b] + s[h:base], s[b:h], s[base:])
        return lambda s: (s[:b] + s[h:base], s[b:h], _mask(s[base:]))

    def check_cover(self, state: tuple, budgets: tuple[int, ...], contents: Any) -> None:
        """The premise, for ``state`` covered by a twin with ``budgets`` and ``contents``: the
        properties read the same in both (``projection``)."""
        b, base = self.budgets_at, self.network_at  # type: ignore[attr-defined]
        h = self.history_at  # type: ignore[attr-defined]
        ids = contents if isinstance(contents, tuple) else _unmask(contents)
        twin = state[:b] + tuple(budgets) + state[h:base] + self.net.canonical(list(ids))  # type: ignore[attr-defined]
        project = self.projection  # type: ignore[attr-defined]
        if project(twin) != project(state):
            raise ReductionUnsound(
                "subsumption", "the model's projection (what its properties read) reads the "
                "network or the fault budgets, so a state with more of them is not the same "
                "to the properties")


def _mask(ids: tuple[int, ...]) -> int:
    m = 0
    for e in ids:
        m |= 1 << e
    return m


def _unmask(m: int) -> list[int]:
    out = []
    while m:
        low = m & -m
        out.append(low.bit_length() - 1)
        m ^= low
    return out


def _covers(big: tuple[tuple[int, ...], Any], small: tuple[tuple[int, ...], Any]) -> bool:
    """Whether (budgets, contents) ``big`` covers ``small``: every budget at least as large,
    every envelope (every copy, on a multiset network) there too."""
    (b1, c1), (b2, c2) = big, small
    if any(x < y for x, y in zip(b1, b2)):
        return False
    if isinstance(c1, int):
        return c2 & ~c1 == 0
    return not (Counter(c2) - Counter(c1))


class CoverTable:
    """The explored states' covers, per twin key: an antichain (a new cover drops the ones it
    covers), so a lookup compares with the maximal twins only."""

    __slots__ = ("table", "hashed", "covered")

    def __init__(self, hashed: bool) -> None:
        self.table: dict[Hashable, list[tuple[tuple[int, ...], Any]]] = {}
        self.hashed = hashed  # keep 64-bit hashes of keys, as the visited set keeps fingerprints
        self.covered = 0      # states left out so far

    def find(self, key: Hashable, budgets: tuple[int, ...], contents: Any
             ) -> tuple[tuple[int, ...], Any] | None:
        """The cover of an explored twin that covers (budgets, contents), or None (then it is
        recorded as explored)."""
        k = hash(key) if self.hashed else key
        mine = (budgets, contents)
        twins = self.table.get(k)
        if twins is None:
            self.table[k] = [mine]
            return None
        for twin in twins:
            if _covers(twin, mine):
                self.covered += 1
                return twin
        twins[:] = [t for t in twins if not _covers(mine, t)]
        twins.append(mine)
        return None


_MASK64 = (1 << 64) - 1
_TUPLE = 0x8000  # a contents length with this bit: a multiset's ids, 4 bytes each


class PackedCoverTable:
    """``CoverTable`` in flat arrays, for long runs (``Options.compact``): the same lookups and
    answers in some 20 bytes a state instead of some 200.

    Each twin key's 64-bit hash sits in an open-addressing table (``keys``, linear probing, 0
    empty; a hash of 0 is stored as 1) beside the offset (``offs``) of its antichain's record in
    one ``bytearray``. A record is the count of covers, then per cover its budgets (a length
    byte, one byte each) and its contents (two length bytes, then a set network's bitmask, or
    with ``_TUPLE`` set a multiset's ids). A changed antichain is written over its old record
    when it fits, else anew at the end, the old one left behind (``garbage`` counts the bytes
    no record uses). Keys are hashed, as
    ``CoverTable(hashed=True)`` and the fingerprinted visited set do.
    """

    __slots__ = ("keys", "offs", "arena", "count", "covered", "garbage")

    def __init__(self, capacity: int = 1024) -> None:
        self.keys = array("Q", [0]) * capacity
        self.offs = array("Q", [0]) * capacity
        self.arena = bytearray()
        self.count = 0        # twin keys
        self.covered = 0      # states left out so far
        self.garbage = 0      # bytes of records since replaced

    @property
    def nbytes(self) -> int:
        return 16 * len(self.keys) + len(self.arena)

    def find(self, key: Hashable, budgets: tuple[int, ...], contents: Any
             ) -> tuple[tuple[int, ...], Any] | None:
        """As ``CoverTable.find``: the cover of an explored twin that covers (budgets,
        contents), or None (then it is recorded as explored)."""
        mine = (budgets, contents)
        h = (hash(key) & _MASK64) or 1
        keys, cap = self.keys, len(self.keys)
        i = h % cap
        while True:
            k = keys[i]
            if k == h:
                break
            if k == 0:
                keys[i] = h
                self.offs[i] = len(self.arena)
                self.arena += _pack([mine])
                self.count += 1
                if 4 * self.count > 3 * cap:
                    self._grow()
                return None
            i = i + 1 if i + 1 < cap else 0
        at = self.offs[i]
        twins, end = _unpack(self.arena, at)
        for twin in twins:
            if _covers(twin, mine):
                self.covered += 1
                return twin
        record = _pack([t for t in twins if not _covers(mine, t)] + [mine])
        if len(record) <= end - at:  # written over the old one where it fits
            self.arena[at:at + len(record)] = record
            self.garbage += end - at - len(record)
        else:
            self.garbage += end - at
            self.offs[i] = len(self.arena)
            self.arena += record
        return None

    def _grow(self) -> None:
        old_keys, old_offs = self.keys, self.offs
        cap = 2 * len(old_keys)
        keys = self.keys = array("Q", [0]) * cap
        offs = self.offs = array("Q", [0]) * cap
        for h, at in zip(old_keys, old_offs):
            if h:
                i = h % cap
                while keys[i]:
                    i = i + 1 if i + 1 < cap else 0
                keys[i], offs[i] = h, at


def _pack(twins: list[tuple[tuple[int, ...], Any]]) -> bytes:
    """An antichain's record (``PackedCoverTable``)."""
    out = bytearray(len(twins).to_bytes(2, "little"))
    for budgets, contents in twins:
        out.append(len(budgets))
        out += bytes(budgets)  # a budget above 255 is a ValueError, never a wrong cover
        if isinstance(contents, int):
            body = contents.to_bytes((contents.bit_length() + 7) // 8, "little")
            out += len(body).to_bytes(2, "little")
        else:
            body = array("I", contents).tobytes()
            out += (_TUPLE | len(contents)).to_bytes(2, "little")
        out += body
    return bytes(out)


def _unpack(arena: bytearray, at: int) -> tuple[list[tuple[tuple[int, ...], Any]], int]:
    """The antichain whose record starts at ``at``, and where the record ends."""
    view = memoryview(arena)
    n = int.from_bytes(view[at:at + 2], "little")
    at += 2
    twins = []
    for _ in range(n):
        nb = view[at]
        budgets = tuple(view[at + 1:at + 1 + nb])
        at += 1 + nb
        size = int.from_bytes(view[at:at + 2], "little")
        at += 2
        if size & _TUPLE:
            size = 4 * (size & ~_TUPLE)
            contents: Any = tuple(array("I", bytes(view[at:at + size])))
        else:
            contents = int.from_bytes(view[at:at + size], "little")
        at += size
        twins.append((budgets, contents))
    view.release()
    return twins, at
