"""Liveness under fairness (``paxchain.checker.liveness``): toy models counted by hand, then the
Paxos system model with one proposer (issue 14, first half)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from paxchain.checker.cli import main
from paxchain.checker.explicit import check, selected
from paxchain.checker.liveness import SYMMETRY_REFUSED, sccs
from paxchain.checker.render_dot import message_sequence
from paxchain.checker.render_html import trace_html
from paxchain.checker.render_text import trace_text
from paxchain.checker.result import (HOLDS, INCOMPLETE, STOP_INTERRUPTED, STOP_MAX_DEPTH,
                                     STOP_MAX_STATES,
                                     VIOLATED, Options)
from paxchain.checker.trace import TraceError, replay
from paxchain.models.fairness import Fairness, FairnessError, Priority
from paxchain.models.paxos_system import PaxosSystem
from paxchain.models.properties import EVENTUALLY, LEADS_TO, Property, eventually, invariant
from tests.toy_models import (FigureEight, Spinner, always_true, exits, finishes, finishes_at_one,
                              phase_one_leads_to_done)


def run(model, **opts):
    return check(model, Options(**opts))


# -- the toy: a switch that flips until it finishes -------------------------------------------
# Spinner(finish_at="odd"): (0,F) -Toggle-> (1,F) -Toggle-> (0,F), and (1,F) -Finish-> (1,T):
# three states. With finish_at="both" also (0,F) -Finish-> (0,T): four.

def test_without_fairness_the_toggle_cycle_is_a_lasso_back_to_the_initial_state():
    r = run(Spinner(props=[finishes]))
    p = r.get("finishes")
    assert p.verdict == VIOLATED and p.kind == EVENTUALLY
    # no prefix (the cycle holds the initial state), a loop of two Toggles back to state 0
    assert p.trace.loop == 0
    assert [str(s.label) for s in p.trace.steps[1:]] == ["Toggle(phase=0)", "Toggle(phase=1)"]
    assert r.stats.distinct == 3


def test_weak_fairness_accepts_a_cycle_that_disables_the_step_but_strong_fairness_does_not():
    # Finish is enabled at (1,F) only: on the cycle it is enabled infinitely often, never
    # continuously. Weak fairness asks nothing of it; strong fairness rejects the cycle.
    weak = run(Spinner("odd", "weak", props=[finishes])).get("finishes")
    assert weak.verdict == VIOLATED and weak.trace.loop == 0
    assert len(weak.trace.steps) - 1 == 2
    strong = run(Spinner("odd", "strong", props=[finishes])).get("finishes")
    assert strong.verdict == HOLDS


def test_weak_fairness_rejects_a_cycle_on_which_the_step_stays_enabled():
    # finish_at="both": Finish is enabled in both states of the cycle and never taken on it.
    r = run(Spinner("both", "weak", props=[finishes]))
    assert r.get("finishes").verdict == HOLDS
    assert r.stats.distinct == 4
    # ...and the property can fail: the same model without fairness has the lasso.
    assert run(Spinner("both", None, props=[finishes])).get("finishes").verdict == VIOLATED


def test_a_state_with_no_step_stutters_forever_and_breaks_eventually():
    # (0,T) is reached by Finish at phase 0 and has no step; finishes_at_one is false there.
    # The fair cycle is rejected (weak fairness of Finish), so the stutter is the violation.
    p = run(Spinner("both", "weak", props=[finishes_at_one])).get("finishes_at_one")
    assert p.verdict == VIOLATED
    assert [str(s.label) for s in p.trace.steps[1:]] == ["Finish(phase=0)"]
    assert p.trace.loop == 1  # the last state: the run stays there
    assert "stays in state 1 forever" in trace_text(p.trace)


def test_leads_to_is_pending_from_its_trigger_until_its_target():
    # Trigger phase == 1 at (1,F), one Toggle in; then the loop (1,F) -> (0,F) -> (1,F) keeps
    # it pending. Strong fairness of Finish makes it hold.
    p = run(Spinner("odd", "weak", props=[phase_one_leads_to_done])).get(
        "phase_one_leads_to_done")
    assert p.verdict == VIOLATED and p.kind == LEADS_TO
    assert p.trace.loop == 1 and len(p.trace.steps) - 1 == 3
    assert p.trace.steps[1].state == p.trace.steps[3].state == (1, False)
    strong = run(Spinner("odd", "strong", props=[phase_one_leads_to_done]))
    assert strong.get("phase_one_leads_to_done").verdict == HOLDS


def test_a_trigger_that_is_never_followed_is_caught_even_when_eventually_holds():
    # Under weak fairness with finish_at="both" every run finishes, and phase 1 is always
    # followed by done — but at (0,T) the run may finish at phase 0 without phase 1 ever
    # triggering: leads_to holds. Here the trigger (1,F) is followed: also holds.
    r = run(Spinner("both", "weak", props=[phase_one_leads_to_done, finishes]))
    assert r.get("phase_one_leads_to_done").verdict == HOLDS
    assert r.get("finishes").verdict == HOLDS


def test_safety_and_liveness_in_one_run_keep_the_safety_counts():
    both = run(Spinner(props=[always_true, finishes]))
    alone = run(Spinner(props=[always_true]))
    assert both.stats.distinct == alone.stats.distinct == 3
    assert both.stats.generated == alone.stats.generated
    assert both.get("always_true").verdict == HOLDS
    assert both.get("finishes").verdict == VIOLATED
    assert both.liveness_stats is not None and both.liveness_stats.distinct == 3


def test_a_limit_or_ctrl_c_ends_incomplete_never_holds():
    r = run(Spinner("odd", "strong", props=[finishes]), max_states=1)
    assert r.stopped_by == STOP_MAX_STATES and r.verdict == INCOMPLETE
    assert r.get("finishes").verdict == INCOMPLETE

    def interrupt(stats):
        raise KeyboardInterrupt

    r = run(Spinner("odd", "strong", props=[finishes]), max_depth=1)
    assert r.stopped_by == STOP_MAX_DEPTH and r.get("finishes").verdict == INCOMPLETE
    # A lasso found before the limit is real (its states were fully expanded): reported.
    # (0,F) and (1,F) are expanded when the third state passes max_states=2.
    r = run(Spinner("odd", None, props=[finishes]), max_states=2)
    assert r.get("finishes").verdict == VIOLATED and r.stopped_by == STOP_MAX_STATES

    r = run(Spinner("odd", "strong", props=[finishes]), progress=interrupt,
            progress_interval=0.0)
    assert r.stopped_by == STOP_INTERRUPTED and r.get("finishes").verdict == INCOMPLETE
    assert r.exit_code == 3


def test_symmetry_is_refused_with_one_line():
    with pytest.raises(ValueError, match="not checked with --symmetry"):
        run(Spinner(props=[finishes]), symmetry=True)
    assert "\n" not in SYMMETRY_REFUSED


def test_a_lasso_replays_and_a_tampered_one_does_not():
    m = Spinner("odd", "weak", props=[phase_one_leads_to_done])
    trace = run(m).get("phase_one_leads_to_done").trace
    data = json.loads(trace.dumps())
    assert data["loop"] == 1  # ITF's top-level loop index
    back = replay(m, data)
    assert back.outcome == "violation" and back.trace.loop == 1
    # A loop that does not close: state 3 is not state 2.
    bad = json.loads(trace.dumps())
    bad["loop"] = 2
    with pytest.raises(TraceError, match="does not close"):
        replay(m, bad)
    # A loop that is not fair under strong fairness of Finish.
    with pytest.raises(TraceError, match="not a fair run"):
        replay(Spinner("odd", "strong", props=[phase_one_leads_to_done]), data)
    # A liveness trace without its loop index.
    del bad["loop"]
    with pytest.raises(TraceError, match="needs a loop"):
        replay(m, bad)


def test_the_drawings_mark_the_loop():
    trace = run(Spinner(props=[finishes])).get("finishes").trace
    dot = message_sequence(trace)
    assert "back to state 0" in dot and "#e69138" in dot
    page = trace_html(trace)
    assert 'class="step loop"' in page and "loop-back" in page
    text = trace_text(trace)
    assert "<- the loop starts here" in text and "-> back to state 0" in text
    assert "fair runs under: no fairness assumption" in text


def test_a_fairness_that_misses_an_offered_key_is_the_models_error():
    class Wrong(Spinner):
        def fairness(self):
            return [Fairness("finish", "weak", "Finish is fair",
                             lambda label: "finish" if label.action == "Finish" else None,
                             enabled=lambda state: [])]
    with pytest.raises(FairnessError, match="enabled"):
        run(Wrong(props=[finishes]))


def test_tarjan_is_iterative():
    n = 20_000  # a chain this long would pass Python's recursion limit
    comps = sccs(range(n), lambda u: [u + 1] if u + 1 < n else [0])
    assert len(comps) == 1 and len(comps[0]) == n


def test_opt_in_properties_are_checked_only_when_named():
    m = PaxosSystem(acceptors=2, proposers=1, max_rounds=1, crashes=0)
    default = {p.name for p in selected(m, None)}
    assert "eventually_decided" not in default and "agreement" in default
    assert [p.name for p in selected(m, ("eventually_decided",))] == ["eventually_decided"]
    prop = eventually(opt_in=True)(lambda m, s: True)
    assert isinstance(prop, Property) and prop.opt_in


# -- Paxos with one proposer ---------------------------------------------------------------

def paxos(variant=None, **kw):
    params = dict(acceptors=2, proposers=1, max_rounds=2, crashes=0, network="budgeted",
                  drops=1)
    params.update(kw)
    return PaxosSystem(variant=variant, **params)


def test_one_proposer_gets_a_value_chosen_whatever_one_drop_does():
    # Two acceptors (a quorum is both), two rounds, one drop: a dropped Prepare, Promise or
    # Accept costs round 1 and the retry timer starts round 2, which nothing can drop.
    r = run(paxos(), only=("eventually_chosen",))
    assert r.get("eventually_chosen").verdict == HOLDS and r.exhaustive
    assert any("noop off (liveness is checked)" in x for x in r.reductions)


def test_a_proposer_that_ignores_its_retry_timer_waits_forever():
    # Shortest: a1 gets the Prepare and its Promise arrives (the timer may not fire while a
    # message can be delivered), the Prepare to a2 is dropped, the timer fires and is ignored:
    # 4 steps, then no step is enabled.
    r = run(paxos("proposer_ignores_retry_timer"), only=("eventually_chosen",))
    p = r.get("eventually_chosen")
    assert p.verdict == VIOLATED
    labels = [s.label.action for s in p.trace.steps[1:]]
    assert sorted(labels) == ["Deliver", "Deliver", "Drop", "Timer"]
    assert p.trace.loop == 4
    assert replay(p.trace.model, json.loads(p.trace.dumps())).trace.loop == 4


def test_a_dropped_accepted_to_the_learner_is_never_resent():
    # The correct code: both phases (2 Prepares, 2 Promises, 2 Accepts delivered), both
    # Accepted to the proposer (it is done and cancels its timer), one Accepted to the
    # learner, the other dropped: 10 steps, then nothing is enabled and nothing decided.
    r = run(paxos(), only=("eventually_decided", "chosen_leads_to_decided"), keep_going=True)
    for name in ("eventually_decided", "chosen_leads_to_decided"):
        p = r.get(name)
        assert p.verdict == VIOLATED and len(p.trace.steps) - 1 == 10
        assert p.trace.loop == 10 and p.trace.steps[-1].label.action == "Drop"
        again = replay(p.trace.model, json.loads(p.trace.dumps()))
        assert again.trace.loop == 10 and again.trace.kind == p.kind


def test_on_the_duplicating_network_one_proposer_decides():
    r = run(PaxosSystem(acceptors=3, proposers=1, max_rounds=1, crashes=0),
            only=("eventually_decided", "chosen_leads_to_decided", "eventually_chosen"))
    assert r.verdict == HOLDS
    assert r.stats.distinct == 364  # README, Liveness
    assert "timely_timers (timing)" in " ".join(r.assumptions)


def test_liveness_with_symmetry_is_refused_on_the_command_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["check", "paxos-system", "-p", "proposers=1", "-p", "crashes=0",
              "--property", "eventually_decided", "--symmetry", "-q"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "not checked with --symmetry" in err and err.count("\n") == 1


def test_options_with_liveness_and_symmetry_refused_before_any_search():
    m = paxos()
    with pytest.raises(ValueError, match="--symmetry"):
        check(m, replace(Options(symmetry=True), only=("agreement", "eventually_chosen")))


def test_strong_fairness_removes_states_and_finds_the_fair_cycle_left():
    # Emerson–Lei: {0, 1, 2} is unfair (Exit enabled at 2, never taken); without 2, the
    # cycle 0 -> 1 -> 0 is fair (Exit never enabled on it) and is the lasso.
    p = run(FigureEight(props=[exits])).get("exits")
    assert p.verdict == VIOLATED and p.trace.loop == 0
    assert [s.state for s in p.trace.steps] == [0, 1, 0]


def test_a_safety_violation_first_leaves_liveness_incomplete_unless_keep_going():
    @invariant()
    def stays_at_zero(m, s) -> bool:
        """The phase stays 0 (it does not: one Toggle)."""
        return s[0] == 0

    m = Spinner(props=[stays_at_zero, finishes])
    first = run(m)
    assert first.get("stays_at_zero").verdict == VIOLATED
    assert first.get("finishes").verdict == INCOMPLETE
    every = run(m, keep_going=True)
    assert every.get("finishes").verdict == VIOLATED and every.exhaustive
    data = every.to_json()
    assert "assumptions" not in data and data["liveness_stats"]["distinct"] == 3
    trace = [p for p in data["properties"] if p["name"] == "finishes"][0]["trace"]
    assert trace["loop"] == 0


def test_without_timely_timers_a_proposer_with_bounded_rounds_gives_up():
    # The README's claim: drop the timing assumption and the retry timer may fire before any
    # reply, every round; after max_rounds the proposer gives up. Shortest: the timer fires
    # twice (round 2, then giving up) and the four Prepares (rounds 1 and 2, two acceptors)
    # are delivered, in some order: 6 steps; the replies then change nothing, and it stops.
    class Untimely(PaxosSystem):
        def fairness(self):
            return [a for a in super().fairness() if not isinstance(a, Priority)]

    # Built with its reductions off: switching one off rebuilds a PaxosSystem, not the subclass.
    r = run(Untimely(acceptors=2, proposers=1, max_rounds=2, crashes=0, bury=False,
                     tallies=False, spent_reports=True), only=("eventually_chosen",))
    p = r.get("eventually_chosen")
    assert p.verdict == VIOLATED and p.trace.loop == len(p.trace.steps) - 1
    assert sorted(s.label.action for s in p.trace.steps[1:]) == ["Deliver"] * 4 + ["Timer"] * 2
    assert run(PaxosSystem(acceptors=2, proposers=1, max_rounds=2, crashes=0),
               only=("eventually_chosen",)).get("eventually_chosen").verdict == HOLDS
