"""Any ``impl/`` actors on an adversarial network, as a transition system (like Stateright's
``ActorModel``, written from its description, not its code).

Theory of operation. A global state is::

    nodes × network × budgets × history × outputs × environment

- per node: *up* flag, *durable* value (the last ``Persist``; ``None`` before any), *state*
  (the actor's volatile state; ``None`` while down) and the names of its set *timers*;
- the *network*: the multiset of in-flight envelopes ``(src, dst, msg)``;
- the remaining fault *budgets*: drops, duplicates, crashes;
- an optional auxiliary *history* (``record(history, sent)`` folds in the envelopes
  ``(src, dst, msg)`` that one step sends, like Stateright's ``record_msg_out``): a refinement
  mapping that needs "every message ever sent" reads it; without ``record`` it is a constant
  ``None``;
- *outputs*: the set of ``(node, value)`` of every ``Output`` effect ever emitted, so that a
  decision survives the crash of the node that made it (``keep_outputs=False``: always empty;
  ``keep_timers=False`` likewise keeps no timer names, for a model that fires its timers as
  environment actions);
- the *environment*'s slots, only with an environment action (``environment``, a
  ``paxchain.models.environment.Mining``): its count ``mined``; with a clock that reads the
  state (``paxchain.models.clocks.MinedClock``) each node's clock *offsets*, chosen in the
  initial state (one initial state per assignment); with ``crash_lost`` whether a crash point
  has lost a message. Each envelope then also carries its *stamp*, the count when it was sent
  (``(src, dst, msg, stamp)``), which the environment's delay bound reads.

Networks (``NETWORKS``), named objects of ``paxchain.models.networks`` chosen by the
``network`` parameter (each says what delivering, dropping and duplicating does to it):

- ``budgeted``: the network is a multiset; a delivery consumes one copy; ``Drop`` and
  ``Duplicate`` steps lose or copy one envelope, at most ``drops`` / ``duplicates`` times.
- ``duplicating``: the network is the *set* of every envelope ever sent, and a delivery
  leaves it there. Any message may be delivered any number of times (duplication without
  bound), or never (loss without bound), in any order; the budgets are unused. For safety this
  covers every behaviour of every budgeted network, usually with far fewer states, because
  the set only grows and mostly follows the senders' states.
- ``fifo``: one queue per link ``(src, dst)``, delivered in send order (drops and duplicates
  within their budgets); a delivery that changes nothing still consumes its message (it lets
  the next one through), so no-op deliveries are steps there.
- ``sequence``: every envelope in send order, any deliverable (the unreduced ``budgeted``).

Transitions, in this fixed order (so successors are deterministic):

0. The environment's actions, first: ``Mine(node)`` fires the node's ``mine`` timer (set or
   not) as it finds a block, while ``Mining.allows`` (budget and delay bound); the handler
   reads the clock after the block, and the step's sends are stamped with the new count.
1. ``Deliver(src, dst, msg)`` of any in-flight envelope to an up node: the handler runs (on a
   budgeted network one copy leaves it). Any envelope may be delivered next, so the network
   reorders freely. A message to a down node waits (it may be delivered after the restart).
2. ``Drop(src, dst, msg)``: one copy is lost (budgeted network, drops budget).
3. ``Duplicate(src, dst, msg)``: one more copy (budgeted network, duplicates budget).
4. ``Timer(node, name)``: any set timer fires, at any time. Time reaches a node *only* as the
   firing of its timers (``now`` is a constant, below), and every interleaving of firings with
   every other step is explored; so whatever a process pause or a skewed or drifting clock can
   do — make a timer fire early, late, or while messages wait — is one of the explored orders.
   This covers pauses and clock skew *for safety*; it says nothing about liveness (a timer
   that fires "too early" forever is an explored behaviour, not an unfair one).
5. ``Crash(node)``: an up node loses its volatile state and timers and keeps its durable value
   (crashes budget; only ``crashable`` nodes).
6. ``Restart(node)``: a down node runs ``on_start`` with its durable value (no budget: each
   crash allows one restart).

Crash options. ``restart_at_once``: a crash and its restart are one step (``Crash`` with the
events ``crash`` and ``restart``; no ``Restart`` action), a reduction whose premise is checked
on every restart the search meets: ``on_start`` with that durable value sends nothing and
gives the same state at every clock reading the node can have (``ReductionUnsound`` where it
does not). ``wake_on_step`` (without it): a down node is shown as the state it would restart
with at the moment it crashed, and its ``Deliver`` and environment steps are also offered
fused with its restart (the states of ``Restart`` then the step, one step shorter).
``crash_lost``: the state records whether a crash point lost a message (one of the step's sends
never left, or a delivery crashed before acting, ``u = 0``).

Effects are applied in the order a handler emits them: ``Persist`` replaces the durable value,
``Send`` adds an envelope (and is recorded in the history), ``SetTimer`` / ``CancelTimer`` set
and clear a timer name (the delay is ignored: see Timer above), ``Output`` is added to outputs.

``now`` is a constant for every handler call with the default clock policy (``clock``, a
``paxchain.models.clocks.FixedClock``, by default ``0``); a ``MinedClock`` (with an environment)
reads ``mined * interval + offset`` of the node instead, and memoised results are then keyed
by the reading too. A logical clock would make every state
carry a counter that grows along each path, so the state space would never close; and since
timers may fire at any moment, no value of ``now`` constrains what happens next. This is exact
for actors whose *decisions* depend on time only through timers (the actor API's rule); an
actor that compares ``now`` readings (leases, say) would be checked at a single clock reading.

No-op pruning (Stateright's ``is_no_op``): a delivery whose handler leaves the node's state
unchanged and has no effects is not a transition, and the message stays in flight; likewise a
step whose successor equals its state (a self-loop) is left out. Neither changes which node
states, outputs or histories are reachable (a state with an extra, ignorable message in flight
can do everything the state without it can), so properties that do not read the network are
checked exactly; a property that reads the network would have to allow such messages.

Dead messages (optional ``dead(node, Node, msg)``): an envelope whose receiver, in its
current entry, ``dead`` says can never again be changed by it — now or in any state it can
reach — is removed from the network after every step. Such a delivery could only ever be a
no-op, so the states with and without it have the same futures of node states, outputs and
history; removing it merges them. The hook is the model's promise and must be conservative
(the Paxos model's is tested against the unreduced search).

Tallies (optional ``tallies=("ignored",)``): fields of node states that count what a node does
not act on (a malformed message, an unknown timer). A tally grows at every delivery of such a
message, and on the duplicating network a message is delivered again and again, so with it the
state space is infinite at every bound. The model keeps every tally at 0 (the state passed to a
handler has 0, whatever it counted). That is exact when no handler *reads* a tally: then its
value changes nothing a node does, only itself. The premise is checked, not assumed, from the
first time a handler's result has a non-zero tally (before that every stored state is the real
one): every handler call, past and future, is run again on the state with each tally replaced
by an unknown (``_Unknown``) — arithmetic on it gives another unknown, and comparing, testing,
hashing, converting or formatting it raises — and must finish, keep the unknown out of its
effects and its other fields, and give the result of the call with 0. Where it does not, the
checker switches the reduction off (``ReductionUnsound("tallies", ...)``). Traces show tallies
as 0.

Performance. Node entries, envelopes, histories and output sets are interned: a global state
is a flat tuple of small integers, so hashing and comparing it is cheap, and handler results
are memoised per ``(node, entry, event)`` — sound because handlers are pure (the actor API's
rule). Layout: ``state[:N]`` node entry ids, ``state[N:N+3]`` budgets (drops, duplicates,
crashes), ``state[N+3]`` history id, ``state[N+4]`` outputs id, then the environment's slots
(none without an environment), then the in-flight envelope ids, in the network's canonical
order (a multiset: a duplicated envelope appears twice). With ``intern=False`` the same layout
holds the values themselves, so a state means the same in every process (the parallel engines
then exchange states as they are); interned states travel as ``portable`` ones
(``encode_state`` / ``decode_state``: each value's bytes, in an order that no id decides).
Read states through the accessors (``node``, ``nodes``, ``node_states``, ``durables``,
``is_up``, ``network``, ``stamps``, ``remaining``, ``history``, ``outputs``, ``mined``,
``lost``, ``now``), never by position.

Symmetry (opt-in, ``symmetric=[("a1", "a2", "a3")]``): ``representative`` is the least image of
the state under every permutation of each group's ids, renaming the ids consistently inside
node states, durable values, messages, the history and outputs (``rename``; by default every
string equal to a renamed id, inside tuples, frozensets and dataclasses). It is sound only when
the actors' code treats the group's members alike (no member is singled out by its id, no
ordered collection of them is significant); offer it only for such groups.
"""

from __future__ import annotations

import array
import dataclasses
import hashlib
import itertools
import marshal
import operator
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any

from paxchain.models.model import Label, Model, Reduction, ReductionUnsound
from paxchain.models.memo import Memo
from paxchain.models.clocks import FixedClock, MinedClock
from paxchain.models.environment import Mining
from paxchain.models.faults import CRASH, CRASH_POINT, DROP, DUPLICATE, RESTART, Budgets
from paxchain.models.networks import NETWORKS as _NETWORKS
from paxchain.models.networks import network as make_network
from paxchain.models.values import Record
from paxchain.impl.actor import Output, Persist, Send
from paxchain.impl.effects import Folded, apply_effects, crash_cuts
from paxchain.impl.effects import units as _units

__all__ = ["ActorSystem", "Node", "NETWORKS", "to_plain", "from_plain", "to_portable",
           "from_portable", "rename_ids", "zero_fields"]

CLOCK = FixedClock()  # the default clock policy: every handler call reads 0
_DURABLE, _STATE = operator.itemgetter(1), operator.itemgetter(2)  # of a node entry
NOW = CLOCK.reading()
NETWORKS = {name: cls.doc for name, cls in _NETWORKS.items()}  # name -> what it is
_DROPS, _DUPS, _CRASHES = 0, 1, 2
_STATES, _LABELLED, _BY_ACTION = 0, 1, 2  # what ``_expand`` returns for each successor
# Representatives kept for the states met last (a state is met again from its other parents,
# mostly soon: 2**15 of them answer two thirds of the calls at paxos-system's 2 x 1 bound).
_REP_CACHE = 1 << 15
_ORBIT_KEYS = 1 << 18  # orbit keys kept (``portable_orbit_key``), by representative
DELIVER, TIMER = "Deliver", "Timer"  # the other actions are faults (``paxchain.models.faults``)
_MISSING = object()  # no memoised reaction yet
_ENTRIES, _HIST, _OUTS, _ENVS = range(4)  # the interned tables, as ``portable`` numbers them


@dataclasses.dataclass(frozen=True)
class Node:
    """One node's part of a global state, as the specs read it."""

    up: bool
    durable: Any
    state: Any
    timers: tuple[str, ...]


def _folded(node: str, durable: Any, timers: tuple[str, ...]) -> Folded:
    """The default ``folded``: every effect recorded as it is."""
    return Folded(durable, timers)


class _Same:
    """``values`` of ``_Plain``: every value stands for itself."""

    __slots__ = ()

    def __getitem__(self, value: Any) -> Any:
        return value


class _Plain:
    """The identity in place of ``_Interned`` (``intern=False``): a state holds the values
    themselves, so it means the same in every process."""

    __slots__ = ()
    ids: Mapping[Hashable, int] = {}
    values = _Same()

    def __call__(self, value: Hashable) -> Any:
        return value


class _ReceiverOf:
    """``ActorSystem._receivers`` of an actor system with ``intern=False``: an envelope is its
    value ``(src, dst, msg[, stamp])``, whose receiver's index is read from it."""

    __slots__ = ("index",)

    def __init__(self, index: Mapping[str, int]) -> None:
        self.index = index

    def __getitem__(self, envelope: tuple) -> int:
        return self.index[envelope[1]]


class _Interned:
    """Values to small ints and back (ids are assigned in first-seen order)."""

    __slots__ = ("ids", "values")

    def __init__(self) -> None:
        self.ids: dict[Hashable, int] = {}
        self.values: list[Any] = []

    def __call__(self, value: Hashable) -> int:
        i = self.ids.get(value)
        if i is None:
            i = self.ids[value] = len(self.values)
            self.values.append(value)
        return i


# -- plain values (for traces) -------------------------------------------------------------

def to_plain(value: Any) -> Any:
    """A value of an actor state or message as trace values: dataclasses become ``Record``s."""
    if value is None or isinstance(value, (bool, int, str, Record)):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return Record(type(value).__name__,
                      tuple((f.name, to_plain(getattr(value, f.name)))
                            for f in dataclasses.fields(value)))
    if isinstance(value, tuple):
        return tuple(to_plain(v) for v in value)
    if isinstance(value, frozenset):
        return frozenset(to_plain(v) for v in value)
    raise TypeError(f"cannot show a {type(value).__name__} in a trace")


def from_plain(value: Any, types: Mapping[str, type]) -> Any:
    """Inverse of ``to_plain``: ``Record``s whose kind names a class in ``types`` are rebuilt."""
    if isinstance(value, Record):
        cls = types.get(value.kind)
        if cls is None:
            raise ValueError(f"unknown record type {value.kind!r}")
        return cls(**{k: from_plain(v, types) for k, v in value.fields})
    if isinstance(value, tuple):
        return tuple(from_plain(v, types) for v in value)
    if isinstance(value, frozenset):
        return frozenset(from_plain(v, types) for v in value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    raise ValueError(f"{value!r} is not a value of this model")


# -- portable values (for states that travel between processes) ----------------------------

_PORTABLE_ATOMS = (type(None), bool, int, float, str, bytes)


_MASK64 = (1 << 64) - 1


def _digest64(data: bytes, signed: bool = True) -> int:
    """A 64-bit BLAKE2b digest of ``data`` as an int: the same in every process."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little",
                          signed=signed)


def _dumps(value: Any) -> bytes:
    """``marshal`` bytes of a ``to_portable`` value. Version 2 writes no back-references and
    no interned-string flags, so the bytes depend on the value alone, not on which objects
    happen to be shared or interned in this process."""
    return marshal.dumps(value, 2)


def to_portable(value: Any) -> Any:
    """``value`` (an actor state, message, durable value, output, ...) as nested tuples of
    atoms that mean the same in every process: an atom (None, bool, int, float, str, bytes)
    as it is, a tuple as ``("t", items)``, a frozenset as ``("s", items)`` in the order of
    their ``marshal`` bytes (never of ``hash``, which is seeded per process), a dataclass as
    ``("d", class name, its init fields' values)``, a ``Record`` as ``("r", kind, fields)``.
    ``from_portable`` inverts it; anything else is a ``TypeError``."""
    if isinstance(value, _PORTABLE_ATOMS):
        return value
    if isinstance(value, tuple):
        return ("t", tuple(map(to_portable, value)))
    if isinstance(value, frozenset):
        return ("s", tuple(sorted(map(to_portable, value), key=_dumps)))
    if isinstance(value, Record):
        return ("r", value.kind, tuple((k, to_portable(v)) for k, v in value.fields))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return ("d", type(value).__name__, tuple(to_portable(getattr(value, f.name))
                                                 for f in dataclasses.fields(value) if f.init))
    raise TypeError(f"cannot make a {type(value).__name__} portable")


def from_portable(value: Any, types: Mapping[str, type]) -> Any:
    """Inverse of ``to_portable``: dataclasses are rebuilt from ``types`` (class name ->
    class); a malformed value or an unknown class is a ``ValueError``."""
    if isinstance(value, _PORTABLE_ATOMS):
        return value
    if not isinstance(value, tuple) or len(value) < 2:
        raise ValueError(f"{value!r} is not a portable value")
    tag = value[0]
    if tag == "t":
        return tuple(from_portable(v, types) for v in value[1])
    if tag == "s":
        return frozenset(from_portable(v, types) for v in value[1])
    if tag == "r":
        return Record(value[1], tuple((k, from_portable(v, types)) for k, v in value[2]))
    cls = types.get(value[1]) if tag == "d" else None
    if cls is None:
        raise ValueError(f"{value!r} is not a portable value of this model")
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    return cls(**dict(zip(names, (from_portable(v, types) for v in value[2]))))


def rename_ids(value: Any, mapping: Mapping[str, str]) -> Any:
    """``value`` with every string that is a key of ``mapping`` replaced by its image."""
    if isinstance(value, str):
        return mapping.get(value, value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, tuple):
        return tuple(rename_ids(v, mapping) for v in value)
    if isinstance(value, frozenset):
        return frozenset(rename_ids(v, mapping) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{f.name: rename_ids(getattr(value, f.name), mapping)
                                             for f in dataclasses.fields(value) if f.init})
    return value


def zero_fields(value: Any, names: Sequence[str]) -> Any:
    """``value`` (a dataclass) with the fields ``names`` set to 0; ``value`` when ``names`` is
    empty. The old values are not read (one may be an ``_Unknown``)."""
    return dataclasses.replace(value, **{x: 0 for x in names}) if names else value


class _Unknown:
    """A tally's value as the premise check (``ActorSystem._check_tally``) passes it: arithmetic
    on it gives another unknown; comparing, testing, hashing, converting, formatting or
    indexing with it raises, since each would let the value change what the handler does."""

    __slots__ = ()

    def _read(self, *args: Any) -> Any:
        raise TypeError("a handler read a tally")

    def _derived(self, *args: Any) -> _Unknown:
        return _Unknown()

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __hash__ = __bool__ = _read
    __index__ = __int__ = __float__ = __complex__ = __round__ = __trunc__ = _read
    __floor__ = __ceil__ = __str__ = __repr__ = __format__ = __bytes__ = _read
    __len__ = __iter__ = __contains__ = __getitem__ = __divmod__ = __rdivmod__ = _read
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _derived
    __floordiv__ = __rfloordiv__ = __truediv__ = __rtruediv__ = _derived
    __mod__ = __rmod__ = __pow__ = __rpow__ = _derived
    __neg__ = __pos__ = __abs__ = __invert__ = _derived
    __and__ = __rand__ = __or__ = __ror__ = __xor__ = __rxor__ = _derived
    __lshift__ = __rlshift__ = __rshift__ = __rrshift__ = _derived


def _holds_unknown(value: Any) -> bool:
    """Whether an ``_Unknown`` is anywhere inside ``value`` (tuples, lists, sets, dicts and
    dataclasses are searched; nothing is compared or hashed)."""
    if isinstance(value, _Unknown):
        return True
    if isinstance(value, (tuple, list, frozenset, set)):
        return any(_holds_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_unknown(k) or _holds_unknown(v) for k, v in value.items())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(_holds_unknown(getattr(value, f.name)) for f in dataclasses.fields(value))
    return False


class ActorSystem(Model):
    """Actors ``[(node id, actor), ...]`` on a network that loses, duplicates and reorders.

    ``network`` names the network (``NETWORKS``: ``paxchain.models.networks``); ``drops``,
    ``duplicates`` and ``crashes`` are the fault budgets (``paxchain.models.faults``; a
    network's own unbounded faults need none); ``clock`` the clock policy (what ``now`` the
    handlers read, ``paxchain.models.clocks``). Effects are read by
    ``paxchain.impl.effects.apply_effects``, as every driver reads them. ``types`` lists the
    dataclasses of messages, states and durable values (to read traces back); ``crashable``
    the nodes that may crash (default all); ``record``/``history`` the auxiliary history (see
    the module docstring); ``rename`` the id renaming for symmetry;
    ``check_send(src, dst, msg)``, called once for each distinct envelope a handler sends,
    raises ``ValueError`` (one line: the checker reports it as an error, exit 2) for a message
    the model cannot represent, before anything reads it.

    Pluggable parts (module docstring): ``environment`` (environment actions, first),
    ``clock`` (a ``MinedClock`` reads the state), ``restart_at_once``, ``wake_on_step``,
    ``crash_lost``, ``keep_timers`` / ``keep_outputs`` (False: left out of the state),
    ``folded(node, durable, timers)`` (the ``Folded`` that records a handler's effects; a
    subclass refuses what the model cannot represent), ``order`` (a sort key of envelope
    values for the network's canonical order) and ``intern`` (False: values in the state).
    Symmetry and tallies need an actor system without an environment.
    """

    def __init__(self, actors: Sequence[tuple[str, Any]], *, network: str = "budgeted",
                 drops: int = 0,
                 duplicates: int = 0, crashes: int = 0, crashable: Iterable[str] | None = None,
                 symmetric: Sequence[Sequence[str]] = (), types: Iterable[type] = (),
                 record: Callable[[Any, tuple[tuple[str, str, Any], ...]], Any] | None = None,
                 history: Any = None, rename: Callable[[Any, Mapping[str, str]], Any] = rename_ids,
                 show_history: Callable[[Any], Any] = to_plain,
                 read_history: Callable[[Any], Any] | None = None,
                 dead: Callable[[str, Node, Any], bool] | None = None,
                 crash_points: bool = True, prune_noops: bool = True,
                 tallies: Sequence[str] = (),
                 check_send: Callable[[str, str, Any], None] | None = None,
                 name: str = "actor-system", params: Mapping[str, Any] | None = None,
                 variant: str | None = None, clock: FixedClock | MinedClock = CLOCK,
                 environment: Mining | None = None, restart_at_once: bool = False,
                 wake_on_step: bool = False, crash_lost: bool = False,
                 keep_timers: bool = True, keep_outputs: bool = True,
                 folded: Callable[[str, Any, tuple[str, ...]], Folded] | None = None,
                 order: Callable[[Any], Any] | None = None, intern: bool = True) -> None:
        # What ``now`` a handler call reads (``paxchain.models.clocks``): a constant, or (a
        # clock that reads the state) the environment's count and the node's clock offset.
        self.clock = clock
        self._timed = clock.reads_state
        self._now = None if self._timed else clock.reading()  # type: ignore[call-arg]
        if self._timed and environment is None:
            raise ValueError("a clock that reads the state needs an environment that moves it")
        self.environment = environment
        self.restart_at_once = restart_at_once
        self.wake_on_step = wake_on_step and not restart_at_once
        self.keep_timers, self.keep_outputs = keep_timers, keep_outputs
        self.folded = folded or _folded
        # Interned tables of values (``intern``), or the values themselves in the state.
        self._intern = intern
        self.entries: Any = _Interned() if intern else _Plain()  # (up, durable, state, timers)
        self.envs: Any = _Interned() if intern else _Plain()     # (src, dst, msg[, stamp])
        self.hist: Any = _Interned() if intern else _Plain()     # history values
        self.outs: Any = _Interned() if intern else _Plain()     # frozensets of (node, value)
        # The network, by name (``paxchain.models.networks``); its link of an envelope id is
        # (src, dst) as node indices (only the ordered network reads it); ``order`` the sort
        # key of its canonical order. The fault budgets (``paxchain.models.faults``) of faults
        # the network does not offer are 0.
        self.net = make_network(network, self._link,
                                None if order is None else lambda e: order(self.envs.values[e]))
        self.faults = Budgets(drops, duplicates, crashes).within(self.net.faults)
        super().__init__(name=name, params=params, variant=variant)
        self.ids = tuple(n for n, _ in actors)
        if len(set(self.ids)) != len(self.ids):
            raise ValueError("node ids must be distinct")
        self.actors = tuple(a for _, a in actors)
        self.index = {n: i for i, n in enumerate(self.ids)}
        self.n = len(self.ids)
        # Where each part of a state sits in the flat tuple (the layout: module docstring).
        n = self.n
        self.budgets_at = n       # remaining drops, duplicates, crashes at n, n + 1, n + 2
        self.history_at = n + 3   # the history id
        self.outputs_at = n + 4   # the outputs id
        # The environment's slots (module docstring), then the network.
        extras = (["mined"] if environment is not None else []) + (
            ["offsets"] if self._timed else []) + (["lost"] if crash_lost else [])
        self.extras = tuple(extras)
        self.extras_at = n + 5
        self.mined_at, self.offsets_at, self.lost_at = (
            n + 5 + extras.index(x) if x in extras else -1 for x in ("mined", "offsets", "lost"))
        self.network_at = n + 5 + len(extras)  # the in-flight envelope ids, in network order
        self._stamps = environment is not None  # each envelope keeps ``mined`` at its send
        self.budgets = self.faults.as_tuple()
        self.crashable = tuple(self.index[x] for x in (crashable if crashable is not None
                                                       else self.ids))
        self.types = {t.__name__: t for t in types}
        self.record = record
        self.history0 = history
        self.rename = rename
        self.show_history = show_history
        self.dead = dead
        self._dead_memo: dict[int, bool] = {}
        self.crash_points = crash_points and self.faults.crashes > 0
        self.prune_noops = prune_noops and self.net.prunes_noops
        self.off: dict[str, str] = {}  # reduction -> why it is off (see ``without_reduction``)
        self._crashable = frozenset(self.crashable)
        self._down: dict[int, int] = {}           # up entry -> its entry after a crash
        self._edges: dict[tuple[int, int], set[int]] = {}  # (node, entry) -> next entries
        self._owed: dict[tuple[int, int], set[int]] = {}   # (node, entry) -> must-be-no-op envs
        self._pending: list[tuple[int, int, int]] = []    # obligations not checked yet
        self._draining = False
        self.tallies = tuple(tallies)
        self.check_send = check_send
        self._tally_fields: dict[type, tuple[str, ...]] = {}
        self._tallied = False  # some handler result had a non-zero tally: check the premise
        self._sym_checked = False
        self._dst: list[int] = []  # envelope id -> its receiver's index (``_receivers``)
        self._base: tuple | None = None  # the buried state being expanded (``_expanding``)
        self._tos: list[list[int]] = []  # its envelopes, per receiver
        self.read_history = read_history or (lambda v: from_plain(v, self.types))
        for group in symmetric:
            unknown = [x for x in group if x not in self.index]
            if unknown:
                raise ValueError(f"symmetric group names unknown node {unknown[0]!r}")
        self.groups = tuple(tuple(g) for g in symmetric if len(g) > 1)
        if environment is not None and (self.groups or self.tallies):
            raise ValueError("symmetry and tallies need an actor system without an environment")
        self._restarts: dict[tuple, tuple] = {}  # (node, durable) -> its checked restart
        self._seen: tuple = (None, None, None, None)  # ``node_states``'s last two answers
        self._stamp_memo: dict[tuple, tuple] = Memo()
        self._react: dict[tuple, tuple] = {}
        self._hist_memo: dict[tuple[int, tuple[int, ...]], int] = Memo()
        self._out_memo: dict[tuple[int, tuple], int] = Memo()
        self._perms: list[tuple[dict[str, str], tuple[int, ...]]] | None = None
        self._rep_cache: dict[tuple, tuple] = Memo(_REP_CACHE)  # state -> representative, recent
        # ``portable``: the tables in its order, and per table id -> bytes and bytes -> id
        self._tables = (self.entries, self.hist, self.outs, self.envs)
        self._encoded: tuple[dict, ...] = ({}, {}, {}, {})
        self._decoded: tuple[dict, ...] = ({}, {}, {}, {})
        self._digests: tuple[dict, ...] = ({}, {}, {}, {})  # id -> digest of its bytes
        self._extra_digests: dict[tuple, int] = {}
        self._orbit_keys: dict[tuple, int] = Memo(_ORBIT_KEYS)  # representative -> orbit key
        self._entry_maps: list[dict[int, int]] = []

    def _link(self, e: int) -> tuple[int, int]:
        """Envelope ``e``'s link: its sender's and receiver's indices."""
        v = self.envs.values[e]
        return self.index[v[0]], self.index[v[1]]

    # -- reading a state -------------------------------------------------------------------
    # The ``*_id`` / ``*_ids`` accessors return the interned ids the state holds (cheap: one
    # index or slice, for memo keys and equality tests); the others return the values.
    def entry_id(self, state: tuple, node: str) -> int:
        """The id of ``node``'s entry (``node_view`` reads it)."""
        return state[self.index[node]]

    def entry_ids(self, state: tuple) -> tuple[int, ...]:
        """The ids of every node's entry, in ``ids`` order."""
        return state[:self.n]

    def history_id(self, state: tuple) -> int:
        return state[self.history_at]

    def outputs_id(self, state: tuple) -> int:
        return state[self.outputs_at]

    def network_ids(self, state: tuple) -> tuple[int, ...]:
        """The in-flight envelope ids, sorted (``envs.values`` reads them)."""
        return state[self.network_at:]

    def node(self, state: tuple, node: str) -> Node:
        return Node(*self.entries.values[state[self.index[node]]])

    def node_view(self, entry: int) -> Node:
        """The node entry with id ``entry``."""
        return Node(*self.entries.values[entry])

    def nodes(self, state: tuple) -> dict[str, Node]:
        return {x: Node(*self.entries.values[state[i]]) for i, x in enumerate(self.ids)}

    def network(self, state: tuple) -> list[tuple[str, str, Any]]:
        """The in-flight envelopes ``(src, dst, msg)``, in the network's order."""
        if self._stamps:
            return [self.envs.values[e][:3] for e in state[self.network_at:]]
        return [self.envs.values[e] for e in state[self.network_at:]]

    def stamps(self, state: tuple) -> list[int]:
        """Each in-flight envelope's stamp (the environment's count when it was sent), in the
        order of ``network``; empty without an environment."""
        if not self._stamps:
            return []
        return [self.envs.values[e][3] for e in state[self.network_at:]]

    def node_states(self, state: tuple) -> tuple[Any, ...]:
        """Every node's actor state, in ``ids`` order (None for a down node, or with
        ``wake_on_step`` the state it would restart with)."""
        # Properties ask this of a step's two states again and again: the last two answers
        # are kept (by identity, so the states stay alive while they are).
        seen = self._seen
        if seen[0] is state:
            return seen[1]
        if seen[2] is state:
            return seen[3]
        entries = state[:self.n]
        if self._intern:
            entries = tuple(map(self.entries.values.__getitem__, entries))
        out = tuple(map(_STATE, entries))
        self._seen = (state, out, seen[0], seen[1])
        return out

    def durables(self, state: tuple) -> tuple[Any, ...]:
        """Every node's durable value (its last ``Persist``), in ``ids`` order."""
        entries = state[:self.n]
        if self._intern:
            entries = tuple(map(self.entries.values.__getitem__, entries))
        return tuple(map(_DURABLE, entries))

    def is_up(self, state: tuple, i: int) -> bool:
        """Whether the node with index ``i`` is up."""
        return bool(self.entries.values[state[i]][0])

    def mined(self, state: tuple) -> int:
        """The environment's count (blocks found); 0 without an environment."""
        return state[self.mined_at] if self.mined_at >= 0 else 0

    def lost(self, state: tuple) -> bool:
        """Whether a crash point has lost a message (``crash_lost``; False when untracked)."""
        return bool(state[self.lost_at]) if self.lost_at >= 0 else False

    def now(self, state: tuple, i: int) -> Any:
        """The clock reading node index ``i`` has in ``state``."""
        if not self._timed:
            return self._now
        return self.clock.reading(state[self.mined_at],  # type: ignore[call-arg]
                                  state[self.offsets_at][i])

    def history(self, state: tuple) -> Any:
        return self.hist.values[state[self.history_at]]

    def outputs(self, state: tuple) -> frozenset:
        return self.outs.values[state[self.outputs_at]]

    def remaining(self, state: tuple) -> tuple[int, int, int]:
        """The remaining fault budgets: drops, duplicates, crashes."""
        return state[self.budgets_at:self.history_at]

    # -- handlers, memoised ------------------------------------------------------------------
    def _effects(self, i: int, durable: Any, state: Any, timers: tuple[str, ...],
                 effects: Sequence) -> tuple:
        """Apply a handler's effects (``apply_effects``, the one interpreter every driver
        uses): (entry id, sent envelope ids, outputs)."""
        src = self.ids[i]
        f = self.folded(src, durable, timers)
        apply_effects(src, effects, f)
        sends = []
        for dst, msg in f.sends:
            env = (src, dst, msg)
            if self.check_send is not None and env not in self.envs.ids:
                self.check_send(*env)
            sends.append(self.envs(env))
        return (self.entries((True, f.durable, state,
                              tuple(sorted(f.timers)) if self.keep_timers else ())),
                tuple(sends),
                tuple((src, v) for v in f.outputs) if self.keep_outputs else ())

    def _reaction(self, key: tuple, i: int, entry: int | None, durable: Any, st: Any,
                  timers: tuple[str, ...], st2: Any, eff: list, consumes: bool) -> tuple:
        """Memoise a handler's result under ``key``: ``(entry id, sent envelope ids, outputs,
        crash points)``; record the node's step ``entry -> result`` for the burial premise
        (``entry`` None: a start)."""
        r = self._effects(i, durable, st2, timers, eff)
        cps = (self._crash_points(i, durable, eff, r, consumes)
               if self.crash_points and i in self._crashable else ())
        r = self._react[key] = r + (cps,)
        if self.dead is not None:
            x = entry if entry is not None else self.entries((False, durable, None, ()))
            self._edge(i, x, r[0])
            for cp in cps:
                self._edge(i, x, cp[1])
        return r

    # A handler's result is memoised under (node, entry, event), with the clock reading last
    # when the clock reads the state (``now`` not None); the crash points under the same key.
    def _start(self, i: int, durable: Any, now: Any = None) -> tuple:
        key = (i, "start", durable) if now is None else (i, "start", durable, now)
        r = self._react.get(key)
        if r is None:
            st, eff = self.actors[i].on_start(self.ids[i], durable,
                                              self._now if now is None else now)
            if self._sym_checked:
                self._check_equivariant(i, ("start", durable), None, (st, eff))
            st = self._untally(i, ("start", durable), None, st, eff)
            r = self._reaction(key, i, None, durable, None, (), st, eff, False)
        return r

    def _deliver(self, i: int, entry: int, env: int, now: Any = None) -> tuple | None:
        """Reaction of node ``i`` in ``entry`` to envelope ``env``; None for a no-op."""
        key = (i, entry, env) if now is None else (i, entry, env, now)
        r = self._react.get(key, key)
        if r is key:
            up, durable, st, timers = self.entries.values[entry]
            v = self.envs.values[env]
            src, msg = v[0], v[2]
            st2, eff = self.actors[i].on_message(self.ids[i], st, src, msg,
                                                 self._now if now is None else now)
            if self._sym_checked:
                self._check_equivariant(i, ("message", src, msg), st, (st2, eff))
            st2 = self._untally(i, ("message", src, msg), st, st2, eff)
            if st2 == st and not eff and self.prune_noops:
                r = self._react[key] = None
            else:
                r = self._reaction(key, i, entry, durable, st, timers, st2, eff,
                                   self.net.consumes)
        return r

    def _fire(self, i: int, entry: int, name: str, now: Any = None) -> tuple:
        key = (i, entry, name) if now is None else (i, entry, name, now)
        r = self._react.get(key)
        if r is None:
            up, durable, st, timers = self.entries.values[entry]
            st2, eff = self.actors[i].on_timer(self.ids[i], st, name,
                                               self._now if now is None else now)
            if self._sym_checked:
                self._check_equivariant(i, ("timer", name), st, (st2, eff))
            st2 = self._untally(i, ("timer", name), st, st2, eff)
            r = self._reaction(key, i, entry, durable, st,
                               tuple(t for t in timers if t != name), st2, eff, False)
        return r

    # -- tallies ------------------------------------------------------------------------------
    def _tally_names(self, st: Any) -> tuple[str, ...]:
        """The tallies among ``st``'s fields (a dataclass state), looked up once per type."""
        t = type(st)
        names = self._tally_fields.get(t)
        if names is None:
            names = ()
            if self.tallies and dataclasses.is_dataclass(st) and not isinstance(st, type):
                have = {f.name for f in dataclasses.fields(st) if f.init}
                names = tuple(x for x in self.tallies if x in have)
            names = self._tally_fields[t] = names
        return names

    def _untally(self, i: int, event: tuple, st: Any, st2: Any, eff: Sequence) -> Any:
        """``st2`` (node ``i``'s handler result for ``event`` in ``st``) with its tallies at 0;
        the first result that this changes switches the premise check on (module docstring)."""
        names = self._tally_names(st2)
        if names and not all(type(v) is int and v == 0
                             for v in (getattr(st2, x) for x in names)):
            st2 = zero_fields(st2, names)
            if not self._tallied:
                self._tallied = True
                self._check_tallies_memoised()
        if self._tallied and event[0] != "start":
            self._check_tally(i, event, st, st2, eff)
        return st2

    def _check_tally(self, i: int, event: tuple, st: Any, st2: Any, eff: Sequence) -> None:
        """The tally premise for one handler call of node ``i`` in (stored) state ``st``, whose
        result with tallies at 0 is ``(st2, eff)``: with each tally of ``st`` unknown, the
        handler gives that same result. Raises ``ReductionUnsound`` where it does not."""
        names = self._tally_names(st)
        if not names:
            return  # nothing of ``st`` is abstracted
        actor, node = self.actors[i], self.ids[i]
        unknown = dataclasses.replace(st, **{x: _Unknown() for x in names})
        try:
            if event[0] == "message":
                got, got_eff = actor.on_message(node, unknown, event[1], event[2], self._now)
            else:
                got, got_eff = actor.on_timer(node, unknown, event[1], self._now)
            got = zero_fields(got, self._tally_names(got))
            same = (not _holds_unknown((got, tuple(got_eff)))
                    and (got, list(got_eff)) == (st2, list(eff)))
        except MemoryError:
            raise
        except Exception:  # it compared, tested, hashed, converted or formatted a tally
            same = False
        if not same:
            what = (f"message {to_plain(event[2])} from {event[1]}" if event[0] == "message"
                    else f"timer {event[1]}")
            raise ReductionUnsound(
                "tallies", f"{node} reads its {'/'.join(names)} count: its reaction to {what} "
                f"in state {to_plain(st)} depends on the count, which cannot be kept at 0")

    def _check_tallies_memoised(self) -> None:
        """Check the tally premise on every handler call made before a tally was abstracted
        (their results are reused for states whose real tallies differ)."""
        for key in list(self._react):
            i = key[0]
            if key[1] == "start":
                continue
            up, durable, st, timers = self.entries.values[key[1]]
            if isinstance(key[2], str):
                event: tuple = ("timer", key[2])
                st2, eff = self.actors[i].on_timer(self.ids[i], st, key[2], self._now)
            else:
                src, _, msg = self.envs.values[key[2]]
                event = ("message", src, msg)
                st2, eff = self.actors[i].on_message(self.ids[i], st, src, msg, self._now)
            self._check_tally(i, event, st, zero_fields(st2, self._tally_names(st2)), eff)

    # -- crash points -------------------------------------------------------------------------
    def _crash_points(self, i: int, durable: Any, effects: Sequence, full: tuple,
                      consumes: bool) -> tuple:
        """The outcomes of a crash that falls inside the handler: after ``u`` of its units
        (``0 < u < len(units)``; also ``u = 0`` for a delivery that consumes its message: the
        message was received and the node crashed before acting on it).

        Each is ``(u, down entry, sent envelope ids, outputs, recorded envelope ids, lossy,
        durable)``: the node is down with ``durable``, the value of the last ``Persist``
        before the crash; the sends and outputs before it happened, those after it never did;
        ``lossy`` says whether the crash lost a message (it kept one of the step's sends from
        leaving, or took the delivered message before acting on it: ``crash_lost``). The
        history records the sends before the crash and, when the crash falls after the
        handler's last ``Persist``, also the ones it cut off: the step was decided and durably
        committed, and those messages are lost with the crash, as the network may lose any
        message.
        Outcomes equal to "the whole step, then ``Crash``" (reachable anyway) or to each
        other are left out.
        """
        units = _units(effects)
        last_persist = max((k for k, u in enumerate(units) if isinstance(u[0], Persist)),
                           default=-1)
        down_full = self.entries((False, self.entries.values[full[0]][1], None, ()))
        seen = {(down_full, full[1], full[2])}
        out = []
        for u, prefix in crash_cuts(effects, consumes):
            entry, sends, outs = self._effects(i, durable, None, (), prefix)
            after = self.entries.values[entry][1]
            down = self.entries((False, after, None, ()))
            if (down, sends, outs) in seen:
                continue
            seen.add((down, sends, outs))
            recorded = full[1] if u > last_persist >= 0 else sends
            lossy = (consumes and u == 0) or len(sends) < len(full[1])
            out.append((u, down, sends, outs, recorded, lossy, after))
        return tuple(out)

    def _crashed(self, s: tuple, i: int, cp: tuple, net: tuple) -> tuple:
        """``s`` after crash point ``cp`` of node ``i`` (``net``: the network the step saw,
        its delivered copy already taken out on a consuming network)."""
        b = self.budgets_at
        h, o = self._fold(s, cp[4], cp[3])
        sends = cp[2]
        if sends:
            if self._stamps:
                sends = self._stamp(sends, s[self.mined_at])
            net = self.net.add(net, sends)
        if self.restart_at_once or self.wake_on_step:
            down, outs = self._after_crash(i, cp[6], self.now(s, i))
            if outs:
                h, o = self._fold(s[:self.history_at] + (h, o), (), outs)
        else:
            down = cp[1]
        extras = s[self.extras_at:self.network_at]
        if cp[5] and self.lost_at >= 0:
            k = self.lost_at - self.extras_at
            extras = extras[:k] + (True,) + extras[k + 1:]
        t = (s[:i] + (down,) + s[i + 1:self.n]
             + (s[b + _DROPS], s[b + _DUPS], s[b + _CRASHES] - 1, h, o) + extras + net)
        return self._bury_step(s, t, i, sends) if self.dead is not None else t

    def _crash_entry(self, i: int, entry: int) -> int:
        """Node ``i``'s entry after it crashes in ``entry``: down, durable value kept."""
        down = self._down.get(entry)
        if down is None:
            up, durable, st, timers = self.entries.values[entry]
            down = self._down[entry] = self.entries((False, durable, None, ()))
        if self.dead is not None:
            self._edge(i, entry, down)
        return down

    def _after_crash(self, i: int, durable: Any, now: Any) -> tuple[Any, tuple]:
        """Node ``i``'s entry right after it crashes with ``durable`` at clock ``now``, and the
        outputs of its restart: restarted at once (``restart_at_once``), or down and shown as
        the state it would restart with now (``wake_on_step``)."""
        if self.restart_at_once:
            r = self._restart(i, durable, now)
            return r[0], r[2]
        st = self.entries.values[self._start(i, durable, now if self._timed else None)[0]][2]
        return self.entries((False, durable, st, ())), ()

    def _restart(self, i: int, durable: Any, now: Any) -> tuple:
        """Node ``i`` restarting from ``durable`` (``restart_at_once``), with the reduction's
        premise checked: the same result at every clock reading the node can have, and no
        sends (a message sent at the restart would otherwise be sent early)."""
        key = (i, durable)
        r = self._restarts.get(key)
        if r is None:
            readings = (self.clock.readings(self.environment.budget)  # type: ignore
                        if self._timed else [None])
            results = {t: self._start(i, durable, t) for t in readings}
            first = next(iter(results.values()))
            name = self.ids[i]
            if first[1]:
                raise ReductionUnsound(
                    "restart_at_once", f"{name} sends {len(first[1])} message(s) when it "
                    f"restarts, so when it restarts matters")
            for t, other in results.items():
                if other[:2] != first[:2]:
                    raise ReductionUnsound(
                        "restart_at_once", f"{name} restarting from its persisted value "
                        f"reacts differently at clock {min(results)} and at clock {t}")
            r = self._restarts[key] = first
        return r

    def _stamp(self, sends: tuple, sent: int) -> tuple:
        """Envelope ids ``sends`` stamped with the environment's count ``sent``."""
        if not self._intern:  # the values themselves: cheaper to build than to look up
            return tuple([e + (sent,) for e in sends])
        key = (sends, sent)
        out = self._stamp_memo.get(key)
        if out is None:
            values = self.envs.values
            out = self._stamp_memo[key] = tuple(self.envs(values[e] + (sent,)) for e in sends)
        return out

    # -- the burial premise -----------------------------------------------------------------
    def _edge(self, i: int, x: int, y: int) -> None:
        """Node ``i`` can step from entry ``x`` to ``y``: what must be a no-op at ``x`` must be
        one at ``y`` too."""
        nxt = self._edges.setdefault((i, x), set())
        if y in nxt:
            return
        nxt.add(y)
        for e in tuple(self._owed.get((i, x), ())):
            self._oblige(i, y, e)

    def _oblige(self, i: int, x: int, e: int) -> None:
        """Envelope ``e`` was buried while node ``i`` was in entry ``x``: check that its
        delivery is a no-op in ``x`` and in every entry the node can reach from ``x``.

        Raises ``ReductionUnsound`` at the first entry where it is not: the model's ``dead``
        hook promised something the code under check does not do.

        The obligations wait in one queue, worked off by a loop, never by recursion: checking
        one runs a handler (``_deliver``), which may record a new node step (``_edge``) and so
        owe more. An envelope counts as checked at an entry only after its check passed, so
        the one that fails is reported at once (before any entry its own delivery leads to:
        a handler that counts what it ignores leads to a new entry at every delivery), and an
        obligation whose check was cut short by an exception stays queued for the next call
        (``_bury`` calls ``_drain`` first).
        """
        self._pending.append((i, x, e))
        if not self._draining:
            self._drain()

    def _drain(self) -> None:
        """Check the queued obligations (``_oblige``) until none is left."""
        self._draining = True
        try:
            while self._pending:
                item = self._pending.pop()
                i, y, e = item
                owed = self._owed.setdefault((i, y), set())
                if e in owed:
                    continue
                up, durable, st, timers = self.entries.values[y]
                try:
                    r = self._deliver(i, y, e) if up else None
                    # A no-op delivery is None, or, on a network where it is still a step
                    # (fifo: it unblocks the link), the same entry with nothing sent or output.
                    reacts = r is not None and (self.net.prunes_noops or r[0] != y
                                                or bool(r[1]) or bool(r[2]))
                except BaseException:
                    self._pending.append(item)  # not checked: for the next call
                    raise
                if reacts:
                    self._pending.append(item)
                    src, dst, msg = self.envs.values[e][:3]
                    raise ReductionUnsound(
                        "bury", f"{src}->{dst} {to_plain(msg)} was removed as dead, but {dst} "
                        f"reacts to it in state {to_plain(st)}")
                owed.add(e)
                self._pending.extend((i, z, e) for z in self._edges.get((i, y), ()))
        finally:
            self._draining = False

    def _fold(self, s: tuple, sends: tuple, outs: tuple) -> tuple[int, int]:
        h, o = s[self.history_at], s[self.outputs_at]
        if sends and self.record is not None:
            k = (h, sends)
            h2 = self._hist_memo.get(k)
            if h2 is None:
                value = self.record(self.hist.values[h],
                                    tuple(self.envs.values[e] for e in sends))
                h2 = self._hist_memo[k] = self.hist(value)
            h = h2
        if outs:
            k2 = (o, outs)
            o2 = self._out_memo.get(k2)
            if o2 is None:
                o2 = self._out_memo[k2] = self.outs(self.outs.values[o] | frozenset(outs))
            o = o2
        return h, o

    # -- the transition system ---------------------------------------------------------------
    def initial_states(self) -> list[tuple]:
        """One state (with a clock that reads the state: one for each assignment of clock
        offsets to the nodes, in the clock's order): every node started from nothing."""
        n = self.n
        out = []
        for offsets in (self.clock.initial_offsets(n) if self._timed  # type: ignore[union-attr]
                        else [None]):
            extras = tuple({"mined": 0, "offsets": offsets, "lost": False}[x]
                           for x in self.extras)
            s = ((0,) * n + self.budgets + (self.hist(self.history0), self.outs(frozenset()))
                 + extras)
            entries, net = [], []
            for i in range(n):
                entry, sends, outs, _ = self._start(i, None, None if offsets is None
                                                    else self.now(s, i))
                entries.append(entry)
                net.extend(self._stamp(sends, 0) if self._stamps else sends)
                h, o = self._fold(s, sends, outs)
                s = s[:self.history_at] + (h, o) + extras
            t = tuple(entries) + s[self.budgets_at:self.network_at] + self.net.initial(net)
            out.append(self._bury(t) if self.dead is not None else t)
        return out

    def next_states(self, state: tuple) -> list[tuple]:
        return self._expand(state, _STATES)

    def successors(self, state: tuple) -> list[tuple[Label, tuple]]:
        return self._expand(state, _LABELLED)

    def next_states_by_action(self, state: tuple) -> list[tuple[str, tuple]]:
        return self._expand(state, _BY_ACTION)

    def actions(self) -> tuple[str, ...]:
        acts = [self.environment.action] if self.environment is not None else []
        acts.append(DELIVER)
        acts += [a for a, b in ((DROP, self.budgets[0]), (DUPLICATE, self.budgets[1])) if b]
        if self.keep_timers:
            acts.append(TIMER)
        if self.budgets[2] and self.crashable:
            acts += [CRASH] if self.restart_at_once else [CRASH, RESTART]
            if self.crash_points:
                acts.append(CRASH_POINT)
        return tuple(acts)

    def _expand(self, s: tuple, mode: int) -> list:
        """Successors as ``mode`` asks: states (``_STATES``), ``(label, state)`` pairs
        (``_LABELLED``) or ``(action, state)`` pairs (``_BY_ACTION``). One loop serves all three
        (it is the checker's hot path): each successor is wrapped where it is made."""
        n = self.n
        b, h, base = self.budgets_at, self.history_at, self.network_at
        net = s[base:]
        drops, dups, crashes = s[b:h]
        out: list = []
        entry_values = self.entries.values
        network = self.net
        timed = self._timed
        if self.dead is not None:
            self._expanding(s)
        if self.environment is not None:
            self._environment_steps(s, mode, out)
        receivers, react = self._receivers(), self._react
        for e, rest in network.deliveries(net):
            j = receivers[e]
            at, entry, events = s, s[j], ()
            if not entry_values[entry][0]:
                if not self.wake_on_step:
                    continue
                at = self._woken(s, j, rest)  # the restart and the delivery, one step
                rest, entry, events = at[base:], at[j], ("restart",)
            if timed:
                r = self._deliver(j, entry, e, self.now(at, j))
            else:  # ``_deliver``'s memo, looked up here: most deliveries are met before
                r = react.get((j, entry, e), _MISSING)
                if r is _MISSING:
                    r = self._deliver(j, entry, e)
            if r is None:
                continue
            dst = self.ids[j]
            t = self._step(at, j, r, rest)
            if t != s:
                out.append(t if not mode else (DELIVER, t) if mode == _BY_ACTION
                           else (self._label(DELIVER, dst, e, r, events), t))
            if crashes and self.crash_points:
                for cp in r[3]:
                    t = self._crashed(at, j, cp, rest)
                    out.append(t if not mode else (CRASH_POINT, t) if mode == _BY_ACTION
                               else (self._crash_label(
                                   self._label(DELIVER, dst, e, None, events), cp), t))
        if drops:
            for e, rest in network.drops(net):
                t = s[:b] + (drops - 1, dups, crashes) + s[h:base] + rest
                out.append(t if not mode else (DROP, t) if mode == _BY_ACTION
                           else (self._label(DROP, None, e, None, ("drop",)), t))
        if dups:
            for e, more in network.duplicates(net):
                t = s[:b] + (drops, dups - 1, crashes) + s[h:base] + more
                out.append(t if not mode else (DUPLICATE, t) if mode == _BY_ACTION
                           else (self._label(DUPLICATE, None, e, None, ("duplicate",)), t))
        for i in range(n):
            up, durable, st, timers = entry_values[s[i]]
            for name in timers:
                now = self.now(s, i) if timed else None
                r = self._fire(i, s[i], name, now)
                t = self._step(s, i, r, net)
                if t != s:
                    out.append(t if not mode else (TIMER, t) if mode == _BY_ACTION
                               else (self._timer_label(i, name, r), t))
                if crashes and self.crash_points:
                    for cp in r[3]:
                        t = self._crashed(s, i, cp, net)
                        out.append(t if not mode else (CRASH_POINT, t) if mode == _BY_ACTION
                                   else (self._crash_label(self._timer_label(i, name, None),
                                                           cp), t))
        if crashes:
            fresh = self.restart_at_once or self.wake_on_step
            for i in self.crashable:
                if entry_values[s[i]][0]:
                    rs: tuple | None = None
                    if fresh:  # restarted at once, or down showing its restart
                        down, outs = self._after_crash(i, entry_values[s[i]][1],
                                                       self.now(s, i))
                        rs = (down, (), outs)
                        t = self._step(s[:b] + (drops, dups, crashes - 1) + s[h:], i, rs, net)
                    else:
                        t = (s[:i] + (self._crash_entry(i, s[i]),) + s[i + 1:b]
                             + (drops, dups, crashes - 1) + s[h:])
                        if self.dead is not None:
                            t = self._bury_step(s, t, i, ())
                    out.append(t if not mode else (CRASH, t) if mode == _BY_ACTION
                               else (self._node_label(
                                   CRASH, i, ("crash", "restart") if self.restart_at_once
                                   else ("crash",), rs), t))
        for i in range(n):
            up, durable, st, timers = entry_values[s[i]]
            if not up:
                now = self.now(s, i) if timed else None
                r = self._start(i, durable, now)
                t = self._step(s, i, r, net)
                out.append(t if not mode else (RESTART, t) if mode == _BY_ACTION
                           else (self._node_label(RESTART, i, ("restart",), r), t))
                if crashes and self.crash_points:
                    for cp in r[3]:
                        t = self._crashed(s, i, cp, net)
                        out.append(t if not mode else (CRASH_POINT, t) if mode == _BY_ACTION
                                   else (self._crash_label(
                                       self._node_label(RESTART, i, ("restart",), None),
                                       cp), t))
        return out

    def _step(self, s: tuple, i: int, r: tuple, net: tuple) -> tuple:
        """``s`` after node ``i``'s step with reaction ``r`` (``net``: the network it saw, a
        delivered copy already out); its sends are stamped with the state's count."""
        entry, sends, outs = r[0], r[1], r[2]
        if sends or outs:
            h, o = self._fold(s, sends, outs)
        else:
            h, o = s[self.history_at], s[self.outputs_at]
        if sends:
            if self._stamps:
                sends = self._stamp(sends, s[self.mined_at])
            net = self.net.add(net, sends)
        if self.extras:
            t = (s[:i] + (entry,) + s[i + 1:self.history_at] + (h, o)
                 + s[self.extras_at:self.network_at] + net)
        else:
            t = s[:i] + (entry,) + s[i + 1:self.history_at] + (h, o) + net
        return self._bury_step(s, t, i, sends) if self.dead is not None else t

    def _woken(self, s: tuple, i: int, net: tuple) -> tuple:
        """``s`` (with ``net`` in flight) after down node ``i`` restarts now (``wake_on_step``:
        the first half of its fused restart-and-step)."""
        now = self.now(s, i) if self._timed else None
        return self._step(s, i, self._start(i, self.entries.values[s[i]][1], now), net)

    def _environment_steps(self, s: tuple, mode: int, out: list) -> None:
        """The environment's actions (``Mining``: ``Mine(node)``, for each node that may find
        the next block), appended to ``out`` as ``_expand`` does."""
        env = self.environment
        assert env is not None
        base, at_m = self.network_at, self.mined_at
        mined = s[at_m]
        values = self.envs.values
        if not env.allows(mined, [values[e][3] for e in s[base:]]):
            return
        cps_on = self.crash_points and s[self.budgets_at + _CRASHES] > 0
        for i in range(self.n):
            at, events = s, (env.timer,)
            if not self.entries.values[s[i]][0]:
                if not self.wake_on_step:
                    continue
                at = self._woken(s, i, s[base:])
                if not env.allows(mined, [values[e][3] for e in at[base:]]):
                    continue
                events = ("restart", env.timer)
            at = at[:at_m] + (mined + 1,) + at[at_m + 1:]  # the block is found
            now = self.now(at, i) if self._timed else None
            r = self._fire(i, at[i], env.timer, now)
            t = self._step(at, i, r, at[base:])
            out.append(t if not mode else (env.action, t) if mode == _BY_ACTION
                       else (self._env_label(i, r, events), t))
            if cps_on:
                for cp in r[3]:
                    t = self._crashed(at, i, cp, at[base:])
                    out.append(t if not mode else (CRASH_POINT, t) if mode == _BY_ACTION
                               else (self._crash_label(self._env_label(i, r, events), cp), t))

    def _receivers(self) -> Any:
        """Each envelope id's receiver (node index), for every envelope interned so far; read
        from the envelope itself with ``intern=False``."""
        if not self._intern:
            return _ReceiverOf(self.index)
        dst, values = self._dst, self.envs.values
        while len(dst) < len(values):
            dst.append(self.index[values[len(dst)][1]])
        return dst

    def _expanding(self, s: tuple) -> None:
        """Note that ``s``'s successors are being made: when ``s`` is buried (``_bury``
        leaves it as it is), ``_bury_step`` need only look at the envelopes of one node."""
        self._base = None
        if self._pending or self._bury(s) is not s:
            return
        dst, tos = self._receivers(), [[] for _ in range(self.n)]
        for e in s[self.network_at:]:
            tos[dst[e]].append(e)
        self._base, self._tos = s, tos

    def _bury_step(self, s: tuple, t: tuple, i: int, sent: tuple) -> tuple:
        """``_bury(t)``, for ``t`` made from ``s`` by a step of node ``i`` that sent ``sent``.

        When ``s`` is the buried state under expansion, an envelope of ``t`` can be dead only
        if it goes to ``i`` (whose entry changed) or was just sent: the others are ``s``'s,
        alive with the same receiver entries. Their flags are looked up; one never computed
        sends ``t`` to ``_bury``, which computes and obliges in the network's order."""
        if s is not self._base or self._pending:
            return self._bury(t)
        get = self._dead_memo.get
        x = t[i] << 24
        envs, keys = self._tos[i], [x | e for e in self._tos[i]]
        if sent:
            dst = self._receivers()
            envs = envs + list(sent)
            keys += [t[dst[e]] << 24 | e for e in sent]
        dead = []
        for e, key in zip(envs, keys):
            f = get(key)
            if f:
                dead.append(e)
            elif f is None:
                return self._bury(t)
        if not dead:
            return t
        base = self.network_at
        return t[:base] + tuple(itertools.filterfalse(set(dead).__contains__, t[base:]))

    def _bury(self, t: tuple) -> tuple:
        """``t`` without the envelopes that ``dead`` says can never again take effect."""
        base = self.network_at
        dst, values = self._receivers(), self.envs.values
        if self._pending and not self._draining:
            self._drain()  # obligations an exception left unchecked (``_oblige``)
        net = t[base:]
        keys = [t[dst[e]] << 24 | e for e in net]
        flags = list(map(self._dead_memo.get, keys))
        if None in flags:
            for k, (key, f) in enumerate(zip(keys, flags)):
                if f is None:
                    e = net[k]
                    j = dst[e]
                    up, durable, st, timers = self.entries.values[t[j]]
                    f = bool(self.dead(self.ids[j], Node(up, durable, st, timers),
                                       values[e][2]))
                    flags[k] = self._dead_memo[key] = f
                    if f:
                        self._oblige(j, t[j], e)
        if True not in flags:
            return t
        return t[:base] + tuple(e for e, f in zip(net, flags) if not f)

    # -- labels ----------------------------------------------------------------------------
    def envelope_record(self, e: int) -> Record:
        return to_plain(self.envs.values[e][2])

    def _sends(self, r: tuple | None) -> tuple[Record, ...]:
        if r is None:
            return ()
        return tuple(Record(rec.kind, (("src", s), ("dst", d)) + rec.fields)
                     for s, d, rec in ((s, d, to_plain(m))
                                       for s, d, m, *_ in (self.envs.values[x] for x in r[1])))

    def _label(self, action: str, lane: str | None, e: int, r: tuple | None,
               events: tuple[str, ...]) -> Label:
        v = self.envs.values[e]
        src, dst = v[0], v[1]
        rec = to_plain(v[2])
        read = Record(rec.kind, (("src", src), ("dst", dst)) + rec.fields)
        args = (("src", src), ("dst", dst), ("msg", rec)) + (
            (("sent", v[3]),) if self._stamps else ())
        return Label(action, args, lane or src, (read,), self._sends(r), events)

    def _crash_label(self, label: Label, cp: tuple) -> Label:
        """``label``'s step cut short by a crash after ``cp``'s first ``u`` effect units."""
        return dataclasses.replace(
            label, args=label.args + (("crash_after", cp[0]),),
            sends=self._sends((None, cp[2])),
            events=label.events + (("crash", "restart") if self.restart_at_once
                                   else ("crash",)))

    def _env_label(self, i: int, r: tuple, events: tuple[str, ...]) -> Label:
        """The label of node ``i``'s environment step (``Mine``) with reaction ``r``."""
        assert self.environment is not None
        return Label(self.environment.action, (("node", self.ids[i]),), self.ids[i], (),
                     self._sends(r), events)

    def _timer_label(self, i: int, name: str, r: tuple | None) -> Label:
        return Label("Timer", (("node", self.ids[i]), ("timer", name)), self.ids[i], (),
                     self._sends(r), ("timer",))

    def _node_label(self, action: str, i: int, events: tuple[str, ...], r: tuple | None) -> Label:
        return Label(action, (("node", self.ids[i]),), self.ids[i], (), self._sends(r), events)

    # -- reductions --------------------------------------------------------------------------
    def reductions(self) -> tuple[Reduction, ...]:
        """``noop`` (justified by running the handler: a delivery that changes nothing and
        sends nothing is not a step; no property may read the network), ``bury`` (premise
        checked in the search, ``_oblige``), ``symmetry`` (premise checked on every handler
        call, ``_check_equivariant``) and ``tallies`` (premise checked on every handler call
        once a tally is abstracted, ``_check_tally``; no property may read a tally)."""
        out = []
        if self.net.prunes_noops and self.net.consumes:  # elsewhere a self-loop or a step
            out.append(Reduction("noop", self.prune_noops, self.off.get("noop",
                                                                       "by a parameter")))
        if self.dead is not None or "bury" in self.off:
            out.append(Reduction("bury", self.dead is not None,
                                 self.off.get("bury", "by a parameter")))
        if self.groups:
            out.append(Reduction("symmetry", True, ""))
        if self.tallies or "tallies" in self.off:
            out.append(Reduction("tallies", bool(self.tallies),
                                 self.off.get("tallies", "by a parameter")))
        return tuple(out)

    def without_reduction(self, name: str, why: str) -> Model:
        """Symmetry: stop checking its premise on handler calls (the engine stops using it)."""
        if name == "symmetry":
            self._sym_checked = False
            self._sym_refused = True
            return self
        return super().without_reduction(name, why)

    # -- symmetry --------------------------------------------------------------------------
    @property
    def has_symmetry(self) -> bool:
        return bool(self.groups)

    def _permutations(self) -> list[tuple[dict[str, str], tuple[int, ...]]]:
        """Every non-identity product of group permutations: (id mapping, where), where
        ``where[i]`` is the position node ``i``'s renamed entry moves to."""
        if self._perms is None:
            perms = []
            for combo in itertools.product(*(itertools.permutations(g) for g in self.groups)):
                mapping = {}
                for g, img in zip(self.groups, combo):
                    mapping.update(zip(g, img))
                if all(k == v for k, v in mapping.items()):
                    continue
                perms.append((mapping, tuple(self.index[mapping.get(x, x)] for x in self.ids)))
            self._perms = perms
            # per permutation, id -> the id of its renamed value, one map per table
            self._entry_maps = [{} for _ in perms]
            self._hist_maps: list[dict[int, int]] = [{} for _ in perms]
            self._out_maps: list[dict[int, int]] = [{} for _ in perms]
            self._env_maps: list[dict[int, int]] = [{} for _ in perms]
            # per permutation, the node index whose entry lands at each position
            self._from = [tuple(sorted(range(self.n), key=where.__getitem__))
                          for _, where in perms]
            self._perm_of = {tuple(sorted(m.items())): p for p, (m, _) in enumerate(perms)}
            self._group_pos = tuple(tuple(self.index[x] for x in g) for g in self.groups)
            # the groups' entries of a state, as a tuple (every group has two members or more)
            self._group_entries = operator.itemgetter(*(i for pos in self._group_pos
                                                        for i in pos))
            self._invariant: dict[int, bool] = {}
            self._cand_memo: dict[tuple, list] = Memo()
            self._portable_cand_memo: dict[tuple, list] = Memo()
        return self._perms

    def _rename_id(self, p: int, table: _Interned, memo: dict[int, int], x: int) -> int:
        """The id in ``table`` of value ``x`` renamed by permutation ``p`` (interned now if new),
        remembered in ``memo``."""
        y = memo.get(x)
        if y is None:
            y = memo[x] = table(self.rename(table.values[x], self._perms[p][0]))
        return y

    def _rename_ids(self, p: int, table: _Interned, memo: dict[int, int],
                    ids: tuple) -> list[int]:
        """``_rename_id`` of each of ``ids``, in order (one look-up each when all are known)."""
        out = list(map(memo.get, ids))
        if None in out:
            out = [self._rename_id(p, table, memo, x) for x in ids]
        return out

    def _candidates(self, s: tuple) -> list[int | None]:
        """The permutations worth trying for ``s`` (None = identity).

        When every entry of a group is unchanged by renaming (its members' states do not
        mention the group's ids), the least image sorts the group's entries by id, so only the
        permutations that do so (all orders within runs of equal entries) are tried; the set
        of their images depends only on the orbit, so the result is still canonical.
        Otherwise every permutation is tried.
        """
        key = self._group_entries(s)
        out = self._cand_memo.get(key)
        if out is None:
            out = self._cand_memo[key] = self._find_candidates(s)
        return out

    def _find_candidates(self, s: tuple,
                         rank: Callable[[int], Any] | None = None) -> list[int | None]:
        """``_candidates`` with the groups' entries ordered by ``rank`` of their ids (by the ids
        themselves when None)."""
        perms = self._perms
        choices = []
        for g, pos in zip(self.groups, self._group_pos):
            ents = [s[i] for i in pos]
            if not all(self._is_invariant(e) for e in ents):
                return [None] + list(range(len(perms)))
            if rank is not None:
                ents = [rank(e) for e in ents]
            order = sorted(range(len(g)), key=lambda j: ents[j])
            blocks, k = [], 0
            while k < len(order):
                j = k
                while j < len(order) and ents[order[j]] == ents[order[k]]:
                    j += 1
                blocks.append(order[k:j])
                k = j
            opts = []
            for combo in itertools.product(*(itertools.permutations(b) for b in blocks)):
                flat = [x for b in combo for x in b]
                # the member at sorted position r is renamed to g[r]
                opts.append({g[flat[r]]: g[r] for r in range(len(g))})
            choices.append(opts)
        out: list[int | None] = []
        for combo in itertools.product(*choices):
            mapping = {}
            for m in combo:
                mapping.update(m)
            key = tuple(sorted((a, b) for a, b in mapping.items() if a != b))
            out.append(self._perm_of[tuple(sorted(mapping.items()))] if key else None)
        return out

    def _is_invariant(self, entry: int) -> bool:
        ok = self._invariant.get(entry)
        if ok is None:
            ok = self._invariant[entry] = all(
                self._rename_id(p, self.entries, self._entry_maps[p], entry) == entry
                for p in range(len(self._perms)))
        return ok

    def _canon_effects(self, effects: Sequence) -> tuple:
        """Effects as the system applies them: units in order, each run's sends a multiset."""
        out = []
        for unit in _units(effects):
            if isinstance(unit[0], (Persist, Output)):
                out.append(unit[0])
            else:
                sends = [e for e in unit if isinstance(e, Send)]
                out.append((frozenset((e, sends.count(e)) for e in sends),
                            tuple(e for e in unit if not isinstance(e, Send))))
        return tuple(out)

    def _check_equivariant(self, i: int, event: tuple, st: Any, result: tuple) -> None:
        """The symmetry premise, for one handler call of node ``i``: under every renaming of
        the symmetric groups, the renamed node given the renamed state and event reacts with
        the renamed result. Raises ``ReductionUnsound`` where it does not."""
        perms = self._permutations()
        for mapping, where in perms:
            def ren(value: Any) -> Any:
                return self.rename((value,), mapping)[0]
            j = where[i]
            actor, node = self.actors[j], self.ids[j]
            if event[0] == "start":
                got = actor.on_start(node, ren(event[1]), self._now)
            elif event[0] == "message":
                got = actor.on_message(node, ren(st), ren(event[1]), ren(event[2]), self._now)
            else:
                got = actor.on_timer(node, ren(st), event[1], self._now)
            want = (ren(result[0]), self._canon_effects(ren(tuple(result[1]))))
            if (got[0], self._canon_effects(got[1])) != want:
                what = (f"message {to_plain(event[2])} from {event[1]}" if event[0] == "message"
                        else f"timer {event[1]}" if event[0] == "timer" else "start")
                raise ReductionUnsound(
                    "symmetry", f"{self.ids[i]} and {node} react differently to {what} under "
                    f"the renaming {mapping} (the code singles out a node by its id)")

    def _check_memoised(self) -> None:
        """Check the symmetry premise on every handler call made before symmetry was used."""
        self._sym_checked = True
        for key in list(self._react):
            i = key[0]
            if key[1] == "start":
                durable = key[2]
                self._check_equivariant(i, ("start", durable), None,
                                        self.actors[i].on_start(self.ids[i], durable, self._now))
                continue
            up, durable, st, timers = self.entries.values[key[1]]
            if isinstance(key[2], str):
                self._check_equivariant(i, ("timer", key[2]), st,
                                        self.actors[i].on_timer(self.ids[i], st, key[2], self._now))
            else:
                src, _, msg = self.envs.values[key[2]]
                self._check_equivariant(
                    i, ("message", src, msg), st,
                    self.actors[i].on_message(self.ids[i], st, src, msg, self._now))

    def representative(self, s: tuple) -> tuple:
        """The least image of ``s`` under the permutations of the symmetric groups.

        The first call switches on the symmetry premise check (``_check_equivariant``) for
        every handler call, past and future: symmetry is sound for the code under check only
        if its handlers treat the group's members alike, and this is verified, not assumed.
        """
        cache = self._rep_cache
        best = cache.get(s)
        if best is not None:
            return best
        if not self._sym_checked and not getattr(self, "_sym_refused", False):
            self._check_memoised()
        self._permutations()
        for p in self._candidates(s):
            img = s if p is None else self._image(p, s)
            if best is None or img < best:
                best = img
        cache[s] = best
        return best

    def _image(self, p: int, s: tuple) -> tuple:
        """``s`` renamed by permutation ``p``: entries moved to their renamed nodes, the network
        in canonical order. Values renamed for the first time are interned in the order node
        entries, history, outputs, envelopes (the network's order), which fixes their ids."""
        n, hi, oi, base = self.n, self.history_at, self.outputs_at, self.network_at
        ents = self._rename_ids(p, self.entries, self._entry_maps[p], s[:n])
        h = s[hi]
        if self.record is not None:
            h = self._rename_id(p, self.hist, self._hist_maps[p], h)
        o = self._rename_id(p, self.outs, self._out_maps[p], s[oi])
        net = self._rename_ids(p, self.envs, self._env_maps[p], s[base:])
        return (tuple(map(ents.__getitem__, self._from[p])) + s[self.budgets_at:hi] + (h, o)
                + s[self.extras_at:base] + self.net.canonical(net))

    # -- portable states ----------------------------------------------------------------------
    def portable(self, state: tuple) -> tuple:
        """``state`` as plain values that mean the same in every process (its ids do not):
        ``(entries, budgets, history, outputs, extras, network)``, each interned value as the
        ``marshal`` bytes of its ``to_portable`` form, an unordered network's envelopes sorted
        by those bytes. Equal states give equal values in every process, whatever order it
        interned its values in and whatever its string hash seed; ``from_portable_state``
        inverts it."""
        hi, oi, base = self.history_at, self.outputs_at, self.network_at
        net = self._encode_ids(_ENVS, state[base:])
        if not self.net.ordered:
            net.sort()
        return (tuple(self._encode_ids(_ENTRIES, state[:self.n])), state[self.budgets_at:hi],
                self._encode_ids(_HIST, state[hi:oi])[0],
                self._encode_ids(_OUTS, state[oi:self.extras_at])[0],
                to_portable(state[self.extras_at:base]), tuple(net))

    def from_portable_state(self, value: tuple) -> tuple:
        """The state of this process whose ``portable`` form is ``value`` (interning what is
        new here); ``ValueError`` when ``value`` is not one of this model's."""
        try:
            ents, budgets, h, o, extras, net = value
            ids = [self._decode_id(_ENVS, b) for b in net]
            return (tuple(self._decode_id(_ENTRIES, b) for b in ents) + tuple(budgets)
                    + (self._decode_id(_HIST, h), self._decode_id(_OUTS, o))
                    + from_portable(extras, self.types)
                    + (tuple(ids) if self.net.ordered else self.net.canonical(ids)))
        except (TypeError, EOFError) as exc:
            raise ValueError(f"not a portable state of {self.name}: {exc}") from None

    def encode_state(self, state: tuple) -> bytes:
        """``portable(state)`` as bytes (``paxchain.checker.portable``'s codec hashes them
        for the fingerprint that workers share, and ships them)."""
        return _dumps(self.portable(state))

    def decode_state(self, data: bytes) -> tuple:
        """Inverse of ``encode_state``, in this process."""
        try:
            value = marshal.loads(data)
        except (ValueError, EOFError, TypeError) as exc:
            raise ValueError(f"not a portable state of {self.name}: {exc}") from None
        return self.from_portable_state(value)

    def portable_key(self, state: tuple) -> int:
        """A signed 64-bit fingerprint of ``state`` that is the same in every process: BLAKE2b
        over the digests of its parts (each interned value's digest is that of its ``portable``
        bytes, computed once per id) — node entries in node order, budgets, history, outputs,
        the environment's slots, and the network, an ordered one in its order and an unordered
        one as the sum of its envelopes' digests (a multiset's, so no sort). Equal states give
        equal keys whatever ids this process gave their values; it costs a few µs where
        hashing ``encode_state`` costs about ten."""
        hi, oi, ei, base = self.history_at, self.outputs_at, self.extras_at, self.network_at
        de, dh, do, dv = self._digests
        parts = list(map(de.get, state[:self.n]))
        h, o = dh.get(state[hi]), do.get(state[oi])
        net = list(map(dv.get, state[base:]))
        if None in parts or None in net or h is None or o is None:  # ids not digested yet
            parts = self._digest_ids(_ENTRIES, state[:self.n])
            h = self._digest_ids(_HIST, state[hi:oi])[0]
            o = self._digest_ids(_OUTS, state[oi:ei])[0]
            net = self._digest_ids(_ENVS, state[base:])
        parts.extend(state[self.budgets_at:hi])
        parts.append(h)
        parts.append(o)
        if base > ei:
            parts.append(self._extras_digest(state[ei:base]))
        if self.net.ordered:
            parts.extend(net)
        else:
            parts.append(sum(net) & _MASK64)
        return _digest64(array.array("Q", parts).tobytes())

    def portable_orbit_key(self, state: tuple) -> int:
        """The least ``portable_key`` over ``state``'s images under the symmetric groups: one
        key for a whole orbit, the same in every process (``representative`` picks the least
        image by this process's ids, so its key would not be). It tries every permutation, or,
        when renaming leaves the groups' entries unchanged, those that sort each group's
        entries by digest (all orders within runs of equal entries): the images that do so
        depend only on the orbit. It is computed once per orbit member that ``representative``
        picks (kept for the orbits met last), so a state costs this process's representative
        (cached) and a look-up; the representative's first call switches the symmetry premise
        check on."""
        rep = self.representative(state)
        cache = self._orbit_keys
        best = cache.get(rep)
        if best is not None:
            return best
        ents = self._group_entries(rep)
        cands = self._portable_cand_memo.get(ents)
        if cands is None:
            digests = self._digests[_ENTRIES]
            self._digest_ids(_ENTRIES, ents)
            cands = self._portable_cand_memo[ents] = self._find_candidates(rep, digests.get)
        for p in cands:
            k = self.portable_key(rep if p is None else self._image(p, rep))
            if best is None or k < best:
                best = k
        assert best is not None  # cands holds the identity or every permutation
        cache[rep] = best
        return best

    def _digest_ids(self, k: int, ids: tuple) -> list[int]:
        """The digests (unsigned 64-bit) of ids ``ids`` of table ``k`` (computed once per id)."""
        memo = self._digests[k]
        out = list(map(memo.get, ids))
        if None in out:
            out = [memo[x] if x in memo else memo.setdefault(
                x, _digest64(self._encode_ids(k, (x,))[0], signed=False)) for x in ids]
        return out

    def _extras_digest(self, extras: tuple) -> int:
        d = self._extra_digests.get(extras)
        if d is None:
            d = self._extra_digests[extras] = _digest64(_dumps(to_portable(extras)),
                                                        signed=False)
        return d

    def _encode_ids(self, k: int, ids: tuple) -> list[bytes]:
        """The portable bytes of ids ``ids`` of table ``k`` (computed once per id)."""
        memo = self._encoded[k]
        out = list(map(memo.get, ids))
        if None in out:
            values = self._tables[k].values
            out = [memo[x] if x in memo else memo.setdefault(x, _dumps(to_portable(values[x])))
                   for x in ids]
        return out

    def _decode_id(self, k: int, data: bytes) -> Any:
        """The id in table ``k`` of the value whose portable bytes are ``data``."""
        memo = self._decoded[k]
        x = memo.get(data)
        if x is None:
            x = memo[data] = self._tables[k](from_portable(marshal.loads(data), self.types))
            self._encoded[k].setdefault(x, data)
        return x

    # -- naming the parts of a state ---------------------------------------------------------
    def variables(self) -> tuple[str, ...]:
        return ("up", "durable", "state", "timers", "network", "budgets", "history", "outputs")

    def lanes(self) -> tuple[str, ...]:
        return self.ids

    def to_vars(self, s: tuple) -> dict[str, Any]:
        nodes = self.nodes(s)
        drops, dups, crashes = self.remaining(s)
        recs = [Record("envelope", (("src", a), ("dst", b), ("msg", to_plain(msg))))
                for a, b, msg in self.network(s)]
        net: Any
        if self.net.ordered:  # the envelopes in the network's order
            net = tuple(recs)
        else:  # envelope -> its number of copies
            counts: dict[Record, int] = {}
            for rec in recs:
                counts[rec] = counts.get(rec, 0) + 1
            net = dict(sorted(counts.items(), key=lambda kv: str(kv[0])))
        return {"up": {x: v.up for x, v in nodes.items()},
                "durable": {x: to_plain(v.durable) for x, v in nodes.items()},
                "state": {x: to_plain(v.state) for x, v in nodes.items()},
                "timers": {x: frozenset(v.timers) for x, v in nodes.items()},
                "network": net,
                "budgets": {"drops": drops, "duplicates": dups, "crashes": crashes},
                "history": self.show_history(self.history(s)),
                "outputs": frozenset((x, to_plain(v)) for x, v in self.outputs(s))}

    def from_vars(self, values: Mapping[str, Any]) -> tuple:
        def per_node(name: str) -> dict:
            d = values[name]
            if not isinstance(d, dict) or sorted(d) != sorted(self.ids):
                raise ValueError(f"{name} must map exactly the nodes {list(self.ids)}")
            return d

        up, durable, state, timers = (per_node(k) for k in ("up", "durable", "state", "timers"))
        types = self.types
        entries = []
        for x in self.ids:
            if not isinstance(up[x], bool) or not isinstance(timers[x], frozenset):
                raise ValueError(f"node {x}: bad up flag or timers")
            entries.append(self.entries((up[x], from_plain(durable[x], types),
                                         from_plain(state[x], types),
                                         tuple(sorted(timers[x])))))
        b = values["budgets"]
        if (not isinstance(b, dict) or set(b) != {"drops", "duplicates", "crashes"}
                or not all(type(v) is int and v >= 0 for v in b.values())):
            raise ValueError("budgets must map drops, duplicates and crashes to counts")
        net: list[int] = []
        raw = values["network"]
        if self.net.ordered:  # a tuple of envelopes, in order
            if not isinstance(raw, tuple):
                raise ValueError("network must list the envelopes in order")
            items: Iterable[tuple[Any, Any]] = ((r, 1) for r in raw)
        elif isinstance(raw, dict):  # envelope -> copies
            items = raw.items()
        else:
            raise ValueError("network must map envelopes to their numbers of copies")
        for r, copies in items:
            if not isinstance(r, Record) or r.kind != "envelope":
                raise ValueError(f"{r} is not an envelope")
            if type(copies) is not int or copies < 1:
                raise ValueError(f"{r}: the number of copies must be a positive integer")
            f = dict(r.fields)
            if f.get("src") not in self.index or f.get("dst") not in self.index:
                raise ValueError(f"{r} names an unknown node")
            net += [self.envs((f["src"], f["dst"], from_plain(f["msg"], types)))] * copies
        net_t = self.net.canonical(net)
        why = self.net.valid(net_t)
        if why is not None:
            raise ValueError(why)
        outs = values["outputs"]
        if not isinstance(outs, frozenset):
            raise ValueError("outputs must be a set")
        return (tuple(entries) + (b["drops"], b["duplicates"], b["crashes"])
                + (self.hist(self.read_history(values["history"])),
                   self.outs(frozenset((x, from_plain(v, types)) for x, v in outs)))
                + net_t)
