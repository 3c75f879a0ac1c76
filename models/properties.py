"""Properties: named predicates with a kind, stated in words by their docstrings.

Kinds (as in Stateright's ``Property::always/sometimes``):

- ``invariant`` — ``check(state)`` holds in every reachable state;
- ``transition`` — ``check(state, next_state)`` holds on every explored transition;
- ``sometimes`` — ``check(state)`` holds in *some* reachable state (a reachability goal; it
  fails only when the whole space was searched without reaching it);
- ``quiescent`` — ``check(state)`` holds in every reachable state that ``quiet(state)`` calls
  quiescent (e.g. nothing in flight, nothing left to do);
- ``eventually`` (liveness) — on every *fair* run from an initial state some state satisfies
  ``check(state)``;
- ``leads_to`` (liveness) — on every fair run, whenever ``trigger(state)`` holds, ``check``
  holds then or at some later state (``P ~> Q`` with ``trigger`` P and ``check`` Q).

A run is fair when it meets every fairness assumption the model declares
(``Model.fairness()``, ``paxchain.models.fairness``); a run that reaches a state with no enabled
step stays there forever (it stutters), so a run that stops short of ``check`` breaks an
``eventually``. Liveness properties are checked by ``paxchain.checker.liveness`` and their
counterexamples are lassos: a prefix, then a loop repeated forever.

``opt_in`` properties are checked only when named (``--property NAME``, ``properties = [...]``
in a checks file): a liveness property usually holds only at the bounds and under the
fairness it is stated for, so a plain ``paxchain check`` of the model leaves it out.

``explain(state[, next_state])``, when given, returns the values that make the property fail,
for the end of a counterexample.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from functools import partial
from collections.abc import Callable
from typing import Any

__all__ = ["Kind", "INVARIANT", "TRANSITION", "SOMETIMES", "QUIESCENT", "EVENTUALLY", "LEADS_TO",
           "KINDS", "LIVENESS", "Property", "invariant", "transition", "sometimes", "quiescent",
           "eventually", "leads_to"]


class Kind(StrEnum):
    """A property's kind. Each member is its own word (``Kind.INVARIANT == "invariant"``), the
    word that JSON reports and trace files carry."""

    INVARIANT = "invariant"
    TRANSITION = "transition"
    SOMETIMES = "sometimes"
    QUIESCENT = "quiescent"
    EVENTUALLY = "eventually"
    LEADS_TO = "leads_to"
    # Not a kind a Property may have: the explicit engine's own deadlock-freedom check, as its
    # results and traces name it.
    DEADLOCK = "deadlock"


INVARIANT = Kind.INVARIANT
TRANSITION = Kind.TRANSITION
SOMETIMES = Kind.SOMETIMES
QUIESCENT = Kind.QUIESCENT
EVENTUALLY = Kind.EVENTUALLY
LEADS_TO = Kind.LEADS_TO
KINDS = (INVARIANT, TRANSITION, SOMETIMES, QUIESCENT, EVENTUALLY, LEADS_TO)  # a Property's kinds
LIVENESS = (EVENTUALLY, LEADS_TO)  # the kinds the liveness engine checks


@dataclass(frozen=True)
class Property:
    name: str
    kind: Kind  # a kind's word ("invariant") is accepted and stored as its member
    check: Callable[..., bool]
    doc: str = ""
    explain: Callable[..., str] | None = None
    quiet: Callable[[Any], bool] | None = None
    trigger: Callable[[Any], bool] | None = None  # leads_to: the P of P ~> Q (check is Q)
    opt_in: bool = False  # checked only when named (module docstring)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            words = tuple(k.value for k in KINDS)
            raise ValueError(f"property {self.name!r}: kind must be one of {words}, "
                             f"not {self.kind!r}")
        object.__setattr__(self, "kind", Kind(self.kind))
        if self.kind == QUIESCENT and self.quiet is None:
            raise ValueError(f"property {self.name!r}: a quiescent property needs quiet(state)")
        if (self.kind == LEADS_TO) != (self.trigger is not None):
            raise ValueError(f"property {self.name!r}: a trigger(state) goes with kind leads_to, "
                             "and only with it")
        if self.kind != QUIESCENT:
            # The engines call holds_at once per property and new state: for every kind but
            # quiescent it is the predicate itself, so they call that without a method between.
            object.__setattr__(self, "holds_at", self.check)

    @property
    def summary(self) -> str:
        """The first line of the docstring: the property in words."""
        return self.doc.strip().splitlines()[0] if self.doc.strip() else self.name

    def bind(self, model: Any) -> Property:
        """The property with ``model`` passed as the first argument of every function.

        Specs write ``def agreement(m, s)`` so one definition serves every instance.
        """
        return replace(
            self,
            check=partial(self.check, model),
            explain=partial(self.explain, model) if self.explain else None,
            quiet=partial(self.quiet, model) if self.quiet else None,
            trigger=partial(self.trigger, model) if self.trigger else None,
        )

    @property
    def liveness(self) -> bool:
        """Whether this is a liveness property (checked on fair runs, not on states)."""
        return self.kind in LIVENESS

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


def eventually(name: str | None = None, opt_in: bool = False) -> Decorator:
    """Decorator: ``@eventually()`` turns a predicate on a state into the liveness property
    "on every fair run some state satisfies it"."""
    return _make(EVENTUALLY, name, opt_in=opt_in)


def leads_to(trigger: Callable[..., bool], name: str | None = None,
             opt_in: bool = False) -> Decorator:
    """Decorator: ``@leads_to(trigger=p)`` on a predicate ``q``: on every fair run, whenever
    ``p`` holds, ``q`` holds then or later (``p ~> q``)."""
    return _make(LEADS_TO, name, trigger=trigger, opt_in=opt_in)
