"""Portable states: an encoding and a 64-bit fingerprint that mean the same in every process.

A model's state is a value of the process that made it. Some models keep it that way — Lamport's
Paxos packs a state into tuples of integers, so the tuple *is* the state wherever it goes —
but others intern: ``ActorSystem`` states are tuples of small ids into per-process tables,
assigned in first-seen order, so id 7 names one node entry here and another in the next worker.
The parallel engine (``paxchain.checker.parallel``) exchanges states between processes and
partitions them by fingerprint, so it needs, for every model:

- ``key(state)``: a 64-bit fingerprint equal in every worker for equal states (after symmetry
  reduction, the fingerprint of the orbit's representative);
- ``pack(state)`` / ``unpack(payload)``: a picklable form another worker turns back into an
  equal state of *its* copy of the model (re-interning there: the interning stays, as a
  per-worker cache).

``codec_for`` chooses between two codecs:

- ``PlainCodec``: the model's states are plain values (integers, strings, booleans, ``None``,
  tuples, frozensets, records, frozen dataclasses) whose meaning does not depend on the process.
  They travel as they are, and the key is the model's own ``fingerprint``. Workers are forked
  from one parent, so they share its string-hash seed and ``hash`` agrees between them.
- ``VarsCodec``: everything else: the model's canonical bytes (``encode_state``), their
  BLAKE2b-64 digest as the key (or the model's own ``portable_key``), and ``decode_state``
  to decode. Built only from the model
  interface, the bytes are the canonical encoding of ``to_vars(state)`` and decode with
  ``from_vars``: exact for any model whose ``to_vars``/``from_vars`` round-trip, but it pays
  for ``to_vars`` at every generated state (``paxos-system``: hundreds of µs, against
  about 8 µs for the model's own ``encode_state``).

A model decides for itself with an optional attribute ``portable_states`` (``True``: its states
are plain values; ``False``: they are not). Without it, states are taken as plain when the
initial states are plain values and the model is not an ``ActorSystem`` (whose integers are ids).
A model may also supply ``encode_state(state) -> bytes`` and ``decode_state(bytes) -> state``
methods, which ``VarsCodec`` then uses instead of ``to_vars``, and ``portable_key(state) ->
int``, a 64-bit fingerprint equal in every process that ``VarsCodec`` then uses as the key
instead of digesting ``encode_state``. Every ``ActorSystem`` has all three
(``ActorSystem.portable``: each interned value's ``marshal`` bytes, computed once per id, in
an order that does not depend on the ids, about 8 µs a state for ``paxos-system``;
``portable_key``: one digest of the parts' per-id digests, a few µs).

Symmetry: a portable key of a reduced state must be one key per orbit in every process. A plain
model's ``representative`` is a function of the value, so the fingerprint of its representative
qualifies. ``ActorSystem``'s representative picks the least image by its per-process ids, so
it does not; instead ``portable_orbit_key`` gives the least ``portable_key`` over the orbit's
images, which depends only on the orbit. A model with neither is refused symmetry under
``VarsCodec`` (``NotPortable``) rather than letting two workers count one orbit twice.

The canonical encoding (``encode_value``) is the JSON of the trace format
(``paxchain.models.values.encode``) with map entries sorted too, so it does not depend on the
order in which a model builds its dicts: ``decode_value`` reads it back with the trace reader.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Hashable
from typing import Any

from paxchain.models.actor_system import ActorSystem
from paxchain.models.memo import Memo
from paxchain.models.model import Model, Record
from paxchain.models.values import decode, encode

__all__ = ["Codec", "PlainCodec", "VarsCodec", "NotPortable", "codec_for", "plain_states",
           "is_plain", "encode_value", "decode_value", "digest64", "encode_state",
           "decode_state", "state_fingerprint"]


class NotPortable(ValueError):
    """The model's states (or its representative) cannot be exchanged between processes as
    asked; the message is one line naming the model and the reason."""


# -- canonical values ----------------------------------------------------------------------------

def _canon(value: Any) -> Any:
    """Trace JSON (``values.encode``) with every map's entries and every set's elements in
    the order of their own canonical text, inner values first."""
    if isinstance(value, list):
        return [_canon(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "#map" in value:
        return {"#map": sorted(([_canon(k), _canon(v)] for k, v in value["#map"]),
                               key=lambda kv: _text(kv[0]))}
    if "#set" in value:
        return {"#set": sorted((_canon(v) for v in value["#set"]), key=_text)}
    return {k: _canon(v) for k, v in value.items()}  # a record: its fields in their order


def _text(x: Any) -> str:
    return json.dumps(x, separators=(",", ":"), ensure_ascii=False)


def encode_value(value: Any) -> bytes:
    """The canonical bytes of a trace value (what ``to_vars`` returns): equal values give equal
    bytes in every process, whatever order their maps and sets were built in."""
    return _text(_canon(encode(value))).encode()


def decode_value(data: bytes) -> Any:
    """Inverse of ``encode_value`` (the trace reader's ``decode``; untrusted input is refused
    with ``TraceError``)."""
    return decode(json.loads(data))


def digest64(data: bytes) -> int:
    """A signed 64-bit fingerprint of ``data`` (BLAKE2b, 8 bytes): the same in every process
    and every run, unlike ``hash`` of a string."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little", signed=True)


def encode_state(model: Model, state: Hashable) -> bytes:
    """``state`` as canonical bytes: the model's ``encode_state`` if it has one, else the
    canonical encoding of ``to_vars(state)``."""
    own = getattr(model, "encode_state", None)
    if own is not None:
        return bytes(own(state))
    return encode_value(model.to_vars(state))


def decode_state(model: Model, data: bytes) -> Hashable:
    """Inverse of ``encode_state`` in this process's copy of ``model``."""
    own = getattr(model, "decode_state", None)
    if own is not None:
        return own(data)  # type: ignore[no-any-return]
    values = decode_value(data)
    if not isinstance(values, dict):
        raise ValueError("a portable state encodes a map of the model's variables")
    return model.from_vars(values)


def state_fingerprint(model: Model, state: Hashable) -> int:
    """The portable 64-bit fingerprint of ``state``: the model's ``portable_key`` where it has
    one, else the digest of its canonical bytes."""
    own = getattr(model, "portable_key", None)
    if own is not None:
        return int(own(state))
    return digest64(encode_state(model, state))


# -- plain values --------------------------------------------------------------------------------

_ATOMS = (bool, int, str, bytes, float, type(None))


def is_plain(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is built only of atoms, tuples, frozensets, records and frozen
    dataclasses: values whose equality does not depend on the process that made them."""
    if isinstance(value, _ATOMS):
        return True
    if depth > 64:
        return False
    if isinstance(value, (tuple, frozenset)):
        return all(is_plain(v, depth + 1) for v in value)
    if isinstance(value, Record):
        return all(is_plain(v, depth + 1) for _, v in value.fields)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        params = getattr(type(value), "__dataclass_params__", None)
        return bool(params is not None and params.frozen) and all(
            is_plain(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value))
    return False


def plain_states(model: Model) -> bool:
    """Whether ``model``'s states mean the same in every process (see the module docstring)."""
    declared = getattr(model, "portable_states", None)
    if declared is not None:
        return bool(declared)
    if isinstance(model, ActorSystem):
        return False  # its states are ids into per-process interning tables
    return all(is_plain(s) for s in model.initial_states())


# -- codecs --------------------------------------------------------------------------------------

class Codec:
    """How workers exchange a model's states: ``key`` (a portable fingerprint, after symmetry
    reduction when ``canon`` is given), ``pack`` and ``unpack``."""

    name = "codec"

    def __init__(self, model: Model, canon: Callable[[Any], Any] | None) -> None:
        self.model = model
        self.canon = canon

    def key(self, state: Any) -> int:
        raise NotImplementedError

    def pack(self, state: Any) -> Any:
        raise NotImplementedError

    def unpack(self, payload: Any) -> Any:
        raise NotImplementedError

    def pack_many(self, states: list[Any]) -> Any:
        """A batch of states in one picklable payload (what a worker sends another)."""
        return [self.pack(s) for s in states]

    def unpack_at(self, payload: Any, positions: list[int]) -> list[Any]:
        """The states at ``positions`` of a ``pack_many`` payload (only those are decoded)."""
        return [self.unpack(payload[i]) for i in positions]


class PlainCodec(Codec):
    """States are plain values: they travel as they are; the key is the model's fingerprint."""

    name = "plain"

    def __init__(self, model: Model, canon: Callable[[Any], Any] | None) -> None:
        super().__init__(model, canon)
        fingerprint = model.fingerprint
        self.key = ((lambda s: fingerprint(canon(s))) if canon  # type: ignore[method-assign]
                    else fingerprint)

    def pack(self, state: Any) -> Any:
        return state

    def unpack(self, payload: Any) -> Any:
        return payload

    def pack_many(self, states: list[Any]) -> Any:
        # the list itself: pickling it once shares the sub-tuples that states have in common
        return states

    def unpack_at(self, payload: Any, positions: list[int]) -> list[Any]:
        return [payload[i] for i in positions]


class VarsCodec(Codec):
    """States travel as their canonical encoding (``encode_state``). The key is the model's
    ``portable_key`` (or, reduced by symmetry, its ``portable_orbit_key``) where it has one,
    else the digest of that encoding.

    Keys are cached per state (``cache`` of them, most recent kept), since a state is
    generated again and again from its neighbours."""

    name = "vars"

    def __init__(self, model: Model, canon: Callable[[Any], Any] | None,
                 cache: int = 1 << 18, orbit_key: Callable[[Any], int] | None = None) -> None:
        super().__init__(model, canon)
        self._cache: dict[Any, int] = Memo(cache)
        self._of: Callable[[Any], int] = (orbit_key or getattr(model, "portable_key", None)
                                          or (lambda s: digest64(encode_state(model, s))))

    def key(self, state: Any) -> int:
        s = self.canon(state) if self.canon else state
        k = self._cache.get(s)
        if k is None:
            k = self._cache[s] = self._of(s)
        return k

    def pack(self, state: Any) -> bytes:
        return encode_state(self.model, state)

    def unpack(self, payload: bytes) -> Any:
        return decode_state(self.model, payload)


def codec_for(model: Model, symmetry: bool) -> Codec:
    """The codec the parallel engine uses for ``model`` (``NotPortable`` when symmetry is asked
    of a model whose representative depends on the process and that has no
    ``portable_orbit_key``)."""
    canon = model.representative if symmetry else None
    if plain_states(model):
        return PlainCodec(model, canon)
    if symmetry:
        orbit_key = getattr(model, "portable_orbit_key", None)
        if orbit_key is None:
            raise NotPortable(
                f"{model.describe()}: symmetry in the parallel engine (--workers, --ray, "
                "--checkpoint) needs a representative that is the same in every process, and "
                "this model's is not (check with --symmetry sequentially, or without it)")
        return VarsCodec(model, None, orbit_key=orbit_key)
    return VarsCodec(model, None)
