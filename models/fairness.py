"""Fairness and timing assumptions: which infinite runs a liveness property is judged on.

A model declares them in ``Model.fairness()``; ``paxchain.checker.liveness`` reads them. Two
kinds of assumption, each with a name and a docstring in words that reports print:

- ``Fairness`` — weak or strong fairness of a family of steps. ``key(label)`` maps a step's
  ``Label`` to the *instance* it takes (a hashable key, e.g. ``("Deliver", src, dst, msg)`` for
  one message, ``("Timer", node, name)`` for one timer), or ``None`` when the step is none of
  this assumption's. Each key is one fairness obligation:

  * weak (``WEAK``): a key enabled in every state from some point on is taken infinitely
    often ("a message that stays deliverable is eventually delivered");
  * strong (``STRONG``): a key enabled infinitely often is taken infinitely often ("a
    message to a node that keeps coming back up is eventually delivered").

  A key is *enabled* at a state when some step the model offers there (its ``successors``,
  after any ``Priority``) has that key. ``enabled(state)``, when given, is the model's own
  statement of the enabled keys; the engine checks that it names every key a step offers and
  raises ``FairnessError`` where it does not. A key it names that no step offers (a step the
  model leaves out because it would not change the state, or one a ``Priority`` holds back)
  counts as not enabled — the same as a stuttering step taking it.

- ``Priority`` — a timing assumption with no clock: a ``slow`` step is not taken while an
  ``urgent`` step is enabled ("a retry timer does not fire while a message can still be
  delivered": timeouts are longer than message delays). ``holds_back(urgent, slow)``, when
  given, narrows it to the pairs it names ("a node's timer does not fire while a message *to
  or from that node* can be delivered": each timeout exceeds its own node's round trip, not
  every other node's). The engine leaves such steps out of the graph it judges liveness on;
  safety is still checked on every step.

A run is fair when it meets every assumption; liveness properties hold "on every fair run".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

from paxchain.models.model import Label

__all__ = ["Strength", "WEAK", "STRONG", "Fairness", "Priority", "Assumption", "FairnessError",
           "split", "kept_steps", "step_keys", "unfair_reason"]


class Strength(StrEnum):
    """How strong a fairness assumption is; the member is its word in reports."""

    WEAK = "weak"
    STRONG = "strong"


WEAK = Strength.WEAK
STRONG = Strength.STRONG


class FairnessError(ValueError):
    """A model's fairness declaration contradicts its steps (the model is wrong, not the
    protocol); the message names the assumption, the key and the fix."""


@dataclass(frozen=True)
class Fairness:
    """Weak or strong fairness of the steps ``key`` maps to a key (module docstring)."""

    name: str
    strength: Strength
    doc: str
    key: Callable[[Label], Hashable | None]
    enabled: Callable[[Any], Iterable[Hashable]] | None = None

    def __post_init__(self) -> None:
        if self.strength not in tuple(Strength):
            raise ValueError(f"fairness {self.name!r}: strength must be weak or strong, "
                             f"not {self.strength!r}")
        object.__setattr__(self, "strength", Strength(self.strength))

    def text(self) -> str:
        """``fair_delivery (weak): every message ...``: the line a report prints."""
        return f"{self.name} ({self.strength}): {_summary(self.doc, self.name)}"


@dataclass(frozen=True)
class Priority:
    """A ``slow`` step is not taken while an ``urgent`` step is enabled (module docstring)."""

    name: str
    doc: str
    urgent: Callable[[Label], bool]
    slow: Callable[[Label], bool]
    holds_back: Callable[[Label, Label], bool] | None = None  # (urgent, slow); None: every pair

    def text(self) -> str:
        return f"{self.name} (timing): {_summary(self.doc, self.name)}"


Assumption = Fairness | Priority


def _summary(doc: str, name: str) -> str:
    return doc.strip().splitlines()[0] if doc.strip() else name


def split(assumptions: Iterable[Any], model_name: str = "model"
          ) -> tuple[list[Fairness], list[Priority]]:
    """A model's ``fairness()`` as its fairness and its timing assumptions; anything else is
    a ``FairnessError`` naming it."""
    fair: list[Fairness] = []
    prio: list[Priority] = []
    for a in assumptions:
        if isinstance(a, Fairness):
            fair.append(a)
        elif isinstance(a, Priority):
            prio.append(a)
        else:
            raise FairnessError(f"{model_name}: fairness() returned {a!r}, which is neither a "
                                "Fairness nor a Priority")
    return fair, prio


def kept_steps(steps: Sequence[tuple[Label, Any]], priorities: Sequence[Priority]
               ) -> list[tuple[Label, Any]]:
    """The steps of one state that the timing assumptions allow: each ``Priority`` removes its
    slow steps when one of its urgent steps that holds them back is among them (an urgent step
    stays, so a state with steps keeps one)."""
    out = list(steps)
    for p in priorities:
        urgent = [label for label, _ in out if p.urgent(label)]
        if not urgent:
            continue
        rel = p.holds_back
        out = [(label, t) for label, t in out
               if p.urgent(label) or not p.slow(label)
               or (rel is not None and not any(rel(u, label) for u in urgent))]
    return out


def step_keys(fair: Sequence[Fairness], label: Label) -> frozenset[tuple[int, Hashable]]:
    """The fairness keys a step takes, each as ``(index of its assumption, key)``."""
    out = []
    for i, f in enumerate(fair):
        k = f.key(label)
        if k is not None:
            out.append((i, k))
    return frozenset(out)


def unfair_reason(fair: Sequence[Fairness], offered: Sequence[frozenset[tuple[int, Hashable]]],
                  taken: frozenset[tuple[int, Hashable]]) -> str | None:
    """Why a loop whose states offer the keys ``offered`` (one set per state) and whose steps
    take ``taken`` is not fair, or None when it is: a weak key enabled in every state of it and
    never taken, or a strong key enabled in some state of it and never taken."""
    if not offered:
        return None
    everywhere = frozenset.intersection(*offered)
    anywhere = frozenset.union(*offered)
    for i, k in sorted(anywhere - taken, key=repr):
        f = fair[i]
        if f.strength == STRONG or (i, k) in everywhere:
            where = "in some state" if f.strength == STRONG else "in every state"
            return (f"{f.name} ({f.strength}): {k!r} is enabled {where} of the loop and "
                    "never taken")
    return None
