"""Faults as typed actions, with their budgets: one name each, for the one actors-on-a-network
model (``paxchain.models.actor_system``) and every configuration of it (``paxos-system``,
``chain``).

- ``Drop``: the network loses one envelope (``drops`` budget);
- ``Duplicate``: the network delivers one envelope once more (``duplicates`` budget);
- ``Crash``: a node loses its volatile state and timers and keeps what it persisted
  (``crashes`` budget); with ``restart_at_once`` (the chain's reduction) a crashed node
  restarts in the same step, labelled ``Crash`` with the events ``crash`` and ``restart``;
- ``Restart``: a down node runs ``on_start`` with what it persisted (no budget: each crash
  allows one restart);
- ``CrashPoint``: a crash that falls between a handler's effects (``crashes`` budget); its step
  is labelled as the step it cuts short, with ``crash_after=u``, and coverage counts it here.

Which of ``Drop`` and ``Duplicate`` a model offers is its network's to say
(``Network.faults``): the duplicating network loses and repeats without a budget.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DROP", "DUPLICATE", "CRASH", "RESTART", "CRASH_POINT", "FAULTS", "Budgets"]

DROP, DUPLICATE, CRASH, RESTART, CRASH_POINT = "Drop", "Duplicate", "Crash", "Restart", "CrashPoint"
FAULTS = (DROP, DUPLICATE, CRASH, RESTART, CRASH_POINT)


@dataclass(frozen=True)
class Budgets:
    """How many of each budgeted fault a run may have."""

    drops: int = 0
    duplicates: int = 0
    crashes: int = 0

    def __post_init__(self) -> None:
        if min(self.drops, self.duplicates, self.crashes) < 0:
            raise ValueError("fault budgets must be >= 0")

    def as_tuple(self) -> tuple[int, int, int]:
        """``(drops, duplicates, crashes)``, the order states keep them in."""
        return (self.drops, self.duplicates, self.crashes)

    def within(self, offered: tuple[str, ...]) -> Budgets:
        """These budgets with those of the network faults not in ``offered`` at 0."""
        return Budgets(self.drops if DROP in offered else 0,
                       self.duplicates if DUPLICATE in offered else 0, self.crashes)
