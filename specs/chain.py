"""Properties of the chain system (``paxchain.models.chain_system``), each a function of ``(model, state)``.

Each docstring's first line states the property in words; the rest says how it is evaluated
and where it stops holding. ``chain(n)`` is node ``n``'s adopted chain (genesis .. tip),
``known(n)`` its chain plus its side blocks, ``work`` the cumulative work up to a block.

Which seeded variant (``paxchain.impl.chain_variants.CHAIN``) or natural scenario breaks each one
(``tests/test_chain_system.py`` asserts every row):

=========================== ================================================================
property                    broken by
=========================== ================================================================
hash_links                  no_hash_link_check
genesis_agreement           adopt_unknown_parent
chain_valid                 no_hash_link_check, no_timestamp_check, adopt_unknown_parent
tip_max_work                latest_arrival_fork_choice
mtp_monotone                no_timestamp_check (with a slow clock)
tip_work_monotone           latest_arrival_fork_choice
known_blocks_kept           reorg_forgets_old_branch
announced_blocks_persisted  announce_before_persist (a crash between the send and the write)
prefix_consistency          natural: k = 0 by two blocks found at once; any k below the
                            minimal one (``paxchain.checker.common_prefix.find_min_k``)
future_self_consistency     natural: k = 0 by a reorg
convergence                 natural: first-seen ties; clock offsets beyond max_drift;
                            announce_before_persist (the crashed miner forgets its block)
block_everywhere            (a goal) unreachable with budget 0
eventually_caught_up        (liveness, opt-in; ``paxchain.specs.chain_liveness``) a partition
eventually_converged        (liveness, opt-in) first-seen ties; a partition
=========================== ================================================================
"""

from __future__ import annotations

from paxchain.models.properties import Property, invariant, quiescent, sometimes, transition
from paxchain.impl.chain_block import Block, chain_problems, median_time_past
from paxchain.impl.chain_node import BlockMsg, common_length
# Liveness (opt-in: checked when named) and ``lossless``, the excuse both kinds share.
from paxchain.specs.chain_liveness import LIVENESS, lossless

__all__ = ["PROPERTIES", "properties", "common_length", "prefix_gap", "is_quiet", "lossless"]



def _memo(m, name: str) -> dict:
    """A per-model cache for per-node results (states share most node states)."""
    store = m.__dict__.setdefault("_spec_memo", {})
    return store.setdefault(name, {})


def prefix_gap(a, b) -> int:
    """The least k with ``a`` minus its last k blocks a prefix of ``b``: ``len(a) - common``."""
    return len(a) - common_length(a, b)


# -- structure of every adopted chain ------------------------------------------------------

def _bad_links(m, s) -> list[str]:
    out = []
    for name, st in zip(m.names, m.node_states(s)):
        c = st.chain
        for i in range(1, len(c)):
            if c[i].parent != c[i - 1].hash or c[i].height != c[i - 1].height + 1:
                out.append(f"{name}: block {c[i].short} (height {c[i].height}) names parent "
                           f"{c[i].parent[:8]}, but follows {c[i - 1].short}")
    return out


@invariant(explain=lambda m, s: "; ".join(_bad_links(m, s)))
def hash_links(m, s) -> bool:
    """Hash-link integrity: each block of a node's chain names its predecessor's hash.

    And its height is the predecessor's + 1."""
    memo = _memo(m, "links")
    for st in m.node_states(s):
        c = st.chain
        ok = memo.get(c)
        if ok is None:
            ok = memo[c] = all(c[i].parent == c[i - 1].hash
                               and c[i].height == c[i - 1].height + 1 for i in range(1, len(c)))
        if not ok:
            return False
    return True


def _explain_genesis(m, s) -> str:
    return "; ".join(f"{n}: chain starts with {st.chain[0].short} at height "
                     f"{st.chain[0].height}" for n, st in zip(m.names, m.node_states(s)))


@invariant(explain=_explain_genesis)
def genesis_agreement(m, s) -> bool:
    """Genesis agreement: every node's chain starts with the same block, the genesis block."""
    g = m.rules.genesis
    return all(st.chain[0] == g for st in m.node_states(s))


def _invalid(m, s) -> list[str]:
    out = []
    for i, (name, st) in enumerate(zip(m.names, m.node_states(s))):
        out += [f"{name}: {p}" for p in chain_problems(st.chain, m.rules, m.now(s, i))]
    return out


@invariant(explain=lambda m, s: "; ".join(_invalid(m, s)))
def chain_valid(m, s) -> bool:
    """Every adopted chain is valid by the network's rules.

    Genesis first, hash links, proof of work, each timestamp after the median time past of its
    predecessors and at most max_drift ahead of the node's clock.

    The clock rule is checked against the node's clock *now*, not at the moment it accepted the
    block; clocks only move forward, so a block that passed when accepted passes now too: this
    is implied by the rule, and a block accepted in breach of it fails here at once. The rules
    are the network's (``paxchain.impl.chain_block.chain_problems``), whatever bug the nodes run.
    """
    rules, memo = m.rules, _memo(m, "valid")
    for i, st in enumerate(m.node_states(s)):
        key = (st.chain, m.now(s, i))
        ok = memo.get(key)
        if ok is None:
            ok = memo[key] = not chain_problems(st.chain, rules, key[1])
        if not ok:
            return False
    return True


def _explain_tip_work(m, s) -> str:
    out = []
    for name, st in zip(m.names, m.node_states(s)):
        best = max(st.known(), key=lambda b: (b.height, b.hash))
        if best.height > st.tip.height:
            out.append(f"{name}: tip {st.tip.short} at height {st.tip.height}, but knows "
                       f"{best.short} at height {best.height}")
    return "; ".join(out)


@invariant(explain=_explain_tip_work)
def tip_max_work(m, s) -> bool:
    """Most-work rule: each node's tip has maximal cumulative work among its known valid blocks.

    Known valid blocks are the chain and the side blocks (orphans are not yet valid). With one
    target for all blocks, work is (height + 1) times the work of a block, so heights are
    compared.
    """
    for st in m.node_states(s):
        h = st.tip.height
        if any(b.height > h for b in st.side):
            return False
    return True


def _mtps(m, chain) -> list[int]:
    return [median_time_past(chain[:i + 1], m.rules.mtp_window) for i in range(len(chain))]


def _explain_mtp(m, s) -> str:
    return "; ".join(f"{name}: median time past along the chain is {_mtps(m, st.chain)}"
                     for name, st in zip(m.names, m.node_states(s))
                     if _mtps(m, st.chain) != sorted(_mtps(m, st.chain)))


@invariant(explain=_explain_mtp)
def mtp_monotone(m, s) -> bool:
    """Median time past never decreases along any node's chain.

    It follows from the rule "timestamp > median time past" (with the upper median of an
    odd or even window), so a chain with a block stamped at or before its median time past can
    break it.
    """
    memo = _memo(m, "mtp")
    for st in m.node_states(s):
        ok = memo.get(st.chain)
        if ok is None:
            x = _mtps(m, st.chain)
            ok = memo[st.chain] = x == sorted(x)
        if not ok:
            return False
    return True


# -- write-ahead: what a node announces, its disk backs ------------------------------------

def _persisted_height(p) -> int:
    """The tip height of a persisted ``(chain, orphans)`` (0 before the first write)."""
    return p[0][-1].height if p is not None and p[0] else 0


def _sent_block(msg) -> Block | None:
    """The block a message carries, if any."""
    return msg.block if isinstance(msg, BlockMsg) and isinstance(msg.block, Block) else None


def _unbacked(m, s) -> list[str]:
    out = []
    persisted = m.durables(s)
    for src, dst, msg in m.network(s):
        block = _sent_block(msg)
        disk = _persisted_height(persisted[m.index[src]])
        if block is not None and block.height > disk:
            out.append(f"{src} has block {block.short} (height {block.height}) on its way to "
                       f"{dst}, but its persisted chain has height {disk}")
    return out


@invariant(explain=lambda m, s: "; ".join(_unbacked(m, s)))
def announced_blocks_persisted(m, s) -> bool:
    """Write-ahead gossip: no block a node has in flight outweighs the chain on its disk.

    Each block message in flight from a node has at most the work of the chain that node last
    persisted. A correct node persists the chain holding a block before it sends the block (a
    mined block, a new tip it relays, a block it serves), and its persisted work never
    decreases (it only switches to more work, or equal work on a tie). A node that
    sends first and crashes before the write comes back with less work than it told its peers:
    they build on a block its own miner no longer has, and it mines a competitor at the same
    height. Only a crash *between* a handler's send and its write shows this, so it needs the
    model's crash points (with every step atomic, the write always lands with the send).
    Messages are read as a multiset (the ``flight_multiset`` reduction preserves it);
    work is (height + 1) times the block work, so heights are compared.
    """
    persisted, index = m.durables(s), m.index
    for src, _, msg in m.network(s):
        block = _sent_block(msg)
        if block is not None and block.height > _persisted_height(persisted[index[src]]):
            return False
    return True


# -- transitions ---------------------------------------------------------------------------

def _explain_work_drop(m, s, t) -> str:
    return "; ".join(f"{name}: tip height {a.tip.height} -> {b.tip.height}"
                     for name, a, b in zip(m.names, m.node_states(s), m.node_states(t))
                     if b.tip.height < a.tip.height)


@transition(explain=_explain_work_drop)
def tip_work_monotone(m, s, t) -> bool:
    """The work of a node's tip never decreases, across every step including crash-restart.

    With one target for all blocks, work is (height + 1) times the block work: heights are
    compared."""
    return all(a is b or b.tip.height >= a.tip.height for a, b in zip(m.node_states(s), m.node_states(t)))


def _explain_forgot(m, s, t) -> str:
    return "; ".join(f"{name} forgot {', '.join(sorted(x.short for x in a.known() - b.known()))}"
                     for name, a, b in zip(m.names, m.node_states(s), m.node_states(t))
                     if not a.known() <= b.known())


@transition(explain=_explain_forgot)
def known_blocks_kept(m, s, t) -> bool:
    """A running node never forgets a valid block: a reorg keeps the old branch known.

    Checked on every step except crashes, where a node keeps only its persisted chain, and
    for a node that was down (its restart: with the model's ``restart_at_once`` off, a down
    node shows the state it would restart with, not a running node's).
    """
    if m.remaining(t)[2] < m.remaining(s)[2]:  # a crash (or a crash point)
        return True
    return all(a is b or not m.is_up(s, i)
               or (a.side <= b.known() and b.known().issuperset(a.chain))
               for i, (a, b) in enumerate(zip(m.node_states(s), m.node_states(t))))


# -- common prefix, future self-consistency, convergence -----------------------------------

def _explain_prefix(m, s) -> str:
    out = []
    nodes = m.node_states(s)
    for i in range(m.n):
        for j in range(m.n):
            a, b = nodes[i].chain, nodes[j].chain
            if i != j and prefix_gap(a, b) > m.k:
                out.append(f"{m.names[i]}'s chain of height {a[-1].height} minus {m.k} blocks "
                           f"is not a prefix of {m.names[j]}'s (they part after height "
                           f"{common_length(a, b) - 1}; k >= {prefix_gap(a, b)} needed)")
    return "; ".join(out)


@invariant(explain=_explain_prefix)
def prefix_consistency(m, s) -> bool:
    """Common prefix (k): any node's chain minus its last k blocks is a prefix of every other's.

    For any two nodes, each chain with its last k blocks cut off is a prefix of the other's
    chain, while no message has been lost.

    k is the model parameter ``k``. It fails for small k as soon as two nodes find blocks at
    the same time (a natural fork); ``find_min_k`` searches the least k that holds. It is a
    property of a network that delivers within the delay bound, so it is checked in runs
    where no message was lost (``lossless``): a dropped announcement, or one a crash kept from
    leaving, lets its sender run ahead unheard by any number of blocks.
    """
    if not lossless(m, s):
        return True
    k = m.k
    chains = [st.chain for st in m.node_states(s)]
    if all(c == chains[0] for c in chains):
        return True
    for i, a in enumerate(chains):
        for j, b in enumerate(chains):
            if i != j and prefix_gap(a, b) > k:
                return False
    return True


def _explain_self(m, s, t) -> str:
    return "; ".join(f"{name}: chain minus its last {m.k} blocks (height "
                     f"{a.tip.height - m.k}) is not a prefix of its next chain (they part "
                     f"after height {common_length(a.chain, b.chain) - 1})"
                     for name, a, b in zip(m.names, m.node_states(s), m.node_states(t))
                     if prefix_gap(a.chain, b.chain) > m.k)


@transition(explain=_explain_self)
def future_self_consistency(m, s, t) -> bool:
    """Future self-consistency (k): a node's chain minus its last k blocks stays its prefix.

    A node's chain minus its last k blocks is a prefix of its chain in the next state.

    This is the one-step version. It implies the full property (a prefix of *every* later
    chain of the node) whenever chains never get shorter: if c minus k blocks is a prefix of
    c' and len(c') >= len(c), it is a prefix of c' minus k blocks, hence of c'' and so on.
    Chains never get shorter when ``tip_work_monotone`` holds, since work is (height + 1) times
    the block work and ``hash_links`` plus ``genesis_agreement`` make height + 1 the length.
    So when those three and this one hold exhaustively, the full property holds in the
    explored space; where ``tip_work_monotone`` fails, this check alone may miss a multi-step
    violation.
    """
    return all(a is b or prefix_gap(a.chain, b.chain) <= m.k
               for a, b in zip(m.node_states(s), m.node_states(t)))


def is_quiet(m, s) -> bool:
    """Quiescent: nothing in flight, the mining budget spent, and no message was lost."""
    return m.mined(s) == m.budget and not m.network(s) and lossless(m, s)


def _explain_tips(m, s) -> str:
    return "tips: " + ", ".join(f"{n}={st.tip.short} (height {st.tip.height})"
                                for n, st in zip(m.names, m.node_states(s)))


@quiescent(is_quiet, explain=_explain_tips)
def convergence(m, s) -> bool:
    """Convergence: in a quiescent state all nodes have the same tip.

    Quiescent: nothing in flight, no mining left, no message lost.

    Lost messages — dropped, or kept from leaving by a crash — are excluded because the
    protocol as modelled has no retransmission: a lost block announcement leaves its receiver
    behind for good. It fails under first-seen ties (two
    equal-work tips each kept by the node that saw it first) and, under any tie rule, when
    clock offsets exceed max_drift (a block rejected as too far in the future is not
    retried). It holds under lowest-hash ties with clocks within max_drift (checked).
    """
    tip = m.node_states(s)[0].tip
    return all(st.tip == tip for st in m.node_states(s))


@sometimes()
def block_everywhere(m, s) -> bool:
    """Some state has a mined block in every node's chain (the safety checks are not vacuous)."""
    return all(st.tip.height >= 1 for st in m.node_states(s))


PROPERTIES = (hash_links, genesis_agreement, chain_valid, tip_max_work, mtp_monotone,
              tip_work_monotone, known_blocks_kept, announced_blocks_persisted,
              prefix_consistency,
              future_self_consistency, convergence, block_everywhere)


def properties(m) -> list[Property]:
    """The properties of the instance ``m`` (a ``ChainSystem``), bound to it, the opt-in
    liveness ones (``paxchain.specs.chain_liveness``) last."""
    return [p.bind(m) for p in PROPERTIES + LIVENESS]
