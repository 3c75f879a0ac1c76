"""paxchain.checker.testing: pass on real verdicts only; failures carry the trace and the statistics."""

from __future__ import annotations

import pytest

from paxchain.models.errors import UserError
from paxchain.checker.testing import assert_holds, assert_reached, assert_violated

pytest_plugins = ["pytester"]  # for the plugin test at the end

SMALL = {"acceptors": 3, "values": 2, "max_ballot": 1}


def test_assert_holds_returns_the_exhaustive_result():
    result = assert_holds("lamport-paxos", params=SMALL, properties=["agreement"])
    # 3,921 distinct states: the same count test_lamport_paxos pins for this instance.
    assert result.verdict == "holds" and result.stats.distinct == 3921


def test_assert_holds_fails_with_the_trace_text():
    with pytest.raises(AssertionError) as info:
        assert_holds("lamport-paxos", params=SMALL, variant="small_quorums",
                     properties=["agreement"])
    text = str(info.value)
    assert text.startswith("agreement (invariant) is violated")
    assert "distinct states found" in text          # the statistics
    assert "Step 1: Phase1a" in text                  # the trace, step by step
    assert "Violated: agreement" in text


def test_incomplete_is_not_holds():
    with pytest.raises(AssertionError, match="incomplete .max_depth.*not 'holds'"):
        assert_holds("lamport-paxos", params=SMALL, max_depth=3, properties=["agreement"])
    result = assert_holds("lamport-paxos", params=SMALL, max_depth=3, properties=["agreement"],
                          allow_incomplete=True)
    assert result.verdict == "incomplete"


def test_assert_violated_returns_the_shortest_trace():
    trace = assert_violated("lamport-paxos", "agreement", params=SMALL, variant="small_quorums")
    # 8 steps: two ballots each need a 1a, a 1b from a (non-intersecting) quorum, a 2a and a
    # 2b -- with quorums of one acceptor, 2 * 4 = 8 (cf. ../shared/design/paxos-bugs.md).
    assert len(trace.steps) - 1 == 8
    with pytest.raises(AssertionError, match="expected agreement to be violated, but it holds"):
        assert_violated("lamport-paxos", "agreement", params=SMALL)


def test_assert_reached_gives_the_witness():
    trace = assert_reached("lamport-paxos", "value_chosen", params=SMALL)
    # 1a, 1b from two acceptors (a majority of 3), 2a, 2b from two acceptors = 6 steps.
    assert len(trace.steps) - 1 == 6
    with pytest.raises(AssertionError, match="goal value_chosen not reached"):
        assert_reached("lamport-paxos", "value_chosen", params=SMALL, variant="strict_phase2b")


def test_typos_are_user_errors_not_verdicts():
    with pytest.raises(UserError):
        assert_holds("lamport-paxos", params={"acceptorz": 3})
    with pytest.raises(UserError):
        assert_holds("lamport-paxos", params=SMALL, properties=["agreemnt"])


def test_pytest_plugin_writes_the_failing_trace(pytester, tmp_path):
    pytester.makepyfile(test_model="""
        from paxchain.checker.testing import assert_holds

        def test_small_quorums_are_safe():
            assert_holds("lamport-paxos", variant="small_quorums", properties=["agreement"])
    """)
    out = tmp_path / "traces"
    # The plugin is registered by the package's pytest11 entry point (pyproject.toml).
    result = pytester.runpytest_inprocess("--paxchain-traces", str(out), "-rA")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*agreement (invariant) is violated*", "*paxchain trace*"])
    (folder,) = out.iterdir()
    assert folder.name == "test_model.py__test_small_quorums_are_safe"
    assert {"trace.json", "trace.txt", "trace.html"} <= {p.name for p in folder.iterdir()}
