"""Paxos with unbounded rounds, made finite by renaming ballots: ``paxos-system -p max_rounds=0``.

Why. With ``max_rounds`` rounds a proposer eventually gives up, so two proposers that pre-empt
each other stop after a few ballots: in the bounded model the duel is no infinite run, and the
liveness engine cannot show it as a loop. With unbounded rounds (``impl/paxos.py``'s
``max_rounds=0``) every ballot is new, the states never repeat and the graph is infinite. This
model makes it finite again by keeping, of the round numbers, only what the handlers can tell
apart, so that a duel that advances every round by one returns to the *same* state.

Theory of operation. A ballot is ``(round, pid)``; the *counters* are the proposers' rounds
(``ProposerState.round`` and the persisted ``(round, incarnation)``), and the *floor* ``F`` is
the least of them. Every successor the actor system computes is replaced by its canonical
form, in which every round ``r`` — in ballots of node states, persisted values and messages,
and in the counters — is renamed:

- a round below ``F`` (*lagging*: an old promise, a vote, a stale message) becomes its rank
  among the lagging rounds, ``1..k`` — only their order is kept;
- a round at or above ``F`` becomes ``r - F + k + 1`` — its distance to the floor is kept.

Why this is a bisimulation, given its premise. Let ``σ`` be any renaming of this class:
strictly increasing on rounds, and a translation at and above the floor (the canonical map is
one, and so is the composite of one and the inverse of another). *Premise*: every handler is
equivariant under such ``σ`` — given ``σ`` of its state and message it reacts with ``σ`` of
its reaction, ``σ`` extended to new rounds by the translation. Then (1) a step from ``σ(x)``
is ``σ`` of a step from ``x``; (2) the floor never decreases along a step (a proposer's round
only grows — ``r + 1`` or ``max`` with a promised round — and a restart resumes the persisted
round, itself a counter), so ``σ`` is still order-preserving, and a translation above the new
floor, on the successor; (3) the canonical form of a state depends only on the order of its
lagging rounds and the distances above its floor, which ``σ`` keeps. So states with one
canonical form have the same canonical successors, step for step (with the same node, action
and fault: the step's *signature*), and the quotient is a bisimulation. Every property checked
here reads only outputs, decided values and phases — no ballot — so each has one value on a
class (``properties`` leaves out the history, ``promise_monotonic``, which compares ballots
across a step, and ``quorum_suffices``, which reads ballot indices).

The premise is checked, not assumed (issue 10's rule: a reduction is justified by the code
under check, never by knowledge of the protocol). For every state the search expands, the
model also expands a *witness* — the same state renamed by a ``σ`` that moves every round,
spreads the lagging ones apart and translates the rest by another amount — and requires the
two sets of ``(signature, canonical successor)`` to be equal. A handler that reads a round's
absolute value, does arithmetic on a lagging round or keeps a ballot where the renaming does
not look breaks it at the first state where that shows; the search then stops with a one-line
error (exit 2): there is no unreduced search to fall back to, the space being infinite. The
check is a test on the states met, with one witness each: a handler that singles out round
values neither the canonical state nor its witness holds would pass it.

Fairness. A quotient step can rename a message still in flight, so a key naming a message
(``fair_delivery``'s) does not follow that message through the quotient: a loop could be
judged fair while one message stays undelivered under changing names, or unfair while every
message is delivered. This model therefore assumes ``fair_links`` (weak fairness of each link
``(src, dst)``; ``paxchain.models.actor_fairness``), whose keys no renaming changes, so a run of
the system and its image in the quotient meet the same obligations. It is weaker than
``fair_delivery`` on the budgeted network: a *holds* here also holds under fair delivery; a
lasso found here is fair to every link, and ``message_fair_loop`` checks whether it is fair to
every message too (following each one through the renamings of its loop).

Dead-message burial (``bury``) is off here: its premise is checked along each node's steps
from entry to entry, and a renamed successor is an entry no handler call stepped into.

Symmetry (``--symmetry``, safety searches only) permutes acceptors: it moves their entries and
renames their ids but changes no round and moves no proposer counter, so a state and its image
have the same rounds and floor, ``canonical`` and the witness commute with every permutation,
and a permutation the actor system checks equivariant is an automorphism of the quotient too
(``tests/test_quotient_symmetry.py`` argues it and compares depth-bounded searches with
symmetry on and off).

Bounds: the budgeted network only (on the duplicating one every stale message stays in
flight for ever and the states never repeat), no history (Lamport's encoding numbers a finite
set of ballots). The graph is finite when the proposers' rounds stay within a bounded distance
of each other and the network stays bounded — true under a timing assumption that makes a
proposer wait for its own round trip (``timely=own`` or ``timely=1``); without one
(``timely=0``) a proposer may start ballot after ballot with its Prepares still in flight, the
network grows without bound, and the search ends at a limit, incomplete. Timing assumptions
prune only the liveness graph: the safety search takes every step, timers at any moment, so a
safety check here never ends without a limit (``--max-depth``, ``--time-limit``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable
from typing import Any

from paxchain.impl import paxos as px
from paxchain.models.actor_fairness import actor_fairness
from paxchain.models.actor_system import from_plain, to_plain
from paxchain.models.fairness import Assumption, step_keys, split
from paxchain.models.model import Label, Reduction
from paxchain.models.paxos_system import PaxosSystem
from paxchain.models.values import Record

__all__ = ["BallotQuotient", "BALLOTS", "canonical_map", "message_fair_loop",
           "never_delivered"]

BALLOTS = "ballots"  # the reduction's name in reports
Rename = Callable[[int], int]


def canonical_map(rounds: set[int], floor: int) -> dict[int, int]:
    """The canonical renaming of ``rounds`` with floor ``floor`` (module docstring)."""
    lagging = sorted(r for r in rounds if r < floor)
    k = len(lagging)
    out = {r: i + 1 for i, r in enumerate(lagging)}
    out.update({r: r - floor + k + 1 for r in rounds if r >= floor})
    return out


def _witness_map(rounds: set[int], floor: int) -> dict[int, int]:
    """Another renaming of the class: lagging rounds spread three apart, the rest translated."""
    lagging = sorted(r for r in rounds if r < floor)
    k = len(lagging)
    out = {r: 3 * (i + 1) for i, r in enumerate(lagging)}
    out.update({r: r - floor + 3 * k + 7 for r in rounds if r >= floor})
    return out


def _ballot(b: Any, f: Rename) -> Any:
    return (f(b[0]), b[1]) if px.valid_ballot(b) else b


def _pair(p: Any, f: Rename) -> Any:
    """A ``(ballot, value)`` vote, or None."""
    return (_ballot(p[0], f),) + tuple(p[1:]) if type(p) is tuple and p else p


def _rename_value(v: Any, f: Rename) -> Any:
    """Every round in a node state, persisted value or message of ``impl/paxos.py``."""
    t = type(v)
    if t in (px.Prepare, px.Accept, px.Accepted):
        return dataclasses.replace(v, ballot=_ballot(v.ballot, f))
    if t is px.Promise:
        return dataclasses.replace(v, ballot=_ballot(v.ballot, f),
                                   voted_ballot=_ballot(v.voted_ballot, f))
    if t is px.Nack:
        return px.Nack(_ballot(v.ballot, f), _ballot(v.promised, f))
    if t is px.ProposerState:
        return dataclasses.replace(v, round=f(v.round), best=_pair(v.best, f))
    if t is px.AcceptorState:
        return dataclasses.replace(v, promised=_ballot(v.promised, f), vote=_pair(v.vote, f))
    if t is px.LearnerState:
        return dataclasses.replace(v, votes=frozenset(_pair(x, f) for x in v.votes))
    return v


class BallotQuotient(PaxosSystem):
    """``PaxosSystem`` with unbounded rounds, every state in its canonical form (module
    docstring). Built by ``paxos-system`` for ``max_rounds=0``."""

    liveness_exact = (BALLOTS,)  # a bisimulation: the liveness engine keeps it on

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.get("max_rounds", 0) != 0:
            raise ValueError("BallotQuotient is the model of unbounded rounds (max_rounds=0)")
        if kwargs.get("network", "duplicating") != "budgeted":
            raise ValueError("max_rounds=0 (unbounded rounds) needs network=budgeted: on the "
                             "duplicating network every stale message stays in flight for "
                             "ever and the states never repeat")
        # No burial: its premise is checked along each node's steps from entry to entry, and
        # a renamed successor is an entry no handler call stepped into.
        super().__init__(**{**kwargs, "max_rounds": 0, "history": False, "bury": False})
        self.off.setdefault("bury", "the ballot renaming hides a node's steps from its "
                                    "premise check")
        self._canon: dict[tuple, tuple] = {}
        self._checked: set[tuple] = set()
        self._kinds = {x: r for r, xs in (("proposer", self.proposer_ids),
                                          ("acceptor", self.acceptor_ids),
                                          ("learner", self.learner_ids)) for x in xs}

    # -- the renaming ----------------------------------------------------------------------
    def _durable(self, node: str, d: Any, f: Rename) -> Any:
        kind = self._kinds.get(node)
        if kind == "proposer" and type(d) is tuple and len(d) == 2 and type(d[0]) is int:
            return (f(d[0]), d[1])
        if kind == "acceptor" and type(d) is tuple and len(d) == 2:
            return (_ballot(d[0], f), _pair(d[1], f))
        return d

    def _floor_and_rounds(self, s: tuple) -> tuple[int, set[int]]:
        """The floor of ``s`` and every round in it (read where ``_renamed`` renames)."""
        rounds: set[int] = set()

        def seen(r: int) -> int:
            rounds.add(r)
            return r

        nodes = self.nodes(s)
        for x, node in nodes.items():
            self._durable(x, node.durable, seen)
            _rename_value(node.state, seen)
        for _, _, msg in self.network(s):
            _rename_value(msg, seen)
        counters = []
        for x in self.proposer_ids:
            node = nodes[x]
            if node.up and type(node.state) is px.ProposerState:
                counters.append(node.state.round)
            d = node.durable
            if type(d) is tuple and len(d) == 2 and type(d[0]) is int:
                counters.append(d[0])
        return (min(counters) if counters else 0), rounds

    def _renamed(self, s: tuple, f: Rename) -> tuple:
        """``s`` with every round ``r`` replaced by ``f(r)``."""
        nodes = self.nodes(s)
        drops, dups, crashes = self.remaining(s)
        counts: dict[Record, int] = {}
        for src, dst, msg in self.network(s):
            rec = Record("envelope", (("src", src), ("dst", dst),
                                      ("msg", to_plain(_rename_value(msg, f)))))
            counts[rec] = counts.get(rec, 0) + 1
        return self.from_vars({
            "up": {x: n.up for x, n in nodes.items()},
            "durable": {x: to_plain(self._durable(x, n.durable, f)) for x, n in nodes.items()},
            "state": {x: to_plain(_rename_value(n.state, f)) for x, n in nodes.items()},
            "timers": {x: frozenset(n.timers) for x, n in nodes.items()},
            "network": counts,
            "budgets": {"drops": drops, "duplicates": dups, "crashes": crashes},
            "history": self.show_history(self.history(s)),
            "outputs": frozenset((x, to_plain(v)) for x, v in self.outputs(s))})

    def canonical(self, s: tuple) -> tuple:
        """The canonical form of ``s`` (module docstring)."""
        c = self._canon.get(s)
        if c is None:
            floor, rounds = self._floor_and_rounds(s)
            m = canonical_map(rounds, floor)
            if all(k == v for k, v in m.items()):
                c = s  # already canonical: most steps move no round
            else:
                c = self._renamed(s, m.__getitem__)
            self._canon[s] = c
            self._canon.setdefault(c, c)
        return c

    def _witness(self, c: tuple) -> tuple:
        floor, rounds = self._floor_and_rounds(c)
        return self._renamed(c, _witness_map(rounds, floor).__getitem__)

    # -- the transition system ---------------------------------------------------------------
    def initial_states(self) -> list[tuple]:
        return [self.canonical(s) for s in super().initial_states()]

    def _canonical_steps(self, s: tuple) -> list[tuple[Label, tuple]]:
        return [(label, self.canonical(t)) for label, t in super().successors(s)]

    def successors(self, state: tuple) -> list[tuple[Label, tuple]]:
        out = self._canonical_steps(state)
        if state not in self._checked:
            self._check(state, out)
        return out

    def next_states(self, state: tuple) -> list[tuple]:
        return [t for _, t in self.successors(state)]

    def next_states_by_action(self, state: tuple) -> list[tuple[str, tuple]]:
        self.successors(state)  # the premise, checked once per state
        return [(a, self.canonical(t)) for a, t in super().next_states_by_action(state)]

    def _check(self, c: tuple, steps: list[tuple[Label, tuple]]) -> None:
        """The premise at ``c``: its witness has the same canonical steps (module docstring).
        ``c`` counts as checked only once it passed, so a failure is raised at every visit."""
        if self.canonical(c) != c:
            self._checked.add(c)
            return  # not a state of the quotient (a caller's own state): nothing to compare
        w = self._witness(c)
        if self.canonical(w) != c:
            raise ValueError(self._unsound(c, "the renamed state has another canonical form"))
        mine = {(_signature(label), t) for label, t in steps}
        theirs = {(_signature(label), t) for label, t in self._canonical_steps(w)}
        if mine != theirs:
            diff = sorted(mine ^ theirs, key=repr)[0]
            side = "the state" if diff in mine else "its renamed copy"
            raise ValueError(self._unsound(
                c, f"only {side} has step {_show_signature(diff[0])} to "
                   f"{self._show_nodes(diff[1])}"))
        self._checked.add(c)

    def _show_nodes(self, s: tuple) -> str:
        return "; ".join(f"{x}: {v}" for x, v in self.to_vars(s)["state"].items())

    def _unsound(self, c: tuple, why: str) -> str:
        return (f"paxos-system max_rounds=0 cannot check this code: the ballot renaming's "
                f"premise fails (a handler tells renamed rounds apart) at "
                f"{self._show_nodes(c)}: {why}")

    # -- what the engines and reports read ------------------------------------------------------
    def reductions(self) -> tuple[Reduction, ...]:
        return super().reductions() + (Reduction(BALLOTS, True, ""),)

    def without_reduction(self, name: str, why: str) -> BallotQuotient:
        if name == BALLOTS:
            raise ValueError("paxos-system max_rounds=0: the ballot renaming cannot be switched "
                             "off (without it the rounds are unbounded and so is the space)")
        return super().without_reduction(name, why)  # type: ignore[return-value]

    def lasso_note(self, steps: list[tuple[Label | None, tuple]], loop: int) -> str:
        """What the liveness engine adds to a lasso's explanation: whether its loop, fair to
        every link, is fair to every message too (``message_fair_loop``)."""
        why = message_fair_loop(self, steps, loop)
        if why is None:
            return ("; it is fair to every message too: each one in flight on the loop is "
                    "delivered on it (followed through the renamings of its rounds)")
        return f"; it is fair to every link but not to every message: {why}"

    def fairness(self) -> tuple[Assumption, ...]:
        """``fair_links`` instead of ``fair_delivery`` (module docstring), timers, restarts,
        and the timing assumption ``timely`` names."""
        return actor_fairness(self, self.timely, delivery="link")


def _signature(label: Label) -> Hashable:
    """What a step is without its message: action, node or link, fault (the fairness keys)."""
    return (label.action, tuple((k, v) for k, v in label.args if k != "msg"), label.events)


def _show_signature(sig: Any) -> str:
    action, args, events = sig
    return f"{action}({', '.join(f'{k}={v}' for k, v in args)})"


def message_fair_loop(model: BallotQuotient, steps: list[tuple[Label | None, tuple]],
                      loop: int) -> str | None:
    """Whether the lasso ``steps`` (``(label, state)`` pairs, the first label None) that
    returns to state ``loop`` is fair to every *message*, not only to every link: None when it
    is, else why not.

    Each envelope in flight at the loop's start is followed through one pass — a delivery or
    drop of an identical envelope ends it (identical copies are one obligation, as
    ``fair_delivery`` has it), a canonical renaming renames it — to its name at the pass's
    end, which is a state of the same canonical form, so that name is again an envelope of the
    loop's start. An envelope whose name comes back to itself after some passes, never
    delivered, stays in flight for ever: the run is unfair to it."""
    fair, _ = split(actor_fairness(model, model.timely, delivery="message"), model.name)
    start = steps[loop][1]
    names = {e: e for e in set(_plain_network(model, start))}  # tracked: name at start -> now
    for i in range(loop + 1, len(steps)):
        label, t = steps[i]
        before = steps[i - 1][1]
        taken = {k for _, k in step_keys(fair, label)} if label is not None else set()
        up = {x for x, node in model.nodes(before).items() if node.up}
        names = {e: n for e, n in names.items() if n not in taken and n[1] in up}
        concrete = _concrete_successor(model, before, label, t)
        if concrete is None:
            return f"step {i} cannot be followed through the renaming"
        mapping = _round_map(model, concrete)
        names = {e: _rename_envelope(model, n, mapping) for e, n in names.items()}
    # ``names`` maps an envelope at the start to its name at the end (in the start's terms).
    forever = never_delivered(names)
    if forever is not None:
        return (f"the envelope {forever} stays in flight through every pass of the loop and is "
                "never delivered")
    return None


def never_delivered(passes: dict[Any, Any]) -> Any:
    """An envelope that stays in flight for ever when each pass of a loop takes the envelope
    named ``e`` at its start to the name ``passes[e]`` at its end (an envelope delivered in the
    pass is not a key), or None: one whose names, pass after pass, come back to a name already
    seen without leaving the keys."""
    for e in passes:
        seen = {e}
        cur = e
        while cur in passes:
            cur = passes[cur]
            if cur in seen:
                return cur
            seen.add(cur)
    return None


def _plain_network(model: BallotQuotient, s: tuple) -> list[Hashable]:
    return [(src, dst, to_plain(msg)) for src, dst, msg in model.network(s)]


def _concrete_successor(model: BallotQuotient, s: tuple, label: Label | None, t: tuple
                        ) -> tuple | None:
    for lb, u in PaxosSystem.successors(model, s):
        if lb == label and model.canonical(u) == t:
            return u
    return None


def _round_map(model: BallotQuotient, concrete: tuple) -> dict[int, int]:
    floor, rounds = model._floor_and_rounds(concrete)
    return canonical_map(rounds, floor)


def _rename_envelope(model: BallotQuotient, env: Any, mapping: dict[int, int]) -> Any:
    src, dst, rec = env
    msg = _rename_value(from_plain(rec, model.types), mapping.__getitem__)
    return (src, dst, to_plain(msg))
