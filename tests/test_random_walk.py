"""Random simulation: finds bugs by seeded random runs, never claims holds."""

from __future__ import annotations

import pytest

from paxchain.checker import random_walk
from paxchain.checker.cli import main
from paxchain.checker.result import HOLDS, INCOMPLETE, STOP_SAMPLED, VIOLATED, Options
from paxchain.checker.steps import shorten
from paxchain.checker.trace import replay
from paxchain.models.registry import build

SMALL = {"acceptors": "3", "values": "2", "max_ballot": "1"}


def _cli(argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return exc.value.code


def test_a_random_run_finds_the_bug_and_minimize_shortens_it():
    model = build("lamport-paxos", SMALL, "small_quorums")
    r = random_walk.check(model, Options(), walks=100, seed=1)
    p = r.get("agreement")
    assert r.verdict == VIOLATED and p.verdict == VIOLATED
    n = len(p.trace.steps) - 1
    assert n >= 8  # a genuine run, at least as long as the shortest (8, breadth-first)
    assert replay(model, __import__("json").loads(p.trace.dumps())).outcome == "violation"
    assert len(shorten(p.trace).steps) - 1 == 8
    again = random_walk.check(model, Options(), walks=100, seed=1).get("agreement").trace
    assert [s.state for s in again.steps] == [s.state for s in p.trace.steps]  # same seed
    # The detail names the run that broke it: the runs before it broke nothing, so with that
    # many walks the same seed finds it again, and with one fewer it does not.
    run = int(p.detail.split("random run ")[1].split()[0])
    assert p.detail == f"broken by random run {run} (seed 1)"
    assert random_walk.check(model, Options(), walks=run, seed=1).verdict == VIOLATED
    if run > 1:
        assert random_walk.check(model, Options(), walks=run - 1, seed=1).verdict != VIOLATED


def test_no_violation_is_incomplete_never_holds():
    model = build("lamport-paxos", SMALL)
    r = random_walk.check(model, Options(), walks=50, seed=0)
    assert r.verdict == INCOMPLETE and r.stopped_by == STOP_SAMPLED and r.exit_code == 3
    assert r.get("agreement").verdict == INCOMPLETE
    assert "random simulation proves nothing" in r.get("agreement").detail
    assert r.get("value_chosen").verdict == HOLDS  # a goal reached on a run: a witness


def test_the_time_limit_stops_sampling():
    model = build("lamport-paxos", SMALL)
    r = random_walk.check(model, Options(time_limit=0), walks=10_000, seed=0)
    assert r.stopped_by == "time_limit" and r.verdict == INCOMPLETE


def test_cli(capsys):
    assert _cli(["check", "lamport-paxos", "--variant", "small_quorums", "--engine", "random",
                 "--seed", "1", "--minimize", "-q"]) == 1
    out = capsys.readouterr().out
    found = int(out.split("minimized agreement: ")[1].split()[0])
    assert found >= 8 and "minimized agreement: " f"{found} -> 8 steps" in out
    assert _cli(["check", "lamport-paxos", "--engine", "random", "--walks", "20", "-q"]) == 3
    assert _cli(["check", "lamport-paxos", "--walks", "5"]) == 2
    assert "--walks and --seed go with --engine random" in capsys.readouterr().err


def test_a_reduction_whose_premise_fails_on_a_run_is_switched_off_and_sampling_restarts():
    # proposer_ignores_reply_ballot reacts to a Promise that the bury reduction removed as
    # dead: the run that meets it stops, and the sampling is redone without bury, as the
    # exhaustive search does (explicit.retrying), instead of the error reaching the user.
    model = build("paxos-system", {}, "proposer_ignores_reply_ballot")
    r = random_walk.check(model, Options(), walks=50, seed=1)
    assert any(text.startswith("bury off (premise failed") for text in r.reductions)
    assert r.verdict == VIOLATED
    # subsumption needs a visited set: the model has it on, the sampling does not apply it
    assert any(x.name == "subsumption" and x.active for x in model.reductions())
    assert not any(text.startswith("subsumption") for text in r.reductions)


@pytest.mark.parametrize("name, params, variant", [
    ("lamport-paxos", SMALL, "small_quorums"),
    ("paxos-system", {}, "ballots_not_unique"),
    ("chain", {}, "no_hash_link_check"),
    ("lamport-paxos", SMALL, None),
])
def test_workers_share_the_runs_out_and_give_the_same_result(name, params, variant):
    # Run r draws from a generator seeded by (seed, r) and picks among steps in label order,
    # so it is the same run in any process: two workers find the same first breaking run and
    # the same trace as one (and, without a bug, sample the same runs and states).
    one = random_walk.check(build(name, params, variant), Options(), walks=60, seed=1)
    two = random_walk.check(build(name, params, variant), Options(), walks=60, seed=1,
                            workers=2)
    assert [(p.name, p.verdict, p.detail) for p in one.properties] == \
        [(p.name, p.verdict, p.detail) for p in two.properties]
    assert (one.stats.generated, one.stats.distinct) == (two.stats.generated, two.stats.distinct)
    for p, q in zip(one.properties, two.properties):
        if p.trace is not None:
            assert p.trace.dumps() == q.trace.dumps()
    if variant is not None:
        assert one.verdict == VIOLATED


def test_workers_from_the_cli(capsys):
    assert _cli(["check", "lamport-paxos", "--variant", "small_quorums", "--engine", "random",
                 "--seed", "1", "--workers", "2", "-q"]) == 1
    assert "2 workers" in capsys.readouterr().out
    assert _cli(["check", "lamport-paxos", "--engine", "random", "--checkpoint", "ck"]) == 2
    assert "--checkpoint and --resume go with the explicit engine" in capsys.readouterr().err


def test_each_run_draws_a_fault_rate_and_faults_are_read_from_labels():
    from paxchain.models.model import Label

    deliver = Label("Deliver", (("src", "a"), ("dst", "b")), "b")
    crash = Label("Crash", (("node", "b"),), "b", events=("crash",))
    cut = Label("Deliver", (("src", "a"), ("dst", "b"), ("crash_after", 0)), "b",
                events=("crash",))
    restart = Label("Restart", (("node", "b"),), "b", events=("restart",))
    assert [random_walk.is_fault(x) for x in (deliver, crash, cut, restart)] == \
        [False, True, True, False]
    succ = [(deliver, 1), (crash, 2), (cut, 3), (restart, 4)]
    rng = __import__("random").Random(0)

    def picks(rate):
        return {random_walk._pick(rng, succ, rate)[1] for _ in range(200)}

    assert picks(0.0) == {1, 4}          # no fault while another step is enabled
    assert picks(1.0) == {2, 3}          # only faults
    assert picks(None) == {1, 2, 3, 4}   # uniform over all
    assert random_walk._pick(rng, [(crash, 2)], 0.0)[1] == 2  # only faults enabled: one
    assert None in random_walk.FAULT_RATES and 0.0 in random_walk.FAULT_RATES
