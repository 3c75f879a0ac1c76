"""The driver every actor-system model has for free: its own actors in the seeded simulator.

A model that is a ``paxchain.models.actor_system.ActorSystem`` (a user's own protocol, such as
``examples/two_phase_commit.py``, or a built-in one without a protocol driver) already holds
everything a simulated run needs: its node ids (``ids``) and actors (``actors``), in the order
the model starts them. ``simulate_model`` runs exactly those actors in
``paxchain.impl.simulator`` under a ``SimConfig`` (the seed and the fault schedule, with the
meanings of ``paxchain simulate paxos``) and records every handler call, so that the run can
be written as the model's steps (``paxchain.models.sim_steps``) and judged by the model's own
properties (``paxchain.checker.commands.simulate_actors``).

Nothing here knows a protocol: no role, message type or property is read. A run ends when no
event is left or at ``until``, whichever comes first (there is no protocol-level "done").
``check_config`` refuses, in one line, a schedule the model could never follow: a node it
does not have, or a crash (scheduled or a crash point) when the model has no crash budget or
the node is not crashable there.
"""

from __future__ import annotations

from typing import Any

from paxchain.impl.simulator import SimConfig, SimResult, simulate
from paxchain.models.actor_system import ActorSystem
from paxchain.models.errors import UserError

__all__ = ["check_config", "simulate_model"]


def check_config(model: ActorSystem, config: SimConfig) -> None:
    """``UserError`` (one line) for a schedule no run of ``model`` can follow (module
    docstring)."""
    nodes = list(model.ids)
    for name in [p.node for p in config.pauses] + [c.node for c in config.crashes] + [
            n for n, _ in config.clocks] + [n for p in config.partitions for n in p.nodes()]:
        if name not in nodes:
            raise UserError(f"unknown node {name!r} (nodes of {model.name}: "
                            f"{', '.join(nodes)})")
    crash_points = config.crash_points > 0 and config.crash_points_max > 0
    if (config.crashes or crash_points) and model.faults.crashes == 0:
        what = "--crash" if config.crashes else "--crash-points"
        raise UserError(f"{what}: model {model.name} has no crash budget (crashes 0), so a run "
                        f"with a crash is no run of it; build it with crashes, if its "
                        f"factory takes them")
    crashable = {model.ids[i] for i in model.crashable}
    for c in config.crashes:
        if c.node not in crashable:
            raise UserError(f"--crash: node {c.node} of {model.name} cannot crash there "
                            f"(crashable: {', '.join(sorted(crashable)) or 'none'})")


def simulate_model(model: ActorSystem, config: SimConfig) -> SimResult:
    """Check ``config`` and run the model's own actors under it, every handler call recorded
    (``SimResult.steps``); the run ends when no event is left or at ``config.until``."""
    check_config(model, config)
    actors: dict[str, Any] = dict(zip(model.ids, model.actors))
    return simulate(actors, config, None, record=True)
