"""An abstract blockchain node in Z3: its structural invariants are inductive, k-common-prefix
is not.

The model is one node's block store, kept abstract: a block has a header (rigid: ``prev`` — the
hash it links to —, its own work ``bwork > 0`` and ``time``), and the node records, when it
accepts a block, its ``parent``, ``height``, cumulative ``work`` and median-time-past ``mtp``
(state). The block hash ``hash : Block → Hash`` is an uninterpreted function with the
injectivity axiom (no collisions). Median-time-past is taken over a window of 3 blocks (Bitcoin
uses 11; the monotonicity argument is the same: the new timestamp exceeds the old median).

Actions
    ``AddBlock(b, p)`` — a valid block b extending the stored block p (``prev(b) = hash(p)``,
    ``time(b) > mtp(p)``) with no more work than the tip: stored, the tip stays.
    ``AddAndSwitch(b, p)`` — the same with more work than the tip: stored and adopted as tip
    (the most-work rule).

Not EPR: heights, work and times are integers, and ``parent : Block → Block`` is a function into
its own sort. Z3 answers every obligation in milliseconds; an unknown is reported as unproven.

``system(ghost=True)`` adds ancestry (``anc(x, y)``: x is y or an ancestor of y, maintained by
the actions) and a ghost ``confirmed`` block that ``Confirm`` sets to an ancestor of the tip at
least ``K`` blocks deep, and asks whether "the confirmed block stays an ancestor of the tip" is
inductive. It is not: Z3 returns a counterexample in which a fork that branches below the
confirmed block carries more work and the most-work rule switches to it. Common prefix needs an
environment assumption (``ASSUMPTION``), which no rule of the node can enforce
(``paxchain.checker.common_prefix.common_prefix_cti`` asks Z3 for that counterexample).
"""

from __future__ import annotations

import z3

from paxchain.specs.z3_vocabulary import Action, Conjunct, Symbol, TransitionSystem, Vocab

__all__ = ["system", "ASSUMPTION", "ORDERS", "INVARIANT"]

Block = z3.DeclareSort("Block")
Hash = z3.DeclareSort("Hash")
Int, B = z3.IntSort(), z3.BoolSort()
ORDERS: dict[str, str] = {}

ASSUMPTION = ("k-common-prefix needs an environment assumption: honest nodes hold a majority "
              "of the mining rate and messages are delivered within a bounded delay Δ "
              "(Garay-Kiayias-Leonardos; Pass-Seeman-Shelat), so that a fork branching more "
              "than k blocks deep overtakes the honest chain with probability exp(-Ω(k)). "
              "It is a probabilistic property of the environment, not an inductive invariant "
              "of the node's rules.")

RIGID = (Symbol("hash", (Block,), Hash), Symbol("prev", (Block,), Hash),
         Symbol("bwork", (Block,), Int), Symbol("time", (Block,), Int),
         Symbol("genesis", (), Block), Symbol("K", (), Int))
STATE = (Symbol("stored", (Block,), B), Symbol("parent", (Block,), Block),
         Symbol("height", (Block,), Int), Symbol("work", (Block,), Int),
         Symbol("mtp", (Block,), Int), Symbol("tip", (), Block))
GHOST = (Symbol("anc", (Block, Block), B), Symbol("confirmed", (), Block))

X, Y, Z = z3.Consts("X Y Z", Block)
ForAll, Exists, And, Or, Not, Implies, If = z3.ForAll, z3.Exists, z3.And, z3.Or, z3.Not, z3.Implies, z3.If


def med3(x, y, z):
    """The median of three integers."""
    return If(x <= y, If(y <= z, y, If(x <= z, z, x)), If(x <= z, x, If(y <= z, z, y)))


def window_mtp(V: Vocab, b) -> z3.ArithRef:
    """Median time past of b: the median of the timestamps of b, its parent and grandparent."""
    return med3(V.time(b), V.time(V.parent(b)), V.time(V.parent(V.parent(b))))


def _hash_links(V):
    """Hash-link integrity: every stored block other than genesis links, by the hash in its
    header, to its recorded parent."""
    return ForAll([X], Implies(And(V.stored(X), X != V.genesis), V.prev(X) == V.hash(V.parent(X))))


def _closed_under_parents(V):
    """Closure under parents: the parent of every stored block is stored."""
    return ForAll([X], Implies(V.stored(X), V.stored(V.parent(X))))


def _genesis_rooted(V):
    """Genesis rooting: genesis is stored, is its own parent and has height 0; every other
    stored block is one higher than its parent, and only genesis has height 0 — so following
    parents from any stored block reaches genesis in exactly height(b) steps."""
    return And(V.stored(V.genesis), V.parent(V.genesis) == V.genesis, V.height(V.genesis) == 0,
               ForAll([X], Implies(And(V.stored(X), X != V.genesis),
                                   And(V.height(X) == V.height(V.parent(X)) + 1,
                                       V.height(X) >= 1))))


def _work_monotone(V):
    """Work monotonicity: cumulative work is positive and strictly grows from parent to child."""
    return And(V.work(V.genesis) > 0,
               ForAll([X], Implies(And(V.stored(X), X != V.genesis),
                                   V.work(X) > V.work(V.parent(X)))))


def _tip_max_work(V):
    """Tip of maximal work: the tip is stored and no stored block has more work."""
    return And(V.stored(V.tip), ForAll([X], Implies(V.stored(X), V.work(X) <= V.work(V.tip))))


def _mtp_window(V):
    """Median-time-past bookkeeping: the recorded mtp of every stored block is the median of its
    window."""
    return ForAll([X], Implies(V.stored(X), V.mtp(X) == window_mtp(V, X)))


def _mtp_monotone(V):
    """Median-time-past monotonicity: mtp never decreases from parent to child."""
    return ForAll([X], Implies(V.stored(X), V.mtp(X) >= V.mtp(V.parent(X))))


def _unique_parent(V):
    """A stored block's parent is the only stored block whose hash its header names (hash
    injectivity at work: headers identify parents)."""
    return ForAll([X, Y], Implies(And(V.stored(X), V.stored(Y), X != V.genesis,
                                      V.prev(X) == V.hash(Y)), Y == V.parent(X)))


def _ancestry(V):
    """Ancestry bookkeeping: anc(x, y) holds for stored y exactly when x is y or anc(x, parent(y))
    (genesis: only itself), and only between stored blocks."""
    return And(ForAll([X, Y], Implies(V.anc(X, Y), And(V.stored(X), V.stored(Y)))),
               ForAll([X, Y], Implies(And(V.stored(Y), Y != V.genesis),
                                      V.anc(X, Y) == Or(X == Y, V.anc(X, V.parent(Y))))),
               ForAll([X], V.anc(X, V.genesis) == (X == V.genesis)))


def _common_prefix(V):
    """k-common-prefix (for the node's own chain): the confirmed block, once K deep, stays an
    ancestor of the tip, at least K blocks below it (genesis, confirmed initially, always is)."""
    return Or(V.confirmed == V.genesis,
              And(V.anc(V.confirmed, V.tip), V.height(V.confirmed) + V.K <= V.height(V.tip)))


def _c(fn) -> Conjunct:
    return Conjunct(fn.__name__.lstrip("_"), (fn.__doc__ or "").strip(), fn)


INVARIANT = tuple(_c(f) for f in (_hash_links, _closed_under_parents, _genesis_rooted,
                                  _work_monotone, _tip_max_work, _mtp_window, _mtp_monotone))


def _injective(V):
    """The block hash is injective: distinct blocks have distinct hashes."""
    return ForAll([X, Y], Implies(V.hash(X) == V.hash(Y), X == Y))


def _positive_work(V):
    """Every block header carries positive work, and K ≥ 1."""
    return And(ForAll([X], V.bwork(X) > 0), V.K >= 1)


def _init(ghost: bool):
    def init(V):
        g = V.genesis
        out = [ForAll([X], V.stored(X) == (X == g)), V.parent(g) == g, V.height(g) == 0,
               V.work(g) == V.bwork(g), V.mtp(g) == V.time(g), V.tip == g]
        if ghost:
            out += [ForAll([X, Y], V.anc(X, Y) == And(X == g, Y == g)), V.confirmed == g]
        return And(*out)
    return init


def _unchanged(P, N, symbols, keep):
    out = []
    for s in symbols:
        if s.name in keep:
            continue
        if not s.domain:
            out.append(getattr(N, s.name) == getattr(P, s.name))
            continue
        xs = [z3.Const(f"u{i}", d) for i, d in enumerate(s.domain)]
        out.append(ForAll(xs, getattr(N, s.name)(*xs) == getattr(P, s.name)(*xs)))
    return out


def _actions(ghost: bool) -> tuple[Action, ...]:
    symbols = STATE + (GHOST if ghost else ())

    def add(switch: bool):
        def formula(P, N, b, p):
            work_b = P.work(p) + P.bwork(b)
            more = work_b > P.work(P.tip)
            out = [Not(P.stored(b)), P.stored(p), b != P.genesis, P.prev(b) == P.hash(p),
                   P.time(b) > P.mtp(p), more if switch else Not(more),
                   ForAll([X], N.stored(X) == Or(P.stored(X), X == b)),
                   ForAll([X], N.parent(X) == If(X == b, p, P.parent(X))),
                   ForAll([X], N.height(X) == If(X == b, P.height(p) + 1, P.height(X))),
                   ForAll([X], N.work(X) == If(X == b, work_b, P.work(X))),
                   ForAll([X], N.mtp(X) == If(X == b, med3(P.time(b), P.time(p),
                                                            P.time(P.parent(p))), P.mtp(X))),
                   N.tip == (b if switch else P.tip)]
            keep = ["stored", "parent", "height", "work", "mtp", "tip"]
            if ghost:
                out.append(ForAll([X, Y], N.anc(X, Y) == If(Y == b, Or(X == b, P.anc(X, p)),
                                                             P.anc(X, Y))))
                keep.append("anc")
            return And(*out, *_unchanged(P, N, symbols, keep))
        return formula

    acts = [Action("AddBlock", "store a valid block with no more work than the tip",
                   (("b", Block), ("p", Block)), add(False)),
            Action("AddAndSwitch", "store a valid block with more work and adopt it as tip",
                   (("b", Block), ("p", Block)), add(True))]
    if ghost:
        def confirm(P, N, x):
            return And(P.anc(x, P.tip), P.height(P.tip) - P.height(x) >= P.K, N.confirmed == x,
                       *_unchanged(P, N, symbols, ["confirmed"]))
        acts.append(Action("Confirm", "ghost: confirm an ancestor of the tip at least K deep",
                           (("x", Block),), confirm))
    return tuple(acts)


def system(ghost: bool = False) -> TransitionSystem:
    """The chain node with its structural invariant; ``ghost`` adds ancestry, the confirmed
    block and the common-prefix conjunct (which is not inductive)."""
    inv = INVARIANT + ((_c(_ancestry), _c(_common_prefix)) if ghost else ())
    return TransitionSystem(
        name="chain" + (" with common prefix" if ghost else ""), sorts=(Block, Hash), rigid=RIGID,
        state=STATE + (GHOST if ghost else ()),
        axioms=(_c(_injective), _c(_positive_work)), init=_init(ghost),
        actions=_actions(ghost), invariant=inv, safety=(_c(_unique_parent),),
        finite_sizes=(3, 4) if ghost else (2, 3))
