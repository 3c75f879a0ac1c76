"""The Paxos system model (``paxchain.models.paxos_system``) and its properties (``paxchain.specs.paxos_system``).

Fast tier: the correct implementation holds at small bounds; every seeded variant is violated
with a shortest (BFS) trace that survives a JSON round trip and replays, and draws; the
refinement check fails at the very step where the implementation leaves Lamport's algorithm;
the dead-message reduction and the acceptor symmetry are checked against the unreduced search.
Slow tier (``-m slow``): the 4-ballot learner bug.
"""

from __future__ import annotations

import json

import pytest

from paxchain.checker import HOLDS, VIOLATED, Options, check
from paxchain.checker.explicit import reachable_states
from paxchain.checker.trace import replay
from paxchain.impl.paxos_variants import PAXOS
from paxchain.models.paxos_system import PaxosSystem

# Smallest bounds at which each variant shows, the property that breaks first, and the
# shortest trace length (steps after the initial state) the BFS finds:
# - no_durable_storage: an acceptor's first Promise is sent without persisting its promise,
#   so the abstract maxBal does not move while a 1b appears: step 1 (Prepare delivered).
# - ignore_promised_votes: p1 gets a1, a2 to promise (1,1) (2 deliveries + 2 Promises), a1
#   votes v1 (1); p2 gets promises from a1 (reporting that vote) and a3 (2 + 2) and proposes
#   its own v2: 9 steps.
# - ballots_not_unique: p1 and p2 both use ballot (1, 0); each collects two promises
#   (8 deliveries), and the second Accept of ballot (1, 0) carries another value: 8 steps.
# - reuse_ballot_after_restart: p1 collects two promises and sends Accept(v1) (4), crashes,
#   restarts at the same ballot with its next value v2 (2), re-reads the two Promises still
#   in the network (2) and sends Accept(v2) for the same ballot: 8 steps.
# - accept_below_promise: p1 reaches Accept for (1,1) (4), a1 promises p2's (1,2) (1), then
#   votes for the Accept of (1,1) below its promise (1): 6 steps.
# - corrupt_storage (fault model): refinement breaks at the corrupted restart (7 steps: p1
#   gets a1 to vote (5), a1 crashes right after persisting its vote, before its Accepted
#   leaves (the crash point, 1 step instead of vote + crash), restarts with the value
#   corrupted (1)); the validity trace is 15 steps: that (6), p1 times out (1), prepares round
#   2 at a1 and a2 (2 + 2), adopts the corrupted value, a1 and a2 accept it (2) and the
#   learner hears both (2).
# - reply_before_persist: a1 sends its Promise and crashes before the write (the crash
#   point): a 1b appears while maxBal stays: step 1.
# - proposer_ignores_reply_ballot: p1 times out of round 1 (1), a1 gets the Prepare of round 1
#   (1) and p1 counts its Promise of ballot (1,1) toward round 2 (1), with a2 likewise:
#   refinement breaks when p1's Accept of (2,1) rests on promises of (1,1): 5 steps.
# - learner_mixes_ballots: a1 votes v1 in p1's ballot (5 steps, as above), p2's ballot adopts
#   v1 from a1's promise and a2 votes v1 there (5), the learner hears a1 and a2 (2) and
#   decides v1, which no quorum accepted in one ballot: 12 steps. (Agreement itself needs 4
#   ballots and about 25 steps; see the slow test and the benchmark.)
# - learner_announces_before_persist: p1 gets two promises and two votes (1 + 2 + 2 + 2 with
#   its start), the learner hears a1 (1), then a2 and crashes after its output, before its
#   write (the crash point, 1): 8 steps.
# - learner_waits_for_all: the goal quorum_suffices (a decision while one acceptor never
#   voted) is never reached: a goal's failure has no trace (length None).
CASES = {
    "learner_mixes_ballots": ({"proposers": 2, "max_rounds": 1, "crashes": 0},
                              "learned_chosen", 12),
    "no_durable_storage": ({"proposers": 1, "max_rounds": 1, "crashes": 0}, "refinement", 1),
    "ignore_promised_votes": ({"proposers": 2, "max_rounds": 1, "crashes": 0}, "refinement", 9),
    "ballots_not_unique": ({"proposers": 2, "max_rounds": 1, "crashes": 0}, "refinement", 8),
    "reuse_ballot_after_restart": ({"proposers": 1, "max_rounds": 1, "crashes": 1},
                                   "refinement", 8),
    "accept_below_promise": ({"proposers": 2, "max_rounds": 1, "crashes": 0}, "refinement", 6),
    "corrupt_storage": ({"proposers": 2, "max_rounds": 1, "crashes": 1}, "refinement", 7),
    "reply_before_persist": ({"proposers": 1, "max_rounds": 1, "crashes": 1}, "refinement", 1),
    "proposer_ignores_reply_ballot": ({"proposers": 1, "max_rounds": 2, "crashes": 0},
                                      "refinement", 5),
    "learner_announces_before_persist": ({"proposers": 1, "max_rounds": 1, "crashes": 1},
                                         "decision_durable", 8),
    "learner_waits_for_all": ({"proposers": 1, "max_rounds": 1, "crashes": 1},
                              "quorum_suffices", None),
    # safe; a liveness bug (tests/test_liveness.py explains the 4 steps)
    "proposer_ignores_retry_timer": ({"acceptors": 2, "proposers": 1, "max_rounds": 2,
                                      "crashes": 0, "network": "budgeted", "drops": 1},
                                     "eventually_chosen", 4),
    # safe; never learns its value was chosen, so it gives up after its round (10 steps)
    "proposer_ignores_accepted": ({"acceptors": 3, "proposers": 1, "max_rounds": 1,
                                   "crashes": 0}, "eventually_proposers_learn", 10),
}
TRACED = sorted(v for v in CASES if CASES[v][2] is not None)
# Bugs that break only a liveness property: checked without symmetry (refused with liveness),
# and out of the CI bound's scope (two proposers, where liveness needs one).
LIVENESS_BUGS = {v for v in CASES if CASES[v][1].startswith("eventually")}


def _violation(variant, params, only=None):
    m = PaxosSystem(variant=variant, **params)
    r = check(m, Options(only=only))
    assert r.verdict == VIOLATED
    return m, r.violations()[0]


def test_a_learner_that_waits_for_every_acceptor_misses_the_quorum_goal():
    # Safe, and it still decides once all three vote; but never while one acceptor is silent.
    params, prop, _ = CASES["learner_waits_for_all"]
    r = check(PaxosSystem(variant="learner_waits_for_all", **params), Options(symmetry=True))
    assert r.exhaustive and [v.name for v in r.violations()] == [prop]
    assert r.get("value_decided").verdict == HOLDS


def _assert_replays_and_draws(variant, params, trace):
    # Rebuilt with the parameters the trace was found with (a reduction the engine switched
    # off for this variant stays off).
    fresh = PaxosSystem(**{**trace.model._kwargs, "variant": variant})
    again = replay(fresh, json.loads(trace.dumps()))
    assert again.outcome == "violation"
    assert len(again.trace.steps) == len(trace.steps)
    try:
        from paxchain.checker.render_dot import message_sequence
    except ImportError:  # the renderer is optional for this model's tests
        return
    dot = message_sequence(again.trace)
    assert dot.startswith("digraph") and "p1" in dot


@pytest.mark.parametrize("variant", TRACED)
def test_every_variant_is_violated_with_a_shortest_replayable_trace(variant):
    params, prop, length = CASES[variant]
    params = {"acceptors": 3, **params}
    only = (prop,) if prop.startswith("eventually") else None  # liveness is opt-in
    m, bad = _violation(variant, params, only)
    assert (bad.name, len(bad.trace.steps) - 1) == (prop, length)
    _assert_replays_and_draws(variant, params, bad.trace)


def test_the_cases_cover_every_variant():
    assert set(CASES) == set(PAXOS)


@pytest.mark.parametrize("variant", ["ballots_not_unique", "ignore_promised_votes"])
def test_agreement_fails_when_two_values_are_chosen(variant):
    # Both bugs let two ballots' quorums accept different values: 12 steps (two proposers
    # each get two promises and two votes: 2 x (2 + 2 + 2)).
    params = {"acceptors": 3, "proposers": 2, "max_rounds": 1, "crashes": 0}
    _, bad = _violation(variant, params, only=("agreement",))
    assert len(bad.trace.steps) - 1 == 12 and "chosen = ['v1', 'v2']" in bad.trace.explanation
    _assert_replays_and_draws(variant, params, bad.trace)


def test_refinement_fails_where_the_acceptor_replies_without_persisting():
    _, bad = _violation("no_durable_storage", {"proposers": 1, "max_rounds": 1, "crashes": 0})
    last = bad.trace.steps[-1].label
    assert (last.action, last.lane, last.reads[0].kind, last.sends[0].kind) == (
        "Deliver", "a1", "Prepare", "Promise")
    assert "maxBal" not in bad.trace.explanation and "msgs += 1b" in bad.trace.explanation


def test_refinement_fails_where_the_acceptor_votes_below_its_promise():
    _, bad = _violation("accept_below_promise", {"proposers": 2, "max_rounds": 1, "crashes": 0})
    last = bad.trace.steps[-1].label
    assert (last.action, last.reads[0].kind, last.sends[0].kind) == (
        "Deliver", "Accept", "Accepted")
    assert "msgs += 2b" in bad.trace.explanation


def test_refinement_fails_where_the_proposer_ignores_a_reported_vote():
    _, bad = _violation("ignore_promised_votes",
                        {"proposers": 2, "max_rounds": 1, "crashes": 0})
    last = bad.trace.steps[-1].label
    assert (last.action, last.lane, last.reads[0].kind) == ("Deliver", "p2", "Promise")
    assert {r.kind for r in last.sends} == {"Accept"}
    assert "msgs += 2a(bal=1, val=v2)" in bad.trace.explanation


def test_promise_monotonicity_fails_when_a_crash_forgets_the_promise():
    # a1 promises without persisting (1), then crashes (1): its promise falls to None.
    params = {"acceptors": 3, "proposers": 1, "max_rounds": 1, "crashes": 1}
    _, bad = _violation("no_durable_storage", params, only=("promise_monotonic",))
    assert len(bad.trace.steps) - 1 == 2 and bad.trace.steps[-1].label.action == "Crash"
    _assert_replays_and_draws("no_durable_storage", params, bad.trace)


def test_validity_fails_only_with_a_corrupted_disk():
    params = {"acceptors": 3, "proposers": 1, "max_rounds": 2, "crashes": 1}
    _, bad = _violation("corrupt_storage", params, only=("validity",))
    assert len(bad.trace.steps) - 1 == 15
    assert "v?" in bad.trace.explanation
    _assert_replays_and_draws("corrupt_storage", params, bad.trace)


def test_the_decision_goal_fails_without_learners():
    r = check(PaxosSystem(proposers=1, max_rounds=1, crashes=0, learners=0), Options())
    assert r.get("value_decided").verdict == VIOLATED
    assert r.get("agreement").verdict == HOLDS


# State counts of the correct implementation at small bounds, as measured (not derivable by
# hand; they pin the model's semantics so that a change in either shows). Symmetry over the
# three acceptors divides by at most 3! = 6; states where acceptors are alike are fixed by
# some permutations, hence the smaller ratios. The history drops spent reports; the test
# of the compact history below relates these counts to the full history's. Crash points
# (a crash between a handler's effects) add the states where a node went down after its
# Persist and before the sends that follow it (1,453 -> 1,861); without crashes they add
# nothing (1,581 either way).
@pytest.mark.parametrize("params, symmetry, distinct", [
    ({"proposers": 1, "max_rounds": 1, "crashes": 1}, False, 1861),
    ({"proposers": 1, "max_rounds": 1, "crashes": 1, "crash_points": False}, False, 1453),
    ({"proposers": 1, "max_rounds": 1, "crashes": 1}, True, 445),
    ({"proposers": 1, "max_rounds": 1, "crashes": 1, "crash_points": False}, True, 357),
    ({"proposers": 1, "max_rounds": 2, "crashes": 0}, True, 1581),
    ({"acceptors": 2, "proposers": 2, "max_rounds": 1, "crashes": 0}, False, 5528),
    # With the reports of retired ballots forgotten (on by default): the proposer's retry
    # leaves its first ballot's Promises behind, and runs that differ only in them merge.
    ({"proposers": 1, "max_rounds": 2, "crashes": 0, "retire": True}, True, 1267),
])
def test_the_correct_implementation_holds(params, symmetry, distinct):
    # subsume=False, retire=False: these are the model's own counts (state subsumption and
    # retirement, on by default, merge twins; tests/test_subsumption.py and
    # tests/test_retirement.py compare them)
    r = check(PaxosSystem(**{"subsume": False, "retire": False, **params}),
              Options(symmetry=symmetry, keep_going=True))
    assert r.verdict == HOLDS and r.exhaustive
    assert all(p.verdict == HOLDS for p in r.properties)
    assert r.stats.distinct == distinct


def test_budgeted_network_with_loss_and_duplication_holds():
    m = PaxosSystem(proposers=1, max_rounds=1, crashes=1, network="budgeted", drops=1,
                    duplicates=1)
    r = check(m, Options(symmetry=True, keep_going=True))
    assert r.verdict == HOLDS and r.exhaustive
    assert {"Drop", "Duplicate", "Crash", "Restart"} <= set(m.actions())


CI_BOUND = {"acceptors": 3, "proposers": 2, "values": 2, "max_rounds": 2, "crashes": 1}


@pytest.mark.parametrize("variant", sorted(set(TRACED) - {"learner_mixes_ballots"}
                                           - LIVENESS_BUGS))
def test_every_bug_is_found_at_the_ci_bound(variant):
    # The CI bound does not exhaust in minutes, but every bug shows early in it: the
    # first violation is the same property and length as at the small bound (BFS: shortest).
    _, prop, length = CASES[variant]
    r = check(PaxosSystem(variant=variant, **CI_BOUND), Options(symmetry=True))
    bad = r.violations()[0]
    assert (bad.name, len(bad.trace.steps) - 1) == (prop, length)
    _assert_replays_and_draws(variant, CI_BOUND, bad.trace)


@pytest.mark.slow
def test_learner_bug_is_found_at_the_ci_bound():
    # 3 acceptors, 2 proposers, 2 rounds each (4 ballots), 1 crash, symmetric: the same
    # 12-step trace as at 2 ballots (BFS: shortest), after ~390k states (~25 s).
    params = CI_BOUND
    m = PaxosSystem(variant="learner_mixes_ballots", **params)
    r = check(m, Options(symmetry=True, only=("learned_chosen",)))
    bad = r.get("learned_chosen")
    assert bad.verdict == VIOLATED and len(bad.trace.steps) - 1 == 12
    _assert_replays_and_draws("learner_mixes_ballots", params, bad.trace)


def _reachable(m):
    return reachable_states(m)


def _projection(m, s):
    return (tuple(m.entries.values[x] for x in m.entry_ids(s)), m.history(s), m.outputs(s))


def _compacted(m, s):
    return (tuple(m.entries.values[x] for x in m.entry_ids(s)), m.remaining(s),
            m.abstract.msgs.drop_spent_reports(m.history(s)),
            m.outputs(s), frozenset(m.network(s)))


@pytest.mark.parametrize("variant, params", [
    (None, {"proposers": 1, "max_rounds": 1, "crashes": 1}),                    # 3,772 -> 1,861
    ("ignore_promised_votes", {"proposers": 2, "max_rounds": 1, "crashes": 0,
                               "learners": 0}),                                  # 112,496 -> 26,951
])
def test_the_compact_history_is_the_full_one_without_spent_reports(variant, params):
    # Dropping spent 1b reports from the history merges exactly the states whose full
    # histories differ only in them: everything else a state holds is the same.
    # retire=False: that reduction forgets more reports (tests/test_retirement.py).
    full = PaxosSystem(variant=variant, spent_reports=True, retire=False, **params)
    compact = PaxosSystem(variant=variant, retire=False, **params)
    full_states, compact_states = _reachable(full), _reachable(compact)
    assert ({_compacted(full, s) for s in full_states}
            == {_compacted(compact, s) for s in compact_states})
    assert len(compact_states) < len(full_states)


@pytest.mark.parametrize("variant", sorted(set(TRACED) - LIVENESS_BUGS))
def test_the_compact_history_finds_the_same_shortest_violations(variant):
    # Refinement checked modulo spent reports finds each bug the full history finds, at the
    # same depth.
    params, prop, length = CASES[variant]
    params = {"acceptors": 3, **params}
    for spent in (True, False):
        r = check(PaxosSystem(variant=variant, spent_reports=spent, **params),
                  Options(symmetry=True, only=(prop,)))
        bad = r.get(prop)
        assert bad.verdict == VIOLATED and len(bad.trace.steps) - 1 == length


def test_symmetry_maps_reachable_states_to_reachable_states():
    m = PaxosSystem(proposers=1, max_rounds=1, crashes=1)
    states = _reachable(m)
    reps = {m.representative(s) for s in states}
    assert reps <= states
    assert len(reps) == 445  # the symmetric search's count above


def test_bad_parameters_are_rejected():
    from paxchain.models.registry import BadInput, build

    with pytest.raises(BadInput):
        build("paxos-system", {"acceptors": "0"})
    with pytest.raises(BadInput):
        build("paxos-system", {"drops": "1"})  # budgets need the budgeted network
    with pytest.raises(BadInput):
        build("paxos-system", {"network": "ordered"})
    with pytest.raises(BadInput):
        build("paxos-system", {}, variant="no_such_bug")
