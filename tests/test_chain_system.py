"""The chain system model (``paxchain.models.chain_system``) and its properties (``paxchain.specs.chain``).

The CI bound of issue 4: 3 nodes, a mining budget of 3 blocks, message delay and reordering
(any-order delivery; ``delay=1``: a message may stay in flight while one more block is found),
one crash-restart from the persisted chain — which may fall between a handler's effects (crash
points, issue 10). Counts below are the exhaustive numbers of distinct reachable states at that
bound (they change whenever the node's messages or the model's semantics change, which is the
point of pinning them); ``crash_points=0`` gives the model without crash points, whose counts
are those before issue 10.
"""

from __future__ import annotations

import copy
import json
import os

import pytest

import subprocess
import sys

from paxchain.checker.artifacts import write_trace
from paxchain.checker.explicit import check, reachable_states
from paxchain.models.model import ReductionUnsound
from paxchain.checker.render_dot import dot_available, render_svg
from paxchain.checker.result import HOLDS, VIOLATED, Options
from paxchain.checker.trace import replay
from paxchain.models.chain_drawing import first_divergence
from paxchain.impl.actor import SetTimer
from paxchain.impl.chain_node import ChainNode
from paxchain.impl.chain_variants import CHAIN
from paxchain.checker.common_prefix import find_min_k, min_k_report
from paxchain.models.chain_system import REDUCTION_BOUND, ChainSystem
from paxchain.models.registry import build

CI = dict(nodes=3, budget=3, delay=1, crashes=1)
STRUCTURAL = ("hash_links", "genesis_agreement", "chain_valid", "tip_max_work", "mtp_monotone",
              "tip_work_monotone", "known_blocks_kept", "announced_blocks_persisted",
              "future_self_consistency")


VIEW = ChainSystem(**CI)  # reads any 3-node chain state through the named accessors


def replayed(trace):
    """The trace written to JSON, read back and re-executed on a fresh model instance."""
    data = json.loads(trace.dumps())
    fresh = build("chain", {k: _text(v) for k, v in trace.model.params.items()},
                  trace.model.variant)
    return replay(fresh, data)


def _text(v):
    return ",".join(map(str, v)) if isinstance(v, tuple) else str(v)


def drawn(trace, tmp_path):
    """Every drawing of the trace is written; SVG rendering is checked where dot exists."""
    paths = write_trace(trace, tmp_path)
    names = {p.name for p in paths}
    assert "blocktree.dot" in names and "trace.dot" in names
    src = (tmp_path / "blocktree.dot").read_text()
    if dot_available():
        assert b"<svg" in render_svg(src)
    return src


@pytest.fixture(scope="module")
def ci_first_seen():
    return check(ChainSystem(**CI, tie="first-seen", k=2), Options(keep_going=True))


def test_ci_bound_structural_properties_hold(ci_first_seen):
    r = ci_first_seen
    assert r.exhaustive
    # 336,584 distinct states: every reachable state of 3 nodes / 3 blocks / delay 1 / 1 crash
    # (crash points included) under first-seen ties (pinned; see the module docstring). The
    # correct node keeps write-ahead gossip (announced_blocks_persisted) with crash points on.
    assert r.stats.distinct == 336_584
    for name in STRUCTURAL + ("prefix_consistency", "block_everywhere"):
        assert r.get(name).verdict == HOLDS, name


def test_first_seen_ties_break_convergence_with_a_drawn_fork(ci_first_seen, tmp_path):
    p = ci_first_seen.get("convergence")
    assert p.verdict == VIOLATED
    last = p.trace.steps[-1].state
    tips = {st.tip for st in VIEW.node_states(last)}
    assert len(tips) > 1 and len({t.height for t in tips}) == 1  # equal work, different tips
    assert replayed(p.trace).outcome == "violation"
    src = drawn(p.trace, tmp_path)
    height, nodes = first_divergence([st.chain for st in VIEW.node_states(last)])
    assert height >= 1 and len(nodes) >= 2
    assert f"first differ at height {height}" in src


def test_lowest_hash_ties_converge_at_the_ci_bound():
    r = check(ChainSystem(**CI, tie="lowest-hash", k=2), Options(keep_going=True))
    assert r.exhaustive and r.verdict == HOLDS
    # 314,178 < 336,584: with a strict tie rule fewer distinct tip combinations are reachable.
    # Without crash points 145,386 (the count before issue 10): crash points add 2.2x.
    assert r.stats.distinct == 314_178


def test_prefix_consistency_k0_shortest_counterexample_and_minimal_k(tmp_path):
    k, results = find_min_k(CI)
    assert k == 2
    k0 = results[0].get("prefix_consistency").trace
    # Shortest: one step. A node finds a block; the others are still at genesis, so its chain
    # with 0 blocks cut off is not a prefix of theirs.
    assert [s.label.action for s in k0.steps[1:]] == ["Mine"]
    assert replayed(k0).outcome == "violation"
    drawn(k0, tmp_path)
    k1 = results[1].get("prefix_consistency").trace
    # k = 1 breaks in two steps: one node finds two blocks while its first is still in flight.
    assert [s.label.action for s in k1.steps[1:]] == ["Mine", "Mine"]
    assert results[2].exhaustive and results[2].get("prefix_consistency").verdict == HOLDS


@pytest.mark.parametrize("delay,budget,expected", [(0, 3, 1), ("none", 2, 2)])
def test_minimal_k_depends_on_the_network_bound(delay, budget, expected):
    # Lock-step mining (delay 0) never forks: a node is at most one block ahead (k = 1).
    # An asynchronous network lets one node find every block unheard (k = budget).
    params = {**CI, "budget": budget, "crashes": 0,
              "delay": None if delay == "none" else delay}
    k, results = find_min_k(params)
    assert k == expected
    assert all(results[j].get("prefix_consistency").verdict == VIOLATED for j in range(k))


def test_find_min_k_says_unknown_when_a_bound_cuts_the_search():
    k, results = find_min_k(CI, Options(max_states=500))
    assert k is None
    assert not results[max(results)].exhaustive
    text, code = min_k_report(k, results)
    assert code == 3 and "minimal k: unknown" in text and "stopped by max_states" in text


def test_min_k_report_names_each_k():
    k, results = find_min_k({**CI, "budget": 2, "crashes": 0})
    text, code = min_k_report(k, results)
    assert code == 0 and text.splitlines()[-1].startswith("minimal k: 2")
    assert text.splitlines()[0] == "k=0: violated (2 states; shortest counterexample 1 step)"


def test_future_self_consistency_k0_is_broken_by_a_reorg():
    r = check(ChainSystem(**CI, k=0), Options(only=("future_self_consistency",)))
    t = r.get("future_self_consistency").trace
    assert r.get("future_self_consistency").verdict == VIOLATED
    assert replayed(t).outcome == "violation"
    a, b = VIEW.node_states(t.steps[-2].state), VIEW.node_states(t.steps[-1].state)
    assert any(x.tip not in y.chain for x, y in zip(a, b))


# -- seeded bugs: each is found, replays from JSON, and its block tree renders ---------------------

BUG_PARAMS = dict(nodes=3, budget=3, delay=1, crashes=1, tie="lowest-hash", k=2)
GATE = dict(BUG_PARAMS, budget=2)
SLOW_CLOCK = dict(BUG_PARAMS, offsets=(0, -20), crashes=0)


@pytest.mark.parametrize("variant,prop,params,length", [
    # Lengths are the BFS-shortest counterexamples at these bounds.
    # A crash point shortens the first two from 6 steps: n1 persists its block and crashes
    # before announcing it, so it can build on it unheard.
    ("no_hash_link_check", "hash_links", BUG_PARAMS, 4),
    ("no_hash_link_check", "chain_valid", BUG_PARAMS, 4),
    ("latest_arrival_fork_choice", "tip_max_work", BUG_PARAMS, 4),
    ("latest_arrival_fork_choice", "tip_work_monotone", BUG_PARAMS, 4),
    ("no_timestamp_check", "chain_valid", SLOW_CLOCK, 1),
    ("no_timestamp_check", "mtp_monotone", SLOW_CLOCK, 3),
    ("adopt_unknown_parent", "genesis_agreement", BUG_PARAMS, 3),
    ("adopt_unknown_parent", "chain_valid", BUG_PARAMS, 3),
    ("reorg_forgets_old_branch", "known_blocks_kept", BUG_PARAMS, 3),
    ("announce_before_persist", "announced_blocks_persisted", GATE, 1),
    # ...and its consequence under lowest-hash ties, where correct nodes converge: the miner
    # forgets its announced block, mines a competitor, and no one sends the first back.
    ("announce_before_persist", "convergence", GATE, 6),
])
def test_seeded_bug_is_found_replayed_and_drawn(variant, prop, params, length, tmp_path):
    m = ChainSystem(**params, variant=variant)
    r = check(m, Options(only=(prop,)))
    p = r.get(prop)
    assert p.verdict == VIOLATED
    assert len(p.trace.steps) - 1 == length
    assert replayed(p.trace).outcome == "violation"
    drawn(p.trace, tmp_path)


def test_correct_nodes_under_a_slow_clock_keep_the_rules_but_may_not_converge():
    # Offsets 0 and -20 (as for no_timestamp_check, with 2 blocks): correct nodes keep every
    # structural property, but an offset of 20 exceeds max_drift 10, so the slow node rejects
    # a fast node's block as from the future and never retries: no convergence.
    r = check(ChainSystem(**dict(SLOW_CLOCK, budget=2)), Options(keep_going=True))
    assert r.exhaustive
    for name in STRUCTURAL + ("prefix_consistency",):
        assert r.get(name).verdict == HOLDS, name
    conv = r.get("convergence")
    assert conv.verdict == VIOLATED
    assert any(st.rejected for st in VIEW.node_states(conv.trace.steps[-1].state))


def test_drops_and_duplicates_are_faults_of_the_model():
    m = ChainSystem(nodes=2, budget=1, delay=None, drops=1, duplicates=1, crashes=0,
                    tie="lowest-hash", k=1)
    r = check(m, Options(keep_going=True))
    assert r.verdict == HOLDS and r.coverage and all(r.coverage.values())


def test_bad_model_parameters_are_rejected():
    for kw in ({"nodes": 0}, {"budget": -1}, {"tie": "coin"}, {"offsets": ()},
               {"delay": -1}, {"variant": "nope"}, {"variant": "announce_before_persist "}):
        with pytest.raises(ValueError):
            ChainSystem(**kw)


def test_the_goal_shows_vacuity_when_nothing_can_be_mined():
    r = check(ChainSystem(nodes=2, budget=0, crashes=0), Options(keep_going=True))
    assert r.get("block_everywhere").verdict == VIOLATED
    assert r.get("hash_links").verdict == HOLDS  # holds, but vacuously: the goal says so


# -- crash points inside a handler (issue 10) --------------------------------------------------

def _steps_from(m, s):
    return {str(label): (label, t) for label, t in m.successors(s)}


def test_a_crash_may_fall_between_a_handlers_effects():
    m = ChainSystem(**GATE)
    steps = _steps_from(m, m.initial_states()[0])
    # Mine's effects are Persist | Send, Send | Output | Output: a crash after the Persist...
    label, t = steps["Mine(node=n1, crash_after=1)"]
    assert {"crash", "restart"} <= set(label.events) and label.sends == ()
    n1 = m.node_states(t)[0]
    assert n1.tip.height == 1 and m.durables(t)[0][0] == n1.chain  # written, restarted from it
    # the block never left: a lost message
    assert m.network(t) == [] and m.remaining(t)[2] == 0 and m.lost(t) is True
    # ...while a crash after the sends is the whole step then Crash: not repeated.
    assert "Mine(node=n1, crash_after=2)" not in steps
    _, full = steps["Mine(node=n1)"]
    assert len(m.network(full)) == 2 and m.lost(full) is False
    # A delivery may crash before acting (u = 0): the message is gone, nothing was done.
    after = _steps_from(m, full)
    deliver = next(k for k in after if k.startswith("Deliver(src=n1, dst=n2")
                   and "crash_after" not in k)
    label, t = after[deliver[:-1] + ", crash_after=0)"]
    assert m.node_states(t)[1].tip.height == 0 and len(m.network(t)) == 1 and m.lost(t) is True
    # n2 adopting a block from its miner only persists and outputs: no cut loses anything
    # new, so there is no other crash point for that delivery.
    assert not any(k.startswith(deliver[:-1] + ", crash_after=") and not k.endswith("=0)")
                   for k in after)
    # Crash points use the crash budget.
    _, t = steps["Mine(node=n1, crash_after=1)"]
    assert not any("crash_after" in k or k.startswith("Crash(") for k in _steps_from(m, t))


def test_crash_points_off_is_the_model_before_them():
    on, off = ChainSystem(**GATE), ChainSystem(**GATE, crash_points=False)
    assert "CrashPoint" in on.actions() and "CrashPoint" not in off.actions()
    assert off.describe().endswith("crash_points=0")
    # 5,942 states at the gate bound without crash points (the count before issue 10); 9,276
    # with them.
    assert len(reachable_states(off)) == 5_942
    assert len(reachable_states(on)) == 9_276


def test_announce_before_persist_is_caught_by_a_crash_between_send_and_write(tmp_path):
    prop = "announced_blocks_persisted"
    r = check(ChainSystem(**GATE, variant="announce_before_persist"), Options(only=(prop,)))
    p = r.get(prop)
    assert p.verdict == VIOLATED
    assert len(p.trace.steps) - 1 == 1  # shortest: n1 mines, sends, and crashes before writing
    label = p.trace.steps[1].label
    assert str(label) == "Mine(node=n1, crash_after=1)" and "crash" in label.events
    assert sorted(dict(x.fields)["dst"] for x in label.sends) == ["n2", "n3"]  # it went out
    last = p.trace.steps[-1].state
    # but n1's disk never got it
    assert VIEW.durables(last)[0] is None and VIEW.node_states(last)[0].tip.height == 0
    # both copies in flight; no message lost
    assert len(VIEW.network(last)) == 2 and VIEW.lost(last) is False
    why = p.trace.explanation
    assert "n1 has block" in why and "persisted chain has height 0" in why
    assert replayed(p.trace).outcome == "violation"
    tree = drawn(p.trace, tmp_path)
    assert "in flight n1>n2 n1>n3" in tree  # the block tree shows what left before the crash
    assert "crash" in (tmp_path / "trace.dot").read_text()
    assert "crash_after=1" in (tmp_path / "trace.txt").read_text()
    # Only a crash between the handler's effects shows it: applied atomically, it holds.
    atomic = check(ChainSystem(**GATE, variant="announce_before_persist", crash_points=False),
                   Options(only=(prop,)))
    assert atomic.exhaustive and atomic.get(prop).verdict == HOLDS


# -- reductions: listed, justified by the code under check, or switched off ----------------------

EVERY = {**REDUCTION_BOUND, "offsets": (0, -20)}


def _verdicts(m):
    r = check(m, Options(keep_going=True))
    assert r.exhaustive
    assert r.reductions == [x.text() for x in m.reductions()]  # none was switched off
    return {p.name: (p.verdict, len(p.trace.steps) - 1 if p.trace else None)
            for p in r.properties}


def test_the_model_lists_its_reductions():
    m = ChainSystem(**GATE)
    assert [(x.name, x.active) for x in m.reductions()] == [("flight_multiset", True),
                                                            ("restart_at_once", True)]
    off = m.without_reduction("flight_multiset", "asked")
    assert not off.reductions()[0].active and "asked" in off.reductions()[0].why
    assert off.describe().endswith("flight_multiset=0")
    down = m.without_reduction("restart_at_once", "asked")
    assert not down.reductions()[1].active and "Crash" in down.actions()
    assert down.describe().endswith("restart_at_once=0")
    with pytest.raises(ValueError):
        m.without_reduction("symmetry", "x")


@pytest.mark.parametrize("variant", [None, *CHAIN])
def test_every_variant_gets_the_same_verdicts_with_and_without_each_reduction(variant):
    # Every variant in the catalogue (plugins included), correct nodes too. At this bound
    # (2 nodes, 3 blocks, a slow clock, a crash) each variant breaks some property, so the
    # comparison has violations to agree on.
    m = ChainSystem(**EVERY, variant=variant)
    reduced = _verdicts(m)
    assert variant is None or any(v == VIOLATED for v, _ in reduced.values())
    reductions = m.reductions()
    assert reductions and all(red.active for red in reductions)
    for red in reductions:
        off = m.without_reduction(red.name, "compared by the test")
        assert _verdicts(off) == reduced, red.name
        assert ({m.projection(s) for s in reachable_states(m)}
                == {off.projection(s) for s in reachable_states(off)}), red.name
    plain = m
    for red in reductions:
        plain = plain.without_reduction(red.name, "all off")
    assert _verdicts(plain) == reduced


class _LateRestartForgets(ChainNode):
    """Restarting reads the clock: a node that restarts at time 20 or later ignores its disk."""

    def on_start(self, node, durable, now):
        return super().on_start(node, durable if now < 20 else None, now)


class _RetryTimer(ChainNode):
    """Sets a timer the model never fires."""

    def on_message(self, node, state, src, msg, now):
        st, eff = super().on_message(node, state, src, msg, now)
        return st, list(eff) + [SetTimer("retry", 1.0)]


def _swap(m, cls=None, **config):
    """``m`` with every node re-classed to ``cls`` or re-configured (white-box: no variant
    registered, so the catalogue stays as shipped)."""
    actors = []
    for a in m.actors:
        a = copy.copy(a)
        if cls is not None:
            a.__class__ = cls
        a.__dict__.update(config)
        actors.append(a)
    m.actors = tuple(actors)
    return m


def test_restart_at_once_premise_is_checked_and_the_search_redone_without_it():
    name = "test_late_restart_forgets"
    CHAIN.subclass(name, "restarting late ignores the disk", "node")(_LateRestartForgets)
    try:
        m = ChainSystem(**GATE, variant=name)
        with pytest.raises(ReductionUnsound) as err:
            reachable_states(m)
        assert err.value.reduction == "restart_at_once" and "clock" in err.value.detail
        r = check(ChainSystem(**GATE, variant=name), Options(only=("tip_work_monotone",)))
        # A crash-restart at time 20 or later drops the node to genesis: found once the
        # reduction is off, and the run says why it is off.
        assert r.get("tip_work_monotone").verdict == VIOLATED
        assert any(t.startswith("restart_at_once off (premise failed") for t in r.reductions)
        steps = r.get("tip_work_monotone").trace.steps
        assert "crash" in steps[-1].label.events and "restart" not in steps[-1].label.events
        # n1 is down, shown as it would restart: at genesis
        assert [VIEW.is_up(steps[-1].state, i) for i in range(3)] == [False, True, True]
        # Without crashes there is no restart to reduce: the same code holds.
        r = check(ChainSystem(**dict(GATE, crashes=0), variant=name), Options())
        assert r.exhaustive and r.verdict == HOLDS
    finally:
        CHAIN._variants.pop(name)
    # The production option sync_on_restart sends GetTip on restart: the premise fails too,
    # and with the reduction off the model runs that code exactly.
    with pytest.raises(ReductionUnsound, match="sends"):
        reachable_states(_swap(ChainSystem(**GATE), sync_on_restart=True))
    synced = _swap(ChainSystem(**dict(GATE, nodes=2), restart_at_once=False),
                   sync_on_restart=True)
    r = check(synced, Options(keep_going=True))
    assert r.exhaustive and r.verdict == HOLDS and r.coverage["Restart"] > 0


def test_a_timer_the_model_never_fires_stops_the_check():
    with pytest.raises(ValueError, match="'retry'"):
        check(_swap(ChainSystem(**GATE), _RetryTimer), Options())


NEVER_REORGS = '''
from paxchain.impl.chain_node import ChainNode
from paxchain.impl.chain_variants import CHAIN


@CHAIN.subclass("never_reorgs", "node: never leaves its chain for another", "node")
class NeverReorgs(ChainNode):
    def _fork_choice(self, current, accepted):
        return current
'''


def test_a_plugin_variant_is_checked_like_a_shipped_one(tmp_path):
    (tmp_path / "chain_bugs.py").write_text(NEVER_REORGS)
    env = {k: v for k, v in os.environ.items() if k != "PAXCHAIN_PLUGINS"}
    base = [sys.executable, "-m", "paxchain.checker", "--plugin", str(tmp_path / "chain_bugs.py")]
    listed = subprocess.run(base + ["list", "--long"], capture_output=True, text=True, env=env)
    assert listed.returncode == 0 and "--variant never_reorgs" in listed.stdout
    proc = subprocess.run(base + ["check", "chain", "-p", "budget=2", "-p", "tie=lowest-hash",
                                  "-p", "k=2", "--variant", "never_reorgs", "-q"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr
    assert "Verdict: VIOLATED" in proc.stdout and "tip_max_work" in proc.stdout


def test_the_block_tree_marks_a_disk_that_is_behind_the_chain():
    from paxchain.models.chain_drawing import block_tree

    m = ChainSystem(**GATE)
    s0 = m.initial_states()[0]
    _, t = _steps_from(m, s0)["Mine(node=n1)"]
    # n1's chain has a block its disk lacks
    behind = m.from_vars({**m.to_vars(t), "persisted": {**m.to_vars(t)["persisted"], "n1": None}})
    tree = block_tree(m, [s0, behind])
    assert 'disk_n1 [label="n1 disk"' in tree and "disk_n2" not in tree
    assert "disk_n1" not in block_tree(m, [s0, t])


def test_the_chain_state_reads_through_the_actor_systems_accessors():
    # After n1 mines (and a crash point after its write, with restart_at_once off, leaves it
    # down), the accessors name what the state holds.
    m = ChainSystem(nodes=2, budget=1, crashes=1, restart_at_once=False)
    steps = _steps_from(m, m.initial_states()[0])
    _, t = steps["Mine(node=n1)"]
    assert [(src, dst) for src, dst, _ in m.network(t)] == [("n1", "n2")]
    assert m.remaining(t) == (0, 0, 1) and m.outputs(t) == frozenset() and m.history(t) is None
    n1 = m.node(t, "n1")
    assert n1.up and n1.state == m.node_states(t)[0] and n1.durable == m.durables(t)[0]
    assert n1.timers == () and n1.state.tip.height == 1
    _, down = next((lab, s) for lab, s in m.successors(t) if lab.action == "Crash"
                   and lab.lane == "n1")
    assert not m.nodes(down)["n1"].up and m.nodes(down)["n2"].up
    assert m.remaining(down) == (0, 0, 0)
