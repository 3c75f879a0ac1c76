"""Environment actions: steps the world around the actors takes, as a pluggable part of the
actor system (``paxchain.models.actor_system``).

``Mining`` is the one the chain needs: ``Mine(node)`` fires the node's ``timer`` (``mine``) as
the moment it finds a block. The state counts the blocks found (``mined``), and each message
in flight keeps the value of ``mined`` when it was sent (its *stamp*), which is all the delay
bound reads:

- at most ``budget`` blocks are found in a run;
- ``delay`` (counted in blocks) bounds the network: no block is found while a message sent
  ``delay`` or more blocks ago is still in flight, so every message is delivered (or dropped)
  before ``delay`` further blocks are found after it was sent. ``delay=0``: mining only when
  nothing is in flight (a lock-step network); ``None``: an asynchronous network.

Time moves with the blocks (``paxchain.models.clocks.MinedClock``): a ``Mine`` step's handler
reads the clock after the block it finds, and its sends are stamped with that count.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterable
from typing import ClassVar

__all__ = ["Mining", "MINE"]

MINE = "Mine"


@dataclass(frozen=True)
class Mining:
    """``Mine(node)`` while ``mined < budget`` and the ``delay`` bound allows (module doc)."""

    budget: int
    delay: int | None = None
    timer: str = "mine"
    action: ClassVar[str] = MINE

    def __post_init__(self) -> None:
        if self.budget < 0:
            raise ValueError("the mining budget must be non-negative")
        if self.delay is not None and self.delay < 0:
            raise ValueError("delay must be non-negative (or unset: unbounded)")

    def allows(self, mined: int, stamps: Iterable[int]) -> bool:
        """Whether a block may be found after ``mined``, with messages stamped ``stamps`` in
        flight."""
        if mined >= self.budget:
            return False
        if self.delay is None:
            return True
        floor = mined - self.delay
        return all(t > floor for t in stamps)
