"""A simulator-found violation, carried over to the model paxos-system and shortened there.

``paxchain simulate paxos --minimize/--out`` re-executes the simulated run's steps in the
model (``paxchain.models.sim_steps``, ``paxchain.checker.steps.embed``), then shortens it as
``check --minimize`` shortens a depth-first trace. The tests re-check the result from the
outside: the shortened trace is no longer than the carried-over one, re-executes step by step
in a freshly built model, breaks the simulator's property only at its end, and the written
``trace.json`` is confirmed by ``paxchain replay``.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from paxchain.checker.cli import cli
from paxchain.checker.paxos_runs import counterexample, run_scenario
from paxchain.checker.steps import Stuck, follow, shows
from paxchain.impl.simulator import Crash, Latency, SimStep
from paxchain.models.paxos_driver import Scenario
from paxchain.models.registry import build
from paxchain.models.sim_steps import moves
from paxchain.specs.model_properties import properties_of

# A seeded bug the simulator finds with its default faults (seed 1: 22 events, agreement).
BALLOTS = Scenario(seed=1, variants=("ballots_not_unique",))
# The README's crash-point example: an acceptor that replies before its durable write.
REPLY = Scenario(seed=25, variants=("reply_before_persist",), crash_points=0.3,
                 crash_points_max=3, crash_points_down=1, stop="quiescent")


def _invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _rechecked(trace, prop_name: str) -> int:
    """The trace's length after re-executing its labels on a model built afresh from its
    parameters, asserting that only its last state breaks ``prop_name``."""
    model = build(trace.model.name, {k: str(v) for k, v in trace.model.params.items()},
                  trace.model.variant)
    texts = [str(s.label) for s in trace.steps[1:]]
    run = follow(model, texts)
    assert not isinstance(run, Stuck), run
    prop = next(p for p in properties_of(model) if p.name == prop_name)
    assert shows(prop, run) == len(texts)
    return len(texts)


@pytest.mark.parametrize("sc", [BALLOTS, REPLY], ids=["ballots_not_unique", "reply_before_persist"])
def test_a_simulated_violation_is_shortened_and_replays(sc):
    _, verdict = run_scenario(sc)
    assert verdict.violated == "agreement"
    whole, _ = counterexample(sc, verdict)
    short, lines = counterexample(sc, verdict, minimize=True)
    n, m = len(whole.steps) - 1, len(short.steps) - 1
    assert m <= n
    assert lines[-1].startswith(f"minimized agreement: {n} -> {m} steps")
    assert _rechecked(whole, "agreement") == n
    assert _rechecked(short, "agreement") == m


def test_a_run_with_a_restarted_proposer_is_carried_over_with_the_models_values():
    """p2 crashes and restarts: the simulator's new incarnation proposes v2r1, the model's
    proposes from its value plan (v3 with three values); the run is renamed, re-executed and
    shortened, and still replays."""
    sc = Scenario(3, 2, 1, seed=6, loss=0.1, latency=Latency("uniform", 1, 20),
                  variants=("ballots_not_unique",),
                  crashes=(Crash("a2", 15.0, 20.0), Crash("p2", 30.0, 10.0)), stop="quiescent")
    _, verdict = run_scenario(sc)
    assert verdict.violated == "agreement"
    whole, lines = counterexample(sc, verdict)
    assert "values renamed to the model's: v2r1 -> v3" in lines[1]
    assert any(str(s.label) == "Restart(node=p2)" for s in whole.steps[1:])
    short, _ = counterexample(sc, verdict, minimize=True)
    assert _rechecked(short, "agreement") <= _rechecked(whole, "agreement")


def test_ballots_not_unique_shortens_to_the_breadth_first_length():
    """README: paxos-system's breadth-first search breaks agreement under ballots_not_unique in
    12 steps; the simulator's run, carried over in 15, shortens to 12."""
    _, verdict = run_scenario(BALLOTS)
    whole, _ = counterexample(BALLOTS, verdict)
    short, _ = counterexample(BALLOTS, verdict, minimize=True)
    assert (len(whole.steps) - 1, len(short.steps) - 1) == (15, 12)


def test_the_command_writes_a_trace_set_that_paxchain_replay_confirms(tmp_path):
    out = tmp_path / "cx"
    r = _invoke("simulate", "paxos", "--variant", "ballots_not_unique", "--seed", "1",
                "--minimize", "--out", str(out))
    assert r.exit_code == 1, r.output
    assert "VIOLATED agreement" in r.output
    assert "minimized agreement: 15 -> 12 steps" in r.output
    assert f"Replay:    paxchain replay {out / 'trace.json'}" in r.output
    for name in ("trace.json", "trace.itf.json", "trace.txt", "trace.dot", "trace.test.py"):
        assert (out / name).is_file(), name
    data = json.loads((out / "trace.json").read_text())
    assert data["#meta"]["model"] == "paxos-system" and len(data["states"]) == 13
    replayed = _invoke("replay", str(out / "trace.json"))
    assert replayed.exit_code == 1, replayed.output  # a replayed violation confirmed
    assert "confirmed: agreement (invariant) is violated" in replayed.output


def test_a_run_that_breaks_nothing_has_nothing_to_carry_over(tmp_path):
    r = _invoke("simulate", "paxos", "--seed", "1", "--minimize", "--out", str(tmp_path / "x"))
    assert r.exit_code == 0, r.output
    assert "no counterexample to carry over" in r.output
    assert not (tmp_path / "x").exists()


def test_a_run_the_model_cannot_have_is_one_line_and_the_verdict_stands():
    """Six proposers: paxos-system has at most five; the simulator's exit 1 stays."""
    r = _invoke("simulate", "paxos", "-p", "proposers=6", "--variant", "ballots_not_unique",
                "--seed", "1", "--minimize")
    assert r.exit_code == 1, r.output
    assert "VIOLATED agreement" in r.output
    assert "no model trace: paxos-system has at most proposers=5; the run needs 6" in r.output


def test_a_crash_point_inside_a_multicast_moves_to_its_end():
    """The simulator cuts after any effect; the model between units (a multicast leaves
    whole), so a cut after 1 of 2 sends becomes the label with crash_after at the multicast's
    end, and the move says so."""
    from paxchain.impl.paxos import Persist, Prepare, Send
    step = SimStep("deliver", "a1", ("p1", Prepare((1, 1))), None, None,
                   (Send("p1", Prepare((1, 1))), Send("l1", Prepare((1, 1))),
                    Persist("x")), cut=1)
    (move,) = moves([step])
    assert move.moved
    assert move.alternatives[0] == ("Deliver(src=p1, dst=a1, msg=Prepare(ballot=(1, 1)), "
                                    "crash_after=1)",)
