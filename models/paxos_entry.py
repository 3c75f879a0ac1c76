"""The ``paxos-system`` registry entry: its parameters, and the factory that builds bounded
rounds (``paxchain.models.paxos_system.PaxosSystem``) or, with ``max_rounds=0``, unbounded
rounds with ballots renamed by their order (``paxchain.models.ballot_quotient``).

It is a module of its own because the quotient is a subclass of the bounded model: the entry
imports both, neither imports it.
"""

from __future__ import annotations

from paxchain.impl.paxos_variants import PAXOS
from paxchain.models.ballot_quotient import BallotQuotient
from paxchain.models.actor_system import NETWORKS
from paxchain.models.paxos_system import PaxosSystem, timely_word
from paxchain.models.registry import BadInput, ModelEntry, Param, int_param

__all__ = ["ENTRIES"]


def _build(variant=None, acceptors=3, proposers=2, values=2, max_rounds=2, learners=1,
           network="duplicating", drops=0, duplicates=0, crashes=1, history=1, bury=1,
           spent_reports=0, crash_points=1, noop=1, tallies=1, subsume=1, retire=1, timely="all",
           partition="none"):
    if network == "duplicating" and (drops or duplicates):
        raise ValueError("drops and duplicates budgets need network=budgeted (a duplicating "
                         "network loses and duplicates without bound)")
    timely = timely_word(timely)
    if max_rounds == 0:  # unbounded rounds: ballots renamed by their order
        return BallotQuotient(acceptors=acceptors, proposers=proposers, values=values,
                              learners=learners, network=network, drops=drops,
                              duplicates=duplicates, crashes=crashes, bury=bool(bury),
                              crash_points=bool(crash_points), noop=bool(noop),
                              tallies=bool(tallies), subsume=bool(subsume), variant=variant,
                              timely=timely, partition=partition)
    return PaxosSystem(acceptors=acceptors, proposers=proposers, values=values,
                       max_rounds=max_rounds, learners=learners, network=network, drops=drops,
                       duplicates=duplicates, crashes=crashes, history=bool(history),
                       bury=bool(bury), spent_reports=bool(spent_reports),
                       crash_points=bool(crash_points), noop=bool(noop),
                       tallies=bool(tallies), subsume=bool(subsume), retire=bool(retire),
                       variant=variant, timely=timely, partition=partition)


def _network(text: str) -> str:
    if text not in NETWORKS:
        raise BadInput(f"{text!r} is not a network (known: {', '.join(NETWORKS)})")
    return text


def _entries():
    return [ModelEntry(
        name="paxos-system",
        summary="impl/paxos.py actors on a lossy, duplicating, reordering network with crashes",
        params=(Param("acceptors", int_param(1, 7), 3, "number of acceptors a1..aN"),
                Param("proposers", int_param(1, 5), 2, "number of proposers p1..pM"),
                Param("values", int_param(1, 5), 2, "number of values v1..vK"),
                Param("max_rounds", int_param(0, 6), 2,
                      "rounds (ballots) per proposer; 0: unbounded (needs network=budgeted, "
                      "keeps no history; ballots renamed by their order: "
                      "models/ballot_quotient.py)"),
                Param("learners", int_param(0, 3), 1, "number of learners l1..lK"),
                Param("network", _network, "duplicating",
                      "; ".join(f"{k}: {v}" for k, v in NETWORKS.items())),
                Param("drops", int_param(0, 9), 0, "message losses allowed (budgeted network)"),
                Param("duplicates", int_param(0, 9), 0,
                      "message duplications allowed (budgeted network)"),
                Param("crashes", int_param(0, 9), 1, "crash-restarts allowed"),
                Param("history", int_param(0, 1), 1,
                      "1: record every message sent (needed by refinement and chosen)"),
                Param("bury", int_param(0, 1), 1,
                      "1: remove messages their receiver can never react to (a reduction)"),
                Param("spent_reports", int_param(0, 1), 0,
                      "1: keep the Promises of ballots that have an Accept in the history "
                      "(exact refinement to Lamport's Paxos; about 6x the states)"),
                Param("noop", int_param(0, 1), 1,
                      "1: a delivery that changes nothing and sends nothing is not a step "
                      "(a reduction)"),
                Param("crash_points", int_param(0, 1), 1,
                      "1: a crash may also fall between a handler's effects (after a Persist, "
                      "before the sends that follow, ...)"),
                Param("tallies", int_param(0, 1), 1,
                      "1: the roles' counts of ignored messages are kept at 0 (a reduction, "
                      "checked: no handler may read them)"),
                Param("subsume", int_param(0, 1), 1,
                      "1: a state that an explored twin covers (same nodes, history and "
                      "outputs; at least its fault budgets and messages in flight) is not "
                      "explored (a reduction)"),
                Param("retire", int_param(0, 1), 1,
                      "1: the history forgets the Promises of ballots no proposer can still "
                      "take to phase 2 (a reduction, checked: models/retirement.py)"),
                Param("timely", timely_word, 1,
                      "liveness timing: 1: a timer waits while any message can be delivered; "
                      "own: while one to or from its node can; 0: no timing assumption"),
                Param("partition", str, "none", "links cut for good between groups, as "
                      "p1,a1|a2,a3 (the nodes in no group are one more): never delivered")),
        variants=PAXOS.docs,
        build=_build,
        reduction_bounds=(
            {"acceptors": 2, "proposers": 2, "max_rounds": 1, "crashes": 0},
            {"acceptors": 2, "proposers": 1, "max_rounds": 2, "crashes": 1},
            {"acceptors": 2, "proposers": 1, "max_rounds": 1, "crashes": 1,
             "network": "budgeted", "drops": 1, "duplicates": 1},
            # three acceptors: a majority is less than all (the goal quorum_suffices is listed)
            {"acceptors": 3, "proposers": 1, "max_rounds": 1, "crashes": 0}),
    )]


ENTRIES = _entries()
