"""Properties: named predicates with a kind, stated in words by their docstrings.

Kinds (as in Stateright's ``Property::always/sometimes``):

- ``invariant`` — ``check(state)`` holds in every reachable state;
- ``transition`` — ``check(state, next_state)`` holds on every explored transition;
- ``sometimes`` — ``check(state)`` holds in *some* reachable state (a reachability goal; it
  fails only when the whole space was searched without reaching it);
- ``quiescent`` — ``check(state)`` holds in every reachable state that ``quiet(state)`` calls
  quiescent (e.g. nothing in flight, nothing left to do).

``explain(state[, next_state])``, when given, returns the values that make the property fail,
for the end of a counterexample.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from functools import partial
from typing import Any, Callable

__all__ = ["Kind", "INVARIANT", "TRANSITION", "SOMETIMES", "QUIESCENT", "KINDS", "Property",
           "invariant", "transition", "sometimes", "quiescent"]


class Kind(StrEnum):
    """A property's kind. Each member is its own word (``Kind.INVARIANT == "invariant"``), the
    word that JSON reports and trace files carry."""

    INVARIANT = "invariant"
    TRANSITION = "transition"
    SOMETIMES = "sometimes"
    QUIESCENT = "quiescent"
    # Not a kind a Property may have: the explicit engine's own deadlock-freedom check, as its
    # results and traces name it.
    DEADLOCK = "deadlock"


INVARIANT = Kind.INVARIANT
TRANSITION = Kind.TRANSITION
SOMETIMES = Kind.SOMETIMES
QUIESCENT = Kind.QUIESCENT
KINDS = (INVARIANT, TRANSITION, SOMETIMES, QUIESCENT)  # the kinds a Property may have


@dataclass(frozen=True)
class Property:
    name: str
    kind: Kind  # a kind's word ("invariant") is accepted and stored as its member
    check: Callable[..., bool]
    doc: str = ""
    explain: Callable[..., str] | None = None
    quiet: Callable[[Any], bool] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            words = tuple(k.value for k in KINDS)
            raise ValueError(f"property {self.name!r}: kind must be one of {words}, "
                             f"not {self.kind!r}")
        object.__setattr__(self, "kind", Kind(self.kind))
        if self.kind == QUIESCENT and self.quiet is None:
            raise ValueError(f"property {self.name!r}: a quiescent property needs quiet(state)")

    @property
    def summary(self) -> str:
        """The first line of the docstring: the property in words."""
        return self.doc.strip().splitlines()[0] if self.doc.strip() else self.name

    def bind(self, model: Any) -> "Property":
        """The property with ``model`` passed as the first argument of every function.

        Specs write ``def agreement(m, s)`` so one definition serves every instance.
        """
        return replace(
            self,
            check=partial(self.check, model),
            explain=partial(self.explain, model) if self.explain else None,
            quiet=partial(self.quiet, model) if self.quiet else None,
        )

    def holds_at(self, state: Any) -> bool:
        """Evaluate a state property (invariant, quiescent, sometimes) at one state."""
        if self.kind == QUIESCENT and self.quiet is not None:  # __post_init__: never None
            return (not self.quiet(state)) or self.check(state)
        return self.check(state)


Decorator = Callable[[Callable[..., bool]], Property]


def _make(kind: Kind, name: str | None, **extra: Any) -> Decorator:
    def wrap(fn: Callable[..., bool]) -> Property:
        return Property(name or fn.__name__, kind, fn, (fn.__doc__ or "").strip(), **extra)
    return wrap


def invariant(name: str | None = None, explain: Callable[..., str] | None = None) -> Decorator:
    """Decorator: ``@invariant()`` turns a predicate on a state into an invariant."""
    return _make(INVARIANT, name, explain=explain)


def transition(name: str | None = None, explain: Callable[..., str] | None = None) -> Decorator:
    """Decorator: a predicate on ``(state, next_state)`` checked on every transition."""
    return _make(TRANSITION, name, explain=explain)


def sometimes(name: str | None = None) -> Decorator:
    """Decorator: a goal that some reachable state must reach."""
    return _make(SOMETIMES, name)


def quiescent(quiet: Callable[[Any], bool], name: str | None = None,
              explain: Callable[..., str] | None = None) -> Decorator:
    """Decorator: a predicate required of every state that ``quiet`` calls quiescent."""
    return _make(QUIESCENT, name, explain=explain, quiet=quiet)
