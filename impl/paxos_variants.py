"""The seeded variants of ``paxchain.impl.paxos``: each changes one rule of one role, from outside.

Each is a subclass overriding one rule method, or a wrapper of a role's handlers, registered
in ``PAXOS`` (see ``paxchain.impl.variants``). A user's variant is written the same way in their own
file and loaded as a plugin (``paxchain --plugin FILE.py ...``)::

    from paxchain.impl.paxos import Acceptor, Promise
    from paxchain.impl.paxos_variants import PAXOS

    @PAXOS.subclass("forgets_votes", "acceptor: reports no vote in its promises", "acceptor")
    class ForgetsVotes(Acceptor):
        @staticmethod
        def _promise(node, s, b):
            return Promise(b, node, None, None)
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from paxchain.impl import paxos as px
from paxchain.impl.actor import Effect, Handled
from paxchain.impl.variants import ActorWrapper, Catalogue, persist_after_sends

__all__ = ["PAXOS", "CORRUPT_VALUE"]

PAXOS = Catalogue("paxos", roles=("proposer", "acceptor", "learner"))

CORRUPT_VALUE = "v?"


# -- acceptor ---------------------------------------------------------------------------------

@PAXOS.subclass("no_durable_storage",
                "acceptor: does not persist; a restart forgets its promise and vote", "acceptor")
class NoDurableStorage(px.Acceptor):
    def _persist(self, s: px.AcceptorState) -> list[Effect]:
        return []

    def on_start(self, node: str, durable: Hashable | None, now: float) -> Handled:
        return super().on_start(node, None, now)


@PAXOS.subclass("accept_below_promise",
                "acceptor: accepts an Accept whose ballot is below its promise", "acceptor")
class AcceptBelowPromise(px.Acceptor):
    def _accepts(self, s: px.AcceptorState, b: tuple[int, int]) -> bool:
        return True


@PAXOS.wrapper("reply_before_persist",
               "acceptor: sends its Promise/Accepted before the durable write that it reports "
               "(a crash between the two loses the promise or vote)", "acceptor")
class ReplyBeforePersist(ActorWrapper):
    def on_message(self, node: str, state: Any, src: str, msg: Any, now: float) -> Handled:
        st, effects = self.inner.on_message(node, state, src, msg, now)
        return st, persist_after_sends(effects)


@PAXOS.wrapper("corrupt_storage",
               "fault model, not a bug: a restarted acceptor reads back a vote whose value was "
               "corrupted on disk (shows that validity can fail)", "acceptor")
class CorruptStorage(ActorWrapper):
    """An acceptor whose disk returns its vote with the value replaced by ``CORRUPT_VALUE``."""

    extra_values = (CORRUPT_VALUE,)  # a value no client proposed (models read this)

    def on_start(self, node: str, durable: Hashable | None, now: float) -> Handled:
        if type(durable) is tuple and len(durable) == 2 and durable[1] is not None:
            durable = (durable[0], (durable[1][0], CORRUPT_VALUE))
        return super().on_start(node, durable, now)


# -- proposer ---------------------------------------------------------------------------------

@PAXOS.subclass("ignore_promised_votes",
                "proposer: proposes its own value, ignoring votes in promises", "proposer")
class IgnorePromisedVotes(px.Proposer):
    def _choose_value(self, s: px.ProposerState, best: tuple[tuple[int, int], Hashable] | None
                      ) -> Hashable:
        return self.own_value(s.incarnation)


@PAXOS.subclass("ballots_not_unique", "proposer: ballot is (round, 0) for every proposer",
                "proposer")
class BallotsNotUnique(px.Proposer):
    def ballot(self, round_: int) -> tuple[int, int]:
        return (round_, 0)


@PAXOS.subclass("reuse_ballot_after_restart",
                "proposer: round is not durable; restarts at round 0", "proposer")
class ReuseBallotAfterRestart(px.Proposer):
    def _durable(self, s: px.ProposerState) -> Hashable:
        return (0, s.incarnation)

    def _resume(self, durable: Hashable | None) -> tuple[int, int]:
        return 0, super()._resume(durable)[1]


@PAXOS.subclass("proposer_ignores_reply_ballot",
                "proposer: counts a Promise or Accepted for any of its own ballots as one for "
                "its current ballot", "proposer")
class ProposerIgnoresReplyBallot(px.Proposer):
    def _for_current_ballot(self, s: px.ProposerState, msg: Any) -> bool:
        return (s.phase in (px.PREPARING, px.ACCEPTING) and msg.ballot[1] == self.pid
                and msg.ballot[0] <= s.round)


@PAXOS.subclass("proposer_ignores_retry_timer",
                "proposer: does nothing when its retry timer fires (a lost Prepare or Accept "
                "is never retried: a liveness bug, safe)", "proposer")
class ProposerIgnoresRetryTimer(px.Proposer):
    def on_timer(self, node: str, state: px.ProposerState, name: str, now: float) -> Handled:
        return state, []


@PAXOS.subclass("proposer_ignores_accepted",
                "proposer: ignores Accepted, so it never learns that its value was chosen and "
                "retries until max_rounds (a liveness bug, safe: learners still decide)",
                "proposer")
class ProposerIgnoresAccepted(px.Proposer):
    def on_message(self, node: str, state: px.ProposerState, src: str, msg: Any,
                   now: float) -> Handled:
        if type(msg) is px.Accepted:
            return state, []
        return super().on_message(node, state, src, msg, now)


# -- learner ----------------------------------------------------------------------------------

@PAXOS.subclass("learner_mixes_ballots",
                "learner: counts Accepted for a value from different ballots toward one quorum",
                "learner")
class LearnerMixesBallots(px.Learner):
    @staticmethod
    def _supporters(votes: frozenset[tuple[tuple[int, int], Hashable, str]], msg: px.Accepted
                    ) -> set[str]:
        return {a for (_, v, a) in votes if v == msg.value}



@PAXOS.wrapper("learner_announces_before_persist",
               "learner: outputs its decision before the durable write of it (a crash between "
               "the two forgets an announced decision)", "learner")
class LearnerAnnouncesBeforePersist(ReplyBeforePersist):
    """The acceptor bug's wrapper on a learner: its Output leaves before its Persist."""


@PAXOS.subclass("learner_waits_for_all",
                "learner: decides only once every acceptor accepted (one silent acceptor "
                "blocks every decision)", "learner")
class LearnerWaitsForAll(px.Learner):
    @property
    def quorum(self) -> int:  # type: ignore[override]
        return len(self.acceptors)
