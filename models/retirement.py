"""Retired reports: the Paxos system's history forgets the ``1b`` reports of every ballot that
no proposer can take to phase 2 any more.

Theory of operation. The history (``paxchain.models.paxos_system``) is Lamport's ``msgs``, an
auxiliary variable: no handler reads it, only the properties do. Among Lamport's actions only
``Phase2a(b, v)`` reads ``1b`` messages, and only those of ballot ``b``; in the system it is a
step that sends ``Accept(b, v)``. A ballot is *retired* in a state when every proposer whose
ballots include it is, by the model's ``dead`` hook (``PaxosSystem._dead``), done with every
``Promise`` of it: it has moved past the ballot or left its preparing phase. After every step
the history drops the reports of the ballots retired in the new state, so states that differ
only in such reports merge.

Two premises make that exact, and both are checked on every step the search takes, for the
code under check (``ReductionUnsound("retirement", ...)``, and the search is redone with the
whole history, where one fails):

1. *permanence*: a ballot retired before a step is retired after it;
2. *no late phase 2*: no step sends an ``Accept`` in a ballot retired before it.

The argument. No handler reads the history, so node entries, the network, budgets and outputs
evolve exactly as without the reduction, and merged states have the same futures; every step
of the unreduced system is one the search takes (symmetry renames acceptors, which retirement
does not read; a state left out by subsumption has a twin with the same node entries, whose
steps send what its steps send). By (1) and induction along a run, a state's history is its
whole history less the reports of the ballots retired *in that state*. Then:

- ``agreement`` and ``learned_chosen`` read only ``2b`` messages: unchanged;
- ``refinement`` compares the images of a step ``s -> t`` with the reports of the ballots
  retired in ``t`` dropped from both (``PaxosSystem.forget``). By (2) no step maps to a
  ``Phase2a`` of a ballot retired in ``s``; every other action reads no report and adds the same
  messages to the whole image and the compact one, and a ballot retired by the step itself loses
  its reports on both sides; so a step passes on compact images exactly when it passes on whole
  ones, save for what neither can see any more: a ``Promise`` sent in a retired ballot (its
  content, or that it was sent at all), which no ``Phase2a`` will ever read — as ``compaction``
  cannot see the ``Promise`` of a ballot that has an ``Accept`` (spent reports).

The properties' ``projection`` drops the same reports, with the reduction on or off, so the
reduced and unreduced searches can be compared on it.

Measured (``benchmarks/reductions.py``): at the CI bound (2 proposers × 2 rounds), breadth-first
with symmetry, every run of up to 13 steps is 456,570 states with subsumption and retirement,
1,281,535 with subsumption alone and 1,619,073 with neither. With one round per proposer a
ballot retires mostly by moving to phase 2, where its reports are spent anyway, and it leaves
out 3 % (145,780 against 149,981 at 2 × 1).
"""

from __future__ import annotations

import operator
from typing import Any

from paxchain.impl import paxos as px
from paxchain.models.actor_system import Node
from paxchain.models.memo import Memo
from paxchain.models.model import ReductionUnsound

__all__ = ["Retiring"]


class Retiring:
    """Mixin for ``PaxosSystem``: ``_expand`` with the reports of retired ballots forgotten.

    The subclass sets ``self.retire`` (``retire=0`` switches it off) before ``__init__`` of the
    actor system returns, and calls ``_init_retirement()`` once its ballots are known."""

    retire: bool = True

    def _init_retirement(self) -> None:
        m: Any = self
        self._retiring = bool(self.retire and m.with_history)
        if not m.with_history:
            return
        owners: dict[int, list[int]] = {}
        for x in m.proposer_ids:
            actor = m._proposer_actor[x]
            for r in range(1, m._kwargs["max_rounds"] + 1):
                owners.setdefault(m.ballot_index[actor.ballot(r)], []).append(m.ids.index(x))
        self._owners = sorted(owners.items())
        pidx = sorted({i for _, idx in self._owners for i in idx})
        # Every proposer owns a ballot (max_rounds >= 1 wherever there is a history).
        self._proposer_entries = (operator.itemgetter(*pidx) if len(pidx) > 1
                                  else lambda s, i=pidx[0]: (s[i],))
        self._pidx = pidx
        self._dead_masks: dict[tuple[int, int], int] = {}  # (node, entry) -> ballots done with
        self._retired_memo: dict[tuple, int] = Memo()  # proposers' entries -> retired ballots
        self._forgot_memo: dict[tuple[int, int], int] = Memo()  # (history id, retired) -> history id
        self._late_memo: dict[tuple[int, int], int] = Memo()  # (history ids) -> ballots given a 2a

    # -- which ballots are retired ---------------------------------------------------------
    def _done_with(self, i: int, entry: int) -> int:
        """The ballots node ``i`` in entry ``entry`` is done with: a ``Promise`` of each is
        dead there (``dead``; the kind of message whose deadness retires a ballot), as a bit
        mask over ballot indices."""
        key = (i, entry)
        mask = self._dead_masks.get(key)
        if mask is None:
            m: Any = self
            up, durable, st, timers = m.entries.values[entry]
            view = Node(up, durable, st, timers)
            a = m.acceptor_ids[0]
            mask = 0
            for b, ballot in enumerate(m.ballots):
                if m._dead(m.ids[i], view, px.Promise(ballot, a, None, None)):
                    mask |= 1 << b
            self._dead_masks[key] = mask
        return mask

    def forgotten(self, state: tuple) -> int:
        """The ballots whose reports ``state``'s history has forgotten: ``retired(state)``, or
        none with the reduction off."""
        return self.retired(state) if self._retiring else 0

    def retired(self, state: tuple) -> int:
        """The ballots retired in ``state``, as a bit mask over ballot indices (bit ``b`` for
        ``ballots[b]``): every proposer that owns the ballot is done with its promises."""
        key = self._proposer_entries(state)
        out = self._retired_memo.get(key)
        if out is None:
            done = {i: self._done_with(i, e) for i, e in zip(self._pidx, key)}
            out = 0
            for b, idx in self._owners:
                if all(done[i] >> b & 1 for i in idx):
                    out |= 1 << b
            self._retired_memo[key] = out
        return out

    def forget(self, msgs: int, retired: int) -> int:
        """``msgs`` without the ``1b`` reports of the ballots in ``retired``."""
        return self.abstract.msgs.drop_reports(msgs, retired)  # type: ignore[attr-defined]

    # -- the successors ----------------------------------------------------------------------
    def _expand(self, s: tuple, mode: int) -> list:
        out = super()._expand(s, mode)  # type: ignore[misc]
        if not self._retiring:
            return out
        m: Any = self
        hi = m.history_at
        before = self.retired(s)
        h0 = s[hi]
        for k, x in enumerate(out):
            t = x[1] if mode else x
            after = self.retired(t)
            if before & ~after:
                self._unsound(s, t, before & ~after, "is retired before the step and not after")
            h = t[hi]
            if h != h0 and before:
                late = self._late_memo.get((h0, h))
                if late is None:
                    v = m.hist.values
                    late = self._late_memo[(h0, h)] = m.abstract.msgs.ballots_with_2a(
                        v[h] & ~v[h0])
                if late & before:
                    self._unsound(s, t, late & before, "was retired, and the step sends an "
                                  "Accept in it")
            if after:
                h2 = self._forgot_memo.get((h, after))
                if h2 is None:
                    h2 = self._forgot_memo[(h, after)] = m.hist(
                        self.forget(m.hist.values[h], after))
                if h2 != h:
                    t = t[:hi] + (h2,) + t[hi + 1:]
                    out[k] = (x[0], t) if mode else t
        return out

    def _unsound(self, s: tuple, t: tuple, ballots: int, what: str) -> None:
        m: Any = self
        names = [str(m.ballots[b]) for b in range(len(m.ballots)) if ballots >> b & 1]
        proposers = {m.ids[i]: m.entries.values[t[i]][2] for i in self._pidx}
        raise ReductionUnsound(
            "retirement", f"ballot {', '.join(names)} {what} (proposers after it: "
            f"{proposers})")
