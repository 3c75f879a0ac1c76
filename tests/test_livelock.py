"""The duelling proposers (issue 14): two proposers without backoff pre-empt each other for
ever, shown as a lasso of ``paxos-system`` with unbounded rounds
(``paxchain.models.ballot_quotient``), and the timing assumption under which they decide.

The bound everywhere: one acceptor (a quorum of one), two proposers, one value, no crash, the
budgeted network without drops — the smallest system in which two ballots can pre-empt each
other, so each check takes a second or two.
"""

from __future__ import annotations

import json

import pytest
from paxchain.checker.explicit import check
from paxchain.checker.render_dot import message_sequence
from paxchain.checker.render_text import trace_text
from paxchain.checker.result import HOLDS, VIOLATED, Options
from paxchain.checker.trace import replay
from paxchain.impl import paxos as px
from paxchain.impl.paxos_variants import PAXOS
from paxchain.models.ballot_quotient import (BallotQuotient, canonical_map, message_fair_loop,
                                             never_delivered)
from paxchain.models.paxos_entry import ENTRIES
from paxchain.models.paxos_system import PaxosSystem

BOUND = dict(acceptors=1, proposers=2, values=1, max_rounds=0, crashes=0, network="budgeted")


def build(**params):
    return ENTRIES[0].build(**{**BOUND, **params})


def run(model, *names, **opts):
    return check(model, Options(only=names, **opts))


def test_the_canonical_renaming_keeps_the_order_below_the_floor_and_distances_above_it():
    # Floor 9: 1 and 4 lag (their ranks 1, 2); 9, 10 and 12 keep their distances to 9.
    assert canonical_map({1, 4, 9, 10, 12}, 9) == {1: 1, 4: 2, 9: 3, 10: 4, 12: 6}
    # Nothing below the floor: a translation to 1.
    assert canonical_map({5, 6, 8}, 5) == {5: 1, 6: 2, 8: 4}


def test_a_message_renamed_back_to_itself_is_never_delivered():
    # One pass of a loop takes the envelope named A at its start to the name B at its end, B
    # to A: after two passes A is A again, never delivered. C goes to D, which the pass
    # delivers (D is no key): C is delivered on the second pass.
    assert never_delivered({"A": "B", "B": "A", "C": "D"}) in ("A", "B")
    assert never_delivered({"A": "A"}) == "A"
    assert never_delivered({"C": "D", "D": "E"}) is None
    assert never_delivered({}) is None


def test_unbounded_rounds_are_built_as_the_quotient_and_need_the_budgeted_network():
    m = build(timely="own")
    assert isinstance(m, BallotQuotient) and m.params["timely"] == "own"
    assert "ballots on" in [r.text() for r in m.reductions()]
    with pytest.raises(ValueError, match="needs network=budgeted"):
        build(network="duplicating")


def test_two_proposers_without_backoff_duel_forever():
    # timely=own: a proposer's retry timer waits for its own round trip (its timeout is tuned
    # to the network) but not for the other's — the duel of equal fixed timeouts. The lasso:
    # each proposer's Accept is refused (Nack) because the other's Prepare came first, its
    # retry timer starts the next ballot, and the state comes back with every round moved up.
    r = run(build(timely="own"), "eventually_decided")
    p = r.get("eventually_decided")
    assert p.verdict == VIOLATED
    trace = p.trace
    n = len(trace.steps) - 1
    assert trace.loop is not None and trace.loop < n  # a loop of steps, not a stutter
    loop = trace.steps[trace.loop + 1:]
    timers = {dict(s.label.args)["node"] for s in loop if s.label.action == "Timer"}
    nacked = {dict(s.label.args)["dst"] for s in loop
              if s.label.action == "Deliver" and dict(s.label.args)["msg"].kind == "Nack"}
    assert timers == {"p1", "p2"} and nacked == {"p1", "p2"}
    assert not trace.model.outputs(trace.steps[-1].state)  # nobody ever decides
    # The loop is fair to every link (the model's assumption) and to every message too.
    assert "fair to every message too" in trace.explanation
    assert message_fair_loop(trace.model, [(s.label, s.state) for s in trace.steps],
                             trace.loop) is None
    # The whole quotient under that timing: 175 canonical states (measured; it changes when
    # the renaming or the handlers do).
    assert r.stats.distinct == 175


def test_the_duels_loop_is_a_run_of_the_unrenamed_system_whose_ballots_keep_rising():
    # Unroll the lasso in the system itself (unbounded rounds, no renaming): each step is a
    # step of the concrete state with the same node, action and fault whose successor has the
    # trace's state as its canonical form. Three passes of the loop: no learner decides, and
    # each pass starts four ballots (two retries per proposer), so the highest round at its
    # end goes 6, 10, 14 — the same canonical state, higher ballots.
    trace = run(build(timely="own"), "eventually_decided").get("eventually_decided").trace
    q = trace.model
    steps = [(s.label, s.state) for s in trace.steps]
    concrete = steps[0][1]
    highest = []
    for i in list(range(1, len(steps))) + list(range(trace.loop + 1, len(steps))) * 2:
        label, want = steps[i]
        sig = (label.action, [(k, v) for k, v in label.args if k != "msg"])
        nxt = [t for lb, t in PaxosSystem.successors(q, concrete)
               if (lb.action, [(k, v) for k, v in lb.args if k != "msg"]) == sig
               and q.canonical(t) == want]
        assert nxt, f"step {i} has no concrete counterpart"
        concrete = nxt[0]
        assert not q.outputs(concrete)
        if i == len(steps) - 1:
            highest.append(max(q.node(concrete, x).state.round for x in ("p1", "p2")))
    assert highest == [6, 10, 14]


def test_one_proposer_under_the_same_timing_decides():
    # So the duel is the second proposer's doing: alone, a proposer whose timer waits for its
    # own round trip decides — Prepare, Promise, Accept, Accepted: 7 states with one acceptor
    # (the initial one, one after each of the four deliveries plus the Accepted to p1 and l1
    # in either order).
    r = run(build(proposers=1, timely="own"), "eventually_decided", "eventually_proposers_learn")
    assert r.get("eventually_decided").verdict == HOLDS
    assert r.get("eventually_proposers_learn").verdict == HOLDS
    assert r.stats.distinct == 7


def test_the_duel_replays_and_draws_its_loop():
    trace = run(build(timely="own"), "eventually_decided").get("eventually_decided").trace
    data = json.loads(trace.dumps())
    assert data["loop"] == trace.loop
    back = replay(build(timely="own"), data)
    assert back.outcome == "violation" and back.trace.loop == trace.loop
    assert f"back to state {trace.loop}" in message_sequence(trace)
    assert f"-> back to state {trace.loop}" in trace_text(trace)


def test_a_timer_that_waits_for_every_round_trip_lets_two_proposers_decide():
    # timely=1 (the default): no timer fires while any message can be delivered — what backoff
    # reaches once a proposer's timeout exceeds the other's round trip. The highest ballot's
    # Prepare, Promise, Accept and Accepted then all arrive before anyone retries: both
    # proposers decide (unbounded rounds, so this is not a bound running out).
    r = run(build(), "eventually_decided", "eventually_proposers_learn")
    assert r.get("eventually_decided").verdict == HOLDS
    assert r.get("eventually_proposers_learn").verdict == HOLDS


def test_with_bounded_rounds_the_duel_ends_and_hides_the_livelock():
    # The obstacle the quotient removes: at max_rounds=2, under the same timing, the duel
    # ends — the first proposer out of rounds gives up and stops pre-empting the other, whose
    # next ballot is decided — so eventually_decided *holds* there: the bound hides the
    # livelock instead of showing it.
    m = PaxosSystem(**{**BOUND, "max_rounds": 2, "history": True}, timely="own")
    assert run(m, "eventually_decided").get("eventually_decided").verdict == HOLDS


def test_without_any_timing_assumption_a_proposer_alone_gives_up():
    # -p timely=0: the retry timer may fire before any reply, every round (README, Liveness).
    m = ENTRIES[0].build(acceptors=2, proposers=1, max_rounds=2, crashes=0, timely=0)
    assert "timely_timers" not in " ".join(a.name for a in m.fairness() if hasattr(a, "name"))
    assert run(m, "eventually_chosen").get("eventually_chosen").verdict == VIOLATED
    m1 = ENTRIES[0].build(acceptors=2, proposers=1, max_rounds=2, crashes=0)
    assert run(m1, "eventually_chosen").get("eventually_chosen").verdict == HOLDS


class SkipsRoundThree(px.Proposer):
    """A proposer that never uses round 3: it reads a round's absolute value."""

    def _new_ballot(self, s, trigger):
        if s.round == 2:
            s = px.ProposerState(3, s.incarnation, s.phase, ignored=s.ignored)
        return super()._new_ballot(s, trigger)


def test_a_handler_that_reads_a_rounds_value_breaks_the_renamings_premise():
    # The renaming is justified by the handlers run, not by knowing Paxos: a proposer that
    # treats round 3 apart behaves differently on a state and on its renamed copy, and the
    # search stops with one line (there is no unreduced search of unbounded rounds).
    name = "test_skips_round_three"
    PAXOS.subclass(name, "proposer: never uses round 3", "proposer")(SkipsRoundThree)
    try:
        with pytest.raises(ValueError, match="premise fails"):
            run(build(timely="own", variant=name), "eventually_decided")
    finally:
        PAXOS._variants.pop(name)  # other tests enumerate the shipped variants
