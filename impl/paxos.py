"""Single-decree Paxos as sans-IO actors: proposer, acceptor and learner.

Theory of operation
-------------------
Three roles, each a handler object following ``paxchain.impl.actor.Actor``; the drivers (the model
checker, the simulator, the UDP runtime) own the network, the clocks and the disk::

    proposer --Prepare(b)------------------> acceptors
    proposer <--Promise(b, a, vb, vv) / Nack- acceptors
    proposer --Accept(b, v)-----------------> acceptors
    proposer, learners <--Accepted(b, a, v)-- acceptors

A *ballot* is ``(round, pid)``, ordered lexicographically; ``pid`` is the proposer's number
(``p2`` has pid 2), so ballots are unique per proposer. The proposer's round is durable: it
``Persist``s the round *before* the ``Prepare`` that uses it, so a restarted proposer never
reuses a ballot.

Proposer. Start a ballot with the next round (``Persist``, then ``Prepare`` to every acceptor,
then the ``retry`` timer). On promises from a quorum for that ballot, propose the value of the
highest-ballot vote they report, else its own value, with ``Accept`` to every acceptor. On
``Accepted`` from a quorum in its ballot it is done (phase ``decided``). On the ``retry`` timer
(no progress in time) it starts a higher ballot; on a ``Nack`` for its ballot carrying a higher
promise it drops the ballot (phase ``idle``), remembers the promised round so its next ballot
beats it, and waits a short backoff before retrying: two proposers pre-empting each other at
once would otherwise duel forever. Timer delay for round ``r``:
``min(timeout * backoff ** (r - 1), max_timeout) * (1 + jitter * j(pid, r))`` where ``j`` is a
deterministic hash of ``(pid, r)`` in ``[0, 1)`` -- no global randomness. After ``max_rounds``
rounds (``0`` = unbounded) the proposer gives up and stays ``idle``; this bound is what keeps
the model checker's state space finite.

The value of the k-th incarnation (k counts restarts; it is durable) is ``values[k % len]``:
a restarted proposer serves a new client request, which is what makes a reused ballot harmful.

Acceptor. Durable state ``(promised, vote)``. ``Prepare(b)`` with ``b > promised``: promise,
``Persist``, reply ``Promise`` reporting its vote; ``b == promised`` and no vote in ``b`` yet:
reply the identical ``Promise`` again (a retransmission, no state change); ``b < promised``:
``Nack(b, promised)``. ``Accept(b, v)`` with ``b >= promised``: vote, ``Persist``, send
``Accepted`` to the proposer and every learner; below the promise: ``Nack``. Every ``Persist``
precedes the ``Send``s in the same effect list (write-ahead).

Learner. Collects ``Accepted`` as ``(ballot, value, acceptor)`` triples; when a quorum of
acceptors accepted the same value *in the same ballot* it decides: ``Persist`` the value, then
``Output(("decided", v))`` -- once, also across restarts.

Rules
-----
- Handlers are pure: no clocks, sockets, files or global randomness here.
- States are frozen, slotted dataclasses of ints, strings, tuples and frozensets: hashable and
  small, for the model checker.
- A message of an unknown type or with ill-typed fields (or from a node that is not an
  acceptor, where an acceptor is expected) is ignored and counted in ``state.ignored``; it never
  raises. Stale but well-formed messages (an old ballot) are ignored without counting.
- No seeded bugs here: the variants in ``paxchain.impl.paxos_variants`` subclass or wrap these roles,
  overriding one of the small rule methods (``ballot``, ``_choose_value``, ``_accepts``, ...).

Proposer phases (``PROPOSER_PHASES``; ``state_diagram_dot()`` draws it)::

    idle --start/retry--> preparing --quorum of promises--> accepting --quorum accepted--> decided
    preparing, accepting --retry timer--> preparing (higher ballot)
    preparing, accepting --nack--> idle --retry timer--> preparing
    any but decided --rounds exhausted--> idle (gave up, no timer)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
# (Iterable is unused; it stays while the mutation benchmark keys its record by this syntax tree.)
from collections.abc import Hashable, Iterable, Sequence  # noqa: F401
from typing import Any

from paxchain.impl.actor import CancelTimer, Effect, Handled, Output, Persist, Send, SetTimer

__all__ = [
    "Ballot", "Prepare", "Promise", "Accept", "Accepted", "Nack", "MESSAGES",
    "ProposerState", "AcceptorState", "LearnerState",
    "Proposer", "Acceptor", "Learner", "make_cluster", "PROPOSER_PHASES",
    "IDLE", "PREPARING", "ACCEPTING", "DECIDED", "RETRY", "state_diagram_dot",
    "valid_ballot", "majority",
]

Ballot = tuple  # (round: int, pid: int)

IDLE, PREPARING, ACCEPTING, DECIDED = "idle", "preparing", "accepting", "decided"
RETRY = "retry"  # the proposer's only timer

# (phase, trigger) -> next phase. The proposer's code moves phases only through ``_goto``,
# which looks this table up, so the drawing made from it cannot drift from the code.
PROPOSER_PHASES: dict[tuple[str, str], str] = {
    (IDLE, "start"): PREPARING,
    (IDLE, "retry timer"): PREPARING,
    (PREPARING, "retry timer"): PREPARING,
    (ACCEPTING, "retry timer"): PREPARING,
    (PREPARING, "quorum of promises"): ACCEPTING,
    (ACCEPTING, "quorum accepted"): DECIDED,
    (PREPARING, "nack"): IDLE,
    (ACCEPTING, "nack"): IDLE,
    (IDLE, "rounds exhausted"): IDLE,
    (PREPARING, "rounds exhausted"): IDLE,
    (ACCEPTING, "rounds exhausted"): IDLE,
}


def _goto(phase: str, trigger: str) -> str:
    return PROPOSER_PHASES[(phase, trigger)]


def state_diagram_dot() -> str:
    """The proposer's phase table as graphviz ``dot`` text."""
    lines = ["digraph proposer {", "  rankdir=LR;", "  node [shape=ellipse];"]
    for (src, trigger), dst in PROPOSER_PHASES.items():
        lines.append(f'  "{src}" -> "{dst}" [label="{trigger}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- messages ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Prepare:
    """Phase 1a: please promise ``ballot``."""
    ballot: Ballot


@dataclass(frozen=True, slots=True)
class Promise:
    """Phase 1b: ``acceptor`` promised ``ballot``; its vote so far (``None, None`` if none)."""
    ballot: Ballot
    acceptor: str
    voted_ballot: Ballot | None
    voted_value: Hashable | None


@dataclass(frozen=True, slots=True)
class Accept:
    """Phase 2a: please vote for ``value`` in ``ballot``."""
    ballot: Ballot
    value: Hashable


@dataclass(frozen=True, slots=True)
class Accepted:
    """Phase 2b: ``acceptor`` voted for ``value`` in ``ballot``."""
    ballot: Ballot
    acceptor: str
    value: Hashable


@dataclass(frozen=True, slots=True)
class Nack:
    """Rejection of ``ballot``: the acceptor has promised the higher ballot ``promised``."""
    ballot: Ballot
    promised: Ballot


MESSAGES = (Prepare, Promise, Accept, Accepted, Nack)


def valid_ballot(b: Any) -> bool:
    """Whether ``b`` is a well-formed ballot: a pair of non-negative ints (not bools)."""
    return (type(b) is tuple and len(b) == 2 and all(type(x) is int and x >= 0 for x in b))


def _valid_value(v: Any) -> bool:
    try:
        hash(v)
    except TypeError:
        return False
    return v is not None


def _well_formed(msg: Any, acceptors: frozenset[str]) -> bool:
    t = type(msg)
    if t is Prepare:
        return valid_ballot(msg.ballot)
    if t is Accept:
        return valid_ballot(msg.ballot) and _valid_value(msg.value)
    if t is Nack:
        return valid_ballot(msg.ballot) and valid_ballot(msg.promised)
    if t is Accepted:
        return (valid_ballot(msg.ballot) and msg.acceptor in acceptors
                and _valid_value(msg.value))
    if t is Promise:
        if not (valid_ballot(msg.ballot) and msg.acceptor in acceptors):
            return False
        if msg.voted_ballot is None:
            return msg.voted_value is None
        return valid_ballot(msg.voted_ballot) and _valid_value(msg.voted_value)
    return False


def majority(n: int) -> int:
    """The size of a majority quorum of ``n`` acceptors."""
    return n // 2 + 1


def _acceptor_set(acceptors: Sequence[str], quorum: int | None) -> tuple[tuple[str, ...], int]:
    accs = tuple(acceptors)
    if not accs or len(set(accs)) != len(accs):
        raise ValueError("acceptors must be a non-empty list of distinct ids")
    q = majority(len(accs)) if quorum is None else quorum
    if not 1 <= q <= len(accs):
        raise ValueError(f"quorum {q} out of range 1..{len(accs)}")
    return accs, q


# -- proposer ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ProposerState:
    """Durable: ``(round, incarnation)``. Volatile: the rest.

    ``round`` is the last round used (or, in ``idle`` after a Nack, the highest promised round
    seen, so the next ballot beats it); the current ballot is ``(round, pid)`` while
    ``preparing``/``accepting``. ``promises`` and ``best`` (highest ``(ballot, value)`` vote
    reported) are kept only while preparing, ``value`` and ``accepts`` only while accepting.
    """

    round: int
    incarnation: int
    phase: str
    promises: frozenset = frozenset()
    best: tuple | None = None
    value: Hashable | None = None
    accepts: frozenset = frozenset()
    ignored: int = 0


class Proposer:
    """The proposer role. ``pid`` >= 1 numbers the proposer (ballots ``(round, pid)``);
    ``values`` are the values of its successive incarnations (a single value is fine)."""

    role = "proposer"

    def __init__(self, pid: int, values: Hashable | Sequence[Hashable],
                 acceptors: Sequence[str], *, quorum: int | None = None,
                 timeout: float = 10.0, backoff: float = 2.0, max_timeout: float | None = None,
                 jitter: float = 0.5, max_rounds: int = 0) -> None:
        if type(pid) is not int or pid < 1:
            raise ValueError("pid must be an int >= 1")
        if timeout <= 0 or backoff < 1 or jitter < 0 or max_rounds < 0:
            raise ValueError("need timeout > 0, backoff >= 1, jitter >= 0, max_rounds >= 0")
        self.pid = pid
        self.values = tuple(values) if isinstance(values, (list, tuple)) else (values,)
        if not self.values or not all(_valid_value(v) for v in self.values):
            raise ValueError("a proposer needs at least one hashable, non-None value")
        self.acceptors, self.quorum = _acceptor_set(acceptors, quorum)
        self._acc_set = frozenset(self.acceptors)
        self.timeout, self.backoff, self.jitter = float(timeout), float(backoff), float(jitter)
        self.max_timeout = float(max_timeout) if max_timeout is not None else 16 * self.timeout
        self.max_rounds = max_rounds

    # -- helpers
    def ballot(self, round_: int) -> Ballot:
        """This proposer's ballot in ``round_``."""
        return (round_, self.pid)

    def own_value(self, incarnation: int) -> Hashable:
        return self.values[incarnation % len(self.values)]

    def delay(self, round_: int) -> float:
        """The retry timer for ``round_``: capped exponential backoff plus a deterministic
        jitter in ``[0, jitter)`` of it, derived from ``(pid, round)``."""
        base = min(self.timeout * self.backoff ** min(max(round_ - 1, 0), 64), self.max_timeout)
        j = ((self.pid * 2654435761 + round_ * 40503) % 1009) / 1009
        return base * (1 + self.jitter * j)

    def nack_delay(self, round_: int) -> float:
        """The pause after a Nack before the next ballot: half the retry delay of the round
        that pre-empted us (jittered per proposer, so duelling proposers drift apart)."""
        return self.delay(round_) / 2

    def _durable(self, s: ProposerState) -> Hashable:
        """What the proposer persists: its round (so no ballot is reused) and incarnation."""
        return (s.round, s.incarnation)

    def _resume(self, durable: Hashable | None) -> tuple[int, int]:
        """``(round, incarnation)`` to start from: one incarnation past the persisted one."""
        if (type(durable) is tuple and len(durable) == 2
                and all(type(x) is int and x >= 0 for x in durable)):
            return durable[0], durable[1] + 1
        return 0, 0

    def _choose_value(self, s: ProposerState, best: tuple | None) -> Hashable:
        """Phase 2's value: that of the highest-ballot vote the promises report, else ours."""
        return best[1] if best is not None else self.own_value(s.incarnation)

    def _for_current_ballot(self, s: ProposerState, msg: Any) -> bool:
        """Whether a reply is about the ballot this proposer is running now."""
        return s.phase in (PREPARING, ACCEPTING) and msg.ballot == self.ballot(s.round)

    def _new_ballot(self, s: ProposerState, trigger: str) -> Handled:
        r = s.round + 1
        if self.max_rounds and r > self.max_rounds:
            gave_up = ProposerState(s.round, s.incarnation, _goto(s.phase, "rounds exhausted"),
                                    ignored=s.ignored)
            return gave_up, [CancelTimer(RETRY)]
        t = ProposerState(r, s.incarnation, _goto(s.phase, trigger), ignored=s.ignored)
        b = self.ballot(r)
        effects: list[Effect] = [Persist(self._durable(t))]
        effects += [Send(a, Prepare(b)) for a in self.acceptors]
        effects.append(SetTimer(RETRY, self.delay(r)))
        return t, effects

    # -- handlers
    def on_start(self, node: str, durable: Hashable | None, now: float) -> Handled:
        """Start a ballot one round above the durable round (restart: a new incarnation)."""
        round_, inc = self._resume(durable)
        return self._new_ballot(ProposerState(round_, inc, IDLE), "start")

    def on_timer(self, node: str, state: ProposerState, name: str, now: float) -> Handled:
        if name != RETRY:
            return _count(state), []
        if state.phase == DECIDED:
            return state, []
        return self._new_ballot(state, "retry timer")

    def on_message(self, node: str, state: ProposerState, src: str, msg: Any,
                   now: float) -> Handled:
        s = state
        if not _well_formed(msg, self._acc_set) or type(msg) not in (Promise, Accepted, Nack):
            return _count(s), []
        if not self._for_current_ballot(s, msg):
            return s, []  # stale or after the end: ignore without counting
        if type(msg) is Nack:
            if msg.promised <= msg.ballot:
                return s, []
            t = ProposerState(max(s.round, msg.promised[0]), s.incarnation, _goto(s.phase, "nack"),
                              ignored=s.ignored)
            return t, [SetTimer(RETRY, self.nack_delay(t.round))]
        if type(msg) is Promise and s.phase == PREPARING:
            best = s.best
            if msg.voted_ballot is not None and (best is None or msg.voted_ballot > best[0]):
                best = (msg.voted_ballot, msg.voted_value)
            promises = s.promises | {msg.acceptor}
            if len(promises) < self.quorum:
                return ProposerState(s.round, s.incarnation, s.phase, promises, best,
                                     ignored=s.ignored), []
            value = self._choose_value(s, best)
            t = ProposerState(s.round, s.incarnation, _goto(s.phase, "quorum of promises"),
                              value=value, ignored=s.ignored)
            b = self.ballot(s.round)
            effects: list[Effect] = [Send(a, Accept(b, value)) for a in self.acceptors]
            effects.append(SetTimer(RETRY, self.delay(s.round)))
            return t, effects
        if type(msg) is Accepted and s.phase == ACCEPTING and msg.value == s.value:
            accepts = s.accepts | {msg.acceptor}
            if len(accepts) < self.quorum:
                return ProposerState(s.round, s.incarnation, s.phase, value=s.value,
                                     accepts=accepts, ignored=s.ignored), []
            t = ProposerState(s.round, s.incarnation, _goto(s.phase, "quorum accepted"),
                              value=s.value, ignored=s.ignored)
            return t, [CancelTimer(RETRY)]
        return s, []


def _count(s: Any) -> Any:
    """``s`` with its ``ignored`` counter raised by one."""
    return replace(s, ignored=s.ignored + 1)


# -- acceptor ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AcceptorState:
    """Durable: ``(promised, vote)``, where ``vote`` is ``(ballot, value)`` or ``None``.
    Volatile: ``ignored``."""

    promised: Ballot | None = None
    vote: tuple | None = None
    ignored: int = 0


class Acceptor:
    """The acceptor role; ``learners`` get a copy of every ``Accepted``."""

    role = "acceptor"

    def __init__(self, learners: Sequence[str] = (), *, acceptors: Sequence[str] = ()) -> None:
        self.learners = tuple(learners)
        # Acceptors need not know their peers; accepted for a uniform constructor call.
        self.acceptors = tuple(acceptors)

    def _persist(self, s: AcceptorState) -> list[Effect]:
        """The durable write of ``s``: its promise and vote."""
        return [Persist((s.promised, s.vote))]

    def _accepts(self, s: AcceptorState, b: Ballot) -> bool:
        """Whether an ``Accept`` in ballot ``b`` may be voted for: not below the promise."""
        return s.promised is None or b >= s.promised

    def on_start(self, node: str, durable: Hashable | None, now: float) -> Handled:
        """Rebuild from the persisted ``(promised, vote)`` (anything else: a fresh acceptor)."""
        if type(durable) is tuple and len(durable) == 2:
            promised, vote = durable
            ok_p = promised is None or valid_ballot(promised)
            ok_v = vote is None or (type(vote) is tuple and len(vote) == 2
                                    and valid_ballot(vote[0]) and _valid_value(vote[1]))
            if ok_p and ok_v:
                return AcceptorState(promised, vote), []
        return AcceptorState(), []

    def on_timer(self, node: str, state: AcceptorState, name: str, now: float) -> Handled:
        return _count(state), []

    def on_message(self, node: str, state: AcceptorState, src: str, msg: Any,
                   now: float) -> Handled:
        s = state
        if type(msg) not in (Prepare, Accept) or not _well_formed(msg, frozenset()):
            return _count(s), []
        b = msg.ballot
        if type(msg) is Prepare:
            if s.promised is None or b > s.promised:
                t = AcceptorState(b, s.vote, s.ignored)
                return t, self._persist(t) + [Send(src, self._promise(node, t, b))]
            if b == s.promised and (s.vote is None or s.vote[0] < b):
                return s, [Send(src, self._promise(node, s, b))]  # retransmission
            if b < s.promised:
                return s, [Send(src, Nack(b, s.promised))]
            return s, []
        # Accept
        # (_accepts refuses only an Accept below a promise: s.promised is set in the Nack.)
        if not self._accepts(s, b):
            return s, [Send(src, Nack(b, s.promised))]  # type: ignore[arg-type]
        reply = Accepted(b, node, msg.value)
        sends: list[Effect] = [Send(src, reply)]
        sends += [Send(l, reply) for l in self.learners if l != src]
        if s.vote == (b, msg.value):
            return s, sends  # a duplicate: nothing new to persist
        promised = b if s.promised is None or b > s.promised else s.promised
        t = AcceptorState(promised, (b, msg.value), s.ignored)
        return t, self._persist(t) + sends

    @staticmethod
    def _promise(node: str, s: AcceptorState, b: Ballot) -> Promise:
        if s.vote is None:
            return Promise(b, node, None, None)
        return Promise(b, node, s.vote[0], s.vote[1])


# -- learner ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LearnerState:
    """Durable: the decided value (``None`` until then). Volatile: ``votes``, a frozenset of
    ``(ballot, value, acceptor)`` (emptied once decided), and ``ignored``."""

    votes: frozenset = frozenset()
    decided: Hashable | None = None
    ignored: int = 0


class Learner:
    """The learner role: decides once a quorum of ``acceptors`` accepted one value in one
    ballot."""

    role = "learner"

    def __init__(self, acceptors: Sequence[str], *, quorum: int | None = None) -> None:
        self.acceptors, self.quorum = _acceptor_set(acceptors, quorum)
        self._acc_set = frozenset(self.acceptors)

    @staticmethod
    def _supporters(votes: frozenset, msg: Accepted) -> set:
        """The acceptors whose votes count toward deciding ``msg``'s value: those that
        accepted that value in that same ballot."""
        return {a for (b, v, a) in votes if b == msg.ballot and v == msg.value}

    def on_start(self, node: str, durable: Hashable | None, now: float) -> Handled:
        """A learner that decided before a crash stays decided (and does not output again)."""
        if durable is not None and _valid_value(durable):
            return LearnerState(decided=durable), []
        return LearnerState(), []

    def on_timer(self, node: str, state: LearnerState, name: str, now: float) -> Handled:
        return _count(state), []

    def on_message(self, node: str, state: LearnerState, src: str, msg: Any,
                   now: float) -> Handled:
        s = state
        if type(msg) is not Accepted or not _well_formed(msg, self._acc_set):
            return _count(s), []
        if s.decided is not None:
            return s, []
        entry = (msg.ballot, msg.value, msg.acceptor)
        if entry in s.votes:
            return s, []
        votes = s.votes | {entry}
        same = self._supporters(votes, msg)
        if len(same) < self.quorum:
            return LearnerState(votes, None, s.ignored), []
        t = LearnerState(frozenset(), msg.value, s.ignored)
        return t, [Persist(msg.value), Output(("decided", msg.value))]


# -- a cluster --------------------------------------------------------------------------------

def make_cluster(acceptors: int, proposers: int, learners: int = 1, values: Any = None,
                 timeout: float = 10.0,
                 backoff: float = 2.0, max_rounds: int = 0, *, jitter: float = 0.5,
                 max_timeout: float | None = None,
                 ) -> dict[str, tuple[Any, str]]:
    """Node id -> ``(actor, role)`` for ``a1..aN``, ``p1..pM``, ``l1..lK``, in that order.

    ``values``: ``None`` (proposer ``pi`` proposes ``"vi"``), or a list with one entry per
    proposer, each a value or a tuple of values for its successive incarnations.
    Seeded variants are applied to the result by ``paxchain.impl.paxos_variants.PAXOS.apply``.
    """
    if acceptors < 1 or proposers < 0 or learners < 0:
        raise ValueError("need at least one acceptor and non-negative proposers and learners")
    accs = [f"a{i}" for i in range(1, acceptors + 1)]
    lrns = [f"l{i}" for i in range(1, learners + 1)]
    if values is None:
        values = [f"v{i}" for i in range(1, proposers + 1)]
    values = list(values)
    if len(values) != proposers:
        raise ValueError(f"values has {len(values)} entries for {proposers} proposers")
    nodes: dict[str, tuple[Any, str]] = {}
    for a in accs:
        nodes[a] = (Acceptor(lrns, acceptors=accs), "acceptor")
    for i in range(1, proposers + 1):
        nodes[f"p{i}"] = (Proposer(i, values[i - 1], accs, timeout=timeout, backoff=backoff,
                                   max_timeout=max_timeout, jitter=jitter,
                                   max_rounds=max_rounds), "proposer")
    for l in lrns:
        nodes[l] = (Learner(accs), "learner")
    return nodes
