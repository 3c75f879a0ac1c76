"""An independent, literal transcription of ../shared/specs/lamport-paxos.md for cross-checks.

Plain Python in the spec's own terms — tuples indexed by acceptor, ``None`` for no value, a
frozenset of message tuples — and nothing clever: no bitmasks, no memo tables, no symmetry.
``paxchain.models.lamport_paxos`` must agree with it on reachable-state counts, and ``paxchain.specs.lamport_paxos``
on every property at every reachable state. It is also the single-purpose search that
``benchmarks/run.py`` measures the general engine against.

Messages: ``("1a", b)``, ``("1b", a, b, mbal, mval)``, ``("2a", b, v)``, ``("2b", a, b, v)``.
"""

from __future__ import annotations

import itertools
from collections import deque

NONE = None


class Reference:
    def __init__(self, n=3, values=2, max_ballot=1, quorums=None, variant=None):
        self.A = range(n)
        self.V = range(values)
        self.B = range(max_ballot + 1)
        self.max_ballot = max_ballot
        if quorums is None:
            size = max(1, n // 2) if variant == "small_quorums" else n // 2 + 1
            quorums = [frozenset(c) for c in itertools.combinations(self.A, size)]
        self.Q = [frozenset(q) for q in quorums]
        self.variant = variant

    def init(self):
        n = len(self.A)
        return ((-1,) * n, (-1,) * n, (NONE,) * n, frozenset())

    def next(self, s):
        """Every successor, one per enabled action instance (as the model counts them)."""
        mb, mvb, mv, msgs = s
        var = self.variant
        out = []
        for b in self.B:
            out.append((mb, mvb, mv, msgs | {("1a", b)}))
        for m in msgs:
            if m[0] == "1a":
                b = m[1]
                for a in self.A:
                    if b > mb[a]:
                        nb = list(mb)
                        nb[a] = b + 1 if var == "promise_off_by_one" else b
                        out.append((tuple(nb), mvb, mv, msgs | {("1b", a, b, mvb[a], mv[a])}))
            elif m[0] == "2a":
                b, v = m[1], m[2]
                for a in self.A:
                    if var is None or var not in ("strict_phase2b", "phase2b_ignores_promise"):
                        ok = b >= mb[a]
                    else:
                        ok = b > mb[a] if var == "strict_phase2b" else True
                    if ok:
                        nb, nvb, nv = list(mb), list(mvb), list(mv)
                        nb[a], nvb[a], nv[a] = b, b, v
                        out.append((tuple(nb), tuple(nvb), tuple(nv),
                                    msgs | {("2b", a, b, v)}))
        for b in self.B:
            sent = {m[2] for m in msgs if m[0] == "2a" and m[1] == b}
            if sent and var != "duplicate_2a":
                continue
            for v in self.V:
                if v in sent:
                    continue
                if any(self._q_allows(msgs, q, b, v) for q in self.Q):
                    out.append((mb, mvb, mv, msgs | {("2a", b, v)}))
        return out

    def _q_allows(self, msgs, q, b, v):
        q1b = [m for m in msgs if m[0] == "1b" and m[2] == b and m[1] in q]
        if {m[1] for m in q1b} != set(q):
            return False
        if self.variant == "ignore_votes":
            return True
        q1bv = [m for m in q1b if m[3] >= 0]
        if not q1bv:
            return True
        top = max(m[3] for m in q1bv)
        return any(m[3] == top and m[4] == v for m in q1bv)

    # -- properties, word for word ---------------------------------------------------------
    def voted(self, s, a, b, v):
        return ("2b", a, b, v) in s[3]

    def chosen(self, s):
        return {v for v in self.V for b in self.B
                if any(all(self.voted(s, a, b, v) for a in q) for q in self.Q)}

    def agreement(self, s):
        return len(self.chosen(s)) <= 1

    def type_ok(self, s):
        mb, mvb, mv, msgs = s
        bal = range(-1, self.max_ballot + 1)
        return (all(x in bal for x in mb) and all(x in bal for x in mvb)
                and all(x is NONE or x in self.V for x in mv))

    def vote_bookkeeping(self, s):
        mb, mvb, mv, msgs = s
        for a in self.A:
            if (mvb[a] == -1) != (mv[a] is NONE) or mvb[a] > mb[a]:
                return False
            if mvb[a] >= 0 and not self.voted(s, a, mvb[a], mv[a]):
                return False
            if any(self.voted(s, a, c, v) for c in self.B if c > mvb[a] for v in self.V):
                return False
        return True

    def msg_1b(self, s):
        mb, _, _, msgs = s
        for m in msgs:
            if m[0] != "1b":
                continue
            _, a, b, mbal, mval = m
            if mb[a] < b:
                return False
            if mbal >= 0 and not self.voted(s, a, mbal, mval):
                return False
            if any(self.voted(s, a, c, v) for c in range(mbal + 1, b) for v in self.V):
                return False
        return True

    def safe_at(self, s, b, v):
        mb = s[0]

        def cannot_vote(a, c):
            return mb[a] > c and not any(self.voted(s, a, c, w) for w in self.V)

        return all(any(all(self.voted(s, a, c, v) or cannot_vote(a, c) for a in q)
                       for q in self.Q) for c in range(b))

    def msg_2a(self, s):
        twos = [m for m in s[3] if m[0] == "2a"]
        for m in twos:
            if any(x[1] == m[1] and x != m for x in twos):
                return False
            if not self.safe_at(s, m[1], m[2]):
                return False
        return True

    def one_vote(self, s):
        return all(not (self.voted(s, a, b, v) and self.voted(s, a, b, w))
                   for a in self.A for b in self.B for v in self.V for w in self.V if v != w)

    def votes_safe(self, s):
        return all(self.safe_at(s, b, v) for a in self.A for b in self.B for v in self.V
                   if self.voted(s, a, b, v))

    def value_chosen(self, s):
        return bool(self.chosen(s))

    PROPERTIES = ("agreement", "type_ok", "vote_bookkeeping", "msg_1b", "msg_2a", "one_vote",
                  "votes_safe", "value_chosen")


def reachable(ref: Reference):
    """(distinct states, generated successors) of a plain breadth-first search."""
    init = ref.init()
    seen = {init}
    queue = deque([init])
    generated = 1
    while queue:
        s = queue.popleft()
        for t in ref.next(s):
            generated += 1
            if t not in seen:
                seen.add(t)
                queue.append(t)
    return seen, generated


def from_model_state(model, state):
    """A ``paxchain.models.lamport_paxos`` state in this module's representation (via ``to_vars``)."""
    v = model.to_vars(state)
    accs = [model.acc_name(a) for a in range(model.n)]
    acc_index = {x: i for i, x in enumerate(accs)}
    val_index = {model.val_name(i): i for i in range(model.nv)}
    val_index[None] = NONE

    def msg(r):
        f = dict(r.fields)
        if r.kind == "1a":
            return ("1a", f["bal"])
        if r.kind == "2a":
            return ("2a", f["bal"], val_index[f["val"]])
        if r.kind == "2b":
            return ("2b", acc_index[f["acc"]], f["bal"], val_index[f["val"]])
        return ("1b", acc_index[f["acc"]], f["bal"], f["mbal"], val_index[f["mval"]])

    return (tuple(v["maxBal"][x] for x in accs), tuple(v["maxVBal"][x] for x in accs),
            tuple(val_index[v["maxVal"][x]] for x in accs), frozenset(map(msg, v["msgs"])))
