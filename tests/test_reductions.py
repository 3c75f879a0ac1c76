"""Every variant through every reduction, on and off: no reduction changes a verdict.

The cases come from the registry, not from a hand-kept list: every model that names
``reduction_bounds``, every variant of it (shipped, or registered by a plugin before the tests
are collected) and the correct model, at each of those bounds. For each, the search with every
reduction off (and no symmetry) is the reference; the search with every reduction on, and with
each one switched off in turn, must give the same verdict for every property and the same
shortest trace length for every violated one; depth-first search with every reduction on, the
same verdicts. A reduction whose premise fails for a variant is
switched off by the engine (``paxchain.checker.explicit.check``), which the result says; the reachable
projections (what the properties read) are compared too wherever the premise holds.
"""

from __future__ import annotations

import pytest

from paxchain.checker.explicit import check, reachable_states
from paxchain.models.model import ReductionUnsound
from paxchain.checker.result import HOLDS, Options, Strategy
from paxchain.models import registry

CASES = [(name, bound, variant)
         for name, e in sorted(registry.entries().items())
         for bound in e.reduction_bounds
         for variant in [None, *sorted(e.variants)]]
IDS = [f"{n}-b{registry.entry(n).reduction_bounds.index(b)}-{v or 'correct'}"
       for n, b, v in CASES]


def _build(name, bound, variant):
    return registry.build(name, {k: str(v) for k, v in bound.items()}, variant)


def _all_off(m):
    for r in m.reductions():
        if r.active and r.name != "symmetry":
            m = m.without_reduction(r.name, "test: every reduction off")
    return m


def _outcome(result):
    """What must not depend on reductions: each property's verdict and shortest trace."""
    assert result.exhaustive  # keep_going: every search below runs to the end
    return {p.name: (p.verdict, None if p.trace is None or p.verdict == HOLDS
                     else len(p.trace.steps)) for p in result.properties}


def _run(m, symmetry):
    return check(m, Options(symmetry=symmetry and m.has_symmetry, keep_going=True))


@pytest.mark.parametrize("name, bound, variant", CASES, ids=IDS)
def test_no_reduction_changes_a_verdict(name, bound, variant):
    m = _build(name, bound, variant)
    reference = _outcome(_run(_all_off(_build(name, bound, variant)), symmetry=False))
    assert _outcome(_run(m, symmetry=True)) == reference, "every reduction on"
    for r in m.reductions():
        if not r.active:
            continue
        if r.name == "symmetry":
            one_off = _run(_build(name, bound, variant), symmetry=False)
        else:
            one_off = _run(_build(name, bound, variant).without_reduction(r.name, "test"),
                           symmetry=True)
        assert _outcome(one_off) == reference, f"{r.name} off"
    # Depth-first with every reduction on: the same verdicts (its traces need not be shortest;
    # subsumption leaves out more there, as a twin with more messages is met first).
    dfs = check(_build(name, bound, variant),
                Options(symmetry=m.has_symmetry, keep_going=True, strategy=Strategy.DFS))
    assert ({p: v for p, (v, _) in _outcome(dfs).items()}
            == {p: v for p, (v, _) in reference.items()}), "depth-first, every reduction on"


FIRST_BOUND = [(c, i) for c, i in zip(CASES, IDS)
               if registry.entry(c[0]).reduction_bounds.index(c[1]) == 0]


@pytest.mark.parametrize("name, bound, variant", [c for c, _ in FIRST_BOUND],
                         ids=[i for _, i in FIRST_BOUND])
def test_reductions_keep_what_the_properties_read(name, bound, variant):
    # Reachable projections of the fully reduced model (symmetry aside: it merges orbits)
    # equal the unreduced ones, or the reduced model reports its premise failed. At each
    # model's first bound (whole state sets are kept: the larger bounds are compared by
    # verdicts and trace lengths above).
    plain = _all_off(_build(name, bound, variant))
    reduced = _build(name, bound, variant)
    want = {plain.projection(s) for s in reachable_states(plain)}
    try:
        got = {reduced.projection(s) for s in reachable_states(reduced)}
    except ReductionUnsound as exc:
        # The premise failed; the engine switches the reduction off and says so.
        r = check(_build(name, bound, variant), Options())
        assert any(t.startswith(f"{exc.reduction} off (premise failed") for t in r.reductions)
        return
    assert got == want


def test_every_shipped_variant_shows_its_bug_at_some_reduction_bound():
    # Otherwise the comparisons above would compare two "holds" for that variant.
    for name, e in registry.entries().items():
        if not e.reduction_bounds:
            continue
        for variant in e.variants:
            if (name, variant) in LIVENESS_BUGS:
                continue  # safe: its bug is shown by the liveness test below
            verdicts = {_run(_build(name, b, variant), symmetry=True).verdict
                        for b in e.reduction_bounds}
            assert "violated" in verdicts, (name, variant)


# Variants that break only a liveness property, with a bound and the property. The liveness
# engine checks with every reduction off (checker/liveness.py), so the comparisons above have
# nothing to compare for them beyond their safety, which holds.
LIVENESS_BUGS = {
    ("paxos-system", "proposer_ignores_retry_timer"): (
        {"acceptors": 2, "proposers": 1, "max_rounds": 2, "crashes": 0, "network": "budgeted",
         "drops": 1}, "eventually_chosen"),
    ("paxos-system", "proposer_ignores_accepted"): (
        {"acceptors": 3, "proposers": 1, "max_rounds": 1, "crashes": 0},
        "eventually_proposers_learn"),
}


@pytest.mark.parametrize("case", sorted(LIVENESS_BUGS))
def test_a_liveness_bug_shows_at_its_bound(case):
    bound, prop = LIVENESS_BUGS[case]
    r = check(_build(case[0], bound, case[1]), Options(only=(prop,)))
    assert r.get(prop).verdict == "violated"


def test_a_premise_that_fails_is_reported_and_the_search_redone():
    # The proposer variant reads replies of its old ballots, which the dead-message reduction
    # was written to remove: reduced naively, it would hold (the messages it misbehaves on
    # deleted). The premise check catches it; unreduced, the violation is 5 steps.
    m = registry.build("paxos-system", {"acceptors": "2", "proposers": "1",
                                        "max_rounds": "2"}, "proposer_ignores_reply_ballot")
    with pytest.raises(ReductionUnsound) as exc:
        reachable_states(m)
    assert exc.value.reduction == "bury" and "reacts to it" in exc.value.detail
    r = check(m, Options(symmetry=True))
    assert r.verdict == "violated" and len(r.violations()[0].trace.steps) - 1 == 5
    assert any(t.startswith("bury off (premise failed") for t in r.reductions)


def test_symmetry_premise_failure_switches_symmetry_off():
    # A variant that singles out acceptor a1 by its id breaks the symmetry premise.
    from paxchain.impl.paxos import Acceptor
    from paxchain.impl.paxos_variants import PAXOS

    name = "test_only_a1_forgets"

    @PAXOS.subclass(name, "acceptor a1 restarts with nothing (singles out a1)", "acceptor")
    class OnlyA1Forgets(Acceptor):
        def on_start(self, node, durable, now):
            return super().on_start(node, None if node == "a1" else durable, now)

    bound = {"acceptors": "2", "proposers": "1", "max_rounds": "1"}
    try:
        r = check(registry.build("paxos-system", bound, name),
                  Options(symmetry=True, keep_going=True))
        plain = check(registry.build("paxos-system", bound, name), Options(keep_going=True))
    finally:
        PAXOS._variants.pop(name)
    assert any(t.startswith("symmetry off (premise failed") for t in r.reductions)
    assert _outcome(r) == _outcome(plain) and r.verdict == "violated"
