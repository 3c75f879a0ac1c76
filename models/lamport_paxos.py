"""Lamport's single-decree Paxos (``../shared/specs/lamport-paxos.md``), transcribed exactly.

Theory of operation. The state is exactly the spec's four variables and nothing else::

    (maxBal, maxVBal, maxVal, msgs)

``maxBal``, ``maxVBal`` and ``maxVal`` are tuples indexed by acceptor (values are numbered from
0, ``None`` is stored as ``-1``); ``msgs``, the set of every message ever sent, is stored as a
bitmask over the finite universe of well-typed messages (``Messages``), so adding a message is
one ``|`` and the invariants reduce to a few masks and table look-ups. ``to_vars`` decodes a
state into the spec's own terms (maps from acceptor names, a set of message records).

Actions, as in the spec (the next-state relation is their union):

- ``Phase1a(bal)`` — add ``1a(bal)``; no guard.
- ``Phase1b(a, bal)`` — for a ``1a(bal)`` sent with ``bal > maxBal[a]``: promise it and report the
  highest vote in ``1b(a, bal, maxVBal[a], maxVal[a])``.
- ``Phase2a(bal, val)`` — no ``2a`` for ``bal`` yet, and some quorum has all sent ``1b`` for
  ``bal`` whose highest reported vote (if any) is for ``val``: add ``2a(bal, val)``.
- ``Phase2b(a, bal, val)`` — for a ``2a(bal, val)`` sent with ``bal >= maxBal[a]``: vote for it.

Seeded bugs (``VARIANTS``) change exactly one rule each: ``RULES`` holds, per variant, the rules
it changes, picked once when the model is built (no step asks which variant it runs).
"""

from __future__ import annotations

import collections
import itertools
import operator
from dataclasses import dataclass, field
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from paxchain.models.model import Label, Model, Record
from paxchain.models.registry import BadInput, ModelEntry, Param, int_param

__all__ = ["LamportPaxos", "Messages", "VARIANTS", "majority_quorums"]

LEADERS = "leaders"
_WORD = (1 << 60) - 1
VARIANTS = {
    "ignore_votes": "Phase2a ignores the votes reported in 1b messages: any value may be proposed.",
    "small_quorums": "Quorums of size n // 2, which need not intersect.",
    "phase2b_ignores_promise": "Phase2b votes even when bal < maxBal[a], and lowers maxBal to it.",
    "duplicate_2a": "Phase2a may send a second 2a for a ballot that already has one.",
    "promise_off_by_one": "Phase1b records the promise as bal + 1, which can leave the ballot range.",
    "strict_phase2b": "Phase2b needs bal > maxBal[a]: an acceptor cannot vote in a ballot it "
                      "promised, so no value is ever chosen.",
}


def majority_quorums(n: int) -> tuple[frozenset[int], ...]:
    """All subsets of size ``n // 2 + 1`` (the minimal majorities)."""
    return tuple(frozenset(c) for c in itertools.combinations(range(n), n // 2 + 1))


def _small_quorums(n: int) -> tuple[frozenset[int], ...]:
    """All subsets of size ``n // 2`` (at least 1), which need not intersect."""
    return tuple(frozenset(c) for c in itertools.combinations(range(n), max(1, n // 2)))


def _vote_any(bal: int, max_bal: int) -> bool:
    return True


@dataclass(frozen=True)
class Rules:
    """The rules of the protocol that a seeded bug may change; the defaults are the spec's."""

    # The quorums when none are given: the minimal majorities of n acceptors.
    quorums: Callable[[int], tuple[frozenset[int], ...]] = majority_quorums
    # Phase1b records the promise for a 1a(bal) as maxBal[a] = bal + promise_offset.
    promise_offset: int = 0
    # Phase2a may send a second, different 2a for a ballot that already has one.
    repeat_2a: bool = False
    # Phase2a may propose any value once a quorum has promised, whatever votes they reported.
    ignore_votes: bool = False
    # Phase2b(a, bal, val) is enabled when may_vote(bal, maxBal[a]).
    may_vote: Callable[[int, int], bool] = operator.ge


RULES: dict[str | None, Rules] = {
    None: Rules(),
    "ignore_votes": Rules(ignore_votes=True),
    "small_quorums": Rules(quorums=_small_quorums),
    "phase2b_ignores_promise": Rules(may_vote=_vote_any),
    "duplicate_2a": Rules(repeat_2a=True),
    "promise_off_by_one": Rules(promise_offset=1),
    "strict_phase2b": Rules(may_vote=operator.gt),
}
assert RULES.keys() == {None, *VARIANTS}


def _bits(x: int) -> Iterator[int]:
    while x:
        low = x & -x
        yield low.bit_length() - 1
        x ^= low


@dataclass(frozen=True)
class Messages:
    """The finite universe of well-typed messages, each with one bit of ``msgs``.

    Layout: ``1a(b)``; ``2a(b, v)``; per acceptor its ``2b`` votes, bit ``b * V + v`` of its own
    block (so ``votes(msgs, a)`` is one shift and mask); per acceptor and ballot its ``1b``
    reports, bit ``w`` of its block where ``w = 0`` is "no vote" and ``w = 1 + c * V + v`` reports
    the vote ``(c, v)``.
    """

    n: int
    nv: int
    max_ballot: int

    def __post_init__(self) -> None:
        # The layout's widths and offsets, computed once: the search reads them per step.
        n, nv, nb = self.n, self.nv, self.max_ballot + 1
        derived = {"nb": nb, "vote_width": nb * nv, "report_width": 1 + nb * nv,
                   "base_2a": nb, "base_2b": nb + nb * nv}
        derived["base_1b"] = derived["base_2b"] + n * nb * nv
        derived["size"] = derived["base_1b"] + n * nb * derived["report_width"]
        for key, value in derived.items():
            object.__setattr__(self, key, value)

    # Set by __post_init__ (declared for type checkers; not dataclass fields).
    nb: int = field(init=False, repr=False, compare=False)
    vote_width: int = field(init=False, repr=False, compare=False)
    report_width: int = field(init=False, repr=False, compare=False)
    base_2a: int = field(init=False, repr=False, compare=False)
    base_2b: int = field(init=False, repr=False, compare=False)
    base_1b: int = field(init=False, repr=False, compare=False)
    size: int = field(init=False, repr=False, compare=False)

    def bit_1a(self, b: int) -> int:
        return b

    def bit_2a(self, b: int, v: int) -> int:
        return self.base_2a + b * self.nv + v

    def bit_2b(self, a: int, b: int, v: int) -> int:
        return self.base_2b + a * self.vote_width + b * self.nv + v

    def report_index(self, mbal: int, mval: int) -> int:
        return 0 if mbal < 0 else 1 + mbal * self.nv + mval

    def bit_1b(self, a: int, b: int, mbal: int, mval: int) -> int:
        return (self.base_1b + (a * self.nb + b) * self.report_width
                + self.report_index(mbal, mval))

    def votes(self, msgs: int, a: int) -> int:
        """Acceptor ``a``'s votes: bit ``b * V + v`` set when ``2b(a, b, v)`` was sent."""
        return (msgs >> (self.base_2b + a * self.vote_width)) & ((1 << self.vote_width) - 1)

    def reports(self, msgs: int, a: int, b: int) -> int:
        """The ``1b`` messages ``a`` sent for ballot ``b``, as a mask of report indices."""
        shift = self.base_1b + (a * self.nb + b) * self.report_width
        return (msgs >> shift) & ((1 << self.report_width) - 1)

    def report_block(self, msgs: int, a: int) -> int:
        """Every ``1b`` message of acceptor ``a``, as its block of bits."""
        width = self.nb * self.report_width
        return (msgs >> (self.base_1b + a * width)) & ((1 << width) - 1)

    def drop_spent_reports(self, msgs: int) -> int:
        """``msgs`` without the *spent* reports: the ``1b`` messages of every ballot that has a
        ``2a`` in ``msgs``.

        Only ``Phase2a(b)`` reads the ``1b`` messages of ballot ``b``, and a ``2a`` of ``b``
        disables it for good. So states that differ only in spent reports have the same
        enabled actions, whose successors again differ only in spent reports: the relation is
        a bisimulation, and this function maps each state to a canonical member of its class.
        Properties that do not read ``1b`` messages (agreement, chosen) cannot tell the
        members apart; ``msg_1b`` can, and is not checked on compact states.
        """
        return self.drop_reports(msgs, self.ballots_with_2a(msgs))

    def ballots_with_2a(self, msgs: int) -> int:
        """The ballots with a ``2a`` in ``msgs``, as a bit mask over ballots (bit ``b``)."""
        sent_2a = msgs >> self.base_2a & ((1 << self.nb * self.nv) - 1)
        all_v = (1 << self.nv) - 1
        out = b = 0
        while sent_2a:
            if sent_2a & all_v:
                out |= 1 << b
            sent_2a >>= self.nv
            b += 1
        return out

    def drop_reports(self, msgs: int, ballots: int) -> int:
        """``msgs`` without the ``1b`` messages of the ballots in the bit mask ``ballots``."""
        b = 0
        while ballots:
            if ballots & 1:
                msgs &= ~self.ballot_reports_mask(b)
            ballots >>= 1
            b += 1
        return msgs

    def ballot_reports_mask(self, b: int) -> int:
        """The bits of every ``1b`` message of ballot ``b``."""
        block = (1 << self.report_width) - 1
        mask = 0
        for a in range(self.n):
            mask |= block << (self.base_1b + (a * self.nb + b) * self.report_width)
        return mask

    def decode(self, bit: int) -> tuple:
        """The message at ``bit`` as a tuple ``(kind, fields...)`` of numbers."""
        if bit < self.base_2a:
            return ("1a", bit)
        if bit < self.base_2b:
            b, v = divmod(bit - self.base_2a, self.nv)
            return ("2a", b, v)
        if bit < self.base_1b:
            a, rest = divmod(bit - self.base_2b, self.vote_width)
            b, v = divmod(rest, self.nv)
            return ("2b", a, b, v)
        if bit < self.size:
            ab, w = divmod(bit - self.base_1b, self.report_width)
            a, b = divmod(ab, self.nb)
            mbal, mval = (-1, -1) if w == 0 else divmod(w - 1, self.nv)
            return ("1b", a, b, mbal, mval)
        raise ValueError(f"bit {bit} is outside the message universe")


class LamportPaxos(Model):
    """Lamport's Paxos over ``acceptors`` × ``values`` × ballots ``0..max_ballot``."""

    def __init__(self, acceptors: int = 3, values: int = 2, max_ballot: int = 1,
                 quorums: tuple[frozenset[int], ...] | None = None,
                 variant: str | None = None) -> None:
        if acceptors < 1 or values < 1 or max_ballot < 0:
            raise ValueError("need acceptors >= 1, values >= 1 and max_ballot >= 0")
        if variant is not None and variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}")
        self.rules = RULES[variant]
        if quorums is None:
            quorums = self.rules.quorums(acceptors)
        if not quorums or any(not q or not q <= set(range(acceptors)) for q in quorums):
            raise ValueError("quorums must be non-empty sets of acceptors")
        params: dict[str, Any] = {"acceptors": acceptors, "values": values,
                                  "max_ballot": max_ballot}
        if set(quorums) != set(majority_quorums(acceptors)):
            params["quorums"] = ",".join("+".join(self.acc_name(a) for a in sorted(q))
                                         for q in quorums)
        super().__init__(name="lamport-paxos", params=params, variant=variant)
        self.n, self.nv, self.max_ballot = acceptors, values, max_ballot
        self.quorums = tuple(quorums)
        self.msgs = Messages(acceptors, values, max_ballot)
        self._tables()

    # -- names --------------------------------------------------------------------------
    @staticmethod
    def acc_name(a: int) -> str:
        return f"a{a + 1}"

    @staticmethod
    def val_name(v: int) -> str | None:
        return None if v < 0 else f"v{v + 1}"

    def lanes(self) -> tuple[str, ...]:
        return tuple(self.acc_name(a) for a in range(self.n)) + (LEADERS,)

    # -- precomputed tables -------------------------------------------------------------
    def _tables(self) -> None:
        m, n, nv, nb = self.msgs, self.n, self.nv, self.msgs.nb
        self.quorum_masks = tuple(sum(1 << a for a in q) for q in self.quorums)
        # has_quorum[S]: the acceptor set S (a bitmask) contains a quorum.
        self.has_quorum = tuple(any(s & q == q for q in self.quorum_masks) for s in range(1 << n))
        self.value_mask = (1 << nv) - 1
        # For a 1b report mask at one ballot: the highest reported vote ballot (-1 if none)
        # and the mask of values reported at that ballot.
        top = []
        for g in range(1 << m.report_width):
            best, vals = -1, 0
            for w in _bits(g):
                if w == 0:
                    continue
                c, v = divmod(w - 1, nv)
                if c > best:
                    best, vals = c, 1 << v
                elif c == best:
                    vals |= 1 << v
            top.append((best, vals))
        self.report_top = tuple(top)
        self.mask_1a = (1 << nb) - 1
        self.ballots = tuple(range(nb))
        self.value_bits = tuple(tuple(_bits(x)) for x in range(1 << nv))
        self.universe = (1 << m.size) - 1
        self.mask_2b = ((1 << m.base_1b) - 1) & ~((1 << m.base_2b) - 1)
        self.mask_2a = ((1 << m.base_2b) - 1) & ~((1 << m.base_2a) - 1)
        self.mask_2a_2b = self.mask_2a | self.mask_2b
        # The hot path's look-ups (``_steps``, ``_proposable``): the ballots of a 1a mask; per
        # ballot the shift of its 2a block; per acceptor and ballot the shift of its 1b block;
        # per acceptor, ballot and value the bit of its 2b.
        self.ballot_bits = tuple(tuple(_bits(x)) for x in range(1 << nb))
        self.shift_2a = tuple(m.bit_2a(b, 0) for b in range(nb))
        self.shift_1b = tuple(tuple(m.base_1b + (a * nb + b) * m.report_width for b in range(nb))
                              for a in range(n))
        self.flag_2b = tuple(tuple(tuple(1 << m.bit_2b(a, b, v) for v in range(nv))
                                   for b in range(nb)) for a in range(n))
        self.report_mask = (1 << m.report_width) - 1
        # Memo tables for the properties (specs.lamport_paxos), keyed by the part of the state
        # each one reads: results depend on this instance's parameters, so they live here.
        self.memo: dict[str, dict] = collections.defaultdict(dict)

    # -- the transition system ----------------------------------------------------------
    def initial_states(self):
        n = self.n
        return [((-1,) * n, (-1,) * n, (-1,) * n, 0)]

    ACTIONS = ("Phase1a", "Phase1b", "Phase2a", "Phase2b")

    def actions(self) -> tuple[str, ...]:
        return self.ACTIONS

    def next_states(self, state):
        return self._steps(state, None)

    def next_states_tallied(self, state, tally):
        return self._steps(state, None, tally)

    def successors(self, state):
        return self._steps(state, "label")

    def _steps(self, state, mode: str | None, tally: dict[str, int] | None = None) -> list:
        """Every enabled action's successor, in a fixed order: just the states when ``mode`` is
        None (the search's hot path builds no labels), else ``(label, state)`` pairs.
        ``tally``, when given, counts the successors of each action (coverage)."""
        max_bal, max_vbal, max_val, msgs = state
        m, nv, n, rules = self.msgs, self.nv, self.n, self.rules
        promise_offset, repeat_2a, may_vote = rules.promise_offset, rules.repeat_2a, rules.may_vote
        value_mask, value_bits = self.value_mask, self.value_bits
        labelled = mode is not None
        out = []
        append = out.append
        mark = 0
        # Phase1a(bal)
        for b in self.ballots:
            t = (max_bal, max_vbal, max_val, msgs | (1 << b))
            append(self._emit(mode, t, "Phase1a", (("bal", b),), LEADERS, (), (("1a", b),))
                   if labelled else t)
        if tally is not None:
            tally["Phase1a"] += len(out) - mark
            mark = len(out)
        # Phase1b(a, bal)
        sent_1a = self.ballot_bits[msgs & self.mask_1a]
        shift_1b = self.shift_1b
        for a in range(n):
            mb = max_bal[a]
            mvb = max_vbal[a]
            report = 0 if mvb < 0 else 1 + mvb * nv + max_val[a]
            for b in sent_1a:
                if b > mb:
                    bit = shift_1b[a][b] + report
                    t = (max_bal[:a] + (b + promise_offset,) + max_bal[a + 1:], max_vbal, max_val,
                         msgs | (1 << bit))
                    append(self._emit(
                        mode, t, "Phase1b", (("a", a), ("bal", b)), a, (("1a", b),),
                        (m.decode(bit),)) if labelled else t)
        if tally is not None:
            tally["Phase1b"] += len(out) - mark
            mark = len(out)
        # Phase2a(bal, val)
        shift_2a = self.shift_2a
        for b in self.ballots:
            sent_2a = (msgs >> shift_2a[b]) & value_mask
            if sent_2a and not repeat_2a:
                continue
            allowed, witness = self._proposable(msgs, b)
            for v in value_bits[allowed]:
                if sent_2a >> v & 1:
                    continue  # duplicate_2a: a second, *different* 2a for this ballot
                t = (max_bal, max_vbal, max_val, msgs | (1 << (shift_2a[b] + v)))
                append(self._emit(
                    mode, t, "Phase2a", (("bal", b), ("val", v)), LEADERS,
                    tuple(("1b", a, b, *self._report(msgs, a, b)) for a in witness.get(v, ())),
                    (("2a", b, v),)) if labelled else t)
        if tally is not None:
            tally["Phase2a"] += len(out) - mark
            mark = len(out)
        # Phase2b(a, bal, val)
        sent = msgs >> m.base_2a
        flag_2b = self.flag_2b
        for b in self.ballots:
            sent_b = (sent >> (b * nv)) & value_mask
            if not sent_b:
                continue
            voters = [a for a in range(n) if may_vote(b, max_bal[a])]
            for v in value_bits[sent_b]:
                for a in voters:
                    t = (max_bal[:a] + (b,) + max_bal[a + 1:],
                         max_vbal[:a] + (b,) + max_vbal[a + 1:],
                         max_val[:a] + (v,) + max_val[a + 1:],
                         msgs | flag_2b[a][b][v])
                    append(self._emit(
                        mode, t, "Phase2b", (("a", a), ("bal", b), ("val", v)), a,
                        (("2a", b, v),), (("2b", a, b, v),)) if labelled else t)
        if tally is not None:
            tally["Phase2b"] += len(out) - mark
        return out

    def _proposable(self, msgs: int, b: int) -> tuple[int, dict[int, tuple[int, ...]]]:
        """Values Phase2a may propose at ballot ``b`` (a mask) and, per value, a quorum allowing it."""
        mask = self.report_mask
        reports = [(msgs >> row[b]) & mask for row in self.shift_1b]
        promised = 0
        for a, r in enumerate(reports):
            if r:
                promised |= 1 << a
        if not self.has_quorum[promised]:
            return 0, {}
        allowed, witness = 0, {}
        report_top, ignore_votes, value_mask = self.report_top, self.rules.ignore_votes, self.value_mask
        for q, qmask in zip(self.quorums, self.quorum_masks):
            if promised & qmask != qmask:
                continue
            if ignore_votes:
                vals = value_mask
            else:
                best, vals = -1, 0
                for a in q:
                    c, vs = report_top[reports[a]]
                    if c > best:
                        best, vals = c, vs
                    elif c == best:
                        vals |= vs
                if best < 0:
                    vals = value_mask
            for v in self.value_bits[vals & ~allowed]:
                witness[v] = tuple(sorted(q))
            allowed |= vals
        return allowed, witness

    def _report(self, msgs: int, a: int, b: int) -> tuple[int, int]:
        g = self.msgs.reports(msgs, a, b)
        w = g.bit_length() - 1
        return (-1, -1) if w <= 0 else divmod(w - 1, self.nv)

    def _emit(self, mode: str, t, action: str, args, lane, reads, sends):
        return self._label(action, args, lane, reads, sends), t

    def _label(self, action: str, args, lane, reads, sends) -> Label:
        return Label(action, tuple((k, self._arg(k, v)) for k, v in args),
                     lane if isinstance(lane, str) else self.acc_name(lane),
                     tuple(self.record(x) for x in reads), tuple(self.record(x) for x in sends))

    def _arg(self, key: str, value: int) -> Any:
        return self.acc_name(value) if key == "a" else self.val_name(value) if key == "val" else value

    # -- the state in the spec's terms --------------------------------------------------
    def record(self, msg: tuple) -> Record:
        """A numeric message tuple as a spec record, e.g. ``1b(acc=a1, bal=0, mbal=-1, mval=None)``."""
        kind = msg[0]
        if kind == "1a":
            return Record.of("1a", bal=msg[1])
        if kind == "2a":
            return Record.of("2a", bal=msg[1], val=self.val_name(msg[2]))
        if kind == "2b":
            return Record.of("2b", acc=self.acc_name(msg[1]), bal=msg[2], val=self.val_name(msg[3]))
        return Record.of("1b", acc=self.acc_name(msg[1]), bal=msg[2], mbal=msg[3],
                         mval=self.val_name(msg[4]))

    def messages(self, state) -> frozenset[Record]:
        return frozenset(self.record(self.msgs.decode(i)) for i in _bits(state[3]))

    def variables(self) -> tuple[str, ...]:
        return ("maxBal", "maxVBal", "maxVal", "msgs")

    def to_vars(self, state) -> dict[str, Any]:
        max_bal, max_vbal, max_val, _ = state
        accs = [self.acc_name(a) for a in range(self.n)]
        return {"maxBal": dict(zip(accs, max_bal)), "maxVBal": dict(zip(accs, max_vbal)),
                "maxVal": {x: self.val_name(v) for x, v in zip(accs, max_val)},
                "msgs": self.messages(state)}

    def from_vars(self, values: Mapping[str, Any]):
        accs = [self.acc_name(a) for a in range(self.n)]
        vals = {self.val_name(v): v for v in range(self.nv)}
        vals[None] = -1

        def per_acceptor(name: str, conv) -> tuple:
            d = values[name]
            if not isinstance(d, dict) or sorted(d) != sorted(accs):
                raise ValueError(f"{name} must map exactly the acceptors {accs}")
            return tuple(conv(d[x]) for x in accs)

        def ballot(x: Any) -> int:
            if isinstance(x, bool) or not isinstance(x, int):
                raise ValueError(f"ballot {x!r} is not an integer")
            return x

        def value(x: Any) -> int:
            if x not in vals:
                raise ValueError(f"{x!r} is not a value or None")
            return vals[x]

        acc_index = {x: i for i, x in enumerate(accs)}
        msgs = 0
        raw = values["msgs"]
        if not isinstance(raw, frozenset):
            raise ValueError("msgs must be a set")
        m = self.msgs
        for r in raw:
            try:
                if not isinstance(r, Record):
                    raise ValueError
                f = dict(r.fields)
                b = f["bal"]
                if not (isinstance(b, int) and 0 <= b <= self.max_ballot):
                    raise ValueError
                if r.kind == "1a" and len(f) == 1:
                    bit = m.bit_1a(b)
                elif r.kind == "2a" and len(f) == 2:
                    bit = m.bit_2a(b, vals[f["val"]])
                elif r.kind == "2b" and len(f) == 3:
                    bit = m.bit_2b(acc_index[f["acc"]], b, vals[f["val"]])
                elif r.kind == "1b" and len(f) == 4:
                    mb, mv = f["mbal"], vals[f["mval"]]
                    if not (isinstance(mb, int) and -1 <= mb <= self.max_ballot) or (mb < 0) != (mv < 0):
                        raise ValueError
                    bit = m.bit_1b(acc_index[f["acc"]], b, mb, mv)
                else:
                    raise ValueError
                if "val" in f and f["val"] is None:
                    raise ValueError
            except (ValueError, KeyError, TypeError):
                raise ValueError(f"{r} is not a well-formed message") from None
            msgs |= 1 << bit
        return (per_acceptor("maxBal", ballot), per_acceptor("maxVBal", ballot),
                per_acceptor("maxVal", value), msgs)

    def fingerprint(self, state) -> int:
        """``hash`` of the state with ``msgs`` split into words below 2**61 (see Model)."""
        msgs = state[3]
        if not msgs >> 60:
            return hash(state)
        if not msgs >> 120:
            return hash((state[0], state[1], state[2], msgs & _WORD, msgs >> 60))
        words = []
        while msgs:
            words.append(msgs & _WORD)
            msgs >>= 60
        return hash((state[0], state[1], state[2], *words))

    # -- symmetry -----------------------------------------------------------------------
    @property
    def has_symmetry(self) -> bool:
        full = set(self.quorums)
        return all({frozenset(p[a] for a in q) for q in full} == full
                   for p in itertools.permutations(range(self.n)))

    def representative(self, state):
        """The least image of the state under all acceptor × value permutations.

        Images compare as tuples ``(maxBal, maxVBal, maxVal, msgs)``, so the search narrows
        stage by stage: first the acceptor permutations giving the least ``(maxBal, maxVBal)``,
        then the value permutations giving the least ``maxVal``; only the survivors pay for
        permuting ``msgs`` (table look-ups, a byte at a time).
        """
        max_bal, max_vbal, max_val, msgs = state
        best, tied = None, []
        for order, vperms in self._perm_tables():
            key = (order(max_bal), order(max_vbal))
            if best is None or key < best:
                best, tied = key, [(order, vperms)]
            elif key == best:
                tied.append((order, vperms))
        best_val, tables = None, []
        for order, vperms in tied:
            vals = order(max_val)
            for vmap, table in vperms:
                img = tuple([vmap[v] for v in vals])
                if best_val is None or img < best_val:
                    best_val, tables = img, [table]
                elif img == best_val:
                    tables.append(table)
        chunks = [(i, byte) for i in range(self._nchunks)
                  if (byte := (msgs >> (8 * i)) & 0xFF)]
        best_msgs = None
        for table in tables:
            pm = 0
            for i, byte in chunks:
                pm |= table[i][byte]
            if best_msgs is None or pm < best_msgs:
                best_msgs = pm
        return (best[0], best[1], best_val, best_msgs)

    def _perm_tables(self):
        """Per acceptor permutation: a tuple-reordering function and, per value permutation,
        the value map (a list indexed by value, ``[-1]`` mapping None to None) and the
        byte-wise tables that permute ``msgs``. Built on first use."""
        cached = getattr(self, "_perms", None)
        if cached is not None:
            return cached
        m = self.msgs
        self._nchunks = (m.size + 7) // 8
        perms = []
        for ap in itertools.permutations(range(self.n)):
            # ap[new] = old: the image's acceptor `new` is the original acceptor ap[new].
            inv_a = {old: new for new, old in enumerate(ap)}

            def order(t: tuple[int, ...], ap: tuple[int, ...] = ap) -> tuple[int, ...]:
                return tuple([t[x] for x in ap])

            vperms = []
            for vperm in itertools.permutations(range(self.nv)):
                inv_v = {old: new for new, old in enumerate(vperm)}
                vp = {-1: -1, **inv_v}
                vmap = [inv_v[v] for v in range(self.nv)] + [-1]
                bitmap = [self._permute_bit(i, inv_a, vp) for i in range(m.size)]
                table = []
                for c in range(self._nchunks):
                    row = [0] * 256
                    for byte in range(1, 256):
                        acc = 0
                        for j in range(8):
                            if byte >> j & 1 and 8 * c + j < m.size:
                                acc |= 1 << bitmap[8 * c + j]
                        row[byte] = acc
                    table.append(row)
                vperms.append((vmap, table))
            perms.append((order, vperms))
        self._perms = perms
        return perms

    def _permute_bit(self, bit: int, pa: dict, pv: dict) -> int:
        m = self.msgs
        msg = m.decode(bit)
        kind = msg[0]
        if kind == "1a":
            return bit
        if kind == "2a":
            return m.bit_2a(msg[1], pv[msg[2]])
        if kind == "2b":
            return m.bit_2b(pa[msg[1]], msg[2], pv[msg[3]])
        return m.bit_1b(pa[msg[1]], msg[2], msg[3], pv[msg[4]])


# -- the CLI's view: parameters, variants, default checks ----------------------------------

def _parse_quorums(text: str):
    """``majority`` (the default), or quorums as ``a1+a2,a2+a3,...``."""
    if text in ("", "majority"):
        return None
    quorums = []
    for part in text.split(","):
        members = set()
        for name in part.split("+"):
            name = name.strip()
            if not (name.startswith("a") and name[1:].isdigit() and int(name[1:]) >= 1):
                raise BadInput(f"{name!r} is not an acceptor name like a1")
            members.add(int(name[1:]) - 1)
        quorums.append(frozenset(members))
    return tuple(quorums)


def _build(variant=None, acceptors=3, values=2, max_ballot=1, quorums=None):
    if quorums is not None and any(max(q) >= acceptors for q in quorums):
        raise ValueError(f"a quorum names an acceptor beyond a{acceptors}")
    return LamportPaxos(acceptors, values, max_ballot, quorums, variant)


def _entries():
    return [ModelEntry(
        name="lamport-paxos",
        summary="Lamport's single-decree Paxos (maxBal, maxVBal, maxVal, msgs)",
        params=(Param("acceptors", int_param(1, 9), 3, "number of acceptors a1..aN"),
                Param("values", int_param(1, 9), 2, "number of values v1..vK"),
                Param("max_ballot", int_param(0, 9), 1, "ballots are 0..max_ballot"),
                Param("quorums", _parse_quorums, None,
                      "majority (minimal majorities) or a1+a2,a2+a3,...")),
        variants=VARIANTS,
        build=_build,
        reduction_bounds=({"acceptors": 3, "values": 2, "max_ballot": 1},),
    )]


ENTRIES = _entries()
