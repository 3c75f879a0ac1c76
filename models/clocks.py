"""Clock policies: what ``now`` an actors-on-a-network model passes to a handler.

Time reaches an ``impl/`` actor only as ``now``, its local clock reading (the actor API's
rule), so a model's whole treatment of time is one small object:

- ``FixedClock`` (the actor system's default): every handler call reads the same value.
  The state then carries no time at all, and since timers may fire at any moment, no reading
  could constrain what happens next: exact for actors whose *decisions* depend on time only
  through timers; an actor that compares readings (a lease, say) is checked at one reading.
- ``MinedClock`` (the chain's configuration, with the ``Mining`` environment action of
  ``paxchain.models.environment``): global time advances only when a block is found,
  ``mined * interval``; node ``i`` reads it plus its constant offset, one of ``offsets`` (each
  combination is an initial state, and the state keeps it). Drift (a rate) is left to the
  simulator.

``reads_state`` says whether a reading depends on the state (the actor system then keys its
memoised handler results by the reading too).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from collections.abc import Iterator
from typing import ClassVar

__all__ = ["FixedClock", "MinedClock"]


@dataclass(frozen=True)
class FixedClock:
    """Every handler call reads ``at``."""

    at: int = 0
    reads_state: ClassVar[bool] = False

    def reading(self) -> int:
        return self.at


@dataclass(frozen=True)
class MinedClock:
    """``mined * interval + offset``: time moves with the blocks found (module docstring)."""

    interval: int
    offsets: tuple[int, ...]
    reads_state: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if self.interval < 1:
            raise ValueError("need interval >= 1")
        if not self.offsets:
            raise ValueError("offsets needs at least one clock offset")

    def reading(self, mined: int, offset: int) -> int:
        """A node's clock with offset ``offset`` after ``mined`` blocks."""
        return mined * self.interval + offset

    def readings(self, budget: int) -> list[int]:
        """Every reading a node can have while at most ``budget`` blocks are found."""
        return sorted({self.reading(m, o) for m in range(budget + 1) for o in self.offsets})

    def initial_offsets(self, nodes: int) -> Iterator[tuple[int, ...]]:
        """Each assignment of offsets to ``nodes`` nodes, in a fixed order."""
        return itertools.product(self.offsets, repeat=nodes)
