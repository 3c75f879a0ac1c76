"""Values of states as ITF JSON (Apalache's Informal Trace Format), and back.

Strings and booleans stand for themselves, integers too within ±2**53 (beyond, ITF's
``{"#bigint": "..."}``); maps are ``{"#map": [[key, value], ...]}``, sets ``{"#set": [...]}``
(sorted, so output is deterministic), tuples ``{"#tup": [...]}``, and records (messages)
objects with a ``"type"``. ITF has no ``null``: ``None`` is the variant
``{"tag": "Nil", "value": "U_OF_UNIT"}`` (a tag without data, in Apalache's unit notation; the
tag is not ``None``, which Python ITF readers cannot use as a type name). ``decode`` also reads
``null`` as ``None``, as trace files of format version 1 wrote it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from collections.abc import Mapping
from typing import Any

from paxchain.models.errors import UserError

__all__ = ["Record", "TraceError", "encode", "decode", "show", "MAX_VALUE_DEPTH", "NIL"]

NIL = {"tag": "Nil", "value": "U_OF_UNIT"}  # None, as an ITF variant without data
_SAFE_INT = 2**53  # JSON readers lose integers at or beyond this; ITF writes them as #bigint


class TraceError(UserError):
    """A trace that cannot be rebuilt, read or replayed; the message is one line."""


@dataclass(frozen=True, order=True)
class Record:
    """An immutable record such as a message: a kind plus named fields.

    ``str(Record("1b", (("acc", "a1"), ("bal", 0))))`` is ``1b(acc=a1, bal=0)``.
    """

    kind: str
    fields: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, kind: str, **fields: Any) -> Record:
        return cls(kind, tuple(fields.items()))

    def get(self, name: str) -> Any:
        for key, value in self.fields:
            if key == name:
                return value
        raise KeyError(name)

    def __str__(self) -> str:
        inner = ", ".join(f"{k}={show(v)}" for k, v in self.fields)
        return f"{self.kind}({inner})"


def show(value: Any) -> str:
    """A state value in the spec's notation, as trace text and a record's fields print it:
    ``{a1: -1, a2: 0}``, ``{1a(bal=0), ...}``. Sets are sorted, so the same value prints the
    same in every process (a frozenset's own order follows string hashing)."""
    if value is None:
        return "None"
    if isinstance(value, Record):
        return str(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{show(k)}: {show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(show(v) for v in value)) + "}"
    if isinstance(value, tuple):
        return "(" + ", ".join(show(v) for v in value) + ")"
    return str(value)


def encode(value: Any) -> Any:
    """A Python value of a state as ITF JSON."""
    if value is None:
        return dict(NIL)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _SAFE_INT:
        return {"#bigint": str(value)}
    if isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Record):
        out: dict[str, Any] = {"type": value.kind}
        out.update({k: encode(v) for k, v in value.fields})
        return out
    if isinstance(value, Mapping):
        return {"#map": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, (set, frozenset)):
        items = [encode(v) for v in value]
        return {"#set": sorted(items, key=lambda x: json.dumps(x, sort_keys=True))}
    if isinstance(value, (tuple, list)):
        return {"#tup": [encode(v) for v in value]}
    raise TypeError(f"cannot encode {type(value).__name__} in a trace")


MAX_VALUE_DEPTH = 64  # nested maps, sets, tuples and records; real states nest a few deep


def decode(value: Any) -> Any:
    """Inverse of ``encode``; raises ``TraceError`` on anything it did not write.

    The input is untrusted: values nested deeper than ``MAX_VALUE_DEPTH``, floats, bare lists,
    and map keys, set elements or record fields that cannot be hashed are refused."""
    return _decode(value, 0)


def _decode(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if depth >= MAX_VALUE_DEPTH:
        raise TraceError(f"a trace value is nested more than {MAX_VALUE_DEPTH} levels deep")
    if isinstance(value, list):
        raise TraceError("a bare JSON list is not a trace value")
    if isinstance(value, dict):
        d = depth + 1
        if value == NIL:
            return None
        if "#bigint" in value and len(value) == 1:
            return _bigint(value["#bigint"])
        if "#map" in value:
            return {_hashable(_decode(k, d)): _decode(v, d) for k, v in _pairs(value["#map"])}
        if "#set" in value:
            return frozenset(_hashable(_decode(v, d)) for v in _list(value["#set"]))
        if "#tup" in value:
            return tuple(_decode(v, d) for v in _list(value["#tup"]))
        if isinstance(value.get("type"), str):
            return Record(value["type"], tuple((k, _hashable(_decode(v, d)))
                                               for k, v in value.items() if k != "type"))
    raise TraceError(f"unrecognised trace value {_preview(value)}")


def _bigint(text: Any) -> int:
    if not isinstance(text, str) or not text.lstrip("-").isdigit() or len(text) > 4000:
        raise TraceError(f"malformed #bigint {_preview(text)}")
    return int(text)


def _preview(value: Any) -> str:
    try:
        return json.dumps(value)[:60]
    except (TypeError, ValueError, RecursionError):
        return type(value).__name__


def _list(x: Any) -> list[Any]:
    if not isinstance(x, list):
        raise TraceError("malformed trace value: expected a list")
    return x


def _pairs(x: Any) -> list[tuple[Any, Any]]:
    out = []
    for pair in _list(x):
        if not isinstance(pair, list) or len(pair) != 2:
            raise TraceError("malformed #map entry: expected [key, value]")
        out.append((pair[0], pair[1]))
    return out


def _hashable(x: Any) -> Any:
    """``x`` usable as a map key, set element or record field (a map becomes its sorted items),
    or a ``TraceError``."""
    try:
        if isinstance(x, dict):
            x = tuple(sorted(x.items()))
        hash(x)
    except TypeError:
        raise TraceError("a map key, set element or record field holds a map, or a map's keys "
                         "are of mixed types") from None
    return x
