"""Liveness of the chain model (issue 14): chain growth and eventual convergence hold under fair
delivery with lowest-hash ties, fail with first-seen ties (convergence) and with a partition
(both), each failure a lasso that replays (``paxchain.models.chain_fairness``,
``paxchain.specs.chain_liveness``; README, Liveness).

The bound is 2 nodes, a mining budget of 2, ``delay=1``, no crash unless named. The liveness
search switches the model's reductions off (``flight_multiset``, ``restart_at_once``), so
messages in flight are kept in send order. Its 43 states, by (blocks mined, messages in
flight): 1 at (0, 0); 2 at (1, 1) and 2 at (1, 0) (n1's or n2's block, on its way or
delivered); at 2 blocks, 6 with nothing in flight, 16 with one message and 16 with two. The 6
end states: four chains of two blocks (n1 then n1, n2 then n2, n1 then n2 on it, n2 then n1 on
it) and two forks of two blocks at height 1 (n1's first or n2's first: the timestamps differ),
which lowest-hash ties resolve and first-seen ties leave split. Every step mines, consumes a
message or spends a budget, and the graph has no cycle at this bound: each fair run ends in a
state with no step, where it stutters.
"""

from __future__ import annotations

import json

import pytest
from paxchain.checker.cli import main
from paxchain.checker.explicit import selected
from paxchain.checker.liveness import check_liveness
from paxchain.checker.result import HOLDS, VIOLATED, Options
from paxchain.checker.trace import replay
from paxchain.models.chain_fairness import FAIR_DELIVERY, FAIR_MINING, FAIR_RESTARTS, MINE_KEY
from paxchain.models.chain_system import ChainSystem
from paxchain.models.partition import Cut, parse_cut
from paxchain.specs.chain_liveness import LIVENESS

BOUND = dict(nodes=2, budget=2, crashes=0, tie="lowest-hash", k=2)
NAMES = tuple(p.name for p in LIVENESS)


def chain(**kw):
    return ChainSystem(**{**BOUND, **kw})


def live(model):
    return check_liveness(model, [p.bind(model) for p in LIVENESS], Options())


def test_lowest_hash_ties_grow_and_converge_on_every_fair_run():
    r = live(chain())
    assert [r.get(n).verdict for n in NAMES] == [HOLDS, HOLDS]
    assert r.stats.distinct == 43  # the module docstring counts them
    assert r.assumptions == [a.text() for a in chain().fairness()]
    assert any("flight_multiset" in x and "liveness is checked" in x for x in r.reductions)


def test_with_a_crash_anywhere_they_still_hold_and_the_fairness_names_every_offered_step():
    # A crash (or a crash point inside a handler) leaves the node down until a delivery or a
    # Mine wakes it, or its Restart: fair_delivery and fair_restarts name those keys, or the
    # engine would raise FairnessError. A crash that loses a message excuses the run.
    r = live(chain(crashes=1))
    assert [r.get(n).verdict for n in NAMES] == [HOLDS, HOLDS]
    assert r.stats.distinct == 258


def test_first_seen_ties_never_converge_but_every_node_catches_up():
    # n1 and n2 each find a block at height 1 before hearing of the other's, then each hears
    # of it: equal work, and each keeps the block it saw first, for ever (4 steps, then no
    # step). Both chains have height 1, so chain growth holds.
    r = live(chain(tie="first-seen"))
    assert r.get("eventually_caught_up").verdict == HOLDS
    p = r.get("eventually_converged")
    assert p.verdict == VIOLATED and p.trace.loop == 4
    assert [str(s.label) for s in p.trace.steps[1:3]] == ["Mine(node=n1)", "Mine(node=n2)"]
    assert [s.label.action for s in p.trace.steps[3:]] == ["Deliver", "Deliver"]
    tips = [n.state.tip for n in p.trace.model.nodes(p.trace.steps[-1].state).values()]
    assert tips[0] != tips[1] and tips[0].height == tips[1].height == 1
    assert replay(p.trace.model, json.loads(p.trace.dumps())).trace.loop == 4


def test_a_partition_breaks_growth_and_convergence():
    # n1 mines both blocks; its announcements to n2 cross the cut, are never offered, and the
    # run stays in state 2 for ever with n2 on the genesis block. The 7 states: the initial
    # one, one block by n1 or by n2, two blocks mined in one of four orders (n1 n1, n1 n2,
    # n2 n1, n2 n2: the timestamps tell the blocks apart); nothing is ever delivered.
    m = chain(partition="n1|n2")
    r = live(m)
    assert r.stats.distinct == 7
    for name in NAMES:
        p = r.get(name)
        assert p.verdict == VIOLATED and p.trace.loop == 2
        assert [str(s.label) for s in p.trace.steps[1:]] == ["Mine(node=n1)", "Mine(node=n1)"]
        assert "no enabled step" in p.trace.explanation
        assert replay(p.trace.model, json.loads(p.trace.dumps())).trace.loop == 2
    end = r.get("eventually_converged").trace.steps[-1].state
    assert len(m.network(end)) == 2 and not m.successors(end)


def test_a_cut_message_is_neither_offered_nor_enabled():
    m = chain(partition="n1|n2", delay=None)
    s = m.initial_states()[0]
    label, s = m.successors(s)[0]
    assert str(label) == "Mine(node=n1)" and len(m.network(s)) == 1
    assert [lb.action for lb, _ in m.successors(s)] == ["Mine", "Mine"]
    delivery, mining, restarts = m.fairness()
    assert (delivery.name, mining.name, restarts.name) == (FAIR_DELIVERY, FAIR_MINING,
                                                           FAIR_RESTARTS)
    assert list(delivery.enabled(s)) == [] and list(mining.enabled(s)) == [MINE_KEY]
    # Without the cut the same state offers the message's delivery, and names its key.
    uncut = chain(delay=None)
    (src, dst, msg), = uncut.network(s)
    offered = {uncut.fairness()[0].key(lb) for lb, _ in uncut.successors(s)} - {None}
    assert offered == set(uncut.fairness()[0].enabled(s)) == {
        (src, dst, f"block {msg.block.short}")}


def test_the_partition_is_spelled_as_the_simulators_groups():
    cut = parse_cut("n1|n2,n3", ("n1", "n2", "n3", "n4"))
    assert cut == Cut((("n1",), ("n2", "n3")))
    assert cut.cuts("n1", "n2") and cut.cuts("n4", "n3") and not cut.cuts("n2", "n3")
    assert cut.text() == "n1|n2,n3" and parse_cut("none", ("n1",)) is None
    for bad, why in [("n1|n9", "no node n9"), ("n1|n2@0..5", "permanent"),
                     ("n1,n2", "cuts no link"), ("n1|n1", "disjoint")]:
        with pytest.raises(ValueError, match=why):
            parse_cut(bad, ("n1", "n2"))


def test_the_properties_are_opt_in_and_the_partition_is_a_cli_parameter(tmp_path, capsys):
    m = chain()
    assert {p.name for p in selected(m, None)}.isdisjoint(NAMES)
    assert [p.name for p in selected(m, NAMES)] == list(NAMES)
    out = tmp_path / "cut"
    with pytest.raises(SystemExit) as exit_:
        main(["check", "chain", "-p", "nodes=2", "-p", "budget=2", "-p", "crashes=0",
              "-p", "partition=n1|n2", "--property", "eventually_converged", "-q",
              "--out", str(out)])
    assert exit_.value.code == 1
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(["replay", str(out / "trace.json")])
    assert exit_.value.code == 1  # the violation, confirmed
    said = capsys.readouterr().out
    assert "partition=n1|n2" in said and "confirmed: eventually_converged" in said
    assert "state 2 has no enabled step" in said


def test_with_a_partition_the_three_successor_views_agree():
    # The safety search reads next_states (and coverage next_states_by_action), the liveness
    # search successors: with a cut, all three leave out the same deliveries.
    m = chain(nodes=3, partition="n1|n2,n3", crashes=1)
    seen, todo = set(), list(m.initial_states())
    while todo:
        s = todo.pop()
        if s in seen:
            continue
        seen.add(s)
        steps = m.successors(s)
        assert m.next_states(s) == [t for _, t in steps]
        assert [t for _, t in m.next_states_by_action(s)] == [t for _, t in steps]
        assert not any(lb.action == "Deliver" and m.cut.cuts(*(dict(lb.args)[x]
                                                               for x in ("src", "dst")))
                       for lb, _ in steps)
        todo += [t for _, t in steps]
    assert any(lb.action == "Deliver" for s in seen for lb, _ in m.successors(s))  # n2 <-> n3
