"""Lamport's single-decree Paxos over uninterpreted sorts, with its inductive invariant for Z3.

The model is ``../shared/specs/lamport-paxos.md`` transcribed into first-order logic, for *any*
number of acceptors, ballots and values; ``paxchain.models.lamport_paxos`` is the same spec on a finite
instance, and ``evaluate`` below evaluates these very formulas on its states (the cross-check).

Vocabulary
    Sorts ``Acceptor``, ``Ballot``, ``Value``, ``Quorum``. Rigid: ``le(b, c)`` a total order on
    ballots (axioms: reflexive, antisymmetric, transitive, total); ``none`` its least element,
    standing for the spec's ``-1``; ``nil`` a distinguished value standing for ``None``;
    ``member(a, q)`` with the intersection axiom (any two quorums share an acceptor).
    State: ``maxBal, maxVBal : Acceptor → Ballot``, ``maxVal : Acceptor → Value`` and the
    message relations ``sent1a(b)``, ``sent1b(a, b, mbal, mval)``, ``sent2a(b, v)``,
    ``sent2b(a, b, v)``. "No vote" is ``maxVBal = none ∧ maxVal = nil``, and a 1b message
    reporting no vote is ``sent1b(a, b, none, nil)``. Real messages carry ballots ≠ none and
    values ≠ nil (action guards; the conjunct ``type_ok``).

Actions (parameters become Skolem constants; each update is a frame condition on every symbol)
    ``Phase1a(b)``, ``Phase1b(a, b)``, ``Phase2a(b, v, q)`` (q: the quorum of 1b senders),
    ``Phase2b(a, b, v)`` exactly as in the spec. ``VARIANTS`` change one rule each, as the
    seeded bugs of ``paxchain.models.lamport_paxos`` do.

Decidability. The formulas are in the EPR fragment except in three places, all deliberate:
``maxBal``, ``maxVBal`` and ``maxVal`` are functions from ``Acceptor`` (they are functions in the
spec; relations with a totality axiom would add the same ∀∃ edge); ``safe_at`` has ∀ballot∃quorum
and the intersection axiom ∀quorum∃acceptor; and Phase2a's guard "every member of q sent some 1b
for b" is ∀acceptor∃ballot,value in the hypothesis of a consecution obligation. Together these
close the cycle Ballot → Quorum → Acceptor → Ballot in the quantifier-alternation graph, so the
Herbrand universe is infinite and decidability is not guaranteed: Z3 may answer *unknown*, which
``paxchain.checker.induction`` reports as unproven (exit 3), never as proved. In practice, with the
``uses`` hints below keeping vote_bookkeeping (whose ∀a over maxVBal(a), maxVal(a) sets Z3's
E-matching looping) out of the msg_2a and safety obligations, every obligation is answered in
well under a second; counterexamples are found by finite model finding (universes of 2 and 3
elements per sort) when the unbounded query is inconclusive.

The invariant (``INVARIANT``) is minimal: dropping any conjunct makes some obligation fail
(``tests/test_paxos_z3.py``). ``SAFETY`` lists the properties it implies: agreement, and
Voting's one_vote and votes_safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable, Sequence
from typing import Any

import z3

from paxchain.specs.z3_vocabulary import (Action, Conjunct, Structure, Symbol, TransitionSystem, Vocab,
                               compile_formula)

__all__ = ["INVARIANT", "SAFETY", "VARIANTS", "system", "structure_of", "evaluate", "conjunct_names"]

Acceptor = z3.DeclareSort("Acceptor")
Ballot = z3.DeclareSort("Ballot")
Value = z3.DeclareSort("Value")
Quorum = z3.DeclareSort("Quorum")
B = z3.BoolSort()

RIGID = (Symbol("le", (Ballot, Ballot), B), Symbol("member", (Acceptor, Quorum), B),
         Symbol("none", (), Ballot), Symbol("nil", (), Value))
STATE = (Symbol("maxBal", (Acceptor,), Ballot), Symbol("maxVBal", (Acceptor,), Ballot),
         Symbol("maxVal", (Acceptor,), Value), Symbol("sent1a", (Ballot,), B),
         Symbol("sent1b", (Acceptor, Ballot, Ballot, Value), B),
         Symbol("sent2a", (Ballot, Value), B), Symbol("sent2b", (Acceptor, Ballot, Value), B))

SOLVER_OPTIONS: dict = {}

VARIANTS = {
    "ignore_votes": "Phase2a ignores the votes reported in 1b messages.",
    "small_quorums": "No quorum intersection axiom (quorums need not intersect).",
    "phase2b_ignores_promise": "Phase2b votes even when b < maxBal[a], and sets maxBal to b.",
    "duplicate_2a": "Phase2a may send a second 2a for a ballot that already has one.",
    "promise_off_by_one": "Phase1b records the promise as the successor of b.",
    "strict_phase2b": "Phase2b needs b > maxBal[a].",
}



@dataclass(frozen=True)
class Rules:
    """The rules a seeded bug may change (the defaults are the spec's), picked once per system
    so that no action asks which variant it runs."""

    # Phase1b records the promise as the successor of b (a ``succ`` parameter) instead of b.
    promise_successor: bool = False
    # Phase2a may send a second 2a for a ballot that already has one (for another value).
    repeat_2a: bool = False
    # Phase2a ignores the votes reported in 1b messages.
    ignore_votes: bool = False
    # Phase2b(a, b, v) is enabled when ``may_vote(V, maxBal[a], b)``.
    may_vote: Callable[[Vocab, z3.ExprRef, z3.ExprRef], z3.BoolRef] = \
        lambda V, max_bal, b: V.le(max_bal, b)
    # Quorums intersect (the axiom); a variant may drop it.
    intersection: bool = True


RULES: dict[str | None, Rules] = {
    None: Rules(),
    "ignore_votes": Rules(ignore_votes=True),
    "small_quorums": Rules(intersection=False),
    "phase2b_ignores_promise": Rules(may_vote=lambda V, max_bal, b: z3.BoolVal(True)),
    "duplicate_2a": Rules(repeat_2a=True),
    "promise_off_by_one": Rules(promise_successor=True),
    "strict_phase2b": Rules(may_vote=lambda V, max_bal, b: lt(V, max_bal, b)),
}
assert RULES.keys() == {None, *VARIANTS}

A1, A2 = z3.Consts("A1 A2", Acceptor)
Q1, Q2 = z3.Consts("Q1 Q2", Quorum)
X, Y, Z, M, C = z3.Consts("X Y Z M C", Ballot)
V1, V2, W = z3.Consts("V1 V2 W", Value)
ForAll, Exists, And, Or, Not, Implies = z3.ForAll, z3.Exists, z3.And, z3.Or, z3.Not, z3.Implies


def lt(V: Vocab, x: z3.ExprRef, y: z3.ExprRef) -> z3.BoolRef:
    return And(V.le(x, y), x != y)


# -- derived notions ---------------------------------------------------------------------------

def safe_at(V: Vocab, b: z3.ExprRef, v: z3.ExprRef) -> z3.BoolRef:
    """SafeAt(b, v): for every real ballot c < b some quorum q shows that no value but v is
    choosable at c: each member voted (c, v), or has maxBal > c and cast no vote at c."""
    return ForAll([C], Implies(And(C != V.none, lt(V, C, b)), Exists([Q1], ForAll([A1], Implies(
        V.member(A1, Q1),
        Or(V.sent2b(A1, C, v),
           And(lt(V, C, V.maxBal(A1)), ForAll([W], Not(V.sent2b(A1, C, W))))))))))


def chosen_at(V: Vocab, q: z3.ExprRef, b: z3.ExprRef, v: z3.ExprRef) -> z3.BoolRef:
    """Every member of quorum q voted (b, v)."""
    return ForAll([A1], Implies(V.member(A1, q), V.sent2b(A1, b, v)))


# -- the inductive invariant ------------------------------------------------------------------

def _type_ok(V: Vocab) -> z3.BoolRef:
    """Messages are well-typed: every message's ballot is a real ballot (not none), every 2a/2b
    value is a real value (not nil), and a 1b reports mbal = none exactly when mval = nil."""
    return And(
        ForAll([X], Implies(V.sent1a(X), X != V.none)),
        ForAll([A1, X, M, W], Implies(V.sent1b(A1, X, M, W),
                                      And(X != V.none, (M == V.none) == (W == V.nil)))),
        ForAll([X, V1], Implies(V.sent2a(X, V1), And(X != V.none, V1 != V.nil))),
        ForAll([A1, X, V1], Implies(V.sent2b(A1, X, V1), And(X != V.none, V1 != V.nil))))


def _vote_bookkeeping(V: Vocab) -> z3.BoolRef:
    """Vote bookkeeping (Lamport's AccInv): maxVBal[a] = none exactly when maxVal[a] = nil;
    otherwise (maxVBal[a], maxVal[a]) is one of a's votes; no vote of a is above maxVBal[a];
    maxVBal[a] ≤ maxBal[a]."""
    return ForAll([A1], And(
        (V.maxVBal(A1) == V.none) == (V.maxVal(A1) == V.nil),
        V.le(V.maxVBal(A1), V.maxBal(A1)),
        Implies(V.maxVBal(A1) != V.none, V.sent2b(A1, V.maxVBal(A1), V.maxVal(A1))),
        ForAll([X, V1], Implies(V.sent2b(A1, X, V1), V.le(X, V.maxVBal(A1))))))


def _msg_1b(V: Vocab) -> z3.BoolRef:
    """1b messages: for every 1b(a, b, mb, mv): maxBal[a] ≥ b; if mb ≠ none then (mb, mv) is a
    vote of a; and a cast no vote at a ballot strictly between mb and b."""
    return ForAll([A1, X, M, W], Implies(V.sent1b(A1, X, M, W), And(
        V.le(X, V.maxBal(A1)),
        Implies(M != V.none, V.sent2b(A1, M, W)),
        ForAll([C, V1], Implies(And(lt(V, M, C), lt(V, C, X)), Not(V.sent2b(A1, C, V1)))))))


def _msg_2a(V: Vocab) -> z3.BoolRef:
    """2a messages: at most one 2a per ballot, and every 2a(b, v) is safe at b (SafeAt(b, v))."""
    return And(ForAll([X, V1, V2], Implies(And(V.sent2a(X, V1), V.sent2a(X, V2)), V1 == V2)),
               ForAll([X, V1], Implies(V.sent2a(X, V1), safe_at(V, X, V1))))


def _msg_2b(V: Vocab) -> z3.BoolRef:
    """2b messages: every vote 2b(a, b, v) answers a 2a(b, v) that was sent."""
    return ForAll([A1, X, V1], Implies(V.sent2b(A1, X, V1), V.sent2a(X, V1)))


def _agreement(V: Vocab) -> z3.BoolRef:
    """Agreement: at most one value is chosen (chosen at b: every member of some quorum voted
    for it at b)."""
    return ForAll([Q1, Q2, X, Y, V1, V2], Implies(
        And(chosen_at(V, Q1, X, V1), chosen_at(V, Q2, Y, V2)), V1 == V2))


def _one_vote(V: Vocab) -> z3.BoolRef:
    """Voting's OneVote: an acceptor votes for at most one value in each ballot."""
    return ForAll([A1, X, V1, V2], Implies(And(V.sent2b(A1, X, V1), V.sent2b(A1, X, V2)),
                                           V1 == V2))


def _votes_safe(V: Vocab) -> z3.BoolRef:
    """Voting's VotesSafe: every vote (b, v) cast by any acceptor is safe at b."""
    return ForAll([A1, X, V1], Implies(V.sent2b(A1, X, V1), safe_at(V, X, V1)))


def _conj(fn, uses: tuple[str, ...] | None = None) -> Conjunct:
    return Conjunct(fn.__name__.lstrip("_"), (fn.__doc__ or "").strip(), fn, uses)


# ``uses``: the conjuncts each proof assumes (see paxchain.specs.z3_vocabulary.Conjunct). With
# vote_bookkeeping in the hypotheses Z3's instantiation runs away on msg_2a and agreement (each
# of its clauses alone is harmless; together with the order axioms they loop); they do not need
# it. A counterexample is still checked against the whole invariant before it is reported.
_VOTING = ("type_ok", "msg_1b", "msg_2a", "msg_2b")
INVARIANT = (_conj(_type_ok), _conj(_vote_bookkeeping), _conj(_msg_1b), _conj(_msg_2a, _VOTING),
             _conj(_msg_2b))
SAFETY = tuple(_conj(f, _VOTING) for f in (_agreement, _one_vote, _votes_safe))


def conjunct_names() -> list[str]:
    return [c.name for c in INVARIANT]


# -- axioms, init, actions --------------------------------------------------------------------

def _order(V: Vocab) -> z3.BoolRef:
    """le is a total order on ballots with least element none."""
    le = V.le
    return And(ForAll([X], le(X, X)),
               ForAll([X, Y], Implies(And(le(X, Y), le(Y, X)), X == Y)),
               ForAll([X, Y, Z], Implies(And(le(X, Y), le(Y, Z)), le(X, Z))),
               ForAll([X, Y], Or(le(X, Y), le(Y, X))),
               ForAll([X], le(V.none, X)))


def _intersection(V: Vocab) -> z3.BoolRef:
    """Any two quorums share an acceptor."""
    return ForAll([Q1, Q2], Exists([A1], And(V.member(A1, Q1), V.member(A1, Q2))))


def _init(V: Vocab) -> z3.BoolRef:
    return And(ForAll([A1], And(V.maxBal(A1) == V.none, V.maxVBal(A1) == V.none,
                                V.maxVal(A1) == V.nil)),
               ForAll([X], Not(V.sent1a(X))), ForAll([A1, X, M, W], Not(V.sent1b(A1, X, M, W))),
               ForAll([X, V1], Not(V.sent2a(X, V1))), ForAll([A1, X, V1], Not(V.sent2b(A1, X, V1))))


def _unchanged(P: Vocab, N: Vocab, keep: Sequence[str]) -> list[z3.BoolRef]:
    out = []
    for s in STATE:
        if s.name in keep:
            continue
        xs = [z3.Const(f"u{i}", d) for i, d in enumerate(s.domain)]
        f, g = getattr(P, s.name), getattr(N, s.name)
        out.append(ForAll(xs, g(*xs) == f(*xs)))
    return out


def _actions(rules: Rules) -> tuple[Action, ...]:
    def phase1a(P: Vocab, N: Vocab, b):
        return And(b != P.none, ForAll([X], N.sent1a(X) == Or(P.sent1a(X), X == b)),
                   *_unchanged(P, N, ["sent1a"]))

    def phase1b(P: Vocab, N: Vocab, a, b, succ=None):
        promise = b
        extra = []
        if rules.promise_successor:
            promise = succ
            extra = [lt(P, b, succ), ForAll([X], Implies(lt(P, b, X), P.le(succ, X)))]
        return And(P.sent1a(b), lt(P, P.maxBal(a), b), *extra,
                   ForAll([A1], N.maxBal(A1) == z3.If(A1 == a, promise, P.maxBal(A1))),
                   ForAll([A1, X, M, W], N.sent1b(A1, X, M, W) == Or(
                       P.sent1b(A1, X, M, W),
                       And(A1 == a, X == b, M == P.maxVBal(a), W == P.maxVal(a)))),
                   *_unchanged(P, N, ["maxBal", "sent1b"]))

    def phase2a(P: Vocab, N: Vocab, b, v, q):
        fresh = (Not(P.sent2a(b, v)) if rules.repeat_2a
                 else ForAll([W], Not(P.sent2a(b, W))))
        joined = ForAll([A1], Implies(P.member(A1, q), Exists([M, W], P.sent1b(A1, b, M, W))))
        no_votes = ForAll([A1, M, W], Implies(And(P.member(A1, q), P.sent1b(A1, b, M, W)),
                                              M == P.none))
        top_is_v = Exists([A2, C], And(
            P.member(A2, q), C != P.none, P.sent1b(A2, b, C, v),
            ForAll([A1, M, W], Implies(And(P.member(A1, q), P.sent1b(A1, b, M, W)),
                                       P.le(M, C)))))
        votes_ok = [] if rules.ignore_votes else [Or(no_votes, top_is_v)]
        return And(b != P.none, v != P.nil, fresh, joined, *votes_ok,
                   ForAll([X, V1], N.sent2a(X, V1) == Or(P.sent2a(X, V1), And(X == b, V1 == v))),
                   *_unchanged(P, N, ["sent2a"]))

    def phase2b(P: Vocab, N: Vocab, a, b, v):
        guard = rules.may_vote(P, P.maxBal(a), b)
        return And(P.sent2a(b, v), guard,
                   ForAll([A1], N.maxBal(A1) == z3.If(A1 == a, b, P.maxBal(A1))),
                   ForAll([A1], N.maxVBal(A1) == z3.If(A1 == a, b, P.maxVBal(A1))),
                   ForAll([A1], N.maxVal(A1) == z3.If(A1 == a, v, P.maxVal(A1))),
                   ForAll([A1, X, V1], N.sent2b(A1, X, V1) == Or(
                       P.sent2b(A1, X, V1), And(A1 == a, X == b, V1 == v))),
                   *_unchanged(P, N, ["maxBal", "maxVBal", "maxVal", "sent2b"]))

    return (
        Action("Phase1a", "send 1a(b)", (("b", Ballot),), phase1a),
        Action("Phase1b", "acceptor a promises b > maxBal[a] and reports its highest vote",
               (("a", Acceptor), ("b", Ballot))
               + ((("succ", Ballot),) if rules.promise_successor else ()), phase1b),
        Action("Phase2a", "propose v at b, backed by quorum q's 1b messages",
               (("b", Ballot), ("v", Value), ("q", Quorum)), phase2a),
        Action("Phase2b", "acceptor a votes for 2a(b, v) when b ≥ maxBal[a]",
               (("a", Acceptor), ("b", Ballot), ("v", Value)), phase2b),
    )


def system(variant: str | None = None, drop: Sequence[str] = ()) -> TransitionSystem:
    """The Paxos transition system with its invariant; ``drop`` removes named conjuncts and
    ``variant`` swaps in a seeded bug (``VARIANTS``). Raises ``KeyError`` on an unknown name."""
    if variant is not None and variant not in VARIANTS:
        raise KeyError(variant)
    names = conjunct_names()
    for d in drop:
        if d not in names:
            raise KeyError(d)
    axioms = [Conjunct("order", _order.__doc__ or "", _order)]
    rules = RULES[variant]
    if rules.intersection:
        axioms.append(Conjunct("intersection", _intersection.__doc__ or "", _intersection))
    label = "paxos" + (f" variant={variant}" if variant else "") + \
        (f" without {','.join(drop)}" if drop else "")
    return TransitionSystem(
        name=label, sorts=(Acceptor, Ballot, Value, Quorum), rigid=RIGID, state=STATE,
        axioms=tuple(axioms), init=_init, actions=_actions(rules),
        invariant=tuple(c for c in INVARIANT if c.name not in drop), safety=SAFETY,
        orders={"Ballot": "le"}, solver_options=SOLVER_OPTIONS)


# -- the cross-check: the same formulas on explicit LamportPaxos states -------------------------

_COMPILED: dict[str, Any] = {}


def _compiled() -> dict[str, Any]:
    if not _COMPILED:
        V = system().vocab()
        for c in INVARIANT + SAFETY:
            _COMPILED[c.name] = compile_formula(c.formula(V))
    return _COMPILED


def structure_of(model: Any, state: Any) -> Structure:
    """The finite structure of an explicit ``paxchain.models.lamport_paxos.LamportPaxos`` state, built
    from ``model.to_vars(state)``: ballot -1 is ``none``, value None is ``nil``."""
    vs = model.to_vars(state)
    accs = [model.acc_name(a) for a in range(model.n)]

    def bal(b: int) -> str:
        return "none" if b < 0 else f"b{b}"

    def val(v: str | None) -> str:
        return "nil" if v is None else v

    ballots = list(range(-1, model.max_ballot + 1))
    tables: dict[str, Any] = {
        "le": {(bal(x), bal(y)) for x in ballots for y in ballots if x <= y},
        "member": {(model.acc_name(a), f"q{i + 1}") for i, q in enumerate(model.quorums)
                   for a in q},
        "none": "none", "nil": "nil",
        "maxBal": {(a,): bal(vs["maxBal"][a]) for a in accs},
        "maxVBal": {(a,): bal(vs["maxVBal"][a]) for a in accs},
        "maxVal": {(a,): val(vs["maxVal"][a]) for a in accs},
        "sent1a": set(), "sent1b": set(), "sent2a": set(), "sent2b": set()}
    for r in vs["msgs"]:
        f = dict(r.fields)
        if r.kind == "1a":
            tables["sent1a"].add((bal(f["bal"]),))
        elif r.kind == "1b":
            tables["sent1b"].add((f["acc"], bal(f["bal"]), bal(f["mbal"]), val(f["mval"])))
        elif r.kind == "2a":
            tables["sent2a"].add((bal(f["bal"]), f["val"]))
        else:
            tables["sent2b"].add((f["acc"], bal(f["bal"]), f["val"]))
    universe = {"Acceptor": accs, "Ballot": [bal(b) for b in ballots],
                "Value": ["nil"] + [val(model.val_name(v)) for v in range(model.nv)],
                "Quorum": [f"q{i + 1}" for i in range(len(model.quorums))]}
    return Structure(universe, tables)


def evaluate(model: Any, state: Any) -> dict[str, bool]:
    """Each invariant conjunct and safety property, evaluated on one explicit state."""
    env = structure_of(model, state).env()
    return {name: bool(fn(env)) for name, fn in _compiled().items()}
