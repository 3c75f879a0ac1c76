"""Liveness of the chain model (``paxchain.models.chain_system``): chain growth and eventual
convergence, each a function of ``(model, state)``, opt-in (checked when named with
``--property``).

They are judged on fair runs under the model's assumptions
(``paxchain.models.chain_fairness``: fair delivery to up nodes, fair mining up to the budget),
and, like the safety ``convergence``, they excuse a run that lost a message (to a ``Drop`` or
to a crash point, ``lossless``): the protocol has no retransmission, and the model runs nodes
without re-announcement, so a lost block is never sent again.

=====================  ==============================================================
property               broken by
=====================  ==============================================================
eventually_caught_up   a partition (``-p partition=n1|n2``): the blocks found on one
                       side never reach the other
eventually_converged   first-seen ties (two blocks at one height: each node keeps the one
                       it saw first, for ever); a partition (each side mines its own)
=====================  ==============================================================

Both hold under lowest-hash ties without a partition at the small bounds the tests and
``paxchain.toml`` check: every fair run there ends once mining is over and nothing is in
flight, and the safety ``convergence`` says those states agree.
"""

from __future__ import annotations

from paxchain.models.properties import eventually, leads_to

__all__ = ["LIVENESS", "eventually_caught_up", "eventually_converged", "behind", "caught_up",
           "lossless"]


def lossless(m, s) -> bool:
    """No message was lost so far: none dropped, and no crash kept one from leaving or took
    one without acting on it (the model's ``crash_lost``)."""
    return m.remaining(s)[0] == m.faults.drops and not m.lost(s)


def _up_tips(m, s) -> list:
    return [node.state.tip for node in m.nodes(s).values() if node.up]


def behind(m, s) -> bool:
    """Some up node's chain is shorter than the best chain of an up node."""
    heights = [b.height for b in _up_tips(m, s)]
    return bool(heights) and min(heights) < max(heights)


def caught_up(m, s) -> bool:
    """Every up node's chain is as long as the best, or a message was lost."""
    return not behind(m, s) or not lossless(m, s)


@leads_to(trigger=behind, opt_in=True)
def eventually_caught_up(m, s) -> bool:
    """Chain growth: an up node behind another eventually catches up (or a message is lost).

    Whenever an up node's chain is shorter than another up node's, every up node eventually
    has a chain as long as the best. Liveness, opt-in. Broken by a partition: the blocks
    found on one side never reach the other. It holds under either tie rule (a tie is two
    chains of one length)."""
    return caught_up(m, s)


@eventually(opt_in=True)
def eventually_converged(m, s) -> bool:
    """Eventual convergence: mining ends with every up node on one tip (or a message is lost).

    Liveness, opt-in. Broken by first-seen ties (two blocks at one height, each node keeping
    the one it saw first) and by a partition (each side extends its own chain)."""
    if not lossless(m, s):
        return True
    if m.mined(s) < m.budget:
        return False
    tips = _up_tips(m, s)
    return all(t == tips[0] for t in tips)


LIVENESS = (eventually_caught_up, eventually_converged)
