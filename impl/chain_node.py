"""A chain node as a sans-IO actor (``paxchain.impl.actor``): mining, validation, fork choice, gossip.

Theory of operation. A node's state (``NodeState``) is its adopted chain (genesis .. tip), the
other valid blocks it knows (``side``: losing forks and old branches, kept so a later reorg
needs no download), its orphans (blocks whose parent it has not seen) and a counter of rejected
input. Every handler returns a new state and a list of effects; nothing here touches a socket, a
file or a clock: ``now`` is the node's own local clock reading, given by the driver.

- A block arrives (``BlockMsg``). Known already: ignored. Parent unknown: kept as an orphan and
  the parent is requested from the sender (``GetBlock``). Otherwise it is validated against the
  chain ending at its parent (``chain_block.check_block``); invalid blocks are counted and
  dropped. A valid block is added, then every orphan it makes connectable, recursively.
- Fork choice: among the current chain and the newly connected blocks' chains, the one with the
  most cumulative work wins; on equal work ``first-seen`` keeps the current tip and
  ``lowest-hash`` takes the smaller tip hash. Switching to a chain that does not extend the old
  tip is a reorg; the old branch's blocks stay known (in ``side``).
- The durable part is ``(chain, orphans)``: it is persisted (``Persist``, before anything is
  sent: write-ahead) whenever either changes. Orphans are durable because a parent request
  in flight would otherwise be answered to a node that forgot why it asked; side blocks are
  volatile, since a later child makes the node request them again.
- A new tip is
  announced to every peer by sending the tip block (not back to the peer it came from). A
  tip received straight from its miner is not relayed: the miner sends each block it finds to
  every peer itself (the network is a full mesh).
- ``GetBlock(h)`` is answered with the block when it is known; ``GetTip`` with the tip.
- Mining is the timer ``mine``: a batch of nonces is tried (``mine_tries``; ``None`` means until
  found, for the model checker's tiny targets). A block found is adopted, persisted and sent.
- Restart (``on_start`` with the persisted chain): the chain is re-verified (hash links, proof of
  work, median time past) and, with ``sync_on_restart``, the node asks every peer for its tip
  (``GetTip``) to catch up on blocks it missed while down. With ``announce_every`` set, the
  timer ``announce`` re-sends the tip to every peer periodically (recovery from lost messages).
  The model checker runs with neither: there a crash-restart is instantaneous and in-flight
  messages survive it, so a restarted node misses nothing.
- Malformed messages (unknown types, ill-typed fields) and invalid blocks increment
  ``rejected`` and change nothing else; no input makes a handler raise.

Variants. The decisions a seeded bug changes are small methods: ``_unknown_parent`` (a block
whose parent is unknown), ``_fork_choice`` (which chain wins), ``_kept_branch`` (what a reorg
keeps of the old branch), and the ``Rules`` methods the node validates and mines with
(``paxchain.impl.chain_block``). A variant overrides one of them in a subclass, or wraps the handlers,
outside production code (``paxchain.impl.chain_variants.CHAIN``); nothing here carries a bug flag.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from collections.abc import Hashable
from typing import Any

from paxchain.impl.actor import Effect, Handled, Output, Persist, Send, SetTimer
from paxchain.impl.chain_block import (Block, Rules, chain_work, check_block, is_hash, mine_block,
                              verify_chain)

__all__ = ["common_length", "NodeState", "BlockMsg", "GetBlock", "GetTip", "Submit", "ChainNode", "MINE_TIMER",
           "ANNOUNCE_TIMER", "MESSAGES", "fresh_state", "as_block", "as_durable",
           "make_cluster", "ROLE"]

ROLE = "node"  # every chain node plays the one role of impl.chain_variants.CHAIN
MINE_TIMER = "mine"
ANNOUNCE_TIMER = "announce"
MAX_PENDING = 64


@dataclass(frozen=True)
class BlockMsg:
    """A block, pushed as a new tip or sent in answer to ``GetBlock``/``GetTip``."""

    block: Block


@dataclass(frozen=True)
class GetBlock:
    """Ask a peer for the block with this hash."""

    hash: str


@dataclass(frozen=True)
class GetTip:
    """Ask a peer for its tip (sent after a restart)."""


@dataclass(frozen=True)
class Submit:
    """A client asks the node to timestamp ``item`` in a future block."""

    item: str


@dataclass(frozen=True)
class NodeState:
    """What one node knows. ``chain`` is durable (persisted on every change), the rest volatile.

    ``mining`` is ``(tip hash, timestamp, next nonce)`` of an unfinished nonce search, kept
    between ``mine`` timer ticks (always ``None`` when searches run to completion).
    """

    chain: tuple[Block, ...]
    side: frozenset[Block] = frozenset()
    orphans: frozenset[Block] = frozenset()
    rejected: int = 0
    pending: tuple[str, ...] = ()
    mining: tuple[str, int, int] | None = None

    def __hash__(self) -> int:
        # Cached: a model checker hashes the same node states millions of times. Not pickled
        # (``__getstate__``), since string hashes differ between processes.
        h = self.__dict__.get("_hash")
        if h is None:
            h = hash((self.chain, self.side, self.orphans, self.rejected, self.pending,
                      self.mining))
            object.__setattr__(self, "_hash", h)
        return h

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_hash"}

    @property
    def tip(self) -> Block:
        return self.chain[-1]

    def known(self) -> frozenset[Block]:
        """Every valid block the node holds: its chain and its side blocks."""
        return self.side.union(self.chain)

    def find(self, h: str) -> Block | None:
        for b in self.chain:
            if b.hash == h:
                return b
        for b in self.side:
            if b.hash == h:
                return b
        return None


def fresh_state(rules: Rules) -> NodeState:
    return NodeState(chain=(rules.genesis,))


class ChainNode:
    """The handlers of one network's nodes (``paxchain.impl.actor.Actor``).

    ``peers`` names every node of the network (a node skips itself). ``mine_tries`` bounds a
    ``mine`` tick's nonce search (``None``: search until found); ``mine_delay``, when set, is the
    delay at which the ``mine`` timer is re-armed (the runtime's mining loop); ``salt`` is
    where nonce searches start; ``stop_height`` stops mining once the tip is that high (so a
    finite run can settle).
    """

    def __init__(self, rules: Rules, peers: tuple[str, ...], mine_tries: int | None = None,
                 mine_delay: float | None = None, sync_on_restart: bool = True,
                 announce_every: float | None = None, salt: int = 0,
                 stop_height: int | None = None) -> None:
        self.rules = rules
        self.peers = tuple(peers)
        self.mine_tries = mine_tries
        self.mine_delay = mine_delay
        self.sync_on_restart = sync_on_restart
        self.announce_every = announce_every
        self.salt = salt
        self.stop_height = stop_height

    # -- start and restart ------------------------------------------------------------------
    def on_start(self, node: str, durable: Hashable | None, now: float) -> Handled:
        """Start from the genesis block, or resume from the persisted chain and ask for tips."""
        effects: list[Effect] = []
        state = fresh_state(self.rules)
        if durable is not None:
            chain, orphans = as_durable(durable)
            if chain is not None and verify_chain(chain, self.rules):
                state = NodeState(chain=chain, orphans=orphans - set(chain))
            else:
                state = replace(state, rejected=1)
            if self.sync_on_restart:
                effects += [Send(p, GetTip()) for p in self.peers if p != node]
        if self.mine_delay is not None:
            effects.append(SetTimer(MINE_TIMER, self.mine_delay))
        if self.announce_every is not None:
            effects.append(SetTimer(ANNOUNCE_TIMER, self.announce_every))
        effects.append(Output(("start", state.tip.hash, state.tip.height)))
        return state, effects

    # -- messages ---------------------------------------------------------------------------
    def on_message(self, node: str, state: NodeState, src: str, msg: Any, now: float) -> Handled:
        """Handle one message; malformed ones are counted and otherwise ignored."""
        now = int(now)
        if isinstance(msg, BlockMsg):
            b = as_block(msg.block)
            if b is not None:
                return self._on_block(node, state, src, b, now)
        if isinstance(msg, GetBlock) and is_hash(msg.hash):
            b = state.find(msg.hash)
            return state, ([Send(src, BlockMsg(b))] if b is not None else [])
        if isinstance(msg, GetTip):
            tip = state.tip
            return state, ([Send(src, BlockMsg(tip))] if tip.height > 0 else [])
        if (isinstance(msg, Submit) and isinstance(msg.item, str) and 0 < len(msg.item) <= 256
                and len(state.pending) < MAX_PENDING):
            if msg.item in state.pending:
                return state, []
            return replace(state, pending=state.pending + (msg.item,)), []
        return replace(state, rejected=state.rejected + 1), []

    # -- timers -----------------------------------------------------------------------------
    def on_timer(self, node: str, state: NodeState, name: str, now: float) -> Handled:
        """``mine``: try nonces for a block on the tip; adopt and announce it when found.
        ``announce``: send the tip to every peer, and re-arm."""
        if name == ANNOUNCE_TIMER and self.announce_every is not None:
            effects: list[Effect] = ([Send(p, BlockMsg(state.tip)) for p in self.peers
                                      if p != node] if state.tip.height > 0 else [])
            return state, effects + [SetTimer(ANNOUNCE_TIMER, self.announce_every)]
        if name != MINE_TIMER:
            return state, []
        now = int(now)
        rearm: list[Effect] = ([SetTimer(MINE_TIMER, self.mine_delay)]
                               if self.mine_delay is not None else [])
        tip = state.tip
        if self.stop_height is not None and tip.height >= self.stop_height:
            return state, rearm
        start, stamp = self.salt, now
        if state.mining is not None and state.mining[0] == tip.hash:
            _, stamp, start = state.mining
        payload = state.pending[:16]
        b = mine_block(state.chain, node, stamp, payload, self.rules, start, self.mine_tries)
        if b is None:
            tries = self.mine_tries or 0
            return replace(state, mining=(tip.hash, stamp, start + tries)), rearm
        if check_block(b, state.chain, now, self.rules) is not None:
            # Our own clock makes the block invalid (e.g. MTP far ahead of it): do not publish.
            return replace(state, mining=None), rearm
        chain = state.chain + (b,)
        new = replace(state, chain=chain, mining=None, pending=_unconfirmed(state.pending, b))
        effects = [Persist((chain, new.orphans))]
        effects += [Send(p, BlockMsg(b)) for p in self.peers if p != node]
        effects.append(Output(("mined", b.hash, b.height)))
        effects.append(Output(("tip", b.hash, b.height)))
        return new, effects + rearm

    # -- blocks -----------------------------------------------------------------------------
    def _on_block(self, node: str, state: NodeState, src: str, b: Block, now: int) -> Handled:
        rules = self.rules
        if b in state.orphans or state.find(b.hash) is not None:
            return state, []
        parents = self._parents(state, b)
        if parents is None:
            return self._unknown_parent(node, state, src, b, now)
        if check_block(b, parents, now, rules) is not None:
            return replace(state, rejected=state.rejected + 1), []
        accepted = [parents + (b,)]
        orphans = set(state.orphans)
        rejected = state.rejected
        # Connect the orphans that now have a known parent, parents before children.
        i = 0
        while i < len(accepted) and orphans:
            base = accepted[i]
            for o in sorted(o for o in orphans if o.parent == base[-1].hash):
                orphans.discard(o)
                if check_block(o, base, now, rules) is None:
                    accepted.append(base + (o,))
                else:
                    rejected += 1
            i += 1
        changed = len(orphans) != len(state.orphans)
        state = replace(state, orphans=frozenset(orphans), rejected=rejected)
        return self._choose(node, state, src, b, accepted, changed)

    def _unknown_parent(self, node: str, state: NodeState, src: str, b: Block,
                        now: int) -> Handled:
        """A valid-looking block whose parent the node does not know: kept as an orphan (and
        persisted), its parent requested from the sender; another network's genesis is
        rejected; a full orphan pool ignores it."""
        if b.height == 0:  # another network's genesis
            return replace(state, rejected=state.rejected + 1), []
        if len(state.orphans) >= self.rules.max_orphans:
            return state, []
        orphans = state.orphans | {b}
        return (replace(state, orphans=orphans),
                [Persist((state.chain, orphans)), Send(src, GetBlock(b.parent)),
                 Output(("orphan", b.hash, b.height))])

    def _parents(self, state: NodeState, b: Block) -> tuple[Block, ...] | None:
        """The known chain genesis .. ``b``'s parent, or ``None`` when the parent is unknown.

        The adopted chain's block one height below ``b`` is its parent when ``Rules.links``
        says so; otherwise side blocks are walked back to the chain."""
        chain = state.chain
        if b.height < 1:
            return None
        if b.height <= len(chain) and self.rules.links(chain[b.height - 1], b):
            return chain[:b.height]
        # Walk side blocks back to the adopted chain.
        side = {x.hash: x for x in state.side}
        branch: list[Block] = []
        h = b.parent
        while True:
            x = side.get(h)
            if x is None:
                return None
            branch.append(x)
            if 0 < x.height <= len(chain) and chain[x.height - 1].hash == x.parent:
                return chain[:x.height] + tuple(reversed(branch))
            h = x.parent

    def _better(self, cand: tuple[Block, ...], best: tuple[Block, ...]) -> bool:
        wc, wb = chain_work(cand, self.rules), chain_work(best, self.rules)
        if wc != wb:
            return wc > wb
        return self.rules.tie == "lowest-hash" and cand[-1].hash < best[-1].hash

    def _choose(self, node: str, state: NodeState, src: str, received: Block,
                accepted: list[tuple[Block, ...]], orphans_changed: bool = False) -> Handled:
        """Fork choice over the current chain and the newly accepted blocks' chains."""
        best = self._fork_choice(state.chain, accepted)
        new_blocks = frozenset(c[-1] for c in accepted)
        if best is state.chain:
            effects: list[Effect] = []
            if orphans_changed:
                effects.append(Persist((state.chain, state.orphans)))
            return replace(state, side=state.side | new_blocks), effects
        return self._switch(node, state, src, received, best, new_blocks)

    def _fork_choice(self, current: tuple[Block, ...],
                     accepted: list[tuple[Block, ...]]) -> tuple[Block, ...]:
        """The chain to adopt: the most-work one among ``current`` and ``accepted`` (ties by
        ``Rules.tie``); ``current`` itself (the same object) when it stays."""
        best = current
        for cand in accepted:
            if self._better(cand, best):
                best = cand
        return best

    def _kept_branch(self, dropped: frozenset[Block]) -> frozenset[Block]:
        """What a reorg keeps known (as side blocks) of the old branch's ``dropped`` blocks:
        all of them, so switching back later needs no download."""
        return dropped

    def _switch(self, node: str, state: NodeState, src: str, received: Block,
                chain: tuple[Block, ...], new_blocks: frozenset[Block]) -> Handled:
        old = state.chain
        fork = common_length(old, chain)
        on_chain = frozenset(chain)
        dropped = frozenset(old[fork:])
        side = (state.side | new_blocks | self._kept_branch(dropped)) - on_chain
        tip = chain[-1]
        requeued = tuple(i for b in old[fork:] for i in b.payload)
        new = replace(state, chain=chain, side=side, mining=None,
                      pending=_unconfirmed(state.pending + requeued, *chain[fork:]))
        effects: list[Effect] = [Persist((chain, state.orphans))]
        if not (tip == received and src == tip.miner):
            # The miner sends its blocks to every peer itself: relay only tips learnt otherwise.
            effects += [Send(p, BlockMsg(tip)) for p in self.peers
                        if p != node and not (p == src and tip == received)]
        if dropped:
            effects.append(Output(("reorg", len(dropped), tip.hash, tip.height)))
        effects.append(Output(("tip", tip.hash, tip.height)))
        return new, effects


def common_length(a: tuple[Block, ...], b: tuple[Block, ...]) -> int:
    """How many leading blocks chains ``a`` and ``b`` share."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _unconfirmed(pending: tuple[str, ...], *blocks: Block) -> tuple[str, ...]:
    if not pending:
        return pending
    done = {i for b in blocks for i in b.payload}
    return tuple(dict.fromkeys(i for i in pending if i not in done))


def as_block(x: Any) -> Block | None:
    """``x`` as a block: a ``Block``, or the plain 8-tuple a wire or disk decoder gives back
    (its stated hash must be the block's hash); ``None`` for anything else."""
    if isinstance(x, Block):
        return x
    if not isinstance(x, tuple) or len(x) != 8:
        return None
    try:
        b = Block(*x[1:7])
    except (TypeError, ValueError):
        return None
    return b if b.hash == x[0] else None


def as_durable(x: Any) -> tuple[tuple[Block, ...] | None, frozenset[Block]]:
    """The ``(chain, orphans)`` a node persisted, or ``(None, {})`` when malformed."""
    if not isinstance(x, tuple) or len(x) != 2 or not isinstance(x[0], tuple) or not x[0]:
        return None, frozenset()
    chain = tuple(as_block(b) for b in x[0])
    orphans = frozenset(as_block(b) for b in x[1]) if isinstance(x[1], frozenset) else None
    if None in chain or orphans is None or None in orphans:
        return None, frozenset()
    # (mypy cannot see that the test above leaves no None in chain or orphans.)
    return chain, orphans  # type: ignore[return-value]


MESSAGES = (BlockMsg, GetBlock, GetTip, Submit)


def make_cluster(nodes: int = 3, difficulty: int = 16, tie: str = "first-seen",
                 max_drift: int = 2000, mtp_window: int = 11, mine_tries: int | None = 2000,
                 mine_delay: float | None = 0.0, announce_every: float | None = 1.0,
                 sync_on_restart: bool = True, salt: int = 0,
                 stop_height: int | None = None) -> dict[str, tuple[ChainNode, str]]:
    """Node id -> ``(actor, "node")`` for ``nodes`` production nodes ``n1..nN`` sharing one set
    of rules: the cluster shape ``paxchain.impl.chain_variants.CHAIN.apply`` (and
    ``paxchain.impl.net.variant_cluster``) takes. JSON-friendly arguments only."""
    rules = Rules.with_difficulty(difficulty, tie=tie, max_drift=max_drift,
                                  mtp_window=mtp_window)
    names = tuple(f"n{i + 1}" for i in range(nodes))
    return {n: (ChainNode(rules, names, mine_tries, mine_delay, sync_on_restart,
                          announce_every, salt + (i << 40), stop_height), ROLE)
            for i, n in enumerate(names)}

