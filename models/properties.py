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
from functools import partial
from typing import Any, Callable

__all__ = ["INVARIANT", "TRANSITION", "SOMETIMES", "QUIESCENT", "Property",
           "invariant", "transition", "sometimes", "quiescent"]

INVARIANT = "invariant"
TRANSITION = "transition"
SOMETIMES = "sometimes"
QUIESCENT = "quiescent"
KINDS = (INVARIANT, TRANSITION, SOMETIMES, QUIESCENT)


@dataclass(frozen=True)
class Property:
    name: str
    kind: str
    check: Callable[..., bool]
    doc: str = ""
    explain: Callable[..., str] | None = None
    quiet: Callable[[Any], bool] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"property {self.name!r}: kind must be one of {KINDS}, not {self.kind!r}")
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
        if self.kind == QUIESCENT:
            return (not self.quiet(state)) or self.check(state)
        return self.check(state)


def _make(kind: str, name: str | None, **extra: Any) -> Callable[[Callable[..., bool]], Property]:
    def wrap(fn: Callable[..., bool]) -> Property:
        return Property(name or fn.__name__, kind, fn, (fn.__doc__ or "").strip(), **extra)
    return wrap


def invariant(name: str | None = None, explain: Callable[..., str] | None = None):
    """Decorator: ``@invariant()`` turns a predicate on a state into an invariant."""
    return _make(INVARIANT, name, explain=explain)


def transition(name: str | None = None, explain: Callable[..., str] | None = None):
    """Decorator: a predicate on ``(state, next_state)`` checked on every transition."""
    return _make(TRANSITION, name, explain=explain)


def sometimes(name: str | None = None):
    """Decorator: a goal that some reachable state must reach."""
    return _make(SOMETIMES, name)


def quiescent(quiet: Callable[[Any], bool], name: str | None = None,
              explain: Callable[..., str] | None = None):
    """Decorator: a predicate required of every state that ``quiet`` calls quiescent."""
    return _make(QUIESCENT, name, explain=explain, quiet=quiet)
