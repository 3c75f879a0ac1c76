"""A partition in the actor-system models (models/partition.py): links cut for good, the same
``-p partition=GROUPS`` for paxos-system as for the chain (tests/test_chain_liveness.py)."""

from __future__ import annotations

import pytest

from paxchain.checker import Options, check
from paxchain.checker.cli import main
from paxchain.checker.result import HOLDS, VIOLATED
from paxchain.checker.commands.replay import load_trace_file
from paxchain.models.partition import Cut, parse_cut
from paxchain.models.registry import build

ONE = {"proposers": "1", "max_rounds": "1", "crashes": "0"}


def _paxos(partition: str = "none", **more: str):
    return build("paxos-system", {**ONE, **more, "partition": partition})


def test_a_cut_leaves_out_exactly_the_deliveries_across_it():
    whole, cut = _paxos(), _paxos("p1,a1|a2,a3")
    assert cut.cut == Cut((("p1", "a1"), ("a2", "a3")))
    # (each model interns its own states: compare the steps by their labels)
    for w, s in zip(whole.initial_states(), cut.initial_states(), strict=True):
        full = [lb for lb, _ in whole.successors(w)]
        kept = cut.successors(s)
        across = [lb for lb in full if lb.action == "Deliver"
                  and cut.cut.cuts(dict(lb.args)["src"], dict(lb.args)["dst"])]
        assert across  # p1's Prepares to a2 and a3
        assert [lb for lb, _ in kept] == [lb for lb in full if lb not in across]
        # the three successor views agree under the cut
        assert [t for _, t in kept] == cut.next_states(s)
        assert [t for _, t in kept] == [t for _, t in cut.next_states_by_action(s)]


def test_a_proposer_cut_off_from_a_majority_never_decides_and_the_lasso_replays(tmp_path):
    # One proposer with one acceptor on its side: no quorum, so eventually_decided fails on
    # a fair run that stops once the proposer is out of rounds (3 steps, then stutters).
    model = _paxos("p1,a1|a2,a3")
    r = check(model, Options(only=("eventually_decided",))).get("eventually_decided")
    assert r.verdict == VIOLATED
    # replayed as `paxchain replay` does: the model rebuilt from the file's header (the
    # liveness search runs with the reductions it cannot keep switched off, and says so there)
    path = tmp_path / "trace.json"
    path.write_text(r.trace.dumps())
    again = load_trace_file(str(path))
    assert again.outcome == "violation" and again.trace.prop == "eventually_decided"
    # Safety: no behaviour is added, and the goals show that nothing can be decided.
    safety = check(_paxos("p1,a1|a2,a3"), Options())
    assert safety.get("agreement").verdict == HOLDS
    assert safety.get("value_decided").verdict == VIOLATED  # a goal never reached


def test_a_cut_that_leaves_a_majority_connected_keeps_progress():
    # a3 alone on its side: p1, a1, a2 and the learner still form a majority.
    for partition in ("none", "a3"):
        r = check(_paxos(partition), Options(only=("eventually_decided",)))
        assert r.get("eventually_decided").verdict == HOLDS, partition


def test_symmetry_only_swaps_acceptors_on_one_side():
    # a1 is cut off from a2 and a3, so only a2 and a3 may be swapped: the reduced search must
    # give the same verdicts as the full one.
    full = check(_paxos("a1", max_rounds="2"), Options())
    reduced = check(_paxos("a1", max_rounds="2"), Options(symmetry=True))
    assert [(p.name, p.verdict) for p in full.properties] == \
        [(p.name, p.verdict) for p in reduced.properties]
    assert reduced.stats.distinct < full.stats.distinct


@pytest.mark.parametrize("text, words", [
    ("x9", "no node x9"),
    ("a1,a2,a3,p1,p2,l1", "cuts no link"),
    ("a1|a1", "disjoint"),
    ("a1@0..5", "permanent"),
])
def test_bad_partitions_are_one_line_errors(text, words, capsys):
    with pytest.raises(ValueError, match=words):
        parse_cut(text, ("a1", "a2", "a3", "p1", "p2", "l1"))
    with pytest.raises(SystemExit) as exc:
        main(["check", "paxos-system", "-p", f"partition={text}", "-q"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1
