"""Run-level properties of Paxos: agreement and validity of what a run of the protocol showed.

The run is a simulated or real one (``paxchain.models.paxos_driver.PaxosRun``: each learner's
decisions, the votes seen, the proposed values); the predicates are the model's own
(``paxchain.specs.paxos_system.agreement_holds`` and ``validity_holds``), judging a run's
observed outputs instead of a model state. *Decided* values are those learners output (or, in
a real run, found on disk); *chosen* values are Lamport's: ``v`` is chosen when a quorum of
acceptors sent ``Accepted`` for it in one ballot -- seen from outside, whatever learners make
of it.

- ``check_simulated``: the simulator records every message, so agreement is over decided and
  chosen values; a learner also decides at most once (part of agreement), and validity holds
  when every decided or chosen value was proposed.
- ``check_real``: a real run's messages are not recorded, so agreement is over the learners'
  decisions alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from paxchain.models.paxos_driver import PaxosRun
from paxchain.specs.paxos_system import agreement_holds, validity_holds

__all__ = ["Verdict", "chosen", "check_simulated", "check_real", "SUMMARY"]

SUMMARY = {"agreement": "Learners decide one value; at most one value is chosen.",
           "validity": "Only a proposed value is decided or chosen."}


@dataclass
class Verdict:
    """The properties of one run. ``chosen`` lists the ``(ballot, value)`` pairs a quorum of
    acceptors accepted; ``violated`` names the property that failed (``None``: none did)."""

    decisions: dict[str, list[tuple[float | None, Any]]]
    chosen: list[tuple[tuple, Any]]
    proposed: frozenset
    violated: str | None = None
    explanation: str = ""
    ballots: dict[str, list[tuple]] = field(default_factory=dict)

    @property
    def all_decided(self) -> bool:
        return all(self.decisions.values())


def chosen(run: PaxosRun) -> list[tuple[tuple, Any]]:
    """The ``(ballot, value)`` pairs that a quorum of acceptors accepted, in a fixed order."""
    return sorted((k for k, accs in run.votes.items() if len(accs) >= run.quorum), key=repr)


def _decided(run: PaxosRun) -> set:
    return {v for ds in run.decisions.values() for _, v in ds}


def _show(x: Any) -> str:
    return repr(x).replace("'", "")


def check_simulated(run: PaxosRun) -> Verdict:
    """Agreement (learners decide one value, at most one value is chosen, and a learner
    outputs at most once) and validity (a decided or chosen value was proposed)."""
    picked = chosen(run)
    verdict = Verdict(run.decisions, picked, run.proposed, ballots=run.ballots)
    decided = _decided(run)
    chosen_values = {v for _, v in picked}
    twice = [n for n, ds in run.decisions.items() if len(ds) > 1]
    if not agreement_holds(decided, chosen_values):
        verdict.violated = "agreement"
        chosen_text = ", ".join(f"{val} in ballot {b[0]}.{b[1]}" for b, val in picked)
        decided_text = ", ".join(map(str, sorted(decided, key=repr)))
        verdict.explanation = (f"learners decided {decided_text or 'nothing'}; "
                               f"chosen: {chosen_text or 'nothing'}")
    elif twice:
        verdict.violated = "agreement"
        verdict.explanation = f"learner {twice[0]} decided more than once"
    elif not validity_holds(decided | chosen_values, run.proposed):
        verdict.violated = "validity"
        unproposed = sorted((decided | chosen_values) - run.proposed)
        verdict.explanation = f"{_show(unproposed)} never proposed"
    return verdict


def check_real(run: PaxosRun) -> Verdict:
    """Agreement of a real run: the learners' decisions (found on disk or output) agree."""
    verdict = Verdict(run.decisions, [], run.proposed, ballots=run.ballots)
    decided = _decided(run)
    if not agreement_holds(decided, ()):
        verdict.violated = "agreement"
        verdict.explanation = f"learners decided {sorted(decided, key=repr)}"
    return verdict
