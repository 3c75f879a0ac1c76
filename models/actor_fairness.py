"""The fairness of actors on a network (``paxchain.models.actor_system``), for liveness.

Read from ``ActorSystem``'s public accessors (``network(state)``, ``nodes(state)``) and its
step labels (``Deliver(src, dst, msg)``, ``Timer(node, timer)``, ``Restart(node)``); faults
(``Drop``, ``Duplicate``, ``Crash``, a crash inside a handler) are never required of a run —
they happen within their budgets or not at all.

- ``fair_delivery`` (weak, one key per envelope ``(src, dst, msg)``): a message that stays in
  flight to an up node is eventually delivered (unless a counted fault loses it first). On the
  duplicating network a message stays in the set after its delivery; a delivery that would
  change nothing is no step, so the obligation is met once it has taken effect.
- ``fair_timers`` (weak, one key per ``(node, timer)``): a timer that stays set eventually
  fires.
- ``fair_restarts`` (weak, one key per node): a crashed node eventually restarts.
- ``timely_timers`` (timing): a timer does not fire while a message can be delivered to an up
  node — timeouts are longer than message delays (after the network has settled, as partial
  synchrony assumes). Without it a retry timer may fire before any reply arrives, every time,
  and a proposer with a bound on its rounds gives up: no bounded-round protocol is live then.

A state's enabled keys are those of the in-flight envelopes to up nodes, the set timers of up
nodes and the down nodes (``enabled``): a superset of the steps offered, as
``paxchain.models.fairness`` requires (a delivery the model leaves out because it would change
nothing counts as not enabled, like a stuttering step).
"""

from __future__ import annotations

from typing import Any, Hashable

from paxchain.models.actor_system import ActorSystem, to_plain
from paxchain.models.fairness import WEAK, Assumption, Fairness, Priority
from paxchain.models.model import Label

__all__ = ["actor_fairness", "FAIR_DELIVERY", "FAIR_TIMERS", "FAIR_RESTARTS", "TIMELY_TIMERS"]

FAIR_DELIVERY, FAIR_TIMERS = "fair_delivery", "fair_timers"
FAIR_RESTARTS, TIMELY_TIMERS = "fair_restarts", "timely_timers"


def _fault(label: Label) -> bool:
    """A step cut short by a crash (a crash point inside a handler) is a fault, not the step."""
    return "crash" in label.events


def _delivery_key(label: Label) -> Hashable | None:
    if label.action != "Deliver" or _fault(label):
        return None
    args = dict(label.args)
    return (args["src"], args["dst"], args["msg"])


def _timer_key(label: Label) -> Hashable | None:
    if label.action != "Timer" or _fault(label):
        return None
    args = dict(label.args)
    return (args["node"], args["timer"])


def _restart_key(label: Label) -> Hashable | None:
    if label.action != "Restart" or _fault(label):
        return None
    return dict(label.args)["node"]


def actor_fairness(system: ActorSystem) -> tuple[Assumption, ...]:
    """The fairness and timing assumptions of ``system`` (module docstring)."""

    def deliverable(state: Any) -> list[Hashable]:
        up = {x for x, node in system.nodes(state).items() if node.up}
        return [(src, dst, to_plain(msg)) for src, dst, msg in system.network(state)
                if dst in up]

    def timers(state: Any) -> list[Hashable]:
        return [(x, name) for x, node in system.nodes(state).items() if node.up
                for name in node.timers]

    def down(state: Any) -> list[Hashable]:
        return [x for x, node in system.nodes(state).items() if not node.up]

    return (
        Fairness(FAIR_DELIVERY, WEAK,
                 "a message that stays in flight to an up node is eventually delivered",
                 _delivery_key, deliverable),
        Fairness(FAIR_TIMERS, WEAK, "a timer that stays set eventually fires", _timer_key,
                 timers),
        Fairness(FAIR_RESTARTS, WEAK, "a crashed node eventually restarts", _restart_key, down),
        Priority(TIMELY_TIMERS, "a timer does not fire while a message can be delivered to an "
                 "up node (timeouts exceed message delays)",
                 urgent=lambda label: _delivery_key(label) is not None,
                 slow=lambda label: label.action == "Timer"),  # a crash inside one too
    )
