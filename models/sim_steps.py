"""A simulated run of ``impl/`` actors, written as the step texts of their actor-system model.

The seeded simulator (``paxchain.impl.simulator``, run with ``record=True``) and
``paxchain.models.actor_system.ActorSystem`` call the same handlers. With time, latency and loss
forgotten, a simulated run is a run of the model: each handled delivery is a ``Deliver``, each
fired timer a ``Timer``, a scheduled crash a ``Crash``, a restart a ``Restart``; a message lost
or never delivered is simply never a step (the model's network may do that), a pause only
reorders what the node handles. ``moves(steps)`` writes each ``SimStep`` as the step texts it
may be in the model (``Move``), in the order to try them.

Where the two differ, the move says so and the reader decides by running the model:

- A handler call the model does not have as a step (a delivery or timer that changes nothing
  there: the model prunes no-ops and self-loops, and keeps tallies such as ``ignored`` at 0) is
  ``skippable``.
- A crash point: the simulator cuts after any effect, the model between *units* of effects
  (``paxchain.impl.effects.units``: a multicast leaves whole) and leaves out cuts whose outcome
  another cut or "the whole step, then ``Crash``" already has. A cut on a unit boundary is the
  step's label with ``crash_after=u``, tried at ``u`` and below (an omitted duplicate is kept
  at its least ``u``); a cut after which nothing but timers was lost is the whole step, then
  ``Crash``. A cut inside a multicast is moved to the multicast's end (``Move.moved``): the
  model's run then has the rest of the multicast in flight too, messages it need never
  deliver, so every later step of the simulated run stays possible.
- A crash point in a node's start-up: the model's initial state has every node started
  (``NoCounterpart``).

Nothing here is trusted: ``paxchain.checker.steps.embed`` re-executes every text in the model,
and whoever uses the run must check that it still shows what the simulator saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterable

from paxchain.impl.actor import Output, Persist, Send
from paxchain.impl.effects import units
from paxchain.impl.simulator import SimStep
from paxchain.models.actor_system import DELIVER, TIMER, rename_ids, to_plain
from paxchain.models.faults import CRASH, RESTART
from paxchain.models.model import Label

__all__ = ["Move", "NoCounterpart", "moves"]


class NoCounterpart(ValueError):
    """A simulated step the model has no step for (one line, naming it)."""


@dataclass(frozen=True)
class Move:
    """One simulated step as the model may take it: ``alternatives``, each a list of step
    texts taken in turn, tried in order; ``skippable``: when none is enabled, the step is no
    step of the model (see the module docstring); ``moved``: see ``_cut``."""

    alternatives: tuple[tuple[str, ...], ...]
    skippable: bool
    moved: bool = False  # a crash point inside a multicast, moved to its end


def _base(step: SimStep, rename: dict[str, str]) -> Label:
    if step.kind == "deliver":
        src, msg = step.event
        if rename:
            msg = rename_ids(msg, rename)
        return Label(DELIVER, (("src", src), ("dst", step.node), ("msg", to_plain(msg))))
    if step.kind == "timer":
        return Label(TIMER, (("node", step.node), ("timer", step.event[0])))
    return Label(RESTART, (("node", step.node),))


def _crash(node: str) -> str:
    return str(Label(CRASH, (("node", node),)))


def _cut(step: SimStep, base: Label) -> tuple[tuple[tuple[str, ...], ...], bool]:
    """The alternatives of ``step`` cut by a crash point after ``step.cut`` effects, and
    whether the cut was moved to the end of a multicast."""
    k, effects = step.cut, step.effects
    assert k is not None
    crash = _crash(step.node)
    lost = effects[k:]
    if not any(isinstance(e, (Persist, Send, Output)) for e in lost):
        # nothing but timers lost (which the crash loses anyway): the whole step, then Crash
        return ((str(base), crash), (crash,) if step.kind != "restart" else ()), False
    bounds = [0]
    for unit in units(effects):
        bounds.append(bounds[-1] + len(unit))
    u = next(i for i, b in enumerate(bounds) if b >= k)  # k <= len(effects) = bounds[-1]
    alts = [(str(Label(base.action, base.args + (("crash_after", x),))),)
            for x in range(u, -1 if step.kind == "deliver" else 0, -1)]
    if k == 0:  # nothing happened before the crash
        alts.append((crash,) if step.kind != "restart" else ())
    return tuple(alts), bounds[u] != k


def moves(steps: Iterable[SimStep], rename: dict[str, str] | None = None) -> list[Move]:
    """The model's view of each recorded step but the initial start-ups (module docstring);
    ``rename``: strings in messages (values) the model names otherwise. ``NoCounterpart`` for
    a step it cannot have."""
    out = []
    for step in steps:
        if step.kind == "start":
            if step.cut is not None:
                raise NoCounterpart(f"{step.node}: a crash point fell in its start-up; the "
                                    f"model's initial state has every node started")
            continue
        if step.kind == "crash":
            out.append(Move(((_crash(step.node),),), False))
            continue
        base = _base(step, rename or {})
        if step.cut is None:
            out.append(Move(((str(base),),), step.kind != "restart"))
        else:
            alts, moved = _cut(step, base)
            out.append(Move(alts, False, moved))
    return out
