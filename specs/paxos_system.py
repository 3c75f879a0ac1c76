"""Properties of the Paxos system model (``paxchain.models.paxos_system``), each a function of
``(model, state)`` or, for transition properties, ``(model, state, next_state)``.

*Decided* values are those some learner output as ``("decided", v)`` (outputs are kept in the
state, so a decision survives its learner's crash). *Chosen* values are Lamport's: ``v`` is
chosen when every member of some quorum sent ``Accepted(b, a, v)`` for one ballot ``b``, read
from the history of messages ever sent.

Seeded variants that break each one (``tests/test_paxos_system.py`` asserts them):

=================== =====================================================================
property            broken by
=================== =====================================================================
agreement           ballots_not_unique, ignore_promised_votes, ...; learner_mixes_ballots
                    (needs 4 ballots and about 25 steps: out of the BFS's reach in minutes)
learned_chosen      learner_mixes_ballots (12 steps, 2 ballots)
validity            corrupt_storage (a fault-model variant: no implementation bug invents
                    a value)
promise_monotonic   no_durable_storage (a crash forgets the promise)
refinement          no_durable_storage, ignore_promised_votes, ballots_not_unique,
                    reuse_ballot_after_restart, accept_below_promise
decision_durable    learner_announces_before_persist (a crash between its output and its
                    write)
quorum_suffices     learner_waits_for_all (listed only with 3 or more acceptors, where a
                    majority is less than all)
value_decided       learners=0 (no learner: the goal is never reached)
eventually_chosen   proposer_ignores_retry_timer (budgeted network, a Prepare dropped: the
                    run stops with the proposer waiting for a promise that never comes)
eventually_decided  the correct code (findings, pinned in paxchain.toml): an Accepted to the
                    learner dropped (the proposer has its quorum and stops, nobody re-sends
                    it); a learner that crashes between writing and announcing its decision
                    (it does not announce it on restart); two proposers whose timeouts wait
                    only for their own round trips (timely=own, unbounded rounds: the duel,
                    a lasso; paxchain.models.ballot_quotient)
eventually_pro...   proposer_ignores_accepted (it never learns its value was chosen and
                    retries until it gives up; eventually_proposers_learn)
=================== =====================================================================

Liveness (``eventually_*``, ``chosen_leads_to_decided``) is judged on fair runs under the
model's assumptions (``paxchain.models.actor_fairness``: fair delivery to up nodes, fair timers,
fair restarts, and the timing assumption ``timely`` names). The properties are opt-in (checked
when named) because they hold only within their scope: one proposer, or two whose timers wait
for every round trip (``timely=1``; under ``timely=own`` they may duel forever), and no fault
the retries cannot absorb — a proposer gives up after ``max_rounds``, so a crash or a drop that costs a
round each can exhaust them. ``chosen_leads_to_decided`` is broken by the same dropped
``Accepted`` as ``eventually_decided``.
"""

from __future__ import annotations

from collections.abc import Container, Iterable

from paxchain.models.properties import (Property, eventually, invariant, leads_to, sometimes,
                                        transition)
from paxchain.impl.paxos import DECIDED
from paxchain.specs.lamport_paxos import chosen_mask

__all__ = ["PROPERTIES", "WITHOUT_HISTORY", "properties", "agreement", "learned_chosen", "validity",
           "promise_monotonic", "refinement", "decision_durable", "quorum_suffices", "value_decided",
           "eventually_chosen", "eventually_decided", "chosen_leads_to_decided",
           "eventually_proposers_learn", "chosen_values",
           "agreement_holds", "validity_holds"]


# -- the predicates, shared with the run-level properties (``paxchain.specs.paxos_run``) -----

def agreement_holds(decided: Iterable, chosen: Iterable) -> bool:
    """Agreement itself: no two different values among those ``decided`` (by learners) and
    those ``chosen`` (by a quorum of acceptors in one ballot)."""
    return len(set(decided).union(chosen)) <= 1


def validity_holds(values: Iterable, proposed: Container) -> bool:
    """Validity itself: every one of ``values`` was ``proposed``."""
    return all(v in proposed for v in values)


def chosen_values(m, s) -> frozenset:
    """Values chosen in the history (Lamport's ``chosen``), by name."""
    if not m.with_history:
        return frozenset()
    mask = chosen_mask(m.abstract, (None, None, None, m.history(s)))
    names = [v for v, i in sorted(m.value_index.items(), key=lambda x: x[1])]
    return frozenset(names[i] for i in range(len(names)) if mask >> i & 1)


def _explain_agreement(m, s) -> str:
    return (f"decided = {sorted(m.decisions(s))}, chosen = {sorted(chosen_values(m, s))}")


@invariant(explain=_explain_agreement)
def agreement(m, s) -> bool:
    """Agreement: no two different values are decided by learners or chosen by acceptors.

    Learners' decisions must agree with each other and with Lamport's *chosen* (a quorum
    accepted the value in one ballot), so that even a single learner that decides a value no
    quorum chose in one ballot is caught. Memoised on (outputs, history), all it reads.
    """
    key = (m.history_id(s), m.outputs_id(s))
    memo = m.spec_memo["agreement"]
    ok = memo.get(key)
    if ok is None:
        ok = memo[key] = agreement_holds(m.decisions(s), chosen_values(m, s))
    return ok


@invariant(explain=_explain_agreement)
def learned_chosen(m, s) -> bool:
    """Learners learn only chosen values: every decided value was accepted by a quorum of
    acceptors in one ballot (Paxos Made Simple's requirement on learners).

    A learner that decides on a quorum gathered across ballots breaks this the moment it
    decides, long before a second value can be chosen and agreement fails. Memoised on
    (outputs, history).
    """
    key = (m.history_id(s), m.outputs_id(s))
    memo = m.spec_memo["learned_chosen"]
    ok = memo.get(key)
    if ok is None:
        ok = memo[key] = m.decisions(s) <= chosen_values(m, s)
    return ok


@invariant(explain=lambda m, s: f"decided = {sorted(m.decisions(s))}, proposed = "
                                f"{sorted(m.proposed())}")
def validity(m, s) -> bool:
    """Validity: every decided value was proposed by some proposer (one of its clients' values)."""
    return validity_holds(m.decisions(s), m.proposed())


def _promise_drops(m, s, t) -> list[str]:
    out = []
    for x in m.acceptor_ids:
        before, after = m.promise(m.node(s, x)), m.promise(m.node(t, x))
        if before is not None and (after is None or after < before):
            out.append(f"{x}: promise {before} -> {after}")
    return out


@transition(explain=lambda m, s, t: "; ".join(_promise_drops(m, s, t)))
def promise_monotonic(m, s, t) -> bool:
    """Promise monotonicity: an acceptor's promise never decreases, across crashes and restarts.

    While an acceptor is down its promise is the one it persisted (what it restarts with), so a
    crash that forgets a promise is a decrease. Memoised per acceptor on (entry before, entry
    after), the only part it reads.
    """
    before, after = m.acceptor_entry_ids(s), m.acceptor_entry_ids(t)
    if before == after:
        return True
    memo = m.spec_memo["promise_monotonic"]
    for a, b in zip(before, after):
        if a != b:
            ok = memo.get((a, b))
            if ok is None:
                before, after = m.promise(m.node_view(a)), m.promise(m.node_view(b))
                ok = memo[(a, b)] = before is None or (after is not None and after >= before)
            if not ok:
                return False
    return True


def _explain_refinement(m, s, t) -> str:
    a, b = m.abstraction(s), m.abstraction(t)
    a = a[:3] + (m.forget(a[3], m.forgotten(t)),)
    lp = m.abstract
    before, after = lp.to_vars(a), lp.to_vars(b)
    diffs = []
    for k in ("maxBal", "maxVBal", "maxVal"):
        for x in before[k]:
            if before[k][x] != after[k][x]:
                diffs.append(f"{k}[{x}]: {before[k][x]} -> {after[k][x]}")
    new = sorted(map(str, after["msgs"] - before["msgs"]))
    if new:
        diffs.append("msgs += " + ", ".join(new))
    gone = sorted(map(str, before["msgs"] - after["msgs"]))
    if gone:
        diffs.append("msgs -= " + ", ".join(gone))
    return ("the abstract step is no action of Lamport's Paxos (ballots numbered "
            + ", ".join(f"{i}={b}" for i, b in enumerate(m.ballots)) + "): " + "; ".join(diffs))


@transition(explain=_explain_refinement)
def refinement(m, s, t) -> bool:
    """Refinement: every step maps to a step of Lamport's Paxos or leaves its image unchanged.

    The abstraction (``PaxosSystem.abstraction``) reads each acceptor's persisted promise and
    vote and the history of messages ever sent; the step is allowed when the image of the next
    state equals the image of this one (a stutter) or is among
    ``LamportPaxos.next_states(image of this one)``, up to the ``1b`` reports that the
    history leaves out: spent ones (a bisimulation quotient: see
    ``paxchain.models.paxos_system``) and those of ballots retired in the next state
    (``paxchain.models.retirement``). Memoised per abstract state.
    """
    if (m.history_id(s) == m.history_id(t)
            and m.acceptor_entry_ids(s) == m.acceptor_entry_ids(t)):
        return True  # the image reads only the acceptors' entries and the history
    a = m.abstraction(s)
    b = m.abstraction(t)
    if a == b:
        return True
    forgotten = m.forgotten(t)
    memo = m.spec_memo["refinement"]
    nexts = memo.get((a, forgotten))
    if nexts is None:  # the Lamport steps, and a stutter up to the reports ``t`` forgets
        nexts = memo[(a, forgotten)] = (m.abstract_steps(a, forgotten)
                                        | {a[:3] + (m.forget(a[3], forgotten),)})
    return b in nexts


def _forgotten(m, s) -> list[str]:
    out = []
    for x, o in sorted(m.outputs(s), key=repr):
        if isinstance(o, tuple) and len(o) == 2 and o[0] == "decided":
            node = m.node(s, x)
            holds = getattr(node.state, "decided", None) if node.up else node.durable
            if holds != o[1]:
                out.append(f"{x} announced {o[1]!r} but {'holds' if node.up else 'restarts with'} "
                           f"{holds!r}")
    return out


@invariant(explain=lambda m, s: "; ".join(_forgotten(m, s)))
def decision_durable(m, s) -> bool:
    """Durable decisions: a learner never forgets a decision it announced — from its output on,
    the learner holds that value (its state while up, its persisted value while down, which is
    what it restarts with). A learner that announces before its write breaks this at a crash
    between the two. Memoised on (outputs, learner entries)."""
    key = (m.outputs_id(s),) + tuple(m.entry_id(s, x) for x in m.learner_ids)
    memo = m.spec_memo["decision_durable"]
    ok = memo.get(key)
    if ok is None:
        ok = memo[key] = not _forgotten(m, s)
    return ok


@sometimes()
def quorum_suffices(m, s) -> bool:
    """A quorum suffices: some learner decides while some acceptor has never durably voted (a
    reachability goal: a learner that waits for more than a majority never gets there)."""
    return bool(m.decisions(s)) and any(m._acceptor_abs(e)[1] == -1
                                        for e in m.acceptor_entry_ids(s))


@sometimes()
def value_decided(m, s) -> bool:
    """Some learner decides a value (a reachability goal, so that a vacuous pass shows)."""
    return bool(m.decisions(s))


@eventually(opt_in=True)
def eventually_chosen(m, s) -> bool:
    """Eventually a value is chosen: on every fair run a quorum accepts one value in one ballot.

    Liveness, opt-in: the module docstring says under which assumptions it holds."""
    return bool(chosen_values(m, s))


@eventually(opt_in=True)
def eventually_decided(m, s) -> bool:
    """Eventually a value is decided: on every fair run some learner decides.

    Liveness, opt-in: the module docstring says under which assumptions it holds."""
    return bool(m.decisions(s))


@leads_to(trigger=lambda m, s: bool(chosen_values(m, s)), opt_in=True)
def chosen_leads_to_decided(m, s) -> bool:
    """A chosen value is eventually decided: after a quorum accepts it, some learner decides.

    Liveness, opt-in: on every fair run, from each state where a value is chosen."""
    return bool(m.decisions(s))


@eventually(opt_in=True)
def eventually_proposers_learn(m, s) -> bool:
    """Every proposer eventually learns the outcome: on every fair run each proposer that is up
    reaches its decided phase (it saw a quorum accept its value), so it stops retrying.

    Liveness, opt-in: with one proposer and rounds enough for the faults (the module docstring);
    a proposer that gave up after max_rounds has not learned. Proposers are the actors whose
    declared role is ``proposer``."""
    nodes = m.nodes(s)
    return all(not nodes[name].up or getattr(nodes[name].state, "phase", None) == DECIDED
               for name, actor in zip(m.ids, m.actors) if getattr(actor, "role", "") == "proposer")


PROPERTIES = [agreement, learned_chosen, validity, promise_monotonic, refinement, decision_durable,
              quorum_suffices, value_decided, eventually_chosen, eventually_decided,
              chosen_leads_to_decided, eventually_proposers_learn]
WITHOUT_HISTORY = [agreement, validity, promise_monotonic, decision_durable, quorum_suffices,
                   value_decided, eventually_decided]


def properties(m) -> list[Property]:
    """The properties of the instance ``m`` (a ``PaxosSystem``), bound to it: those that read
    the history only when it records one, ``quorum_suffices`` only with 3 or more acceptors,
    none that reads a ballot with unbounded rounds (``max_rounds=0``)."""
    props = PROPERTIES if m.with_history else WITHOUT_HISTORY
    if len(m.acceptor_ids) < 3:  # a majority of 1 or 2 acceptors is all of them
        props = [p for p in props if p is not quorum_suffices]
    if not m.ballots:  # unbounded rounds, renamed (paxchain.models.ballot_quotient): nothing
        # that reads a ballot (promise_monotonic compares two across a renamed step)
        props = [p for p in props if p not in (promise_monotonic, quorum_suffices)]
        props.append(eventually_proposers_learn)
    return [p.bind(m) for p in props]
