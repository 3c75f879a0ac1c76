"""The seeded variants of the chain node: each changes one rule, from outside production code.

``CHAIN`` is the chain's catalogue (``paxchain.impl.variants.Catalogue``) with the single role
``"node"`` (``paxchain.impl.chain_node.ROLE``): every chain node runs the same code. A variant is one of

- a **node subclass** (``CHAIN.subclass(name, doc, "node")``) of ``paxchain.impl.chain_node.ChainNode``
  overriding one decision method (``_unknown_parent``, ``_fork_choice``, ``_kept_branch``, or
  any handler);
- a **rules subclass** (``rules_variant(name, doc)``) of ``paxchain.impl.chain_block.Rules`` overriding
  one consensus rule (``links``, ``check_timestamp``, ``stamp``). Its transform copies the node
  and gives the copy the same rules re-classed to the subclass (its fields are kept), so the
  node validates and mines by the changed rule; the model's *properties* keep judging by the
  network's own ``Rules`` (``paxchain.models.chain_system.ChainSystem.rules``);
- a **wrapper** of the node's handlers (``CHAIN.wrapper(name, doc, "node")``, an
  ``paxchain.impl.variants.ActorWrapper``), e.g. one that reorders the effects a handler returns.

How a driver builds nodes with variants (the model checker, the simulator, the real runtime)::

    from paxchain.impl.chain_node import make_cluster
    from paxchain.impl.chain_variants import CHAIN

    cluster = CHAIN.apply(["no_timestamp_check"], make_cluster(nodes=3, difficulty=8))
    actors = {node: actor for node, (actor, role) in cluster.items()}

(``make_network(variants=...)`` below does exactly this and returns the actors;
``paxchain.impl.net.variant_cluster("paxchain.impl.chain_variants:CHAIN", "paxchain.impl.chain_node:make_cluster",
variants, **kwargs)`` does it inside each node process of a real run.) ``CHAIN.apply(names,
cluster)`` applies the named variants in order; ``CHAIN.check(names)`` raises ``ValueError`` for
a name that is not registered; ``CHAIN.docs`` is the live name -> description view the model
registry lists.

A user's variant is written the same way in their own file and loaded as a plugin
(``paxchain --plugin FILE.py ...``, see ``paxchain.impl.variants``)::

    from paxchain.impl.chain_node import ChainNode
    from paxchain.impl.chain_variants import CHAIN

    @CHAIN.subclass("never_reorgs", "node: never leaves its chain for another", "node")
    class NeverReorgs(ChainNode):
        def _fork_choice(self, current, accepted):
            return current
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from paxchain.impl.actor import Handled
from paxchain.impl.chain_block import Block, Rules
from paxchain.impl.chain_node import ROLE, ChainNode, NodeState, make_cluster
from paxchain.impl.variants import ActorWrapper, Catalogue, persist_after_sends

__all__ = ["CHAIN", "rules_variant", "with_rules", "make_network"]

CHAIN = Catalogue("chain", roles=(ROLE,))


def with_rules(actor: Any, cls: type) -> Any:
    """A copy of the node ``actor`` whose rules are its rules re-classed to ``cls`` (a
    ``Rules`` subclass; combined with an earlier rules variant's class when there is one).
    A wrapper is copied around a copy of its inner node."""
    if isinstance(actor, ActorWrapper):
        # Not copy.copy: ActorWrapper.__getattr__ reads ``inner`` before a copy has one.
        new = object.__new__(type(actor))
        new.__dict__.update(actor.__dict__, inner=with_rules(actor.inner, cls))
        return new
    if not hasattr(actor, "rules") or not isinstance(actor.rules, Rules):
        raise TypeError(f"{type(actor).__name__} has no chain rules to change")
    base = type(actor.rules)
    if base is not Rules and not issubclass(cls, base):
        cls = type(f"{cls.__name__}_{base.__name__}", (cls, base), {})
    new = copy.copy(actor)
    new.rules = cls(**{f.name: getattr(actor.rules, f.name)
                       for f in dataclasses.fields(actor.rules)})
    return new


def rules_variant(name: str, doc: str) -> Callable[[type], type]:
    """Class decorator: register a ``Rules`` subclass as the variant ``name``, applied to every
    node by giving it those rules (``with_rules``)."""
    def decorate(cls: type) -> type:
        if not (isinstance(cls, type) and issubclass(cls, Rules)):
            raise TypeError(f"variant {name}: {cls!r} is not a subclass of Rules")
        CHAIN.register(name, doc, **{ROLE: lambda actor: with_rules(actor, cls)})
        return cls
    return decorate


# -- consensus rules --------------------------------------------------------------------------

@rules_variant("no_hash_link_check",
               "a block's parent is taken to be the adopted chain's block one height below "
               "it, without checking the block's parent hash")
class NoHashLinkCheck(Rules):
    def links(self, parent: Block, b: Block) -> bool:
        return True


@rules_variant("no_timestamp_check",
               "timestamps are not validated, and miners stamp their raw local clock")
class NoTimestampCheck(Rules):
    def check_timestamp(self, b: Block, parents: Sequence[Block], now: int | None) -> str | None:
        return None

    def stamp(self, parents: Sequence[Block], now: int) -> int:
        return now


# -- the node's decisions ---------------------------------------------------------------------

@CHAIN.subclass("latest_arrival_fork_choice",
                "the tip is the block accepted last, not the most-work one", ROLE)
class LatestArrivalForkChoice(ChainNode):
    def _fork_choice(self, current: tuple[Block, ...],
                     accepted: list[tuple[Block, ...]]) -> tuple[Block, ...]:
        return accepted[-1]


@CHAIN.subclass("adopt_unknown_parent",
                "a block whose parent is unknown is adopted instead of kept as an orphan", ROLE)
class AdoptUnknownParent(ChainNode):
    def _unknown_parent(self, node: str, state: NodeState, src: str, b: Block,
                        now: int) -> Handled:
        """Take a parentless block (with valid work and a timestamp within the drift) as a
        one-block chain."""
        if b.value >= self.rules.target or b.timestamp > now + self.rules.max_drift:
            return dataclasses.replace(state, rejected=state.rejected + 1), []
        return self._choose(node, state, src, b, [(b,)])


@CHAIN.subclass("reorg_forgets_old_branch",
                "a reorg deletes the old branch's blocks instead of keeping them", ROLE)
class ReorgForgetsOldBranch(ChainNode):
    def _kept_branch(self, dropped: frozenset[Block]) -> frozenset[Block]:
        return frozenset()


# -- the order of effects ---------------------------------------------------------------------

@CHAIN.wrapper("announce_before_persist",
               "a node gossips a block it mined or adopted before the Persist of the chain "
               "that holds it (a crash between the two: its peers have a block its disk lacks)",
               ROLE)
class AnnounceBeforePersist(ActorWrapper):
    def on_message(self, node: str, state: Any, src: str, msg: Any, now: float) -> Handled:
        st, effects = self.inner.on_message(node, state, src, msg, now)
        return st, persist_after_sends(effects)

    def on_timer(self, node: str, state: Any, name: str, now: float) -> Handled:
        st, effects = self.inner.on_timer(node, state, name, now)
        return st, persist_after_sends(effects)


def make_network(nodes: int = 3, difficulty: int = 16, tie: str = "first-seen",
                 max_drift: int = 2000, mtp_window: int = 11, mine_tries: int | None = 2000,
                 mine_delay: float | None = 0.0, announce_every: float | None = 1.0,
                 sync_on_restart: bool = True, salt: int = 0, variants: tuple[str, ...] = (),
                 stop_height: int | None = None, bugs: tuple[str, ...] = ()) -> dict[str, Any]:
    """Node id -> actor: ``make_cluster``'s nodes with the named variants of
    ``CHAIN`` applied in order (a factory for drivers such as ``paxchain.impl.net``
    and the simulator). ``bugs`` is the old name of ``variants``, accepted until every driver
    passes ``variants``. ``ValueError`` names a variant that is not registered."""
    cluster = make_cluster(nodes, difficulty, tie, max_drift, mtp_window, mine_tries,
                           mine_delay, announce_every, sync_on_restart, salt, stop_height)
    return {n: a for n, (a, _) in CHAIN.apply(tuple(variants) + tuple(bugs), cluster).items()}
