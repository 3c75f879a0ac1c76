"""Run-level properties of the chain: prefix consistency and durable storage of the chains a
real run persisted (``paxchain.models.chain_driver.run_net``), read back from disk.

Both measure two chains with the model spec's own predicate, ``paxchain.specs.chain.prefix_gap``
(the least k with one chain minus its last k blocks a prefix of the other). They differ in
which direction must be small, because they judge different moments:

- the model's ``prefix_consistency`` holds in every state of a lossless run: for *every*
  ordered pair of nodes, ``prefix_gap <= k``;
- a real run's persisted chains are compared once, at the end, whatever the crashes and
  losses left behind. A node that is merely *behind* -- its chain is a prefix of another's, or
  leaves it by at most k blocks -- is consistent with it: it can still adopt the other chain
  by dropping at most k blocks, which is what prefix consistency with k allows (for *some*
  direction of the pair, ``prefix_gap <= k``). Two chains *diverge* when the gap is more than
  k both ways: whichever wins, a node must drop more than k blocks.

A node that never persisted a chain holds genesis only, a prefix of every chain; a chain file
that holds no chain breaks durable storage (a fsync'ed write is replaced whole or not at all).
"""

from __future__ import annotations

from paxchain.specs.chain import prefix_gap

__all__ = ["divergences", "behind", "unreadable"]


def divergences(chains: dict[str, tuple], k: int) -> list[str]:
    """The pairs of persisted chains that *diverge* deeper than ``k``: past the last block
    they share, each has more than ``k`` blocks of its own (``prefix_gap`` both ways)."""
    bad = []
    names = sorted(chains)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            ca, cb = chains[a], chains[b]
            da, db = prefix_gap(ca, cb), prefix_gap(cb, ca)
            if min(da, db) > k:
                bad.append(f"{a} and {b} part after height {len(ca) - da - 1}: {da} and {db} "
                           f"blocks of their own, both more than k={k}")
    return bad


def behind(chains: dict[str, tuple]) -> str:
    """Which nodes are merely behind: their chain is a proper prefix of another's
    (``prefix_gap`` zero one way, positive the other)."""
    out = []
    for a, ca in sorted(chains.items()):
        ahead = [b for b, cb in sorted(chains.items())
                 if len(cb) > len(ca) and prefix_gap(ca, cb) == 0]
        if ahead:
            out.append(f"{a} is behind {ahead[0]}")
    return ", ".join(out)


def unreadable(chains: dict[str, object]) -> list[str]:
    """The nodes whose chain file holds no chain (``read_chains`` says ``"unreadable"``)."""
    return [n for n, c in chains.items() if c == "unreadable"]
