"""Runs written as step texts, shortened traces and the pasteable regression test."""

from __future__ import annotations

import pytest

from paxchain.checker.render_pytest import test_source as render_test
from paxchain.checker.steps import Stuck, follow, shorten, shows
from paxchain.checker.testing import (CheckFailure, assert_reached, assert_run_keeps,
                                      assert_run_reaches, assert_violated)
from paxchain.models.registry import build
from paxchain.specs.model_properties import properties_of

SMALL = {"acceptors": 3, "values": 2, "max_ballot": 1}


def _agreement(model):
    return next(p for p in properties_of(model) if p.name == "agreement")


def _texts(trace):
    return [str(s.label) for s in trace.steps[1:]]


@pytest.fixture(scope="module")
def dfs_trace():
    return assert_violated("lamport-paxos", "agreement", params=SMALL, variant="small_quorums",
                           strategy="dfs")


def test_a_depth_first_trace_is_shortened_to_the_breadth_first_length(dfs_trace):
    """The issue's example: DFS finds small_quorums' agreement violation in 12 steps, BFS's
    shortest is 8; deleting steps gets back to 8."""
    bfs = assert_violated("lamport-paxos", "agreement", params=SMALL, variant="small_quorums")
    assert len(dfs_trace.steps) - 1 == 12 and len(bfs.steps) - 1 == 8
    short = shorten(dfs_trace)
    assert len(short.steps) - 1 == 8
    # A genuine run: it replays step by step and breaks agreement only at its end.
    run = follow(short.model, _texts(short))
    assert isinstance(run, list) and [s.state for s in run] == [s.state for s in short.steps]
    assert shows(_agreement(short.model), run) == 8
    assert short.explanation


def test_a_shortened_trace_is_one_minimal(dfs_trace):
    """Deleting any single step loses the run or the violation."""
    short = shorten(dfs_trace)
    texts, prop = _texts(short), _agreement(short.model)
    for i in range(len(texts)):
        run = follow(short.model, texts[:i] + texts[i + 1:])
        assert isinstance(run, Stuck) or shows(prop, run) is None, i


def test_a_shortest_trace_is_left_as_it_is():
    bfs = assert_violated("lamport-paxos", "agreement", params=SMALL, variant="small_quorums")
    assert [s.state for s in shorten(bfs).steps] == [s.state for s in bfs.steps]


def test_a_run_that_is_not_enabled_is_stuck_at_its_first_bad_step():
    model = build("lamport-paxos", {k: str(v) for k, v in SMALL.items()})
    stuck = follow(model, ["Phase1a(bal=0)", "Phase2b(a=a1, bal=0, val=v1)"])
    assert stuck == Stuck(2, "Phase2b(a=a1, bal=0, val=v1)")
    assert follow(model, []) != Stuck(0, "")  # the empty run is the initial state


def test_the_pasted_test_fails_on_the_bug_and_passes_on_the_fix(dfs_trace, tmp_path):
    source = render_test(shorten(dfs_trace))
    assert "assert_run_keeps(" in source and "'Phase1a(bal=0)'," in source
    namespace: dict = {}
    exec(compile(source, "pasted_test.py", "exec"), namespace)
    test = next(v for k, v in namespace.items() if k.startswith("test_"))
    with pytest.raises(CheckFailure) as exc:
        test()
    assert "the run still breaks agreement" in str(exc.value) and exc.value.trace is not None
    # The correct protocol (majority quorums): the same steps cannot happen or keep agreement.
    assert_run_keeps("lamport-paxos", "agreement", _texts(shorten(dfs_trace)), params=SMALL)


def test_a_witness_pastes_as_a_test_that_the_run_reaches_the_goal():
    trace = assert_reached("lamport-paxos", "value_chosen", params=SMALL)
    source = render_test(trace)
    assert "assert_run_reaches(" in source
    namespace: dict = {}
    exec(compile(source, "pasted_test.py", "exec"), namespace)
    next(v for k, v in namespace.items() if k.startswith("test_"))()
    with pytest.raises(AssertionError, match="is not enabled"):
        assert_run_reaches("lamport-paxos", "value_chosen", ["Phase2b(a=a1, bal=0, val=v1)"],
                           params=SMALL)


def _cli(argv):
    from paxchain.checker.cli import main

    with pytest.raises(SystemExit) as exc:
        main(argv)
    return exc.value.code


def test_replay_shortens_and_writes_the_test(dfs_trace, tmp_path, capsys):
    """`paxchain replay --shorten --as-test`: the 12-step DFS trace file comes back as the
    8-step run, and the written test is the one render_pytest gives for it."""
    src = tmp_path / "dfs.json"
    src.write_text(dfs_trace.dumps())
    out, test_file = tmp_path / "short", tmp_path / "regression.py"
    assert _cli(["replay", str(src), "--shorten", "--as-test", str(test_file),
                 "--out", str(out)]) == 1
    said = capsys.readouterr().out
    assert "shortened from 12 to 8 steps" in said and "replayed 8 steps" in said
    assert test_file.read_text() == render_test(shorten(dfs_trace))
    assert (out / "trace.test.py").read_text() == test_file.read_text()
    assert _cli(["replay", str(out / "trace.json"), "--as-test", "-"]) == 1
    assert "assert_run_keeps(" in capsys.readouterr().out


def test_check_minimize_prints_the_eight_step_trace(capsys):
    """The issue's Done-when: `check lamport-paxos --variant small_quorums --dfs --minimize`."""
    assert _cli(["check", "lamport-paxos", "--variant", "small_quorums", "--dfs", "--minimize",
                 "-q"]) == 1
    out = capsys.readouterr().out
    assert "minimized agreement: 12 -> 8 steps" in out
    assert "agreement (invariant) violated in 8 steps" in out
