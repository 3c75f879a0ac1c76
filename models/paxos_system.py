"""The Paxos of ``impl/paxos.py`` on an adversarial network: an ``ActorSystem`` instance.

Theory of operation. Nodes are ``a1..aN`` (acceptors), ``p1..pM`` (proposers) and ``l1..lK``
(learners), built by ``paxchain.impl.paxos.make_cluster``; the network loses, duplicates and reorders
within the fault budgets, and any node may crash (keeping its persisted state) and restart
(see ``paxchain.models.actor_system``). Proposer ``pi``'s k-th incarnation proposes value
``v((i - 1 + k) mod V) + 1``, so a restarted proposer brings a new client value — which is what
makes a reused ballot harmful. ``max_rounds`` bounds each proposer's rounds (ballots
``(round, pid)``, rounds ``1..max_rounds``): it, the budgets, and the finite messages keep the
state space finite.

History. Lamport's ``msgs`` is "every message ever sent", which a network that drops and
delivers cannot provide, so the system state carries an auxiliary history (like Stateright's
``record_msg_out``): the set of abstract messages ever sent, stored in exactly Lamport's
encoding (a bitmask over ``paxchain.models.lamport_paxos.Messages``: ``Prepare`` is ``1a``, ``Promise``
``1b``, ``Accept`` ``2a``, ``Accepted`` ``2b``; ``Nack`` has no abstract counterpart). It is
what the refinement mapping and the "chosen" half of agreement read; ``history=False`` drops it
(and with it those properties) to measure its cost: states that differ only in a message that
was sent and then dropped or consumed become distinct.

Spent reports. The history leaves out the ``1b`` messages of every ballot that has a ``2a``
(``Messages.drop_spent_reports``): only ``Phase2a(b)`` reads them, and a ``2a`` of ``b``
disables it for good. Keeping them would split states by which stale promises were ever sent
(an acceptor that promised ballot 0 and then 1 against one that promised 1 directly) and
multiplies the states by 5.8 (147,572 against 25,371 at two proposers, one ballot each, no
crash, with symmetry). So refinement is checked against Lamport's Paxos *quotiented by spent
reports*: each step must map to a Lamport step from the compact image, with the spent reports
dropped from the result (``abstract_steps``). The quotient is by a bisimulation, so its
behaviours are exactly Lamport's with spent reports erased, and it has every property of
Lamport's Paxos that does not read spent reports (agreement and chosen among them). What it
cannot see is the content of a ``Promise`` sent for a ballot that already has an ``Accept``,
which no Lamport action reads. ``spent_reports=True`` (``--param spent_reports=1``)
keeps every report and checks refinement to Lamport's Paxos itself (the tests compare both).

Ballots map to Lamport's integer ballots by their order: the sorted list of every ballot the
proposers can use (``(r, p)`` for ``r`` in ``1..max_rounds``, ``p`` in ``1..M``; ``(r, 0)``
under ``ballots_not_unique``) indexed from 0. A handler that sends a ballot outside that list
(a proposer that starts below round 1 or goes on past ``max_rounds``), a value that is not
one of the model's or an acceptor id that is not one is code this model cannot check: the
search stops with a one-line error naming the message (``_check_send``; exit 2).

Variants: every variant in the catalogue ``paxchain.impl.paxos_variants.PAXOS`` — the shipped ones and
any a plugin registers — applied to the cluster before it is put on the network. Among them
``corrupt_storage`` is a fault model, not an implementation bug (a restarted acceptor reads
back a vote whose value was corrupted on disk): it exists to show that validity can fail.
A value that an actor may produce beyond the clients' (``extra_values`` on the actor) joins the
abstract values.

Ignored messages. Each role counts the messages (and timers) it ignores in ``ignored``. The
production roles never send one that another ignores, so the count stays 0; but a variant that
does (an acceptor that answers ``Nack(b, None)``, say) makes it grow at every delivery, and on
the duplicating network the state space is then infinite at every bound. ``tallies=True`` (the
default; ``--param tallies=0`` switches it off) keeps the counts at 0, which is exact because
no property reads them and, checked on every handler call once a count would be non-zero, no
handler does either (``paxchain.models.actor_system``: a handler that reads one switches it off).

Symmetry (opt-in: ``Options(symmetry=True)``, ``--symmetry``) is over the acceptors: the acceptor,
proposer and learner code never singles out an acceptor by its id (quorums are counts of distinct
ids; proposers send to all acceptors, whose order only fixes the order of ``Send`` effects, which
land in a multiset), so renaming acceptors maps behaviours to behaviours and preserves every
property here.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from typing import Any

from paxchain.models.memo import Memo, Memos
from paxchain.models.model import Reduction
from paxchain.models.registry import BadInput
from paxchain.impl import paxos as px
from paxchain.impl.paxos_variants import PAXOS
from paxchain.models.actor_system import (ActorSystem, Node, rename_ids, to_plain,
                                  zero_fields)
from paxchain.models.partition import CutSteps, parse_cut
from paxchain.models.retirement import Retiring
from paxchain.models.subsumption import Subsuming
from paxchain.models.lamport_paxos import LamportPaxos
from paxchain.models.actor_fairness import actor_fairness

__all__ = ["PaxosSystem", "TALLIES", "TIMELY_PARAM", "timely_word"]

TALLIES = ("ignored",)  # the roles' counts of messages and timers they ignore


class PaxosSystem(CutSteps, Retiring, Subsuming, ActorSystem):
    """``paxchain.impl.paxos`` with ``acceptors`` × ``proposers`` × ``learners`` under fault budgets."""

    def __init__(self, acceptors: int = 3, proposers: int = 2, values: int = 2,
                 max_rounds: int = 2, learners: int = 1, network: str = "duplicating",
                 drops: int = 0, duplicates: int = 0, crashes: int = 1, history: bool = True,
                 bury: bool = True, spent_reports: bool = False, crash_points: bool = True,
                 noop: bool = True, tallies: bool = True, subsume: bool = True,
                 retire: bool = True, variant: str | None = None,
                 timely: str = "all", partition: str = "") -> None:
        self._kwargs = dict(acceptors=acceptors, proposers=proposers, values=values,
                            max_rounds=max_rounds, learners=learners, network=network,
                            drops=drops, duplicates=duplicates, crashes=crashes,
                            history=history, bury=bury, spent_reports=spent_reports,
                            crash_points=crash_points, noop=noop, tallies=tallies,
                            subsume=subsume, retire=retire,
                            variant=variant, timely=timely, partition=partition)
        if acceptors < 1 or proposers < 1 or values < 1 or max_rounds < 0 or learners < 0:
            raise ValueError("need acceptors, proposers, values >= 1, max_rounds, learners >= 0")
        if max_rounds == 0 and history:
            raise ValueError("max_rounds=0 (unbounded rounds) records no history: Lamport's "
                             "encoding numbers a finite set of ballots")
        # The timing assumption of the liveness checks (``paxchain.models.actor_fairness``).
        self.timely = timely
        PAXOS.check([variant] if variant is not None else [])
        self.value_names = tuple(f"v{i + 1}" for i in range(values))
        plan = [tuple(self.value_names[(i + k) % values] for k in range(values))
                for i in range(proposers)]
        cluster = PAXOS.apply(variant, px.make_cluster(acceptors, proposers, learners,
                                                       values=plan, max_rounds=max_rounds))
        actors = [(x, a) for x, (a, _) in cluster.items()]
        self.acceptor_ids = tuple(x for x, (_, r) in cluster.items() if r == "acceptor")
        self.proposer_ids = tuple(x for x, (_, r) in cluster.items() if r == "proposer")
        self.learner_ids = tuple(x for x, (_, r) in cluster.items() if r == "learner")
        self.plan = dict(zip(self.proposer_ids, plan))
        self._proposer_actor = {x: a for x, (a, r) in cluster.items() if r == "proposer"}
        self.ballots = tuple(sorted({self._proposer_actor[x].ballot(r)
                                     for x in self.proposer_ids
                                     for r in range(1, max_rounds + 1)}))
        self.ballot_index = {b: i for i, b in enumerate(self.ballots)}
        extra = sorted({v for a, _ in cluster.values() for v in getattr(a, "extra_values", ())}
                       - set(self.value_names))
        abs_values = self.value_names + tuple(extra)
        self.value_index = {v: i for i, v in enumerate(abs_values)}
        self.abstract = LamportPaxos(acceptors, len(abs_values), max(len(self.ballots) - 1, 0))
        self.acc_index = {x: i for i, x in enumerate(self.acceptor_ids)}
        self._learner_set = frozenset(self.learner_ids)
        self._proposer_set = frozenset(self.proposer_ids)
        self.with_history = history
        self.spent_reports = spent_reports
        params = {"acceptors": acceptors, "proposers": proposers, "values": values,
                  "max_rounds": max_rounds, "learners": learners, "network": network}
        if network != "duplicating":
            params.update(drops=drops, duplicates=duplicates)
        params["crashes"] = crashes
        if not history:
            params["history"] = 0
        if not bury:
            params["bury"] = 0
        if spent_reports:
            params["spent_reports"] = 1
        if not crash_points:
            params["crash_points"] = 0
        if not noop:
            params["noop"] = 0
        if not tallies:
            params["tallies"] = 0
        if not subsume:
            params["subsume"] = 0
        self.subsume = subsume
        if not retire:
            params["retire"] = 0
        self.retire = retire
        if timely != "all":
            params["timely"] = TIMELY_PARAM[timely]
        # Links cut for good (``paxchain.models.partition``): their deliveries are no steps, and
        # only acceptors on one side of the cut are interchangeable.
        ids = [x for x, _ in actors]
        self.cut = parse_cut(partition, ids)
        sides = [self.acceptor_ids]
        if self.cut is not None:
            params["partition"] = self.cut.text()
            sides = [tuple(a for a in self.acceptor_ids if self.cut.side(a) == k)
                     for k in sorted({self.cut.side(a) for a in self.acceptor_ids})]
        super().__init__(
            actors, network=network, drops=drops, duplicates=duplicates, crashes=crashes,
            symmetric=sides,
            types=(*px.MESSAGES, px.ProposerState, px.AcceptorState, px.LearnerState),
            record=self._record if history else None, history=0 if history else None,
            rename=self._rename, show_history=self._show_history,
            read_history=self._read_history, dead=self._dead if bury else None,
            crash_points=crash_points, prune_noops=noop,
            tallies=TALLIES if tallies else (), check_send=self._check_send,
            name="paxos-system", params=params,
            variant=variant)
        # The acceptors' entries are the first of a state (``acceptor_entry_ids``).
        self._na = len(self.acceptor_ids)
        if self.ids[:self._na] != self.acceptor_ids:
            raise ValueError("paxos-system: the cluster must list its acceptors first")
        self.spec_memo: dict[str, dict] = Memos()  # the properties' caches, by name
        self._abs_memo: dict[tuple, tuple] = Memo()
        self._acc_memo: dict[int, tuple[int, int, int]] = {}
        self._proj_memo: dict[int, tuple] = {}  # entry id -> the entry as ``projection`` reads it
        self._init_retirement()

    def reductions(self):
        """The actor system's; ``compaction`` of the history (spent reports dropped):
        justified for any code, since the history is auxiliary (no actor reads it) and the
        quotient is a bisimulation of Lamport's Paxos (module docstring); ``retirement`` (the
        reports of retired ballots dropped: premises checked on every step,
        ``paxchain.models.retirement``); and ``subsumption``."""
        compaction = Reduction("compaction", not self.spent_reports,
                               self.off.get("compaction", "by a parameter"))
        retirement = Reduction("retirement", self.retire,
                               self.off.get("retirement", "by a parameter"))
        return (super().reductions()
                + ((compaction, retirement) if self.with_history else ())
                + (self.subsumption_reduction(),))

    def without_reduction(self, name: str, why: str) -> PaxosSystem:
        flags = {"bury": "bury", "noop": "noop", "compaction": "spent_reports",
                 "tallies": "tallies", "subsumption": "subsume", "retirement": "retire"}
        if name == "symmetry":
            return super().without_reduction(name, why)
        if name not in flags:
            raise ValueError(f"paxos-system cannot switch off reduction {name!r}")
        m = type(self)(**{**self._kwargs, flags[name]: name == "compaction"})
        m.off = {**self.off, name: why}
        return m

    # -- the history: Lamport's msgs ------------------------------------------------------
    def abstract_message(self, msg: Any) -> tuple | None:
        """``msg`` as a Lamport message tuple (``("1a", b)``, ...), None for a Nack."""
        bi, vi, ai = self.ballot_index, self.value_index, self.acc_index
        t = type(msg)
        if t is px.Prepare:
            return ("1a", bi[msg.ballot])
        if t is px.Promise:
            if msg.voted_ballot is None:
                return ("1b", ai[msg.acceptor], bi[msg.ballot], -1, -1)
            return ("1b", ai[msg.acceptor], bi[msg.ballot], bi[msg.voted_ballot],
                    vi[msg.voted_value])
        if t is px.Accept:
            return ("2a", bi[msg.ballot], vi[msg.value])
        if t is px.Accepted:
            return ("2b", ai[msg.acceptor], bi[msg.ballot], vi[msg.value])
        return None

    def _check_send(self, src: str, dst: str, msg: Any) -> None:
        """A message whose ballot, value or acceptor the abstraction cannot map (a ballot
        outside ``self.ballots``: a proposer past ``max_rounds`` or below round 1; a value no
        client proposes) is code this model cannot check: a one-line ``ValueError`` naming
        it, as soon as a handler sends it (the checker exits 2), not a ``KeyError`` later."""
        if type(msg) not in (px.Prepare, px.Promise, px.Accept, px.Accepted):
            return  # a Nack has no abstract counterpart
        ballots = (self.ballot_index, "ballots",
                   f"a proposer's rounds are 1..max_rounds={self._kwargs['max_rounds']}: it "
                   f"must start at round 1 and give up after max_rounds")
        if not self.ballots:  # unbounded rounds (max_rounds=0): every ballot is the model's
            ballots = (_AnyBallot(), "ballots", "")
        values = (self.value_index, "values",
                  "a value no client proposed would break validity, but the abstraction "
                  "cannot name it (an actor may declare more in extra_values)")
        domains = {"ballot": ballots, "voted_ballot": ballots, "value": values,
                   "voted_value": values, "acceptor": (self.acc_index, "acceptors", "")}
        for name in (f.name for f in dataclasses.fields(msg) if f.name in domains):
            x = getattr(msg, name)
            known, what, why = domains[name]
            if x is None and name.startswith("voted_"):
                continue  # a Promise that reports no vote
            try:
                ok = x in known
            except TypeError:  # unhashable
                ok = False
            if not ok:
                try:
                    shown = to_plain(msg)
                except TypeError:  # a field of a type traces cannot show
                    shown = repr(msg)
                raise ValueError(
                    f"paxos-system cannot check this code: {src} sends {shown} to "
                    f"{dst}, whose {name.replace('_', ' ')} {x!r} is not one of the model's "
                    f"{what} ({', '.join(map(repr, known))})" + (f"; {why}" if why else ""))

    def _bit(self, am: tuple) -> int:
        m = self.abstract.msgs
        kind = am[0]
        if kind == "1a":
            return m.bit_1a(am[1])
        if kind == "2a":
            return m.bit_2a(am[1], am[2])
        if kind == "2b":
            return m.bit_2b(am[1], am[2], am[3])
        return m.bit_1b(am[1], am[2], am[3], am[4])

    def _record(self, history: int, sent: tuple) -> int:
        for _src, _dst, msg in sent:
            am = self.abstract_message(msg)
            if am is not None:
                history |= 1 << self._bit(am)
        return self._compact(history)

    def _compact(self, msgs: int) -> int:
        """``msgs`` as the history keeps them: without spent reports unless ``spent_reports``."""
        return msgs if self.spent_reports else self.abstract.msgs.drop_spent_reports(msgs)

    def abstract_steps(self, image: tuple, forgotten: int = 0) -> frozenset:
        """The images that a step from abstract state ``image`` may lead to: its Lamport
        successors, with the spent reports dropped as the history drops them (the quotient
        of the module docstring), and the reports of the ballots in ``forgotten`` (those the
        next state's history has forgotten, ``paxchain.models.retirement``)."""
        return frozenset(x[:3] + (self.forget(self._compact(x[3]), forgotten),)
                         for x in self.abstract.next_states(image))

    def _show_history(self, history: Any) -> Any:
        if history is None:
            return None
        return frozenset(self.abstract.messages((None, None, None, history)))

    def _read_history(self, value: Any) -> Any:
        if value is None:
            if self.with_history:
                raise ValueError("history must be a set of messages")
            return None
        if not self.with_history or not isinstance(value, frozenset):
            raise ValueError("history must be a set of Lamport messages")
        n = self.abstract.n
        state = self.abstract.from_vars({"maxBal": {self.abstract.acc_name(a): -1 for a in range(n)},
                                         "maxVBal": {self.abstract.acc_name(a): -1 for a in range(n)},
                                         "maxVal": {self.abstract.acc_name(a): None for a in range(n)},
                                         "msgs": value})
        return state[3]

    def _rename(self, value: Any, mapping: Mapping[str, str]) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and self.with_history:
            return self._rename_history(value, mapping)
        return rename_ids(value, mapping)

    def _rename_history(self, history: int, mapping: Mapping[str, str]) -> int:
        m = self.abstract.msgs
        pa = {self.acc_index[a]: self.acc_index[b] for a, b in mapping.items()
              if a in self.acc_index}
        out = 0
        x = history
        while x:
            low = x & -x
            bit = low.bit_length() - 1
            x ^= low
            msg = m.decode(bit)
            kind = msg[0]
            if kind == "1b":
                bit = m.bit_1b(pa.get(msg[1], msg[1]), msg[2], msg[3], msg[4])
            elif kind == "2b":
                bit = m.bit_2b(pa.get(msg[1], msg[1]), msg[2], msg[3])
            out |= 1 << bit
        return out

    def fingerprint(self, state: tuple) -> int:
        return hash(state)  # a flat tuple of small interned ids (see ActorSystem)

    # -- dead messages ---------------------------------------------------------------------
    def _dead(self, node: str, view: Node, msg: Any) -> bool:
        """Whether ``msg`` can never again change ``node`` (see ``ActorSystem``'s ``dead``).

        Learner: once decided (persisted, kept across restarts) it ignores every message.
        Proposer: it only reacts to a message for its current ballot, in a phase that reads
        that kind (Promise: preparing; Accepted: preparing or accepting, since preparing moves
        on to accepting in the same ballot; Nack: either). Every later ballot has a round
        above ``min(round, persisted round)``: while up the round only grows, and a restart
        resumes one above the persisted round. A message for a ballot whose round is at most
        that and that is not the current ballot in a reading phase is dead. Under
        ``reuse_ballot_after_restart`` the persisted round is 0, so nothing is dead there
        except at a decided learner. Acceptors: never (they answer old ballots with Nacks).
        """
        t = type(msg)
        if t is px.Accepted and node in self._learner_set:
            if view.up:
                return view.state.decided is not None
            return view.durable is not None
        if node not in self._proposer_set or t not in (px.Promise, px.Accepted, px.Nack):
            return False
        actor = self._proposer_actor[node]
        d = view.durable[0] if view.durable is not None else 0
        if view.up:
            st = view.state
            floor = min(st.round, d)
            reading = ((px.PREPARING,) if t is px.Promise
                       else (px.PREPARING, px.ACCEPTING))
            if st.phase in reading and msg.ballot == actor.ballot(st.round):
                return False
        else:
            floor = d
        return msg.ballot[0] <= floor  # every later ballot is (r, pid) with r > floor

    # -- the abstraction function ------------------------------------------------------------
    def _acceptor_abs(self, entry: int) -> tuple[int, int, int]:
        """(maxBal, maxVBal, maxVal) of one acceptor entry, read from its *durable* value."""
        r = self._acc_memo.get(entry)
        if r is None:
            durable = self.entries.values[entry][1]
            try:
                promised, vote = durable if durable is not None else (None, None)
                mb = -1 if promised is None else self.ballot_index[promised]
                if vote is None:
                    r = (mb, -1, -1)
                else:
                    r = (mb, self.ballot_index[vote[0]], self.value_index[vote[1]])
            except (KeyError, TypeError, IndexError, ValueError):
                raise ValueError(
                    f"paxos-system cannot check this code: an acceptor persisted (promise, "
                    f"vote) = {durable!r}, which names a ballot or value that is not one of "
                    f"the model's (ballots {', '.join(map(str, self.ballots))}; values "
                    f"{', '.join(map(str, self.value_index))})") from None
            self._acc_memo[entry] = r
        return r

    def acceptor_entry_ids(self, state: tuple) -> tuple[int, ...]:
        """The entry ids of the acceptors, in ``acceptor_ids`` order."""
        return state[:self._na]

    def abstraction(self, state: tuple) -> tuple:
        """The Lamport state ``(maxBal, maxVBal, maxVal, msgs)`` this system state maps to.

        ``maxBal[a]``, ``maxVBal[a]`` and ``maxVal[a]`` are read from acceptor ``a``'s
        *persisted* ``(promised, vote)`` — what Lamport's acceptor has committed to, the part
        that survives a crash — and ``msgs`` is the history. An acceptor that replies before
        persisting therefore fails refinement at that very reply.
        """
        accs, h = state[:self._na], state[self.history_at]
        key = accs + (h,)
        r = self._abs_memo.get(key)
        if r is None:
            parts = [self._acceptor_abs(e) for e in accs]
            r = (tuple(p[0] for p in parts), tuple(p[1] for p in parts),
                 tuple(p[2] for p in parts), self.hist.values[h])
            self._abs_memo[key] = r
        return r

    def projection(self, state: tuple) -> tuple:
        """What the properties read, as the reductions preserve it: node entries, outputs, and
        the history without spent reports (what ``compaction`` keeps) and without the reports
        of the ballots retired in ``state`` (what ``retirement`` keeps), on or off."""
        h = self.history(state)
        if self.with_history:
            h = self.forget(h, self.retired(state))
        memo = self._proj_memo
        entries = []
        for x in self.entry_ids(state):
            y = memo.get(x)
            if y is None:
                y = memo[x] = self._counts_off(self.entries.values[x])
            entries.append(y)
        return (tuple(entries),
                self.abstract.msgs.drop_spent_reports(h) if self.with_history else h,
                self.outputs(state))

    @staticmethod
    def _counts_off(entry: tuple) -> tuple:
        """A node entry with the ``ignored`` counts of its state at 0: no property reads them,
        and the ``tallies`` reduction keeps them at 0."""
        up, durable, st, timers = entry
        if st is None or not dataclasses.is_dataclass(st):
            return entry
        names = [f.name for f in dataclasses.fields(st) if f.name in TALLIES and f.init]
        return (up, durable, zero_fields(st, names), timers)

    # -- what the specs read -------------------------------------------------------------------
    def promise(self, node: Node) -> Any:
        """An acceptor's current promise: its volatile one while up, its persisted one while
        down (what it will restart with). ``None`` when it has promised nothing."""
        if node.up:
            return node.state.promised
        return node.durable[0] if node.durable is not None else None

    def decisions(self, state: tuple) -> frozenset:
        """Values output as decided by some learner (a decision survives its learner's crash)."""
        return frozenset(v[1] for _, v in self.outputs(state)
                         if isinstance(v, tuple) and len(v) == 2 and v[0] == "decided")

    def proposed(self) -> frozenset:
        """Every value some proposer incarnation may propose (its clients' requests)."""
        return frozenset(itertools.chain.from_iterable(self.plan.values()))

    def fairness(self):
        """Fair delivery, timers and restarts, and the timing assumption ``timely`` names
        (``paxchain.models.actor_fairness``)."""
        return actor_fairness(self, self.timely)


class _AnyBallot:
    """Every well-formed ballot (the ballots of unbounded rounds)."""

    def __contains__(self, b: Any) -> bool:
        return px.valid_ballot(b)

    def __iter__(self):
        return iter(("(round, pid) for any round >= 0",))


# ``timely``'s values as ``-p timely=`` spells them: 1, own, 0.
TIMELY_PARAM = {"all": 1, "own": "own", "none": 0}


def timely_word(text: Any) -> str:
    """``-p timely=``'s text as the word ``actor_fairness`` takes (``BadInput`` otherwise)."""
    words = {"1": "all", "all": "all", "own": "own", "0": "none", "none": "none"}
    if str(text) not in words:
        raise BadInput(f"{text!r} is not a timing assumption (known: 1: every timer waits for "
                       "the whole network; own: a node's timer waits for its own messages; "
                       "0: none)")
    return words[str(text)]
