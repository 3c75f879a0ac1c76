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
- ``timely_timers`` (timing, ``timely="all"``, the default): a timer does not fire while a
  message can be delivered to an up node — timeouts are longer than message delays (after the
  network has settled, as partial synchrony assumes), including the round trips of *other*
  nodes: what a proposer's exponential backoff reaches after enough rounds. Without any timing
  assumption (``timely="none"``) a retry timer may fire before any reply arrives, every time,
  and a proposer with a bound on its rounds gives up: no bounded-round protocol is live then.
- ``own_round_trip`` (timing, ``timely="own"``): a node's timer does not fire while a message
  *to or from that node* can be delivered — each timeout exceeds its own node's round trip,
  not the others'. A fixed timeout tuned to the network, without backoff: alone, a proposer
  gets its answers in time; two of them can still pre-empt each other forever.
- ``fair_links`` (weak, one key per link ``(src, dst)``; ``delivery="link"`` instead of
  ``fair_delivery``): a link that keeps a message in flight to an up node delivers one of its
  messages infinitely often. Weaker than ``fair_delivery`` (on the budgeted network a run fair
  to every message is fair to every link: a link that stops delivering leaves some message in
  flight for ever), and its keys name no message, so they are unchanged by a renaming of the
  messages' contents (``paxchain.models.ballot_quotient`` needs that).

A state's enabled keys are those of the in-flight envelopes to up nodes, the set timers of up
nodes and the down nodes (``enabled``): a superset of the steps offered, as
``paxchain.models.fairness`` requires (a delivery the model leaves out because it would change
nothing counts as not enabled, like a stuttering step).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from paxchain.models.actor_system import ActorSystem, to_plain
from paxchain.models.fairness import WEAK, Assumption, Fairness, Priority
from paxchain.models.model import Label

__all__ = ["actor_fairness", "FAIR_DELIVERY", "FAIR_LINKS", "FAIR_TIMERS", "FAIR_RESTARTS",
           "TIMELY_TIMERS", "OWN_ROUND_TRIP", "TIMELY"]

FAIR_DELIVERY, FAIR_LINKS, FAIR_TIMERS = "fair_delivery", "fair_links", "fair_timers"
FAIR_RESTARTS, TIMELY_TIMERS, OWN_ROUND_TRIP = "fair_restarts", "timely_timers", "own_round_trip"
TIMELY = ("all", "own", "none")  # the timing assumptions ``actor_fairness`` offers, by name


def _fault(label: Label) -> bool:
    """A step cut short by a crash (a crash point inside a handler) is a fault, not the step."""
    return "crash" in label.events


def _delivery_key(label: Label) -> Hashable | None:
    if label.action != "Deliver" or _fault(label):
        return None
    args = dict(label.args)
    return (args["src"], args["dst"], args["msg"])


def _link_key(label: Label) -> Hashable | None:
    if label.action != "Deliver" or _fault(label):
        return None
    args = dict(label.args)
    return (args["src"], args["dst"])


def _own(urgent: Label, slow: Label) -> bool:
    """Whether delivery ``urgent`` is a message to or from the node of timer step ``slow``."""
    args, node = dict(urgent.args), dict(slow.args).get("node")
    return node in (args["src"], args["dst"])


def _timer_key(label: Label) -> Hashable | None:
    if label.action != "Timer" or _fault(label):
        return None
    args = dict(label.args)
    return (args["node"], args["timer"])


def _restart_key(label: Label) -> Hashable | None:
    if label.action != "Restart" or _fault(label):
        return None
    return dict(label.args)["node"]


def actor_fairness(system: ActorSystem, timely: str = "all", delivery: str = "message"
                   ) -> tuple[Assumption, ...]:
    """The fairness and timing assumptions of ``system`` (module docstring): ``timely`` is one
    of ``TIMELY``, ``delivery`` is ``"message"`` (``fair_delivery``) or ``"link"``
    (``fair_links``)."""
    if timely not in TIMELY or delivery not in ("message", "link"):
        raise ValueError(f"actor_fairness: timely must be one of {', '.join(TIMELY)} and "
                         f"delivery message or link, not {timely!r}, {delivery!r}")

    cut = getattr(system, "cut", None)  # a partition's links are never enabled

    def deliverable(state: Any) -> list[Hashable]:
        up = {x for x, node in system.nodes(state).items() if node.up}
        flight = [(src, dst, msg) for src, dst, msg in system.network(state)
                  if dst in up and (cut is None or not cut.cuts(src, dst))]
        if delivery == "link":
            return sorted({(src, dst) for src, dst, _ in flight})
        return [(src, dst, to_plain(msg)) for src, dst, msg in flight]

    def timers(state: Any) -> list[Hashable]:
        return [(x, name) for x, node in system.nodes(state).items() if node.up
                for name in node.timers]

    def down(state: Any) -> list[Hashable]:
        return [x for x, node in system.nodes(state).items() if not node.up]

    fair_delivery = (
        Fairness(FAIR_LINKS, WEAK, "a link that keeps a message in flight to an up node "
                 "delivers one infinitely often", _link_key, deliverable)
        if delivery == "link" else
        Fairness(FAIR_DELIVERY, WEAK,
                 "a message that stays in flight to an up node is eventually delivered",
                 _delivery_key, deliverable))
    out: tuple[Assumption, ...] = (
        fair_delivery,
        Fairness(FAIR_TIMERS, WEAK, "a timer that stays set eventually fires", _timer_key,
                 timers),
        Fairness(FAIR_RESTARTS, WEAK, "a crashed node eventually restarts", _restart_key, down),
    )
    urgent = lambda label: _delivery_key(label) is not None  # noqa: E731
    slow = lambda label: label.action == "Timer"  # noqa: E731  (a crash inside one too)
    if timely == "all":
        out += (Priority(TIMELY_TIMERS, "a timer does not fire while a message can be "
                         "delivered to an up node (timeouts exceed message delays)",
                         urgent=urgent, slow=slow),)
    elif timely == "own":
        out += (Priority(OWN_ROUND_TRIP, "a node's timer does not fire while a message to or "
                         "from that node can be delivered (each timeout exceeds its own round "
                         "trip, not the other nodes')", urgent=urgent, slow=slow,
                         holds_back=_own),)
    return out
