"""The one interpreter of a handler's effects, shared by every driver of ``paxchain.impl.actor``.

Theory of operation. A handler returns its effects as a list (``Send``, ``Persist``,
``SetTimer``, ``CancelTimer``, ``Output``); what each one *means* is the driver's business (the
model checker folds them into a state, the simulator queues events, the asyncio runtime writes
files and datagrams), but *how a list is read* is the same everywhere and lives here:

- ``apply_effects(node, effects, target, upto)`` carries out ``effects[:upto]`` strictly in list
  order, calling one method of ``target`` (an ``EffectTarget``) per effect. So a ``Persist`` is
  carried out before any later ``Send`` of the same handler (write-ahead), and a crash that
  falls after ``upto`` effects is "apply the prefix, then crash" in every driver. An effect of
  no known type is a bug in the actor: ``TypeError``, naming the node.
- ``units(effects)`` is where a crash may fall in the model checker: each ``Persist`` and each
  ``Output`` is a unit of its own, and each maximal run of other effects (sends, timers) is one
  unit (a multicast leaves whole); ``crash_cuts`` lists the prefixes a crash leaves done.
  The simulator cuts between any two effects instead (a finer rule, sampled rather than
  explored).
- ``Folded`` is the target the models use: it records what the effects did to one node (the
  last persisted value, the set of timer names, the sends and the outputs, in order) without
  doing anything.

Rules: this module knows the effect types and nothing else: no sockets, clocks or models.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, Protocol

from paxchain.impl.actor import CancelTimer, Effect, Output, Persist, Send, SetTimer

__all__ = ["EffectTarget", "apply_effects", "units", "crash_cuts", "Folded", "NOTHING"]


class EffectTarget(Protocol):
    """What a driver does for each kind of effect (one method each)."""

    def persist(self, data: Hashable) -> None:
        """Durably store ``data`` (replacing what was stored) before returning."""

    def send(self, dst: str, msg: Hashable) -> None:
        """Hand ``msg`` for ``dst`` to the network."""

    def set_timer(self, name: str, delay: float) -> None:
        """Set (or replace) timer ``name`` to fire after ``delay`` of local time."""

    def cancel_timer(self, name: str) -> None:
        """Clear timer ``name`` (nothing happens if it is not set)."""

    def output(self, value: Hashable) -> None:
        """Report ``value`` to the outside world."""


def _persist(t: EffectTarget, e: Any) -> None:
    t.persist(e.data)


def _send(t: EffectTarget, e: Any) -> None:
    t.send(e.dst, e.msg)


def _set_timer(t: EffectTarget, e: Any) -> None:
    t.set_timer(e.name, e.delay)


def _cancel_timer(t: EffectTarget, e: Any) -> None:
    t.cancel_timer(e.name)


def _output(t: EffectTarget, e: Any) -> None:
    t.output(e.value)


_DISPATCH: dict[type, Callable[[EffectTarget, Any], None]] = {
    Persist: _persist, Send: _send, SetTimer: _set_timer, CancelTimer: _cancel_timer,
    Output: _output}


def apply_effects(node: str, effects: Sequence[Effect], target: EffectTarget,
                  upto: int | None = None) -> None:
    """Carry out ``effects[:upto]`` (all of them when ``upto`` is None) on ``target``, in list
    order; ``TypeError`` at an effect of no known type (``node`` names the culprit)."""
    for e in effects if upto is None else effects[:upto]:
        apply = _DISPATCH.get(type(e))
        if apply is None:
            apply = next((f for cls, f in _DISPATCH.items() if isinstance(e, cls)), None)
            if apply is None:
                raise TypeError(f"{node}: unknown effect {e!r}")
        apply(target, e)


def units(effects: Sequence[Effect]) -> list[list[Effect]]:
    """A handler's effects cut where a crash may fall: each ``Persist`` and each ``Output`` is
    a unit of its own, and each maximal run of other effects (sends, timers) is one unit."""
    out: list[list[Effect]] = []
    for e in effects:
        if isinstance(e, (Persist, Output)) or not out or isinstance(out[-1][0],
                                                                      (Persist, Output)):
            out.append([e])
        else:
            out[-1].append(e)
    return out


def crash_cuts(effects: Sequence[Effect], consumes: bool) -> list[tuple[int, list[Effect]]]:
    """Each place the models let a crash fall inside a handler: ``(u, the effects before it)``
    after ``u`` of its ``units``, ``0 < u < len(units)`` (a crash after all of them is the
    whole step, then a crash); ``u = 0`` too when ``consumes`` (the event was a message the
    delivery took: received, then the node crashed before acting on it)."""
    us = units(effects)
    return [(u, [e for unit in us[:u] for e in unit])
            for u in range(0 if consumes else 1, len(us))]


class _Nothing:
    """"The effects persisted nothing" (``None`` is a value a node may persist)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOTHING"


NOTHING: Any = _Nothing()


class Folded:
    """What a list of effects did to one node, recorded and not carried out: ``durable`` (the
    last ``Persist``'s value, or the value given at the start; ``NOTHING`` by default),
    ``timers`` (the set timer names), ``sends`` (``(dst, msg)`` in order) and ``outputs`` (the
    ``Output`` values in order). A model subclasses it to refuse what it cannot represent."""

    __slots__ = ("durable", "timers", "sends", "outputs")

    def __init__(self, durable: Any = NOTHING, timers: Sequence[str] = ()) -> None:
        self.durable = durable
        self.timers = set(timers)
        self.sends: list[tuple[str, Hashable]] = []
        self.outputs: list[Hashable] = []

    def persist(self, data: Hashable) -> None:
        self.durable = data

    def send(self, dst: str, msg: Hashable) -> None:
        self.sends.append((dst, msg))

    def set_timer(self, name: str, delay: float) -> None:
        self.timers.add(name)

    def cancel_timer(self, name: str) -> None:
        self.timers.discard(name)

    def output(self, value: Hashable) -> None:
        self.outputs.append(value)
