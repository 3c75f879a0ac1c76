"""Bounded model checking of Lamport's Paxos (checker/bmc.py, specs/lamport_paxos_bmc.py):
it finds each seeded bug, its traces replay on the explicit model, and its shortest lengths
equal the explicit breadth-first search's."""

from __future__ import annotations

import json

import pytest
import z3

from paxchain.checker import Options, check
from paxchain.checker import bmc
from paxchain.checker.bmc import NONE_UP_TO_DEPTH, VIOLATION, run_bmc, unroll
from paxchain.specs.z3_vocabulary import SymbolicSystem
from paxchain.models.errors import UserError
from paxchain.checker.result import HOLDS, INCOMPLETE, VIOLATED
from paxchain.checker.trace import replay
from paxchain.models.lamport_paxos import LamportPaxos
from paxchain.specs.lamport_paxos_bmc import PROPERTIES

# One (variant, property) per seeded bug, with the property the registry's suite names where it
# is a state invariant (strict_phase2b only breaks the goal value_chosen; see
# test_bmc_goal_witness_and_strict_phase2b). The depth bounds are the explicit BFS's
# shortest lengths, which the test also recomputes.
SEEDED = [("small_quorums", "agreement"), ("ignore_votes", "msg_2a"),
          ("phase2b_ignores_promise", "msg_1b"), ("duplicate_2a", "one_vote"),
          ("duplicate_2a", "msg_2a"), ("promise_off_by_one", "type_ok")]


@pytest.mark.parametrize("variant, prop", SEEDED)
def test_bmc_finds_each_seeded_bug_and_its_trace_replays(variant, prop):
    model = LamportPaxos(3, 2, 1, variant=variant)
    explicit = check(LamportPaxos(3, 2, 1, variant=variant), Options(only=(prop,))).get(prop)
    shortest = len(explicit.trace.steps) - 1
    verdict, trace, per_depth = run_bmc(model, prop, shortest)
    assert verdict == VIOLATED
    # BMC asks depth 0, 1, ... in turn, so its first violation is a shortest one, and a
    # shortest violation has the same length in both engines.
    assert len(trace.steps) - 1 == shortest
    assert [d for d, _ in per_depth] == list(range(shortest + 1))
    replayed = replay(LamportPaxos(3, 2, 1, variant=variant), json.loads(trace.dumps()))
    assert replayed.outcome == "violation"
    assert replayed.trace.prop == prop


@pytest.mark.parametrize("prop", PROPERTIES)
def test_bmc_finds_nothing_in_the_correct_model(prop):
    verdict, trace, per_depth = run_bmc(LamportPaxos(3, 2, 1), prop, 5)
    # No violation up to depth 5 is a bounded claim: the verdict is incomplete, never holds.
    assert verdict == INCOMPLETE and trace is None
    assert len(per_depth) == 6


def test_bmc_goal_witness_and_strict_phase2b():
    """value_chosen is reached in the correct model (shortest witness: 1a, two 1b, 2a, two 2b
    = 6 steps, which replays) and not up to that depth in strict_phase2b, whose bug is exactly
    that no value is ever chosen. Not reaching it within a bound is incomplete, not a proof."""
    verdict, trace, _ = run_bmc(LamportPaxos(3, 2, 1), "value_chosen", 8)
    assert verdict == HOLDS and len(trace.steps) - 1 == 6
    assert replay(LamportPaxos(3, 2, 1), json.loads(trace.dumps())).outcome == "witness"
    verdict, trace, _ = run_bmc(LamportPaxos(3, 2, 1, variant="strict_phase2b"), "value_chosen", 6)
    assert verdict == INCOMPLETE and trace is None
    with pytest.raises(UserError):
        run_bmc(LamportPaxos(3, 2, 1), "deadlock_free", 3)


def test_generic_unroller_on_a_counter():
    """A 3-bit counter from 0 reaches 5 after exactly 5 increments."""
    system = SymbolicSystem(
        fresh=lambda k: z3.BitVec(f"x{k}", 3),
        init=lambda x: x == 0,
        trans=lambda x, y: y == x + 1,
        bad=lambda x: x == 5,
        decode=lambda m, x: m.eval(x, model_completion=True).as_long())
    found = unroll(system, 8)
    assert found.verdict == VIOLATION and found.depth == 5
    assert found.states == [0, 1, 2, 3, 4, 5]
    assert unroll(system, 4).verdict == NONE_UP_TO_DEPTH


def test_bmc_check_gives_a_result_like_the_explicit_engine():
    result = bmc.check(LamportPaxos(3, 2, 1, variant="duplicate_2a"),
                       ("msg_2a", "agreement", "value_chosen"), 5)
    assert result.verdict == VIOLATED and result.exit_code == 1
    assert result.get("msg_2a").verdict == VIOLATED
    assert len(result.get("msg_2a").trace.steps) - 1 == 5
    # Nothing found up to the bound is a bounded claim; the goal is not reached in 5 steps
    # (it needs 6).
    assert result.get("agreement").verdict == INCOMPLETE
    assert "no violation in any run of up to 5 steps" in result.get("agreement").detail
    assert result.get("value_chosen").verdict == INCOMPLETE
    with pytest.raises(ValueError, match="unknown property 'nope'"):
        bmc.check(LamportPaxos(3, 2, 1), ("nope",), 2)
