"""The chain system model (``models.chain_system``) and its properties (``specs.chain``).

The CI bound of issue 4: 3 nodes, a mining budget of 3 blocks, message delay and reordering
(any-order delivery; ``delay=1``: a message may stay in flight while one more block is found),
one crash-restart from the persisted chain. Counts below are the exhaustive numbers of distinct
reachable states at that bound (they change whenever the node's messages or the model's
semantics change, which is the point of pinning them).
"""

from __future__ import annotations

import json

import pytest

from checker.artifacts import write_trace
from checker.explicit import check
from checker.render_dot import dot_available, render_svg
from checker.result import HOLDS, VIOLATED, Options
from checker.trace import replay
from models.chain_drawing import first_divergence
from models.chain_system import ChainSystem, find_min_k, min_k_report
from models.registry import build

CI = dict(nodes=3, budget=3, delay=1, crashes=1)
STRUCTURAL = ("hash_links", "genesis_agreement", "chain_valid", "tip_max_work", "mtp_monotone",
              "tip_work_monotone", "known_blocks_kept", "future_self_consistency")


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
    # 162,188 distinct states: every reachable state of 3 nodes / 3 blocks / delay 1 / 1 crash
    # under first-seen ties (pinned; see the module docstring).
    assert r.stats.distinct == 162_188
    for name in STRUCTURAL + ("prefix_consistency", "block_everywhere"):
        assert r.get(name).verdict == HOLDS, name


def test_first_seen_ties_break_convergence_with_a_drawn_fork(ci_first_seen, tmp_path):
    p = ci_first_seen.get("convergence")
    assert p.verdict == VIOLATED
    last = p.trace.steps[-1].state
    tips = {st.tip for st in last[0]}
    assert len(tips) > 1 and len({t.height for t in tips}) == 1  # equal work, different tips
    assert replayed(p.trace).outcome == "violation"
    src = drawn(p.trace, tmp_path)
    height, nodes = first_divergence([st.chain for st in last[0]])
    assert height >= 1 and len(nodes) >= 2
    assert f"first differ at height {height}" in src


def test_lowest_hash_ties_converge_at_the_ci_bound():
    r = check(ChainSystem(**CI, tie="lowest-hash", k=2), Options(keep_going=True))
    assert r.exhaustive and r.verdict == HOLDS
    # 145,386 < 162,188: with a strict tie rule fewer distinct tip combinations are reachable.
    assert r.stats.distinct == 145_386


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
    a, b = t.steps[-2].state[0], t.steps[-1].state[0]
    assert any(x.tip not in y.chain for x, y in zip(a, b))


# -- seeded bugs: each is found, replays from JSON, and its block tree renders ---------------------

BUG_PARAMS = dict(nodes=3, budget=3, delay=1, crashes=1, tie="lowest-hash", k=2)
SLOW_CLOCK = dict(BUG_PARAMS, offsets=(0, -20), crashes=0)


@pytest.mark.parametrize("variant,prop,params,length", [
    # Lengths are the BFS-shortest counterexamples at these bounds.
    ("no_hash_link_check", "hash_links", BUG_PARAMS, 6),
    ("no_hash_link_check", "chain_valid", BUG_PARAMS, 6),
    ("latest_arrival_fork_choice", "tip_max_work", BUG_PARAMS, 6),
    ("latest_arrival_fork_choice", "tip_work_monotone", BUG_PARAMS, 6),
    ("no_timestamp_check", "chain_valid", SLOW_CLOCK, 1),
    ("no_timestamp_check", "mtp_monotone", SLOW_CLOCK, 3),
    ("adopt_unknown_parent", "genesis_agreement", BUG_PARAMS, 3),
    ("adopt_unknown_parent", "chain_valid", BUG_PARAMS, 3),
    ("reorg_forgets_old_branch", "known_blocks_kept", BUG_PARAMS, 3),
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
    assert any(st.rejected for st in conv.trace.steps[-1].state[0])


def test_drops_and_duplicates_are_faults_of_the_model():
    m = ChainSystem(nodes=2, budget=1, delay=None, drops=1, dups=1, crashes=0,
                    tie="lowest-hash", k=1)
    r = check(m, Options(keep_going=True))
    assert r.verdict == HOLDS and r.coverage and all(r.coverage.values())


def test_bad_model_parameters_are_rejected():
    for kw in ({"nodes": 0}, {"budget": -1}, {"tie": "coin"}, {"offsets": ()},
               {"delay": -1}, {"variant": "nope"}):
        with pytest.raises(ValueError):
            ChainSystem(**kw)


def test_the_goal_shows_vacuity_when_nothing_can_be_mined():
    r = check(ChainSystem(nodes=2, budget=0, crashes=0), Options(keep_going=True))
    assert r.get("block_everywhere").verdict == VIOLATED
    assert r.get("hash_links").verdict == HOLDS  # holds, but vacuously: the goal says so
