"""``paxchain simulate`` for any actor-system model (``checker/commands/simulate_actors.py``):
the model's own actors in the seeded simulator, the run re-executed in the model and judged by
the model's own properties. The model here is ``examples/two_phase_commit.py``, a protocol
written only against the public API."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from paxchain.checker.cli import main
from paxchain.checker.commands.simulate import command as simulate_group
from paxchain.models.actor_system import ActorSystem
from paxchain.models.drivers import ACTORS, driver
from paxchain.models.properties import invariant
from paxchain.models.registry import build

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = f"{ROOT}/examples/two_phase_commit.py:two_phase_commit"
BUG = ["--variant", "majority_commit"]
BUG_SEED = ["--seed", "22"]  # a seed whose run shows the bug (found by trying seeds 0..99)


def run(*args: str, capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


@invariant()
def one_decision(m, s) -> bool:
    """At most one decision is output (read from the outputs, which a crash keeps)."""
    return len({v for _, v in m.outputs(s)}) <= 1


class _Crashing(ActorSystem):
    def properties(self):
        return [one_decision.bind(self)]


def crashing(crashes: int = 1, own: bool = False) -> ActorSystem:
    """The example's correct actors with a crash budget (the example has none), and a property
    that a crash cannot break; ``own``: the example's properties, which read every node's
    state (a crashed node has none, so they raise)."""
    m = build(EXAMPLE)
    assert isinstance(m, ActorSystem)
    return (type(m) if own else _Crashing)(list(zip(m.ids, m.actors)), network="duplicating", crashes=crashes,
                     types=m.types.values(), name="two-phase-commit-crashing",
                     params={"crashes": crashes})


# -- the driver is found for any actor-system model ---------------------------------------------

def test_an_actor_system_model_of_ones_own_gets_the_generic_driver():
    assert driver(EXAMPLE) == ACTORS
    with pytest.raises(ValueError, match="model lamport-paxos has no driver"):
        driver("lamport-paxos")


def test_the_generic_driver_speaks_simulate_paxos_dialect():
    ctx = click.Context(simulate_group)
    mine, paxos = (simulate_group.get_command(ctx, n) for n in ("actors", "paxos"))
    assert mine is not None and paxos is not None

    def spellings(cmd):
        return {o for p in cmd.params if isinstance(p, click.Option) for o in p.opts}
    assert spellings(mine) <= spellings(paxos)
    assert {"--seed", "--latency", "--loss", "--dup", "--crash", "--partition", "--until",
            "--minimize", "--out", "--param", "--variant"} <= spellings(mine)


# -- the seeded bug, found by the simulator, judged and replayed by the model ------------------

def test_the_seeded_bug_is_found_and_its_trace_replays(tmp_path, capsys):
    out_dir = tmp_path / "cx"
    code, out, err = run("simulate", EXAMPLE, *BUG, *BUG_SEED, "--out", str(out_dir),
                         capsys=capsys)
    assert code == 1 and err == "", err
    assert "VIOLATED validity at step 6 of the model's run" in out
    assert "checked at every state of the model's run: atomicity (invariant), validity " \
           "(invariant)" in out
    assert f"Replay:    paxchain replay {out_dir / 'trace.json'}" in out
    trace = json.loads((out_dir / "trace.json").read_text())
    assert trace["#meta"]["property"] == "validity" and len(trace["states"]) == 7
    code, out, _ = run("replay", str(out_dir / "trace.json"), capsys=capsys)
    assert code == 1 and "confirmed: validity (invariant) is violated" in out


def test_minimize_shortens_the_trace_in_the_model(capsys):
    code, out, _ = run("simulate", EXAMPLE, *BUG, *BUG_SEED, "--minimize", capsys=capsys)
    assert code == 1
    assert "minimized validity: 6 -> 6 steps (no step could be deleted)" in out
    assert "validity (invariant) violated in 6 steps" in out


def test_the_correct_protocol_shows_no_violation_and_says_what_that_means(capsys):
    for seed in ("0", "22", "37"):
        code, out, _ = run("simulate", EXAMPLE, "--seed", seed, "--dup", "0.3", "--loss",
                           "0.1", capsys=capsys)
        assert code == 0, out
        assert out.rstrip().endswith("no violation in this run (a simulation proves nothing: "
                                     "`paxchain check` searches every run)")


def test_a_crash_beyond_the_models_budget_is_an_incomplete_run(capsys):
    model = f"{ROOT}/tests/test_simulate_actors.py:crashing"
    crashes = ["--crash", "c:0.5:1", "--crash", "c:30:1"]
    code, out, _ = run("simulate", model, *crashes, capsys=capsys)
    assert code == 3, out
    assert "incomplete: its step" in out and "(Crash(node=c)) is not enabled in the model" in out
    assert "the run has 2 crashes, scheduled and crash points; the model's budget is 1" in out
    code, out, _ = run("simulate", model, "-p", "crashes=2", *crashes, capsys=capsys)
    assert code == 0 and "no violation in this run" in out, out


def test_crash_points_are_re_executed_as_the_models_cut_steps(capsys):
    args = ("simulate", f"{ROOT}/tests/test_simulate_actors.py:crashing", "--seed", "2",
            "--crash-points", "0.3", "--crash-points-max", "2", "--dup", "0.3",
            "--crash", "p2:4:3")
    code, out, _ = run(*args, "-p", "crashes=3", capsys=capsys)
    assert code == 0 and "crash points: probability 0.3 per handler call" in out, out
    code, out, _ = run(*args, "-p", "crashes=2", capsys=capsys)
    assert code == 3 and "crash_after=1)) is not enabled in the model (the run has 3 " in out


# -- same seed, same output; the spellings ------------------------------------------------------

def test_same_seed_same_output(capsys):
    args = ("simulate", EXAMPLE, *BUG, "--seed", "7", "--latency", "exp:1:5", "--dup", "0.2",
            "--pause", "p2:3:4")
    first, second = run(*args, capsys=capsys), run(*args, capsys=capsys)
    assert first == second
    other = run(*args[:-6], "--seed", "8", *args[-4:], capsys=capsys)
    assert other[1].splitlines()[0] != first[1].splitlines()[0]  # the seed is in the header
    assert other[1].splitlines()[3:] != first[1].splitlines()[3:]


def test_model_option_and_max_time_are_the_same_run(capsys):
    plain = run("simulate", EXAMPLE, "--seed", "3", "--until", "8", capsys=capsys)
    spelled = run("simulate", "--model", EXAMPLE, "--seed", "3", "--max-time", "8",
                  capsys=capsys)
    assert plain == spelled and plain[0] == 0 and "(until)" in plain[1]


# -- bad input: one line, exit 2 ----------------------------------------------------------------

@pytest.mark.parametrize("args,words", [
    ([EXAMPLE, "--crash", "c:5"], "has no crash budget"),
    ([f"{ROOT}/tests/test_simulate_actors.py:crashing", "-p", "own=true", "--crash", "c:1:1"],
     "property validity of "),
    ([EXAMPLE, "--crash-points", "0.5"], "has no crash budget"),
    ([EXAMPLE, "--pause", "zz:1:2"], "unknown node 'zz'"),
    ([EXAMPLE, "--latency", "5"], "--latency takes LO..HI"),
    ([EXAMPLE, "--loss", "1.5"], "loss"),
    ([EXAMPLE, "--until", "0"], "--until must be more than 0"),
    ([EXAMPLE, "-p", "participants=9"], "participants must be 1..6"),
    ([EXAMPLE, "-p", "nope=1"], "no parameter 'nope'"),
    ([EXAMPLE, "--variant", "nope"], "no variant 'nope'"),
    ([EXAMPLE, "--partition", "c|p1@5..2"], "START < END"),
    (["lamport-paxos"], "model lamport-paxos has no driver"),
    (["actors"], "simulate needs the model"),
    (["--model"], "--model takes a MODEL"),
])
def test_bad_input_is_one_line_exit_2(args, words, capsys):
    code, out, err = run("simulate", *args, capsys=capsys)
    assert code == 2 and out == "", out
    assert err.count("\n") == 1 and err.startswith("paxchain: error: ") and words in err, err


def test_run_has_no_driver_for_a_model_of_ones_own(capsys):
    code, out, err = run("run", EXAMPLE, capsys=capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "`paxchain simulate" in err
