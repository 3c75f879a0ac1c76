"""Two-phase commit, written only against paxchain's public API, checked from the command line.

A coordinator ``c`` asks participants ``p1..pN`` to prepare. Each participant votes yes or no
(a choice the checker explores both ways: on Prepare it sets two timers, ``yes`` and ``no``,
and the first to fire is its vote; a no vote aborts it at once). The coordinator commits once
every participant voted yes and aborts at the first no, and tells every participant.

The actors are sans-IO (``paxchain.impl.actor``): each handler returns ``(state, effects)``.
``paxchain.models.actor_system.ActorSystem`` puts them on a network that reorders, loses and
duplicates messages; ``TwoPhaseCommit`` adds the properties. The seeded bug ``majority_commit``
is a coordinator that commits on a majority of yes votes::

    paxchain check examples/two_phase_commit.py:two_phase_commit
    paxchain check examples/two_phase_commit.py:two_phase_commit --variant majority_commit
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from paxchain.impl.actor import CancelTimer, Output, Send, SetTimer
from paxchain.models.actor_system import ActorSystem
from paxchain.models.properties import invariant, sometimes

COORDINATOR = "c"


# -- messages and states (frozen dataclasses: hashable, and readable back from a trace) --------

@dataclass(frozen=True)
class Prepare:
    pass


@dataclass(frozen=True)
class Vote:
    yes: bool


@dataclass(frozen=True)
class Decision:
    commit: bool


@dataclass(frozen=True)
class CoordinatorState:
    yes: frozenset = frozenset()   # participants that voted yes
    decision: str | None = None    # "commit" or "abort"


@dataclass(frozen=True)
class ParticipantState:
    vote: bool | None = None       # None: not voted yet
    outcome: str | None = None     # "committed" or "aborted"


# -- the actors ---------------------------------------------------------------------------------

class Coordinator:
    """Sends Prepare to every participant; commits when all voted yes, aborts on a no."""

    def __init__(self, participants: tuple[str, ...]) -> None:
        self.participants = participants

    def enough(self, yes: frozenset) -> bool:
        return len(yes) == len(self.participants)

    def on_start(self, node, durable, now):
        return CoordinatorState(), [Send(p, Prepare()) for p in self.participants]

    def on_message(self, node, state, src, msg, now):
        if not isinstance(msg, Vote) or state.decision is not None or src not in self.participants:
            return state, []
        if not msg.yes:
            return self.decide(state, "abort")
        state = replace(state, yes=state.yes | {src})
        return self.decide(state, "commit") if self.enough(state.yes) else (state, [])

    def decide(self, state, decision):
        tell = [Send(p, Decision(decision == "commit")) for p in self.participants]
        return replace(state, decision=decision), [Output(decision)] + tell

    def on_timer(self, node, state, name, now):
        return state, []


class MajorityCoordinator(Coordinator):
    """The seeded bug: commits as soon as a majority of the participants voted yes."""

    def enough(self, yes: frozenset) -> bool:
        return 2 * len(yes) > len(self.participants)


class Participant:
    """Votes when asked (yes or no, whichever timer fires first); obeys the decision."""

    def on_start(self, node, durable, now):
        return ParticipantState(), []

    def on_message(self, node, state, src, msg, now):
        if isinstance(msg, Prepare) and state.vote is None:
            return state, [SetTimer("yes", 1.0), SetTimer("no", 1.0)]
        if isinstance(msg, Decision) and state.outcome is None:
            return replace(state, outcome="committed" if msg.commit else "aborted"), []
        return state, []

    def on_timer(self, node, state, name, now):
        if state.vote is not None or name not in ("yes", "no"):
            return state, []
        yes = name == "yes"
        outcome = state.outcome or (None if yes else "aborted")
        return (replace(state, vote=yes, outcome=outcome),
                [CancelTimer("no" if yes else "yes"), Send(COORDINATOR, Vote(yes))])


# -- the properties -----------------------------------------------------------------------------

def participants(m, s) -> dict[str, ParticipantState]:
    return {x: node.state for x, node in m.nodes(s).items() if x != COORDINATOR}


def _outcomes(m, s) -> str:
    return "; ".join(f"{x}: {p.outcome or 'undecided'}" for x, p in participants(m, s).items())


def _votes(m, s) -> str:
    shown = {True: "yes", False: "no", None: "not voted"}
    decision = m.node(s, COORDINATOR).state.decision
    return f"decision {decision}; " + "; ".join(
        f"{x}: {shown[p.vote]}" for x, p in participants(m, s).items())


@invariant(explain=_outcomes)
def atomicity(m, s) -> bool:
    """Atomicity: no participant commits while another aborts."""
    return not {"committed", "aborted"} <= {p.outcome for p in participants(m, s).values()}


@invariant(explain=_votes)
def validity(m, s) -> bool:
    """Validity: the coordinator commits only if every participant voted yes."""
    return (m.node(s, COORDINATOR).state.decision != "commit"
            or all(p.vote is True for p in participants(m, s).values()))


@sometimes()
def committed(m, s) -> bool:
    """Some run commits (a goal: a protocol that never commits holds vacuously)."""
    return m.node(s, COORDINATOR).state.decision == "commit"


class TwoPhaseCommit(ActorSystem):
    """The actors on a duplicating network (any message delivered any number of times, or
    never, in any order), with the properties above."""

    def properties(self):
        return [p.bind(self) for p in (atomicity, validity, committed)]


def two_phase_commit(participants: int = 3,
                     variant: Literal["majority_commit"] | None = None) -> TwoPhaseCommit:
    """Two-phase commit: a coordinator and N participants on a lossy, duplicating network."""
    if not 1 <= participants <= 6:
        raise ValueError(f"participants must be 1..6, not {participants}")
    ids = tuple(f"p{i}" for i in range(1, participants + 1))
    coordinator = MajorityCoordinator(ids) if variant == "majority_commit" else Coordinator(ids)
    return TwoPhaseCommit(
        [(COORDINATOR, coordinator)] + [(x, Participant()) for x in ids],
        network="duplicating", symmetric=[ids],
        types=(Prepare, Vote, Decision, CoordinatorState, ParticipantState),
        name="two-phase-commit", params={"participants": participants}, variant=variant)
