"""``paxchain simulate MODEL`` for any actor-system model: the generic driver ``actors``.

MODEL is a model that is a ``paxchain.models.actor_system.ActorSystem`` and has no protocol
driver of its own: a model of one's own (``FILE.py:FACTORY``, ``MODULE:FACTORY``, an
installed one), built with ``--param`` and ``--variant`` as ``paxchain check`` builds it.
Its own actors run in the seeded simulator (``paxchain.models.actor_driver``), with the fault
options of ``simulate paxos`` (``paxchain.checker.driver_cli``), until no event is left or
``--until``.

The run is judged by the model, not by anything here: every handler call the simulator made
is written as the model's step (``paxchain.models.sim_steps``) and re-executed in the model
(``paxchain.checker.steps.embed``; nothing of the simulator is trusted), and each of the
model's safety properties (invariant, transition and quiescent; not liveness, which no
finite run breaks, nor opt-in ones) is checked at every state of that run. The first state
that breaks one ends it: the run up to there is a trace of the model, printed (``--minimize``
shortens it first, as ``check --minimize`` does) and with ``--out DIR`` written in every
format, so ``paxchain replay`` confirms it.

Exit 1: a property is broken; 0: the whole run was re-executed and nothing broke ("no
violation in this run": a simulation proves nothing, ``paxchain check`` searches every run);
3: no violation in the part of the run the model could re-execute, but not all of it (a step
the model does not have, or a run that ends elsewhere in the model than in the simulator:
its network or fault budgets allow less than the simulator did); 2: bad input, one line.
Same seed, options and model, same output.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import click

from paxchain.checker.cli import echo
from paxchain.checker.cli import verdict as record_verdict
from paxchain.checker.commands.check import parse_pairs
from paxchain.checker.driver_cli import (POSITIVE, crash_point_options, driver_command,
                                         loss_option, model_options, model_trace_options,
                                         parse_clocks, parse_crash, parse_latency,
                                         parse_partition, parse_pause, plural,
                                         seed_option, sim_fault_options)
from paxchain.checker.outdir import staged_dir
from paxchain.checker.paxos_runs import latency_text, schedule_lines
from paxchain.checker.render_text import format_value, trace_text
from paxchain.checker.steps import Stuck, embed, shorten, shows
from paxchain.checker.trace import Step, Trace, explain
from paxchain.impl.simulator import SimConfig, SimResult
from paxchain.models import registry
from paxchain.models.actor_driver import simulate_model
from paxchain.models.actor_system import ActorSystem, to_plain, zero_fields
from paxchain.models.drivers import ACTORS, no_driver
from paxchain.models.errors import UserError
from paxchain.models.properties import QUIESCENT, SOMETIMES, TRANSITION, INVARIANT, Property
from paxchain.models.sim_steps import NoCounterpart, moves
from paxchain.specs.model_properties import properties_of

__all__ = ["subcommand", "Judged", "judge", "SAFETY"]

SAFETY = (INVARIANT, TRANSITION, QUIESCENT)  # the kinds a finite run can break
# ``embed`` stops at the first state that shows its property: this one shows nowhere, so the
# whole run is re-executed and every property is then checked along it.
_NOWHERE = Property("nowhere", SOMETIMES, lambda s: False)


@dataclass(frozen=True)
class Judged:
    """The simulated run as the model re-executed and judged it: ``steps`` (initial state
    first), how many recorded moves there were (``moves``) and how many changed nothing in the
    model (``skipped``); ``broken``: the first property broken and the trace up to it;
    ``partial``: why the model's run is not the whole simulated run ("" when it is)."""

    steps: list[Step]
    props: list[Property]
    moves: int
    skipped: int
    broken: Trace | None
    partial: str


def judge(model: ActorSystem, result: SimResult) -> Judged:
    """Re-execute the recorded run ``result`` in ``model`` and check its safety properties at
    every state (module docstring). ``UserError`` (one line) for a model that cannot re-execute
    any of it (a handler that fails there)."""
    props = [p for p in properties_of(model) if p.kind in SAFETY and not p.opt_in]
    partial = ""
    try:
        mv = moves(result.steps)
    except NoCounterpart as exc:
        mv, partial = [], f"the run is no run of the model from its start: {exc}"
    try:
        run = embed(model, mv, _NOWHERE)
        if isinstance(run, Stuck):
            crashes = sum(1 for s in result.steps if s.kind == "crash" or s.cut is not None)
            why = (f"the run has {crashes} crashes, scheduled and crash points; the model's "
                   f"budget is {model.faults.crashes}" if crashes > model.faults.crashes
                   else "its network or fault budgets do not allow it")
            partial = (f"its step {run.index} of {len(mv)} ({run.text}) is not enabled in the "
                       f"model ({why})")
            run = embed(model, mv[:run.index - 1], _NOWHERE)
    except ValueError as exc:
        raise UserError(f"re-executing the run in {model.name}: {exc}") from None
    assert not isinstance(run, Stuck)  # a prefix of moves that were all enabled
    steps = run.steps
    found = []
    for i, p in enumerate(props):
        try:
            at = shows(p, steps)
        except Exception as exc:  # the model's property is wrong, not the protocol
            raise UserError(f"property {p.name} of {model.name} raised {type(exc).__name__} "
                            f"on the model's run: {exc}") from None
        if at is not None:
            found.append((at, i))
    if found:
        at, i = min(found)
        p = props[i]
        last = steps[at - 1:at + 1] if p.kind == TRANSITION else steps[at:at + 1]
        trace = Trace(model, p.name, p.kind, p.summary, steps[:at + 1],
                      explain(p, *(s.state for s in last)))
        return Judged(steps, props, len(mv), run.skipped, trace, partial)
    if not partial:
        differ = _differ(model, steps[-1].state, result)
        if differ:
            partial = (f"the model's run ends with {', '.join(differ)} in another state than "
                       f"the simulator's (a step the simulator took changed nothing there: "
                       f"its network or fault budgets allow less)")
    return Judged(steps, props, len(mv), run.skipped, None, partial)


def _differ(model: ActorSystem, state: Any, result: SimResult) -> list[str]:
    """The nodes whose state at the end of the model's run is not the simulator's (a down
    node has none; tallies, which the model keeps at 0, are not compared)."""
    out = []
    for name in model.ids:
        node, sim = model.node(state, name), result.states[name]
        if sim is None:
            same = not node.up
        else:
            same = node.up and _untallied(model, node.state) == _untallied(model, sim)
        if not same:
            out.append(name)
    return out


def _untallied(model: ActorSystem, value: Any) -> Any:
    names = getattr(model, "tallies", ())
    if not names or not hasattr(value, "__dataclass_fields__"):
        return value
    return zero_fields(value, [x for x in names if x in value.__dataclass_fields__])


# -- the command -----------------------------------------------------------------------------

@driver_command(ACTORS.name, (), {"--max-time": lambda v: ("--until", v)})
@model_options
@seed_option("latency, loss, duplication and crash points")
@loss_option
@sim_fault_options
@click.option("--until", type=POSITIVE, default=5000.0, show_default=True, metavar="T",
              help="The run ends at this global time, or earlier when no event is left.")
@crash_point_options
@model_trace_options("the model")
def subcommand(params, variant, seed, loss, dup, latency, crashes, pauses, partitions, offsets,
               drifts, until, crash_points, crash_points_max, crash_points_down, minimize,
               out) -> None:
    """Simulate an actor-system model's own actors; judge the run by the model's own safety
    properties, re-executed in the model. Same seed, same output."""
    spec = click.get_current_context().info_name or ""
    if spec == ACTORS.name:
        raise UserError("simulate needs the model: paxchain simulate FILE.py:FACTORY (or "
                        "MODULE:FACTORY, or a model's name)")
    model = registry.build(spec, parse_pairs(params), variant)
    if not isinstance(model, ActorSystem):
        raise no_driver(model.name)
    try:
        sc = SimConfig(seed=seed, latency=parse_latency(latency), loss=loss, dup=dup,
                       pauses=tuple(parse_pause(p) for p in pauses),
                       crashes=tuple(parse_crash(c) for c in crashes),
                       clocks=parse_clocks(offsets, drifts),
                       partitions=tuple(parse_partition(p) for p in partitions), until=until,
                       crash_points=crash_points, crash_points_max=crash_points_max,
                       crash_points_down=crash_points_down)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    result = simulate_model(model, sc)
    judged = judge(model, result)
    code = record_verdict(1 if judged.broken else 3 if judged.partial else 0)
    echo(_summary(model, sc, result, judged), nl=False)
    if judged.broken is not None:
        _counterexample(judged.broken, minimize, out)
    elif minimize or out:
        echo("no property is broken: no counterexample to write")
    sys.exit(code)


def _t(x: float) -> str:
    return f"{x:.3f}"


def _value(v: Any) -> str:
    try:
        return format_value(to_plain(v))
    except TypeError:
        return repr(v)


def _summary(model: ActorSystem, sc: SimConfig, result: SimResult, j: Judged) -> str:
    """What ran, what the simulator saw, and the model's verdict (deterministic text)."""
    c = result.counts
    lines = [f"simulated {model.describe()}: {plural(len(model.ids), 'node')} "
             f"({', '.join(model.ids)}); seed {sc.seed}",
             f"network: loss {sc.loss:g}, dup {sc.dup:g}, latency {latency_text(sc.latency)}; "
             f"until {sc.until:g}"] + schedule_lines(sc)
    for name in model.ids:
        if result.outputs[name]:
            lines.append(f"{name}: output " + "; ".join(
                f"{_value(v)} at t={_t(t)}" for t, v in result.outputs[name]))
    lines += [f"messages: sent {c['sent']}, delivered {c['delivered']}, lost {c['lost']}, "
              f"duplicated {c['duplicated']}, dropped at down nodes {c['dropped_down']}"
              + (f", cut by partitions {c['partitioned']}" if sc.partitions else ""),
              f"run: {result.events} events, ended at t={_t(result.end_time)} "
              f"({result.stopped})",
              f"re-executed in the model: {plural(j.moves, 'recorded step')} as a run of "
              f"{plural(len(j.steps) - 1, 'step')} ({j.skipped} changed nothing there)"]
    checked = ", ".join(f"{p.name} ({p.kind})" for p in j.props) or "none (no safety property)"
    lines.append(f"checked at every state of the model's run: {checked}")
    if j.broken is not None:
        t = j.broken
        lines.append(f"VIOLATED {t.prop} at step {len(t.steps) - 1} of the model's run"
                     + (f": {t.explanation}" if t.explanation else ""))
    elif j.partial:
        lines.append(f"incomplete: {j.partial}; no violation in the part it re-executed")
    else:
        lines.append("no violation in this run (a simulation proves nothing: `paxchain check` "
                     "searches every run)")
    return "\n".join(lines) + "\n"


def _counterexample(trace: Trace, minimize: bool, out: str | None) -> None:
    """Print (and with ``out`` write) the model's trace, shortened first with ``minimize``."""
    echo("")
    if minimize:
        n = len(trace.steps) - 1
        trace = shorten(trace)
        after = len(trace.steps) - 1
        echo(f"minimized {trace.prop}: {n} -> {after} steps"
             + ("" if after < n else " (no step could be deleted)"))
        echo("")
    written = []
    if out:
        with staged_dir(out) as stage:
            written = stage.write_trace(trace)
    echo(trace_text(trace, str(written[0]) if written else None), nl=False)
    if written:
        echo("\nwrote " + ", ".join(str(x) for x in written))
