"""The sans-IO actor API shared by every protocol in ``impl/`` and every driver.

Theory of operation. A node is a pure handler object: each ``on_*`` method takes the node's
current state and one event and returns the new state plus a list of effects. Handlers never
touch sockets, files, clocks or global randomness; time arrives only as ``now``, the node's own
local clock reading (so a driver can skew or pause it per node), and anything random is derived
from the state or the event.

Rules:

- States are immutable and hashable (frozen dataclasses or tuples), so the model checker can
  store them and the drivers can compare them.
- A state is split in two: what ``Persist`` effects have written (durable) and the rest
  (volatile). A crash loses the volatile part; ``on_start`` receives the last persisted value
  (``None`` on first start) and rebuilds the rest. A driver must apply a ``Persist`` *before*
  any ``Send`` that follows it in the same effect list (write-ahead), which is the order
  handlers emit them in.
- Timers are named; setting a timer that is already set replaces it. ``delay`` is measured on
  the node's local clock.
- A handler given a message it does not understand returns the state unchanged (apart from a
  counter, if it keeps one) and no effects: malformed input never raises.

Drivers: the model checker (``models/``), the seeded simulator and the asyncio runtime.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Hashable, Sequence
from typing import Any, Protocol

__all__ = ["Send", "SetTimer", "CancelTimer", "Persist", "Output", "Effect", "Actor",
           "Handled"]


@dataclass(frozen=True)
class Send:
    """Send ``msg`` to node ``dst`` (delivery is up to the network: maybe never, maybe twice)."""

    dst: str
    msg: Hashable


@dataclass(frozen=True)
class SetTimer:
    """Fire ``on_timer(name)`` after ``delay`` units of the node's local clock."""

    name: str
    delay: float


@dataclass(frozen=True)
class CancelTimer:
    name: str


@dataclass(frozen=True)
class Persist:
    """Durably store ``data``, replacing what was stored; survives crashes."""

    data: Hashable


@dataclass(frozen=True)
class Output:
    """Something the node reports to the outside world, e.g. ``("decided", "v1")``."""

    value: Hashable


Effect = Send | SetTimer | CancelTimer | Persist | Output
Handled = tuple[Any, list[Effect]]


class Actor(Protocol):
    """One role of a protocol. ``node`` is this node's id; ``now`` its local clock reading."""

    def on_start(self, node: str, durable: Hashable | None, now: float) -> Handled:
        """Start (or restart after a crash, with the last persisted ``durable`` value)."""

    def on_message(self, node: str, state: Any, src: str, msg: Any, now: float) -> Handled:
        """Handle one message from ``src``."""

    def on_timer(self, node: str, state: Any, name: str, now: float) -> Handled:
        """Handle the expiry of timer ``name``."""


def sends(effects: Sequence[Effect]) -> list[Send]:
    """The ``Send`` effects of a handler's output, in order."""
    return [e for e in effects if isinstance(e, Send)]
