"""Networks as named objects: what is in flight, and what delivering, dropping and duplicating
an envelope does to it (like Stateright's ``Network`` enum: ``names()`` for the CLI).

Theory of operation. A network's contents are a tuple of envelopes in a canonical order: equal
contents, equal tuples, so states that differ only in the order messages were sent are one
state where the network cannot observe that order. An envelope is whatever the model puts in
flight (``ActorSystem``: the interned id of ``(src, dst, msg)``; the chain: a tuple of
destination, sender, kind, block, send time and message); the network reads nothing of it but
its *link* (``link(envelope)``: the ``(src, dst)`` pair, as sortable keys), and only the
ordered network needs that. A model whose envelopes do not compare (or that wants another
canonical order) gives ``order``, a sort key for the unordered networks.

Every network has the same interface:

- ``deliveries(net)``: each way to take one envelope out for delivery, ``(envelope, the
  rest)``, in a fixed order (an iterable, read once) (the model's successors must be deterministic);
- ``add(net, sent)``: ``net`` with the envelopes ``sent`` (one handler's sends, in order);
- ``drops(net)`` / ``duplicates(net)``: each way to lose, or copy, one envelope
  ``(envelope, the rest)``; empty where the network has no such fault;
- ``canonical(envelopes)``: a list of envelopes (e.g. renamed by a symmetry) in canonical order;
- ``consumes``: whether a delivery takes the envelope out (a crash at the very start of a
  delivery is then a distinct outcome: the message was received and not acted on);
- ``faults``: the fault actions it offers within their budgets (``Drop``, ``Duplicate``);
- ``ordered``: whether the order of the contents is part of the state (traces list them in
  order, not as a count per envelope);
- ``prunes_noops``: whether a delivery that changes nothing may be left out as no step (true
  where leaving the envelope in flight blocks nothing; not on an ordered link, where
  consuming it lets the next message through).

The networks (``NETWORKS``, by name):

- ``budgeted``: a multiset; a delivery consumes one copy; ``Drop`` / ``Duplicate`` lose or copy
  one envelope within their budgets.
- ``duplicating``: the set of every envelope ever sent; a delivery leaves it there, so any
  message may be delivered any number of times or never, in any order (loss, duplication and
  reordering without bound, no budgets).
- ``fifo``: one queue per link ``(src, dst)``, delivered in send order (for protocols that
  assume ordered channels, as TCP gives); ``Drop`` loses any envelope (the rest keep their
  order), ``Duplicate`` repeats one in place, within their budgets.
- ``sequence``: the envelopes in send order, any of them deliverable (no reordering is
  merged away: the unreduced network the ``budgeted`` multiset is compared with).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, ClassVar

from paxchain.models.faults import DROP, DUPLICATE

__all__ = ["Network", "Budgeted", "Duplicating", "Fifo", "SendOrder", "NETWORKS", "network",
           "network_names"]

Link = Callable[[Any], Hashable]


class Network:
    """The interface every named network offers (module docstring)."""

    name: ClassVar[str] = ""
    doc: ClassVar[str] = ""
    consumes: ClassVar[bool] = True
    prunes_noops: ClassVar[bool] = True
    ordered: ClassVar[bool] = False  # the order of the contents is part of the state
    faults: ClassVar[tuple[str, ...]] = (DROP, DUPLICATE)

    def __init__(self, link: Link | None = None, order: Link | None = None) -> None:
        self.link = link
        self.order = order  # the sort key of the canonical order (None: the envelopes' own)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def initial(self, sent: Sequence[Any]) -> tuple:
        """The network holding ``sent`` (the initial sends, in order)."""
        return self.add((), tuple(sent))

    def add(self, net: tuple, sent: tuple) -> tuple:
        raise NotImplementedError

    def deliveries(self, net: tuple) -> Iterable[tuple[Any, tuple]]:
        raise NotImplementedError

    def drops(self, net: tuple) -> list[tuple[Any, tuple]]:
        raise NotImplementedError

    def duplicates(self, net: tuple) -> list[tuple[Any, tuple]]:
        raise NotImplementedError

    def canonical(self, envelopes: list) -> tuple:
        return tuple(sorted(envelopes, key=self.order))

    def valid(self, net: tuple) -> str | None:
        """Why ``net`` (read from a trace) cannot be this network's contents, or None."""
        return None


class Budgeted(Network):
    name = "budgeted"
    doc = "a multiset; deliveries consume; drops and duplicates within their budgets"

    def add(self, net: tuple, sent: tuple) -> tuple:
        return tuple(sorted(net + sent, key=self.order)) if sent else net

    def deliveries(self, net: tuple) -> list[tuple[Any, tuple]]:
        out = []
        for k, e in enumerate(net):
            if k and net[k - 1] == e:
                continue  # copies of one envelope: one way to take it
            out.append((e, net[:k] + net[k + 1:]))
        return out

    drops = deliveries

    def duplicates(self, net: tuple) -> list[tuple[Any, tuple]]:
        out = []
        for k, e in enumerate(net):
            if k and net[k - 1] == e:
                continue
            out.append((e, net[:k] + (e,) + net[k:]))
        return out


class Duplicating(Network):
    name = "duplicating"
    doc = ("the set of every message ever sent; each deliverable any number of times "
           "or never (unbounded loss, duplication and reordering)")
    consumes = False
    faults = ()

    def add(self, net: tuple, sent: tuple) -> tuple:
        return tuple(sorted(set(net).union(sent), key=self.order)) if sent else net

    def deliveries(self, net: tuple) -> Iterable[tuple[Any, tuple]]:
        return zip(net, itertools.repeat(net))  # the model's hot path: no list, no new tuples

    def drops(self, net: tuple) -> list[tuple[Any, tuple]]:
        return []

    duplicates = drops

    def valid(self, net: tuple) -> str | None:
        return ("a duplicating network holds each envelope once"
                if len(set(net)) != len(net) else None)


class Fifo(Network):
    """One queue per link; the tuple is the queues in link order, each in send order."""

    name = "fifo"
    doc = ("one queue per link (src, dst), delivered in send order; drops and duplicates "
           "within their budgets")
    prunes_noops = False
    ordered = True

    def _key(self, e: Any) -> Hashable:
        assert self.link is not None, "a fifo network needs the envelopes' links"
        return self.link(e)

    def add(self, net: tuple, sent: tuple) -> tuple:
        return self.canonical(list(net + sent)) if sent else net

    def canonical(self, envelopes: list) -> tuple:
        return tuple(sorted(envelopes, key=self._key))  # stable: each queue keeps its order

    def deliveries(self, net: tuple) -> list[tuple[Any, tuple]]:
        out = []
        for k, e in enumerate(net):
            if k == 0 or self._key(net[k - 1]) != self._key(e):  # the head of its queue
                out.append((e, net[:k] + net[k + 1:]))
        return out

    def drops(self, net: tuple) -> list[tuple[Any, tuple]]:
        out, seen = [], set()
        for k, e in enumerate(net):
            rest = net[:k] + net[k + 1:]
            if rest not in seen:
                seen.add(rest)
                out.append((e, rest))
        return out

    def duplicates(self, net: tuple) -> list[tuple[Any, tuple]]:
        out, seen = [], set()
        for k, e in enumerate(net):
            more = net[:k] + (e,) + net[k:]
            if more not in seen:
                seen.add(more)
                out.append((e, more))
        return out

    def valid(self, net: tuple) -> str | None:
        return None


class SendOrder(Network):
    """Every envelope in send order, any of them deliverable."""

    name = "sequence"
    ordered = True
    doc = "the messages in send order, any of them deliverable next (nothing merged)"

    def add(self, net: tuple, sent: tuple) -> tuple:
        return net + sent

    def canonical(self, envelopes: list) -> tuple:
        return tuple(envelopes)

    def deliveries(self, net: tuple) -> list[tuple[Any, tuple]]:
        out, seen = [], set()
        for k, e in enumerate(net):
            rest = net[:k] + net[k + 1:]
            if rest not in seen:  # equal envelopes at two places may leave equal sequences
                seen.add(rest)
                out.append((e, rest))
        return out

    drops = deliveries

    def duplicates(self, net: tuple) -> list[tuple[Any, tuple]]:
        # each distinct envelope once, in send order (envelopes need not be orderable)
        return [(e, net + (e,)) for e in dict.fromkeys(net)]


NETWORKS: dict[str, type[Network]] = {
    cls.name: cls for cls in (Budgeted, Duplicating, Fifo, SendOrder)}


def network_names() -> tuple[str, ...]:
    """The names a ``network=`` parameter takes."""
    return tuple(NETWORKS)


def network(name: str, link: Link | None = None, order: Link | None = None) -> Network:
    """The network called ``name`` (``link`` and ``order``: see the module docstring);
    ``ValueError`` naming the known ones otherwise."""
    cls = NETWORKS.get(name)
    if cls is None:
        raise ValueError(f"unknown network {name!r} (known: {', '.join(NETWORKS)})")
    return cls(link, order)
