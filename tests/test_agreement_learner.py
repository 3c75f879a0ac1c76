"""``learner_mixes_ballots`` breaks ``agreement`` itself, not only ``learned_chosen``.

The learner counts ``Accepted`` for one value from *different* ballots toward a quorum, so it
decides a value that no quorum accepted in one ballot (``learned_chosen``, 12 steps). For
``agreement`` another value must then be chosen, and that takes four ballots: the learner's
value ``v`` has votes in two ballots ``x != y`` (acceptors ``ai``, ``aj``), both below the ballot
``b`` whose quorum chooses ``w`` (proposers and acceptors are correct: every proposal above a
chosen ballot carries its value), and ``b``'s proposer must be told ``w`` by its promise quorum. That quorum meets
``{ai, aj}`` in an acceptor that promised ``b`` after its vote for ``v`` (ballots below ``b``
cannot be voted in after promising ``b``), so some acceptor in it reported a vote for ``w`` in a
fourth ballot ``z``, above that vote for ``v`` and below ``b``. ``x``, ``y``, ``z``, ``b``: four
ballots, two values, three acceptors.

With one proposer (``proposers=1, max_rounds=4``; a crash makes it serve its next value ``v2``)
the run is 27 steps, which ``paxchain check paxos-system --variant learner_mixes_ballots -p
proposers=1 -p max_rounds=4 --symmetry --property agreement`` finds breadth-first after
4,235,923 states (12-16 minutes: too slow for the gate; ``learner_mixes_ballots_agreement_1x4``
in ``benchmarks/paxos_system.py``). This test walks that run step by step instead (seconds), and
checks that it replays from its JSON.
"""

from __future__ import annotations

import json

from paxchain.checker.trace import Step, Trace, replay
from paxchain.models.paxos_system import PaxosSystem
from paxchain.specs.model_properties import properties_of

PARAMS = {"acceptors": 3, "proposers": 1, "values": 2, "max_rounds": 4, "crashes": 1}


def _prepare(b, a):
    return f"Deliver(src=p1, dst={a}, msg=Prepare(ballot=({b}, 1)))"


def _promise(b, a, voted=None):
    vb, vv = (f"({voted[0]}, 1)", voted[1]) if voted else ("None", "None")
    return (f"Deliver(src={a}, dst=p1, msg=Promise(ballot=({b}, 1), acceptor={a}, "
            f"voted_ballot={vb}, voted_value={vv}))")


def _accept(b, a, v):
    return f"Deliver(src=p1, dst={a}, msg=Accept(ballot=({b}, 1), value={v}))"


def _accepted(b, a, v):
    return f"Deliver(src={a}, dst=l1, msg=Accepted(ballot=({b}, 1), acceptor={a}, value={v}))"


RETRY = "Timer(node=p1, timer=retry)"

# Ballot (1,1): a1 alone votes v1 and the learner hears it. p1 crashes and restarts with its
# next value v2: ballot (2,1) has promises from a2, a3 (no votes) and a3 alone votes v2.
# Ballot (3,1): promises from a1 (v1 at (1,1)) and a2 (none), so p1 proposes v1 and a2 votes
# it; the learner hears a2 and decides v1 from votes in (1,1) and (3,1) (learned_chosen breaks,
# step 20). Ballot (4,1): promises from a1 (v1 at (1,1)) and a3 (v2 at (2,1), higher), so p1
# proposes v2, a1 and a3 vote it, and v2 is chosen: agreement breaks (step 27).
RUN = [
    _prepare(1, "a1"), _prepare(1, "a2"), _promise(1, "a1"), _promise(1, "a2"),
    _accept(1, "a1", "v1"), _accepted(1, "a1", "v1"),
    "Crash(node=p1)", "Restart(node=p1)",
    _prepare(2, "a2"), _prepare(2, "a3"), _promise(2, "a2"), _promise(2, "a3"),
    _accept(2, "a3", "v2"),
    RETRY, _prepare(3, "a1"), _prepare(3, "a2"), _promise(3, "a1", (1, "v1")),
    _promise(3, "a2"), _accept(3, "a2", "v1"), _accepted(3, "a2", "v1"),
    RETRY, _prepare(4, "a1"), _prepare(4, "a3"), _promise(4, "a1", (1, "v1")),
    _promise(4, "a3", (2, "v2")), _accept(4, "a1", "v2"), _accept(4, "a3", "v2"),
]


def _walk(model):
    """The states along ``RUN``, each step the one enabled transition with that label."""
    s = next(iter(model.initial_states()))
    steps = [Step(None, s)]
    for i, text in enumerate(RUN, 1):
        options = [(lb, t) for lb, t in model.successors(s) if str(lb) == text]
        assert len(options) == 1, f"step {i}: {text} is not enabled (or not unique)"
        lb, s = options[0]
        steps.append(Step(lb, s))
    return steps


def test_four_ballots_break_agreement_and_the_run_replays():
    m = PaxosSystem(variant="learner_mixes_ballots", **PARAMS)
    props = {p.name: p for p in properties_of(m)}
    agreement, learned_chosen = props["agreement"], props["learned_chosen"]
    steps = _walk(m)
    assert len(steps) - 1 == 27
    broken = [i for i, st in enumerate(steps) if not agreement.holds_at(st.state)]
    assert broken == [27]  # only the last state: every earlier prefix keeps agreement
    first_wrong = next(i for i, st in enumerate(steps) if not learned_chosen.holds_at(st.state))
    assert first_wrong == 20  # the learner's mixed decision, long before
    last = steps[-1].state
    assert m.decisions(last) == {"v1"}
    assert "chosen = ['v2']" in agreement.explain(last)

    trace = Trace(m, "agreement", agreement.kind, agreement.summary, steps,
                  agreement.explain(last))
    again = replay(PaxosSystem(variant="learner_mixes_ballots", **PARAMS),
                   json.loads(trace.dumps()))
    assert again.outcome == "violation" and len(again.trace.steps) == 28


def test_the_correct_learner_does_not_decide_on_that_run():
    # The same 27 steps with the correct learner: v2 is chosen and nothing is decided (the
    # learner saw v1 from two ballots, never a quorum in one), so agreement holds.
    m = PaxosSystem(**PARAMS)
    props = {p.name: p for p in properties_of(m)}
    last = _walk(m)[-1].state
    assert m.decisions(last) == frozenset()
    assert props["agreement"].holds_at(last) and props["learned_chosen"].holds_at(last)
