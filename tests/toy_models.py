"""Tiny models whose state spaces are counted by hand in the tests' comments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paxchain.models.fairness import Fairness
from paxchain.models.model import Label, Model
from paxchain.models.properties import (Property, eventually, invariant, leads_to, sometimes,
                                        transition)


class Counters(Model):
    """Two counters ``(x, y)``, each in ``0..top``; ``IncX``/``IncY`` add one below ``top``.

    With ``reset``, ``Reset`` sets both back to 0 from ``(top, top)``. ``props`` are the
    properties to offer (each a ``Property`` taking ``(model, state)``).
    """

    def __init__(self, top: int = 2, reset: bool = False, props: list[Property] | None = None,
                 symmetric: bool = False) -> None:
        super().__init__("counters", {"top": top, "reset": reset})
        self.top, self.reset, self._props = top, reset, props or []
        self.has_symmetry = symmetric

    def initial_states(self):
        return [(0, 0)]

    def successors(self, state):
        x, y = state
        out = []
        if x < self.top:
            out.append((Label("IncX", (("x", x),), "X"), (x + 1, y)))
        if y < self.top:
            out.append((Label("IncY", (("y", y),), "Y"), (x, y + 1)))
        if self.reset and x == y == self.top:
            out.append((Label("Reset", (), "X"), (0, 0)))
        return out

    def properties(self):
        return [p.bind(self) for p in self._props]

    def representative(self, state):
        return tuple(sorted(state))

    def variables(self):
        return ("x", "y")

    def to_vars(self, state) -> dict[str, Any]:
        return {"x": state[0], "y": state[1]}

    def from_vars(self, values: Mapping[str, Any]):
        x, y = values["x"], values["y"]
        if not all(isinstance(v, int) and 0 <= v <= self.top for v in (x, y)):
            raise ValueError("x and y must be integers in 0..top")
        return (x, y)

    def lanes(self):
        return ("X", "Y")


@invariant()
def sum_below_3(m, s) -> bool:
    """x + y stays below 3."""
    return s[0] + s[1] < 3


@invariant()
def always_true(m, s) -> bool:
    """Nothing is ever wrong."""
    return True


@sometimes()
def reaches_top(m, s) -> bool:
    """Both counters reach the top."""
    return s == (m.top, m.top)


@sometimes()
def reaches_beyond(m, s) -> bool:
    """A counter goes past the top (it never does)."""
    return max(s) > m.top


@transition()
def never_decreases(m, s, t) -> bool:
    """No counter ever decreases."""
    return t[0] >= s[0] and t[1] >= s[1]


# -- liveness -----------------------------------------------------------------------------------

class Spinner(Model):
    """A switch ``phase`` in ``0..1`` that flips (``Toggle``) until ``Finish`` sets ``done``.

    States ``(phase, done)``, initially ``(0, False)``: four states. While not done, ``Toggle``
    flips the phase; ``Finish`` is enabled at phase 1 only (``finish_at="odd"``) or at both
    phases (``"both"``). A done state has no step. ``fairness`` is ``None`` (no assumption),
    ``"weak"`` or ``"strong"`` fairness of ``Finish`` (one key); ``toggle_fair`` adds weak
    fairness of ``Toggle``. The cycle ``(0, F) -> (1, F) -> (0, F)`` never finishes: Finish is
    enabled on it in every state (``both``) or in every other state (``odd``), so weak fairness
    rejects it in the first case only and strong fairness in both.
    """

    def __init__(self, finish_at: str = "odd", fairness: str | None = None,
                 toggle_fair: bool = False, props: list[Property] | None = None) -> None:
        super().__init__("spinner", {"finish_at": finish_at, "fairness": fairness or "none"})
        self.finish_at, self.fair, self.toggle_fair = finish_at, fairness, toggle_fair
        self._props = props or []

    def initial_states(self):
        return [(0, False)]

    def successors(self, state):
        phase, done = state
        if done:
            return []
        out = [(Label("Toggle", (("phase", phase),), "S"), (1 - phase, False))]
        if self.finish_at == "both" or phase == 1:
            out.append((Label("Finish", (("phase", phase),), "S"), (phase, True)))
        return out

    def fairness(self):
        out = []
        if self.fair:
            out.append(Fairness("finish", self.fair, "Finish is taken fairly",
                                lambda label: "finish" if label.action == "Finish" else None))
        if self.toggle_fair:
            out.append(Fairness("toggle", "weak", "Toggle is taken fairly",
                                lambda label: "toggle" if label.action == "Toggle" else None))
        return out

    def properties(self):
        return [p.bind(self) for p in self._props]

    def variables(self):
        return ("phase", "done")

    def to_vars(self, state) -> dict[str, Any]:
        return {"phase": state[0], "done": state[1]}

    def from_vars(self, values: Mapping[str, Any]):
        phase, done = values["phase"], values["done"]
        if phase not in (0, 1) or not isinstance(done, bool):
            raise ValueError("phase is 0 or 1, done a boolean")
        return (phase, done)

    def lanes(self):
        return ("S",)


@eventually()
def finishes(m, s) -> bool:
    """The spinner eventually finishes."""
    return s[1]


@eventually()
def finishes_at_one(m, s) -> bool:
    """The spinner eventually finishes at phase 1."""
    return s == (1, True)


@leads_to(trigger=lambda m, s: s[0] == 1)
def phase_one_leads_to_done(m, s) -> bool:
    """Whenever the phase is 1, the spinner is done then or later."""
    return s[1]


class FigureEight(Model):
    """Two loops through state 0: ``0 <-> 1`` and ``0 <-> 2``; from 2, ``Exit`` to 3 (no step).

    ``Exit`` is strongly fair (one key). The component {0, 1, 2} takes no Exit although it is
    enabled at 2, so strong fairness removes 2; {0, 1} remains, a fair cycle on which Exit is
    never enabled: ``eventually s == 3`` is violated by the lasso ``0 -> 1 -> 0``.
    """

    def __init__(self, props: list[Property] | None = None) -> None:
        super().__init__("figure-eight", {})
        self._props = props or []

    def initial_states(self):
        return [0]

    def successors(self, state):
        steps = {0: [("Go", 1), ("Go", 2)], 1: [("Back", 0)], 2: [("Back", 0), ("Exit", 3)],
                 3: []}[state]
        return [(Label(a, (("at", state),), "S"), t) for a, t in steps]

    def fairness(self):
        return [Fairness("exit", "strong", "Exit is strongly fair",
                         lambda label: "exit" if label.action == "Exit" else None)]

    def properties(self):
        return [p.bind(self) for p in self._props]

    def variables(self):
        return ("at",)

    def to_vars(self, state) -> dict[str, Any]:
        return {"at": state}

    def from_vars(self, values: Mapping[str, Any]):
        if values["at"] not in (0, 1, 2, 3):
            raise ValueError("at is 0..3")
        return values["at"]


@eventually()
def exits(m, s) -> bool:
    """The walk eventually exits."""
    return s == 3
