"""Symmetry over the ballot quotient (``paxos-system -p max_rounds=0 --symmetry``) is sound.

What is permuted. ``paxos-system`` offers symmetry over its acceptors only (``symmetric=sides``:
all acceptors, or the acceptors on each side of a ``partition`` cut); proposers and learners
are never renamed. The ballot quotient (``models/ballot_quotient.py``) renames *rounds* only:
the round half of every ballot and the proposers' round counters, with the floor the least
proposer counter.

Why the two commute. A permutation ``π`` of acceptor ids moves acceptor entries and renames
acceptor ids (in ``Promise``/``Accepted``, learners' votes, proposers' promise and accept sets,
links); it changes no round and moves no proposer entry, so a state and its image hold the same
rounds and the same proposer counters: the same floor, hence the same canonical map ``m``, and
``canonical(π s) = π canonical(s)``; likewise the premise's witness, ``witness(π c) =
π witness(c)``. A ballot ``(round, pid)`` holds a proposer's number, which ``π`` leaves alone.
So where ``π`` is an automorphism of the unreduced actor system (checked, not assumed, on every
handler call: ``ActorSystem._check_equivariant``), it is one of the quotient: ``s -> canonical(t)``
is a step iff ``π s -> π canonical(t) = canonical(π t)`` is one. The image of a canonical state
is canonical, so the symmetric search stays inside the quotient, and the quotient's premise
checked at one member of an orbit holds at every member (its steps and its witness's are the
images). The properties checked at ``max_rounds=0`` (agreement without history, validity,
decision_durable, value_decided) read learners' decisions and outputs, never an acceptor id.
Liveness with ``--symmetry`` is refused anyway (``checker/explicit.py``).

What this file checks, by experiment. The safety graph is infinite (timers fire at any moment),
so the comparison is depth-bounded: for the correct model and every variant the quotient
accepts, breadth-first search to ``DEPTH`` with symmetry on and off must give (a) the same
verdict for every property and the same shortest trace for each one violated or reached, and
(b) the same reachable states modulo symmetry: the orbit representatives of the unreduced
search's states are exactly the states the symmetric search keeps (it keys its visited set by
representative). The unreduced set is closed under every permutation (an automorphism keeps a
state's depth), every property takes one value on each orbit, and the unreduced count is the
sum of the orbits' sizes. Each case also shows that it is not vacuous: the symmetry merges
states, and (for the correct model) some state off the permutations' fixed points has a
renamed lagging round.
Subsumption is off for the state sets (what it leaves out depends on the order of the search)
and on for the comparison through ``check``, the path the CLI takes.
"""

from __future__ import annotations

import pytest

from paxchain.checker.explicit import _Search, check, selected
from paxchain.checker.result import HOLDS, Options
from paxchain.models import registry
from paxchain.models.ballot_quotient import BallotQuotient
from paxchain.models.properties import INVARIANT, SOMETIMES

MODEL = "paxos-system"
# Two acceptors (the permuted group: one swap), two proposers (the floor is the lesser of two
# counters, so rounds are renamed when the slower one moves), two values and one crash (so
# that the storage and restart variants differ from the correct code within the bound).
BOUND = {"acceptors": 2, "proposers": 2, "values": 2, "crashes": 1, "max_rounds": 0,
         "network": "budgeted"}
DEPTH = 3
# Deep enough for a learner to decide (value_decided, a goal, reached in 8 steps: a Prepare,
# a Promise, an Accept and an Accepted to the learner for each of the two acceptors), at the
# smallest bound with a non-trivial group: one proposer, one value, no crash.
DEEP = {"acceptors": 2, "proposers": 1, "values": 1, "crashes": 0, "max_rounds": 0,
        "network": "budgeted"}
DEEP_DEPTH = 8
REFUSED = "paxos-system max_rounds=0 cannot check this code: "
VARIANTS = [None, *sorted(registry.entry(MODEL).variants)]


def _build(bound: dict, variant: str | None, subsume: int = 0) -> BallotQuotient:
    m = registry.build(MODEL, {**{k: str(v) for k, v in bound.items()},
                               "subsume": str(subsume)}, variant)
    assert isinstance(m, BallotQuotient)
    return m


def _search(m: BallotQuotient, depth: int, symmetry: bool):
    """A breadth-first search to ``depth``: the keys of its visited set (whole states; with
    symmetry, the representatives) and its result."""
    search = _Search(m, Options(max_depth=depth, symmetry=symmetry, keep_going=True,
                                fingerprints=False, coverage=False))
    result = search.run()
    return set(search.seen), result


def _outcome(result) -> dict:
    """Each property's verdict and, where a trace was found (a violation, a goal reached), its
    length; and how the search ended."""
    out = {p.name: (p.verdict, None if p.trace is None else len(p.trace.steps))
           for p in result.properties}
    out["(search)"] = (result.stopped_by, result.stats.checked_depth)
    return out


def _orbit(m: BallotQuotient, s: tuple) -> set:
    return {s, *(m._image(p, s) for p in range(len(m._permutations())))}


def _has_lagging_round(m: BallotQuotient, s: tuple) -> bool:
    floor, rounds = m._floor_and_rounds(s)
    return any(r < floor for r in rounds)


def _compare(m: BallotQuotient, depth: int):
    """The comparisons of the module docstring on ``m`` (both searches on one model, so that
    states are comparable: the unreduced search first, the symmetric one after it)."""
    # what is permuted: acceptors, nothing else (all of them, or each side of a partition's cut)
    assert m.groups and all(set(g) <= set(m.acceptor_ids) for g in m.groups)
    plain, unreduced = _search(m, depth, symmetry=False)
    sym, reduced = _search(m, depth, symmetry=True)
    # (a) verdicts and shortest traces
    assert _outcome(reduced) == _outcome(unreduced)
    # (b) the reachable states modulo symmetry
    assert {m.representative(s) for s in plain} == sym
    orbits = {r: _orbit(m, r) for r in sym}
    assert all(o <= plain for o in orbits.values())  # closed under the permutations
    assert len(plain) == sum(map(len, orbits.values()))  # so the count is the orbits' sizes
    props = [p for p in selected(m, None) if p.kind in (INVARIANT, SOMETIMES)]
    for r, orbit in orbits.items():
        for p in props:
            assert {p.holds_at(s) for s in orbit} == {p.holds_at(r)}, (p.name, r)
    assert len(sym) < len(plain)  # not vacuous: the symmetry merges states
    return reduced, orbits


def _renames_moved_states(m: BallotQuotient, orbits: dict) -> bool:
    """Whether some state that a permutation moves has a round the quotient renamed (below the
    floor): the two reductions meet. (A variant whose proposers never move past their first
    round, ``proposer_ignores_retry_timer``, has none within the bound.)"""
    return any(len(o) > 1 and _has_lagging_round(m, r) for r, o in orbits.items())


@pytest.mark.parametrize("variant", VARIANTS, ids=[v or "correct" for v in VARIANTS])
def test_symmetry_agrees_with_the_unreduced_quotient(variant):
    m = _build(BOUND, variant)
    try:
        _, orbits = _compare(m, DEPTH)
        if variant is None:
            assert _renames_moved_states(m, orbits)
    except ValueError as exc:  # the quotient refuses this code (premise failed)
        why = str(exc)
        assert why.startswith(REFUSED) and "\n" not in why
        with pytest.raises(ValueError) as again:  # the same with symmetry, on a fresh model
            _search(_build(BOUND, variant), DEPTH, symmetry=True)
        assert str(again.value).startswith(REFUSED)
        pytest.skip(f"the ballot quotient refuses {variant}: {why[:160]}...")


def test_the_quotient_refuses_a_variant_that_reads_absolute_rounds():
    # The skip above is reached: a proposer whose round is not durable (it restarts at round
    # 0) tells renamed rounds apart, and the quotient refuses it, with symmetry as without.
    for symmetry in (False, True):
        with pytest.raises(ValueError, match="the ballot renaming's premise fails"):
            _search(_build(BOUND, "reuse_ballot_after_restart"), DEPTH, symmetry)


def test_a_failed_premise_is_raised_at_every_visit():
    # The first state whose premise fails, asked for its steps twice on one model object:
    # both times it is refused (it is not remembered as checked once it failed).
    m = _build(BOUND, "reuse_ballot_after_restart")
    seen = set(m.initial_states())
    frontier = list(seen)
    while frontier:
        s = frontier.pop(0)
        try:
            steps = m.successors(s)
        except ValueError:
            break
        for _, t in steps:
            if t not in seen:
                seen.add(t)
                frontier.append(t)
    else:
        pytest.fail("no state of the variant fails the premise")
    with pytest.raises(ValueError, match="the ballot renaming's premise fails"):
        m.successors(s)


def test_symmetry_agrees_where_a_learner_decides():
    # The goal is reached, by both searches at the same depth (_compare), in 8 steps.
    m = _build(DEEP, None)
    result, orbits = _compare(m, DEEP_DEPTH)
    assert _renames_moved_states(m, orbits)
    decided = result.get("value_decided")
    assert decided.verdict == HOLDS and len(decided.trace.steps) - 1 == 8


def test_the_cli_path_agrees():
    # ``check`` with the model's reductions as the CLI builds them (subsumption on).
    on = check(_build(BOUND, None, subsume=1),
               Options(max_depth=DEPTH, symmetry=True, keep_going=True))
    off = check(_build(BOUND, None, subsume=1), Options(max_depth=DEPTH, keep_going=True))
    assert "symmetry on" in on.reductions and "ballots on" in on.reductions
    assert "symmetry on" not in off.reductions
    assert _outcome(on) == _outcome(off)
    assert on.stats.distinct < off.stats.distinct
