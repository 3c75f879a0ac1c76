"""Drivers: how a model's protocol runs outside the model checker, found by model name.

A *driver* runs a protocol's real handlers (``paxchain.impl``) in the seeded simulator
(``paxchain simulate NAME``, ``paxchain.impl.simulator``) and on UDP sockets on 127.0.0.1
(``paxchain run NAME``, ``paxchain.impl.net``): it builds the cluster (node -> actor and
declared role), plays a fault schedule and collects what to observe. The run-level
properties that judge what it observed are a layer above (``paxchain.specs.paxos_run``,
``paxchain.specs.chain_run``), and the commands that parse options and print are the
checker's (``paxchain.checker.commands.simulate_NAME`` / ``run_NAME``).

``DRIVERS`` is a small registry next to the model registry (``paxchain.models.registry``):
each driver names the registry model whose protocol it runs, so ``paxchain simulate MODEL``
takes a registry name (``paxos-system``, ``chain``) as well as the driver's own name
(``paxos``, kept as the short spelling). ``driver(name)`` resolves either.

Every other model that is an actor system (``paxchain.models.actor_system.ActorSystem``: a
model of one's own given as ``FILE.py:FACTORY`` or ``MODULE:FACTORY``, or an installed one)
has the generic driver ``ACTORS`` (``paxchain.models.actor_driver``): its own actors in the
simulator, judged by its own properties; it simulates, and has no real-network runner. A
model that is not an actor system (``lamport-paxos``) has no driver: ``BadInput``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from paxchain.models.actor_system import ActorSystem
from paxchain.models.errors import UserError
from paxchain.models.registry import BadInput, build, entries, entry, offered

__all__ = ["Driver", "DRIVERS", "ACTORS", "driver", "no_driver", "check_variants", "whole",
           "number"]


@dataclass(frozen=True)
class Driver:
    """``name``: the word ``simulate`` and ``run`` take (their commands are
    ``checker/commands/simulate_<name>.py`` and ``run_<name>.py``, over the scenarios of
    ``paxchain.models.<name>_driver``); ``model``: the registry model whose protocol it runs
    (empty for ``ACTORS``: any actor-system model without a driver of its own)."""

    name: str
    model: str


DRIVERS = (
    Driver("chain", "chain"),
    Driver("paxos", "paxos-system"),
)
ACTORS = Driver("actors", "")  # any other actor-system model (module docstring)


def _known() -> str:
    return ", ".join(f"{d.name} ({d.model})" if d.name != d.model else d.name for d in DRIVERS)


def no_driver(model: str) -> BadInput:
    """The one-line error for a model without a driver."""
    return BadInput(f"model {model} has no driver to simulate or run it (drivers: {_known()}; "
                    f"and simulate for any actor-system model)")


def driver(name: str) -> Driver:
    """The driver named ``name``, or the driver of the model ``name`` (any name the model
    registry takes), or ``ACTORS`` for another actor-system model; ``BadInput`` (one line) for
    an unknown model or one without a driver.

    Whether a model is an actor system is seen by building it with its defaults; a factory
    that cannot be built without the command's ``--param`` values gets ``ACTORS``, whose
    command builds it with them and refuses it there (``no_driver``) if it is none."""
    for d in DRIVERS + (ACTORS,):
        if name == d.name:
            return d
    if ":" not in name and name not in entries() and name not in offered():
        raise BadInput(f"unknown model {name!r} (drivers: {_known()})")
    model = entry(name).name  # a MODULE:FACTORY spec that does not resolve is BadInput here
    for d in DRIVERS:
        if model == d.model:
            return d
    try:
        built = build(name)
    except BadInput:
        return ACTORS
    if isinstance(built, ActorSystem):
        return ACTORS
    raise no_driver(model)


def check_variants(catalogue: Any, names: Any) -> None:
    """``UserError`` (one line) for a name that ``catalogue`` (a
    ``paxchain.impl.variants.Catalogue``) does not hold."""
    try:
        catalogue.check(names)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def whole(x: Any) -> int:
    """A trace's integer parameter: an int, not a bool (``True == 1``), float or string."""
    if type(x) is not int:
        raise TypeError(f"{x!r} is not an integer")
    return x


def number(x: Any) -> float:
    """A trace's number parameter: an int or float, not a bool or a string (``float("nan")``
    would read one)."""
    if type(x) not in (int, float):
        raise TypeError(f"{x!r} is not a number")
    return float(x)
