"""The fairness of the chain model (``paxchain.models.chain_system``), and a partition of it.

Read from the model's public accessors (``nodes(state)``, ``network(state)``, ``mined(state)``,
``budget``) and its step labels (``Mine(node)``, ``Deliver(src, dst, msg, sent)`` with ``msg``
the message as text); faults (``Drop``, ``Duplicate``, ``Crash``, a crash inside a handler)
are never required of a run — they happen within their budgets or not at all.

- ``fair_delivery`` (weak, one key per message ``(src, dst, msg text)``): a message that stays
  in flight is eventually delivered (unless a counted fault loses it first). To a down node
  too: the model offers that delivery fused with the node's restart (with ``restart_at_once``
  off, as the liveness search runs it: the chain model's wake-on-step), so it is enabled. A
  delivery cut short by a crash point (its label's events hold ``crash``) does not take the
  key: it is a fault, not the delivery. Two copies of one message (a ``Duplicate``) share a
  key: one delivery meets it.
- ``fair_mining`` (weak, one key for every ``Mine`` step): while some node may mine, some
  ``Mine`` step is eventually taken, so mining reaches its ``budget`` (with ``delay`` set,
  messages older than the bound are delivered first: ``Mine`` is not offered meanwhile). No
  per-node fairness: which node finds the next block is the environment's choice.
- ``fair_restarts`` (weak, one key per node): a crashed node eventually restarts (by a
  ``Restart``, or by a delivery or a ``Mine`` fused with its restart).

``enabled(state)`` names, for ``fair_delivery``, every message in flight across no cut of the
partition, for ``fair_mining`` its key while ``mined < budget``, and for ``fair_restarts`` the
down nodes: supersets of
the steps offered, as ``paxchain.models.fairness`` allows (a ``Mine`` the delay bound holds
back counts as not enabled, like a stuttering step), and the engine checks at every state that
they name every key a step offers (``FairnessError`` otherwise).

Partition (``-p partition=GROUPS``, ``paxchain.models.partition``, the same for every actor
system: links cut for good). A message across the cut is never offered as a ``Deliver``, so it
is not enabled, and fair delivery does not ask for it. It is not *lost* either (no drop budget
spent, ``crash_lost`` unset), so the properties that excuse a lossy run judge a partitioned
one. Drops and
duplicates of such a message stay offered (the network may still lose it). With a ``delay``
bound a cut message older than the bound stops mining (the bound says every message arrives
in time, which a partition denies): use ``delay=none`` to let both sides mine on.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from paxchain.impl.chain_node import BlockMsg, GetBlock
# The keys of deliveries and restarts are the actor system's: the same labels, read alike (a
# step cut short by a crash point takes no key).
from paxchain.models.actor_fairness import _delivery_key, _restart_key
from paxchain.models.fairness import WEAK, Assumption, Fairness
from paxchain.models.model import Label
from paxchain.models.partition import Cut

__all__ = ["chain_fairness", "msg_text", "FAIR_DELIVERY", "FAIR_MINING",
           "FAIR_RESTARTS", "MINE_KEY"]

FAIR_DELIVERY, FAIR_MINING, FAIR_RESTARTS = "fair_delivery", "fair_mining", "fair_restarts"
MINE_KEY = ("Mine",)  # the one key of fair_mining


def msg_text(msg: Any) -> str:
    """A message as the model's labels show it (``ChainSystem.msg_text``): the key's text."""
    if isinstance(msg, BlockMsg):
        return f"block {msg.block.short}"
    if isinstance(msg, GetBlock):
        return f"get_block {msg.hash[:8]}"
    return "get_tip"


def _mine_key(label: Label) -> Hashable | None:
    return MINE_KEY if label.action == "Mine" else None


def chain_fairness(system: Any, cut: Cut | None = None) -> tuple[Assumption, ...]:
    """``fair_delivery``, ``fair_mining`` and ``fair_restarts`` of the chain model ``system``
    (module docstring), with the links ``cut`` cuts never enabled."""

    def deliverable(state: Any) -> list[Hashable]:
        return [(src, dst, msg_text(msg)) for src, dst, msg in system.network(state)
                if cut is None or not cut.cuts(src, dst)]

    def mining(state: Any) -> list[Hashable]:
        return [MINE_KEY] if system.mined(state) < system.budget else []

    def down(state: Any) -> list[Hashable]:
        return [x for x, node in system.nodes(state).items() if not node.up]

    return (
        Fairness(FAIR_DELIVERY, WEAK,
                 "a message that stays in flight is eventually delivered (to a down node, "
                 "with its restart)", _delivery_key, deliverable),
        Fairness(FAIR_MINING, WEAK,
                 "while a node may mine, some node eventually mines (mining reaches its "
                 "budget)", _mine_key, mining),
        Fairness(FAIR_RESTARTS, WEAK, "a crashed node eventually restarts", _restart_key, down),
    )
