"""The history forgets the reports of retired ballots (``paxchain.models.retirement``): what
the properties read is unchanged for every variant, and a premise that fails is caught.

``tests/test_reductions.py`` compares every variant's verdicts and shortest traces with each
reduction on and off at the model's reduction bounds (one of them the first bound here); here
the reachable projections are compared at two bounds with two rounds, where ballots retire
without being spent.
"""

from __future__ import annotations

import pytest

from paxchain.checker.explicit import check, reachable_states
from paxchain.checker.result import Options
from paxchain.impl.paxos_variants import PAXOS
from paxchain.models import registry
from paxchain.models.model import ReductionUnsound
from paxchain.models.paxos_system import PaxosSystem

BOUNDS = [{"acceptors": "2", "proposers": "1", "max_rounds": "2", "crashes": "1"},
          {"acceptors": "3", "proposers": "1", "max_rounds": "2", "crashes": "0"}]
CASES = [(b, v) for b in range(len(BOUNDS)) for v in [None, *sorted(PAXOS.docs)]]


def _build(bound: dict, variant: str | None, **more: str) -> PaxosSystem:
    # subsume=0: whole reachable sets (subsumption leaves states out on purpose).
    return registry.build("paxos-system", {**bound, "subsume": "0", **more}, variant)


def _outcome(result) -> dict:
    return {p.name: (p.verdict, None if p.trace is None else len(p.trace.steps))
            for p in result.properties}


def _reachable(m):
    """``m`` and its reachable states, with any reduction but retirement whose premise fails
    switched off, as the engine would (``proposer_ignores_reply_ballot`` fails burial's)."""
    while True:
        try:
            return m, reachable_states(m)
        except ReductionUnsound as exc:
            if exc.reduction == "retirement":
                raise
            m = m.without_reduction(exc.reduction, "test: premise failed")


@pytest.mark.parametrize("bound, variant", CASES,
                         ids=[f"b{b}-{v or 'correct'}" for b, v in CASES])
def test_retirement_keeps_what_the_properties_read(bound, variant):
    whole, everything = _reachable(_build(BOUNDS[bound], variant, retire="0"))
    want = {whole.projection(s) for s in everything}
    reduced = _build(BOUNDS[bound], variant)
    for name in whole.off:  # the same reductions off as in the whole model
        reduced = reduced.without_reduction(name, "test: premise failed")
    try:
        states = reachable_states(reduced)
    except ReductionUnsound as exc:
        # The engine switches the reduction off, says so, and checks with the whole history.
        assert exc.reduction == "retirement"
        r = check(_build(BOUNDS[bound], variant), Options(keep_going=True))
        assert any(t.startswith("retirement off (premise failed") for t in r.reductions)
        return
    assert {reduced.projection(s) for s in states} == want


def test_retirement_merges_states_at_two_rounds():
    # A proposer that retries leaves the Promises of its first ballot behind; without them,
    # runs that differ only in which of those were sent meet again.
    whole = reachable_states(_build(BOUNDS[0], None, retire="0"))
    reduced = reachable_states(_build(BOUNDS[0], None))
    assert len(reduced) < len(whole)


class _EagerDead(PaxosSystem):
    """A model whose ``dead`` hook calls every Promise dead at every proposer: every ballot is
    retired from the start, so the first Accept is a phase 2 in a retired ballot."""

    def _dead(self, node, view, msg):
        return node in self._proposer_set


class _DeadWhileUp(PaxosSystem):
    """Every Promise is dead at a proposer while it is up: a crash brings its ballots back."""

    def _dead(self, node, view, msg):
        return node in self._proposer_set and view.up


@pytest.mark.parametrize("cls, what", [(_EagerDead, "sends an Accept in it"),
                                       (_DeadWhileUp, "not after")])
def test_a_retirement_premise_that_fails_is_caught_and_the_search_redone(cls, what):
    # bury=False: the hook serves retirement alone (burial checks it on its own).
    kwargs = dict(acceptors=2, proposers=1, max_rounds=2, crashes=1, bury=False, subsume=False)
    with pytest.raises(ReductionUnsound) as exc:
        reachable_states(cls(**kwargs))
    assert exc.value.reduction == "retirement" and what in exc.value.detail
    r = check(cls(**kwargs), Options(keep_going=True))
    assert any(t.startswith("retirement off (premise failed") for t in r.reductions)
    assert _outcome(r) == _outcome(check(PaxosSystem(**kwargs, retire=False),
                                         Options(keep_going=True)))
