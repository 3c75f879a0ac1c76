"""Lamport's Paxos: the transcription, its properties, the seeded bugs, symmetry and traces."""

from __future__ import annotations

import json

import pytest

from paxchain.checker import HOLDS, INCOMPLETE, VIOLATED, Options, check
from paxchain.checker.explicit import reachable_states
from paxchain.checker.trace import FORMAT_VERSION, replay
from paxchain.models.values import TraceError
from paxchain.models.lamport_paxos import VARIANTS, LamportPaxos
from paxchain.specs.model_properties import properties_of
from tests.reference_lamport import Reference, from_model_state, reachable

# Which properties each seeded bug must break, and the shortest trace for each, in steps,
# at 3 acceptors / 2 values / ballots 0..1. The lengths are the BFS depth of the first
# violating state; test_traces_are_shortest re-checks each by searching one step less.
EXPECTED = {
    "ignore_votes": {"agreement": 12, "msg_2a": 9, "votes_safe": 10},
    "small_quorums": {"agreement": 8},
    "phase2b_ignores_promise": {"agreement": 12, "vote_bookkeeping": 10, "msg_1b": 7,
                                "msg_2a": 9, "votes_safe": 10},
    "duplicate_2a": {"agreement": 9, "msg_2a": 5, "one_vote": 7, "votes_safe": 12},
    "promise_off_by_one": {"type_ok": 2, "value_chosen": None},
    "strict_phase2b": {"value_chosen": None},
}


@pytest.mark.parametrize("max_ballot, distinct, generated", [(0, 73, 310), (1, 3921, 22995)])
def test_state_counts_agree_with_the_literal_reference(max_ballot, distinct, generated):
    # Not countable by hand; pinned because two independent transcriptions agree: the bitmask
    # model and tests/reference_lamport.py (tuples and a frozenset of messages).
    states, gen = reachable(Reference(3, 2, max_ballot))
    assert (len(states), gen) == (distinct, generated)
    r = check(LamportPaxos(3, 2, max_ballot))
    assert (r.stats.distinct, r.stats.generated) == (distinct, generated)
    assert r.verdict == HOLDS


@pytest.mark.slow
def test_state_count_ballots_0_to_2_agrees_with_the_reference():
    # The benchmark configuration: 185,369 states by both transcriptions (3 s each).
    states, gen = reachable(Reference(3, 2, 2))
    r = check(LamportPaxos(3, 2, 2), Options(only=("agreement",)))
    assert (r.stats.distinct, r.stats.generated) == (len(states), gen) == (185369, 1316584)
    assert r.verdict == HOLDS


# Every variant at two small sizes, and at 3/2/0..1 where that space is small (duplicate_2a
# and phase2b_ignores_promise have 143,529 and 90,817 states there: a minute of reference time).
CROSS_CHECK = [(v, cfg) for v in [None, *VARIANTS] for cfg in [(2, 2, 1), (3, 2, 0)]] + [
    (v, (3, 2, 1)) for v in [None, *VARIANTS]
    if v not in ("duplicate_2a", "phase2b_ignores_promise")]


@pytest.mark.parametrize("variant, cfg", CROSS_CHECK)
def test_every_property_matches_its_literal_definition_on_every_reachable_state(variant, cfg):
    model = LamportPaxos(*cfg, variant=variant)
    ref = Reference(*cfg, variant=variant)
    props = {p.name: p for p in properties_of(model)}
    assert sorted(props) == sorted(Reference.PROPERTIES)
    states = reachable_states(model)
    assert {from_model_state(model, s) for s in states} == reachable(ref)[0]
    for s in states:
        r = from_model_state(model, s)
        for name, p in props.items():
            assert p.check(s) == getattr(ref, name)(r), (name, model.to_vars(s))


@pytest.mark.parametrize("variant", sorted(EXPECTED))
def test_each_seeded_bug_breaks_its_properties_with_a_shortest_trace(variant):
    r = check(LamportPaxos(3, 2, 1, variant=variant), Options(keep_going=True))
    broken = {p.name: (len(p.trace.steps) - 1 if p.trace else None)
              for p in r.properties if p.verdict == VIOLATED}
    assert broken == EXPECTED[variant]
    assert r.exit_code == 1


def test_every_property_is_broken_by_some_seeded_bug():
    props = {p.name for p in properties_of(LamportPaxos())}
    assert props == {name for broken in EXPECTED.values() for name in broken}


@pytest.mark.parametrize("variant, prop, length",
                         [(v, p, n) for v, ps in EXPECTED.items() for p, n in ps.items() if n])
def test_traces_are_shortest(variant, prop, length):
    model = LamportPaxos(3, 2, 1, variant=variant)
    shorter = check(model, Options(only=(prop,), max_depth=length - 1))
    assert shorter.get(prop).verdict == INCOMPLETE
    assert check(model, Options(only=(prop,), max_depth=length)).get(prop).verdict == VIOLATED


@pytest.mark.parametrize("variant", [None, *VARIANTS])
def test_symmetry_never_changes_a_verdict_or_a_shortest_length(variant):
    plain = check(LamportPaxos(3, 2, 1, variant=variant), Options(keep_going=True))
    reduced = check(LamportPaxos(3, 2, 1, variant=variant),
                    Options(keep_going=True, symmetry=True))
    assert reduced.stats.distinct < plain.stats.distinct
    for p in plain.properties:
        q = reduced.get(p.name)
        assert q.verdict == p.verdict, p.name
        if p.trace is not None:
            assert len(q.trace.steps) == len(p.trace.steps), p.name


def test_symmetry_reduced_count_for_the_suite_configuration():
    # 185,369 states fall into 17,153 orbits under the 3! x 2! acceptor x value permutations
    # (a little more than 185,369 / 12 = 15,447 because symmetric states have smaller orbits).
    r = check(LamportPaxos(3, 2, 2), Options(symmetry=True, only=("agreement",)))
    assert (r.stats.distinct, r.verdict) == (17153, HOLDS)


def test_asymmetric_quorums_offer_no_symmetry():
    assert not LamportPaxos(3, 2, 1, quorums=(frozenset({0, 1}),)).has_symmetry
    assert LamportPaxos(3, 2, 1).has_symmetry


@pytest.mark.parametrize("variant", sorted(EXPECTED))
def test_traces_round_trip_through_json_and_replay(variant):
    model = LamportPaxos(3, 2, 1, variant=variant)
    r = check(model, Options(keep_going=True))
    for p in r.properties:
        if p.trace is None:
            continue
        data = json.loads(p.trace.dumps())
        assert data["#meta"]["format_version"] == FORMAT_VERSION == 2
        assert data["#meta"]["property"] == p.name
        done = replay(LamportPaxos(3, 2, 1, variant=variant), data)
        assert [s.state for s in done.trace.steps] == [s.state for s in p.trace.steps]
        assert done.outcome == ("witness" if p.verdict == HOLDS else "violation")


def _agreement_trace():
    r = check(LamportPaxos(3, 2, 1, variant="small_quorums"), Options(only=("agreement",)))
    return json.loads(r.get("agreement").trace.dumps())


@pytest.mark.parametrize("tamper, message", [
    (lambda d: d["states"][3]["maxBal"]["#map"][0].__setitem__(1, 1), "does not lead"),
    (lambda d: d["states"][2]["#meta"]["label"]["args"].__setitem__("bal", 5), "not an enabled"),
    (lambda d: d.__setitem__("states", d["states"][:-1]), "does not break"),
    (lambda d: d["#meta"].__setitem__("format_version", 99), "version"),
    (lambda d: d["states"][0]["msgs"]["#set"].append({"type": "9z", "bal": 0}), "not a state"),
    (lambda d: d.__setitem__("vars", ["x"]), "vars"),
])
def test_tampered_traces_are_rejected_naming_the_problem(tamper, message):
    data = _agreement_trace()
    tamper(data)
    with pytest.raises(TraceError, match=message):
        replay(LamportPaxos(3, 2, 1, variant="small_quorums"), data)


@pytest.mark.parametrize("cfg", [(3, 2, 1), (2, 2, 2)])
def test_dropping_spent_reports_is_a_bisimulation(cfg):
    # models.paxos_system checks refinement modulo the 1b messages of ballots that have a 2a
    # ("spent"); that is sound because a state and its compact form have the same successors
    # up to spent reports, checked here on every reachable state.
    m = LamportPaxos(*cfg)
    drop = m.msgs.drop_spent_reports

    def compact(s):
        return s[:3] + (drop(s[3]),)

    dropped = 0
    for s in reachable_states(m):
        c = compact(s)
        dropped += c != s
        assert compact(c) == c
        assert {compact(t) for t in m.next_states(s)} == {compact(t) for t in m.next_states(c)}
    assert dropped  # the relation is not the identity on these states
