"""Lamport's Paxos (``paxchain.models.lamport_paxos``) as Z3 formulas over one step's variables, for
bounded model checking (``paxchain.checker.bmc``).

Per step: ``maxBal[a]``, ``maxVBal[a]``, ``maxVal[a]`` as integers (``-1`` for -1/None, exactly
the explicit model's encoding) and one Boolean per message of the finite universe
``paxchain.models.lamport_paxos.Messages`` (bit ``i`` of ``msgs``). The transition relation is the
disjunction of every ground action instance with its explicit guard, including the seeded
variants, so each satisfying assignment is a path of the explicit model; the engine
(``paxchain.checker.bmc.run_bmc``) turns it into a trace by finding each step's labelled
successor, so ``paxchain.checker.trace.replay`` re-checks it on the explicit model.

The state predicates mirror ``paxchain.specs.lamport_paxos`` property by property (same names).
An encoding module offers ``symbolic(model, property_name)``, ``PROPERTIES`` (the state
invariants it encodes) and ``GOALS`` (the reachability goals).
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

import z3

from paxchain.models.errors import UserError
from paxchain.specs.z3_vocabulary import SymbolicSystem

__all__ = ["PaxosEncoding", "symbolic", "PROPERTIES", "GOALS"]


def _formula(x: Any) -> z3.BoolRef:
    """A rule's result as a formula (a rule that ignores its arguments returns a bool)."""
    return z3.BoolVal(x) if isinstance(x, bool) else x


@dataclass
class Vars:
    mb: list[z3.ArithRef]
    vb: list[z3.ArithRef]
    vv: list[z3.ArithRef]
    msg: list[z3.BoolRef]


class PaxosEncoding:
    """The finite instance ``model`` (a ``LamportPaxos``) as Z3 formulas."""

    def __init__(self, model: Any) -> None:
        self.m = model
        self.M = model.msgs
        self.nb = model.max_ballot + 1

    # -- variables, init, transitions --------------------------------------------------------
    def fresh(self, k: int) -> Vars:
        n = self.m.n
        return Vars([z3.Int(f"maxBal_{a}@{k}") for a in range(n)],
                    [z3.Int(f"maxVBal_{a}@{k}") for a in range(n)],
                    [z3.Int(f"maxVal_{a}@{k}") for a in range(n)],
                    [z3.Bool(f"msg_{i}@{k}") for i in range(self.M.size)])

    def init(self, s: Vars) -> z3.BoolRef:
        return z3.And(*[x == -1 for x in s.mb + s.vb + s.vv], *[z3.Not(b) for b in s.msg])

    def _frame(self, s: Vars, t: Vars, ints: dict, bits: dict) -> z3.BoolRef:
        eqs = []
        for name in ("mb", "vb", "vv"):
            for a, (x, y) in enumerate(zip(getattr(s, name), getattr(t, name))):
                eqs.append(y == ints.get((name, a), x))
        for i, (x, y) in enumerate(zip(s.msg, t.msg)):
            eqs.append(y == bits[i] if i in bits else y == x)
        return z3.And(*eqs)

    def report(self, s: Vars, a: int, w: int) -> z3.BoolRef:
        """``a``'s current (maxVBal, maxVal) has report index ``w`` (0: no vote)."""
        if w == 0:
            return s.vb[a] < 0
        c, v = divmod(w - 1, self.m.nv)
        return z3.And(s.vb[a] == c, s.vv[a] == v)

    def proposable(self, s: Vars, b: int, v: int) -> z3.BoolRef:
        """Phase2a's quorum condition for ``(b, v)`` (explicit: ``LamportPaxos._proposable``)."""
        M, nv, rw = self.M, self.m.nv, self.M.report_width
        options = []
        for q in self.m.quorums:
            promised = z3.And(*[z3.Or(*[s.msg[M.bit_1b(a, b, -1, -1) + w] for w in range(rw)])
                                for a in q])
            if self.m.rules.ignore_votes:
                options.append(promised)
                continue
            none_reported = z3.And(*[z3.Not(s.msg[M.bit_1b(a, b, -1, -1) + w])
                                     for a in q for w in range(1, rw)])
            tops = []
            for a in q:
                for c in range(self.nb):
                    higher = [z3.Not(s.msg[M.bit_1b(x, b, d, u)])
                              for x in q for d in range(c + 1, self.nb) for u in range(nv)]
                    tops.append(z3.And(s.msg[M.bit_1b(a, b, c, v)], *higher))
            options.append(z3.And(promised, z3.Or(none_reported, *tops)))
        return z3.Or(*options)

    def trans(self, s: Vars, t: Vars) -> z3.BoolRef:
        """One step: the disjunction of every ground action with the model's ``rules`` (a
        variant's rules apply to Z3 terms as to integers: ``may_vote(b, maxBal)``)."""
        m, M, nv, rules = self.m, self.M, self.m.nv, self.m.rules
        steps = []
        for b in range(self.nb):
            steps.append(self._frame(s, t, {}, {M.bit_1a(b): z3.BoolVal(True)}))
        for a in range(m.n):
            for b in range(self.nb):
                promise = b + rules.promise_offset
                bits = {M.bit_1b(a, b, -1, -1) + w: z3.Or(s.msg[M.bit_1b(a, b, -1, -1) + w],
                                                          self.report(s, a, w))
                        for w in range(M.report_width)}
                steps.append(z3.And(s.msg[M.bit_1a(b)], s.mb[a] < b,
                                    self._frame(s, t, {("mb", a): promise}, bits)))
        for b in range(self.nb):
            for v in range(nv):
                guard = [z3.Not(s.msg[M.bit_2a(b, v)]), self.proposable(s, b, v)]
                if not rules.repeat_2a:
                    guard += [z3.Not(s.msg[M.bit_2a(b, u)]) for u in range(nv)]
                steps.append(z3.And(*guard, self._frame(s, t, {}, {M.bit_2a(b, v): z3.BoolVal(True)})))
        for b in range(self.nb):
            for v in range(nv):
                for a in range(m.n):
                    ok = _formula(rules.may_vote(b, s.mb[a]))
                    ints = {("mb", a): z3.IntVal(b), ("vb", a): z3.IntVal(b), ("vv", a): z3.IntVal(v)}
                    steps.append(z3.And(s.msg[M.bit_2a(b, v)], ok,
                                        self._frame(s, t, ints, {M.bit_2b(a, b, v): z3.BoolVal(True)})))
        return z3.Or(*steps)

    def decode(self, model: z3.ModelRef, s: Vars):
        def num(x):
            return model.eval(x, model_completion=True).as_long()
        msgs = sum(1 << i for i, x in enumerate(s.msg)
                   if z3.is_true(model.eval(x, model_completion=True)))
        return (tuple(num(x) for x in s.mb), tuple(num(x) for x in s.vb),
                tuple(num(x) for x in s.vv), msgs)

    # -- properties (specs.lamport_paxos, same names) ----------------------------------------
    def voted(self, s: Vars, a: int, b: int, v: int) -> z3.BoolRef:
        return s.msg[self.M.bit_2b(a, b, v)]

    def safe_at(self, s: Vars, b: int, v: int) -> z3.BoolRef:
        nv = self.m.nv
        per_c = []
        for c in range(b):
            per_c.append(z3.Or(*[z3.And(*[z3.Or(self.voted(s, a, c, v), z3.And(
                s.mb[a] > c, *[z3.Not(self.voted(s, a, c, w)) for w in range(nv)]))
                for a in q]) for q in self.m.quorums]))
        return z3.And(*per_c)

    def agreement(self, s: Vars) -> z3.BoolRef:
        chosen = [z3.Or(*[z3.And(*[self.voted(s, a, b, v) for a in q])
                          for q in self.m.quorums for b in range(self.nb)])
                  for v in range(self.m.nv)]
        return z3.AtMost(*chosen, 1) if len(chosen) > 1 else z3.BoolVal(True)

    def value_chosen(self, s: Vars) -> z3.BoolRef:
        """The goal: some value is chosen (every member of a quorum voted for it at a ballot)."""
        return z3.Or(*[z3.And(*[self.voted(s, a, b, v) for a in q]) for q in self.m.quorums
                       for b in range(self.nb) for v in range(self.m.nv)])

    def type_ok(self, s: Vars) -> z3.BoolRef:
        hi = self.m.max_ballot
        return z3.And(*[z3.And(-1 <= x, x <= hi) for x in s.mb + s.vb],
                      *[z3.And(-1 <= x, x < self.m.nv) for x in s.vv])

    def vote_bookkeeping(self, s: Vars) -> z3.BoolRef:
        out = []
        for a in range(self.m.n):
            cast = [(c, v) for c in range(self.nb) for v in range(self.m.nv)]
            out += [(s.vb[a] == -1) == (s.vv[a] == -1),
                    z3.Implies(s.vb[a] >= 0, z3.And(s.vb[a] <= s.mb[a], z3.Or(*[
                        z3.And(s.vb[a] == c, s.vv[a] == v, self.voted(s, a, c, v))
                        for c, v in cast]))),
                    *[z3.Implies(self.voted(s, a, c, v), s.vb[a] >= c) for c, v in cast]]
        return z3.And(*out)

    def msg_1b(self, s: Vars) -> z3.BoolRef:
        M, nv, out = self.M, self.m.nv, []
        for a in range(self.m.n):
            for b in range(self.nb):
                for w in range(M.report_width):
                    mb_, mv_ = (-1, -1) if w == 0 else divmod(w - 1, nv)
                    conds = [s.mb[a] >= b]
                    if mb_ >= 0:
                        conds.append(self.voted(s, a, mb_, mv_))
                    conds += [z3.Not(self.voted(s, a, c, u))
                              for c in range(mb_ + 1, b) for u in range(nv)]
                    out.append(z3.Implies(s.msg[M.bit_1b(a, b, mb_, mv_)], z3.And(*conds)))
        return z3.And(*out)

    def msg_2a(self, s: Vars) -> z3.BoolRef:
        M, nv, out = self.M, self.m.nv, []
        for b in range(self.nb):
            sent = [s.msg[M.bit_2a(b, v)] for v in range(nv)]
            if nv > 1:
                out.append(z3.AtMost(*sent, 1))
            out += [z3.Implies(sent[v], self.safe_at(s, b, v)) for v in range(nv) if b > 0]
        return z3.And(*out)

    def one_vote(self, s: Vars) -> z3.BoolRef:
        nv = self.m.nv
        if nv == 1:
            return z3.BoolVal(True)
        return z3.And(*[z3.AtMost(*[self.voted(s, a, b, v) for v in range(nv)], 1)
                        for a in range(self.m.n) for b in range(self.nb)])

    def votes_safe(self, s: Vars) -> z3.BoolRef:
        return z3.And(*[z3.Implies(self.voted(s, a, b, v), self.safe_at(s, b, v))
                        for a in range(self.m.n) for b in range(1, self.nb)
                        for v in range(self.m.nv)])


PROPERTIES = ("agreement", "type_ok", "vote_bookkeeping", "msg_1b", "msg_2a", "one_vote",
              "votes_safe")
GOALS = ("value_chosen",)


def symbolic(model: Any, property_name: str) -> SymbolicSystem:
    """The finite instance ``model`` (a ``LamportPaxos``) for bounded model checking of one state
    invariant (its "bad" states break it) or goal (its "bad" states reach it)."""
    if property_name not in PROPERTIES + GOALS:
        raise UserError(f"bmc cannot check {property_name!r} (state invariants and goals: "
                        f"{', '.join(PROPERTIES + GOALS)})")
    enc = PaxosEncoding(model)
    prop: Callable[[Vars], z3.BoolRef] = getattr(enc, property_name)
    # An invariant is refuted by a state breaking it; a goal is shown by a state reaching it.
    target = prop if property_name in GOALS else (lambda s: z3.Not(prop(s)))
    return SymbolicSystem(enc.fresh, enc.init, enc.trans, target, enc.decode)
