"""Tiny models whose state spaces are counted by hand in the tests' comments."""

from __future__ import annotations

from typing import Any, Mapping

from paxchain.models.model import Label, Model
from paxchain.models.properties import Property, invariant, sometimes, transition


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
