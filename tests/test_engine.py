"""The explicit-state engine on toy models whose numbers are worked out by hand."""

from __future__ import annotations

import pytest

from paxchain.checker import HOLDS, INCOMPLETE, VIOLATED, Options, check
from paxchain.checker.explicit import DEADLOCK
from paxchain.checker.result import (STOP_INTERRUPTED, STOP_MAX_DEPTH, STOP_MAX_STATES,
                            STOP_TIME_LIMIT, STOP_VIOLATION)
from tests.toy_models import (Counters, always_true, never_decreases, reaches_beyond,
                              reaches_top, sum_below_3)


def test_counts_states_and_transitions_by_hand():
    # (x, y) in {0,1,2}^2: 9 states. IncX is enabled where x < 2 (6 states), IncY where
    # y < 2 (6 states): 12 transitions, plus the initial state = 13 generated. The farthest
    # state (2, 2) is 4 steps from (0, 0).
    r = check(Counters(props=[always_true]))
    assert (r.stats.distinct, r.stats.generated, r.stats.depth) == (9, 13, 4)
    assert r.verdict == HOLDS and r.exhaustive and r.exit_code == 0


@pytest.mark.parametrize("strategy", ["bfs", "dfs"])
def test_exact_and_fingerprinted_visited_sets_agree(strategy):
    for fingerprints in (True, False):
        r = check(Counters(top=3, props=[always_true]),
                  Options(strategy=strategy, fingerprints=fingerprints))
        # 4 x 4 = 16 states; 12 IncX + 12 IncY transitions + 1 initial = 25 generated.
        assert (r.stats.distinct, r.stats.generated) == (16, 25)


def test_bfs_counterexample_is_shortest():
    # x + y < 3 first fails at depth 3, e.g. (0,0) -> (1,0) -> (2,0) -> (2,1).
    r = check(Counters(props=[sum_below_3]))
    p = r.get("sum_below_3")
    assert p.verdict == VIOLATED and r.stopped_by == STOP_VIOLATION
    states = [s.state for s in p.trace.steps]
    assert len(states) == 4 and states[0] == (0, 0) and sum(states[-1]) == 3
    assert [str(s.label) for s in p.trace.steps[1:]][0] in ("IncX(x=0)", "IncY(y=0)")


def test_dfs_also_finds_the_violation():
    r = check(Counters(props=[sum_below_3]), Options(strategy="dfs"))
    trace = r.get("sum_below_3").trace
    assert r.verdict == VIOLATED and sum(trace.steps[-1].state) >= 3


def test_depth_bound_gives_incomplete_only_when_states_lie_beyond():
    # Depth 2 leaves (2,1), (1,2), (2,2) unexplored; depth 4 covers every state.
    short = check(Counters(props=[always_true]), Options(max_depth=2))
    assert short.verdict == INCOMPLETE and short.stopped_by == STOP_MAX_DEPTH
    assert short.get("always_true").verdict == INCOMPLETE
    assert short.exit_code == 3
    full = check(Counters(props=[always_true]), Options(max_depth=4))
    assert full.verdict == HOLDS


def _bounded_dfs(model, bound: int) -> int:
    """The states a depth-first search with one visited set explores to depth ``bound``: the
    engine's order (successors in the model's order, the first new one entered at once)."""
    seen = {model.fingerprint(s) for s in model.initial_states()}

    def visit(s, depth: int) -> None:
        for t in model.next_states(s):
            f = model.fingerprint(t)
            if f not in seen and depth < bound:
                seen.add(f)
                visit(t, depth + 1)

    for s in model.initial_states():
        visit(s, 0)
    return len(seen)


def test_a_depth_bound_does_not_end_the_search_at_its_next_clock_reading():
    # 41 x 41 = 1,681 states, farther than 50 steps along depth-first paths. The first state
    # met beyond the bound used to end the search at the next clock reading (every 512
    # expansions): depth-first search stopped near 512 states instead of backtracking.
    model = Counters(top=40, props=[always_true])
    r = check(model, Options(strategy="dfs", max_depth=50))
    assert r.stopped_by == STOP_MAX_DEPTH and r.verdict == INCOMPLETE
    assert r.stats.distinct == _bounded_dfs(model, 50) > 1000


@pytest.mark.parametrize("strategy", ["bfs", "dfs"])
def test_state_and_time_bounds_give_incomplete(strategy):
    r = check(Counters(props=[always_true]), Options(strategy=strategy, max_states=5))
    assert r.verdict == INCOMPLETE and r.stopped_by == STOP_MAX_STATES and r.stats.distinct == 5
    r = check(Counters(props=[always_true]), Options(strategy=strategy, time_limit=0))
    assert r.verdict == INCOMPLETE and r.stopped_by == STOP_TIME_LIMIT


def test_deadlock_detection_names_the_stuck_state():
    # Without Reset, (2, 2) has no successor: 4 steps from the start.
    r = check(Counters(props=[always_true]), Options(deadlock=True))
    d = r.get(DEADLOCK)
    assert d.verdict == VIOLATED and d.trace.steps[-1].state == (2, 2)
    assert len(d.trace.steps) == 5
    assert check(Counters(reset=True), Options(deadlock=True)).verdict == HOLDS


def test_goals_are_witnessed_or_fail_only_after_an_exhaustive_search():
    r = check(Counters(props=[reaches_top, reaches_beyond]))
    assert r.get("reaches_top").verdict == HOLDS
    assert r.get("reaches_top").trace.steps[-1].state == (2, 2)
    assert r.get("reaches_beyond").verdict == VIOLATED and r.exit_code == 1
    bounded = check(Counters(props=[reaches_beyond]), Options(max_depth=1))
    assert bounded.get("reaches_beyond").verdict == INCOMPLETE


def test_transition_property_is_checked_on_every_edge_including_to_visited_states():
    # Reset goes from (2,2) back to the already-visited (0,0): only an edge check sees it.
    r = check(Counters(reset=True, props=[never_decreases]))
    p = r.get("never_decreases")
    assert p.verdict == VIOLATED
    assert p.trace.steps[-2].state == (2, 2) and p.trace.steps[-1].state == (0, 0)
    assert str(p.trace.steps[-1].label) == "Reset()"


def test_keep_going_gives_every_property_its_own_verdict():
    props = [sum_below_3, always_true, reaches_top]
    first = check(Counters(props=props))
    assert first.get("always_true").verdict == INCOMPLETE
    every = check(Counters(props=props), Options(keep_going=True))
    assert [p.verdict for p in every.properties] == [VIOLATED, HOLDS, HOLDS]


def test_symmetry_reduces_states_and_keeps_verdicts():
    # Sorted pairs from {0,1,2}: 6 orbits instead of 9 states.
    plain = check(Counters(props=[sum_below_3], symmetric=True), Options(keep_going=True))
    reduced = check(Counters(props=[sum_below_3], symmetric=True),
                    Options(symmetry=True, keep_going=True))
    assert reduced.stats.distinct == 6
    assert plain.get("sum_below_3").verdict == reduced.get("sum_below_3").verdict == VIOLATED
    # The rebuilt trace is made of real successor states, not representatives.
    steps = reduced.get("sum_below_3").trace.steps
    for a, b in zip(steps, steps[1:]):
        assert b.state in [t for _, t in Counters().successors(a.state)]


def test_symmetry_must_be_declared():
    with pytest.raises(ValueError, match="no symmetry"):
        check(Counters(props=[always_true]), Options(symmetry=True))


def test_ctrl_c_stops_cleanly_with_partial_statistics():
    class Interrupted(Counters):
        calls = 0

        def successors(self, state):
            self.calls += 1
            if self.calls == 3:
                raise KeyboardInterrupt
            return super().successors(state)

    r = check(Interrupted(props=[always_true]))
    assert r.verdict == INCOMPLETE and r.stopped_by == STOP_INTERRUPTED
    # Interrupted while expanding the 3rd state: (1,0) and (0,1) were found, (1,1)... are not done.
    assert r.stats.distinct >= 3 and r.stats.queue > 0


def test_unknown_property_is_rejected():
    with pytest.raises(ValueError, match="unknown property"):
        check(Counters(props=[always_true]), Options(only=("nope",)))


def test_coverage_counts_every_generated_transition_per_action():
    # 6 IncX + 6 IncY (see the first test); Reset never fires without reset=True.
    class WithReset(Counters):
        def actions(self):
            return ("IncX", "IncY", "Reset")

    r = check(WithReset(props=[always_true]))
    assert r.coverage == {"IncX": 6, "IncY": 6, "Reset": 0}
    assert r.warnings == ["action Reset never fired"]
    assert check(WithReset(props=[always_true]), Options(coverage=False)).coverage is None
