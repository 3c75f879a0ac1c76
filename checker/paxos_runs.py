"""Paxos runs as ``paxchain simulate paxos`` and ``paxchain run paxos`` show them.

A simulated run (``run_scenario``) is the driver's (``paxchain.models.paxos_driver``) judged by
the run-level properties (``paxchain.specs.paxos_run``); ``summary_text`` prints the
configuration, every learner's decision with its time, what was *chosen*, the verdicts, message
counts and the ballots tried. A *simulation trace* (``trace_json``) is the project's trace JSON
layout (``paxchain.checker.trace``) with ``#meta.model = "paxos-sim"``, the scenario in
``#meta.params`` and one entry of ``states`` per logged simulator event (vars ``time``,
``event``, ``node``, ``detail``); ``replay_data`` rebuilds the scenario from it, re-runs it,
checks that every logged event is reproduced exactly, and re-checks the properties.

A violation the simulator found becomes a trace of the model ``paxos-system``
(``counterexample``): the scenario is run again with its steps recorded, each step is written
as the model's (``paxchain.models.sim_steps``), re-executed in the model up to the first state
that breaks the same property (``paxchain.checker.steps.embed``), and with ``shorten`` cut down
the way ``check --minimize`` cuts a depth-first trace. The result is a model trace like any
other (written, replayed and pasted as a test the same way); nothing of the simulator's run is
trusted, and a run the model cannot re-execute, or whose re-execution does not break the
property, is one line saying so.

A real run's report (``report_real``) prints each learner's decision (found on disk, or after
how long) and the datagram counters, and returns the exit code: 0 every learner decided and
they agree, 1 they disagree, 3 the deadline passed first.
"""

from __future__ import annotations

from typing import Any

from paxchain.checker.cli import echo
from paxchain.checker.driver_cli import plural, startup_text
from paxchain.checker.steps import Stuck, embed, shorten, shows
from paxchain.checker.trace import FORMAT, Trace, explain
from paxchain.checker.version import __version__
from paxchain.impl.simulator import Latency, SimConfig, SimResult
from paxchain.models import registry
from paxchain.models.errors import UserError
from paxchain.models.properties import TRANSITION
from paxchain.models.paxos_driver import (NetScenario, Scenario, model_config, observe,
                                          observe_net, simulate_scenario)
from paxchain.models.sim_steps import NoCounterpart, moves
from paxchain.specs.model_properties import properties_of
from paxchain.specs.paxos_run import SUMMARY, Verdict, check_real, check_simulated

__all__ = ["MODEL", "SYSTEM", "run_scenario", "summary_text", "latency_text", "schedule_lines",
           "exit_code", "trace_json",
           "replay_data", "counterexample", "report_real"]

SYSTEM = "paxos-system"  # the model whose steps a simulated run is written in

MODEL = "paxos-sim"
_VARS = ["time", "event", "node", "detail"]


def run_scenario(sc: Scenario) -> tuple[SimResult, Verdict]:
    """Validate ``sc``, simulate it, and judge what it showed."""
    result = simulate_scenario(sc)
    return result, check_simulated(observe(sc, result))


def exit_code(v: Verdict) -> int:
    """1 a property is violated; 0 every learner decided; 3 some learner had not."""
    return 1 if v.violated else (0 if v.all_decided else 3)


def _t(x: float) -> str:
    return f"{x:.3f}"


def latency_text(lat: Latency) -> str:
    """``uniform LO..HI`` or ``LO + exp(mean MEAN)``."""
    return (f"uniform {lat.lo:g}..{lat.hi:g}" if lat.kind == "uniform"
            else f"{lat.lo:g} + exp(mean {lat.mean:g})")


def schedule_lines(sc: Scenario | SimConfig) -> list[str]:
    """The fault schedule of a scenario (or of any ``SimConfig``, as ``simulate`` of an
    actor-system model prints it): the ``faults:`` line, and the ``crash points:`` line."""
    faults = ([f"pause {p.node} at {p.at:g} for {p.duration:g}" for p in sc.pauses]
              + [f"crash {c.node} at {c.at:g}" + ("" if c.down_for is None
                                                   else f" for {c.down_for:g}")
                 for c in sc.crashes]
              + [f"clock {n} offset {c.offset:g} drift {c.drift:g}" for n, c in sc.clocks]
              + [f"partition {p.text()}" for p in sc.partitions])
    lines = ["faults: " + ("; ".join(faults) if faults else "none")]
    if sc.crash_points:
        lines.append(f"crash points: probability {sc.crash_points:g} per handler call, at most "
                     f"{sc.crash_points_max}, down for {sc.crash_points_down:g}")
    return lines


def summary_text(sc: Scenario, result: SimResult, v: Verdict) -> str:
    """The human-readable report (deterministic: same scenario, same text)."""
    lines = [f"paxos simulation: {plural(sc.acceptors, 'acceptor')}, "
             f"{plural(sc.proposers, 'proposer')}, {plural(sc.learners, 'learner')}; "
             f"seed {sc.seed}",
             f"network: loss {sc.loss:g}, dup {sc.dup:g}, latency {latency_text(sc.latency)}; "
             f"retry timeout {sc.timeout:g}, backoff {sc.backoff:g}, max rounds "
             f"{sc.max_rounds or 'unbounded'}; until {sc.until:g}"]
    lines += schedule_lines(sc)
    if sc.variants:
        lines.append("variants: " + ", ".join(sc.variants))
    for n, ds in v.decisions.items():
        lines.append(f"{n}: " + ("; ".join(f"decided {d} at t={_t(t)}" for t, d in ds)
                                 if ds else "no decision"))
    lines.append("chosen (quorum accepted in one ballot): "
                 + (", ".join(f"{val} in ballot {b[0]}.{b[1]}" for b, val in v.chosen)
                    or "nothing"))
    times = [t for ds in v.decisions.values() for t, _ in ds]
    if times:
        lines.append(f"time to decide: first {_t(min(times))}, last {_t(max(times))}")
    c = result.counts
    lines.append(f"messages: sent {c['sent']}, delivered {c['delivered']}, lost {c['lost']}, "
                 f"duplicated {c['duplicated']}, dropped at down nodes {c['dropped_down']}"
                 + (f", cut by partitions {c['partitioned']}" if sc.partitions else ""))
    if sc.crash_points:
        fell = [f"{node} at t={_t(t)} ({detail.split(';')[0]})"
                for t, what, node, detail in result.log if what == "crash-point"]
        lines.append(f"crash points: {len(fell)}" + (f" ({'; '.join(fell)})" if fell else ""))
    tried = sum(len(b) for b in v.ballots.values())
    lines.append(f"ballots tried: {tried} (" + "; ".join(
        f"{p}: " + " ".join(f"{b[0]}.{b[1]}" for b in bs) for p, bs in sorted(v.ballots.items()))
        + ")")
    lines.append(f"run: {result.events} events, ended at t={_t(result.end_time)} "
                 f"({result.stopped})")
    if v.violated:
        lines.append(f"VIOLATED {v.violated}: {v.explanation}")
    else:
        lines.append("agreement: holds; validity: holds"
                     + ("" if v.all_decided else " (not every learner decided)"))
    return "\n".join(lines) + "\n"


# -- simulation traces ---------------------------------------------------------------------------

# A simulation trace is a log of timed events (float times), its own format beside the model
# checker's ITF traces (``paxchain.checker.trace``), versioned on its own.
SIM_FORMAT_VERSION = 1

def trace_json(sc: Scenario, result: SimResult, v: Verdict) -> dict[str, Any]:
    """The run as a simulation trace (see the module docstring)."""
    prop = v.violated or "agreement"
    meta = {"format": FORMAT, "format_version": SIM_FORMAT_VERSION, "tool": "paxchain",
            "tool_version": __version__, "model": MODEL, "params": sc.to_params(),
            "variant": "+".join(sc.variants) or None, "property": prop, "kind": "invariant",
            "summary": SUMMARY[prop],
            "outcome": "violation" if v.violated else "holds"}
    if v.violated:
        meta["explanation"] = v.explanation
    states = [{"#meta": {"index": i}, "time": t, "event": what, "node": node, "detail": detail}
              for i, (t, what, node, detail) in enumerate(result.log)]
    return {"#meta": meta, "vars": list(_VARS), "states": states}


def replay_data(data: Any) -> tuple[Scenario, SimResult, Verdict]:
    """Re-run a simulation trace; raise ``UserError`` if any logged event or the recorded
    outcome is not reproduced."""
    if not isinstance(data, dict) or not isinstance(data.get("#meta"), dict):
        raise UserError("not a paxchain trace: no #meta object")
    meta = data["#meta"]
    version = meta.get("format_version")
    # ``type() is int``: JSON's true is a bool, and ``True == 1`` in Python.
    if (meta.get("format") != FORMAT or type(version) is not int
            or version != SIM_FORMAT_VERSION):
        raise UserError(f"not a paxchain trace of format version {SIM_FORMAT_VERSION} "
                        "(an integer)")
    if meta.get("model") != MODEL:
        raise UserError(f"not a simulation trace: model is {meta.get('model')!r}, "
                        f"expected {MODEL!r} (use paxchain replay)")
    if data.get("vars") != _VARS or not isinstance(data.get("states"), list):
        raise UserError(f"simulation trace: vars must be {_VARS} and states a list")
    sc = Scenario.from_params(meta.get("params"))
    result, verdict = run_scenario(sc)
    for i, (entry, got) in enumerate(zip(data["states"], result.log)):
        want = [entry.get(k) for k in _VARS] if isinstance(entry, dict) else None
        if want != list(got):
            raise UserError(f"replay diverges at event {i}: recorded {want}, got {list(got)}")
    if len(data["states"]) != len(result.log):
        raise UserError(f"replay has {len(result.log)} events, the trace "
                        f"{len(data['states'])}")
    outcome = "violation" if verdict.violated else "holds"
    if meta.get("outcome") != outcome or (verdict.violated and
                                          meta.get("property") != verdict.violated):
        raise UserError(f"replay outcome {outcome} ({verdict.violated or '-'}) differs from the "
                        f"recorded {meta.get('outcome')} ({meta.get('property')})")
    return sc, result, verdict


# -- a simulator-found violation as a (shortened) model trace --------------------------------------

def counterexample(sc: Scenario, verdict: Verdict, minimize: bool = False
                   ) -> tuple[Trace, list[str]]:
    """The violation ``verdict`` of ``sc``'s simulated run as a trace of ``paxos-system``
    (module docstring), shortened when ``minimize``; with it, lines saying what was done.
    ``UserError`` (one line) when the run cannot be carried over."""
    if not verdict.violated:
        raise ValueError("the run broke no property: no counterexample")
    result = simulate_scenario(sc, record=True)
    if check_simulated(observe(sc, result)).violated != verdict.violated:
        raise UserError("the recorded re-run does not break "
                        f"{verdict.violated}: the simulation is not deterministic")
    params, variant, rename = model_config(sc, result)
    try:
        steps = moves(result.steps, rename)
    except NoCounterpart as exc:
        raise UserError(f"the simulated run is no run of {SYSTEM}: {exc}") from None
    where = f"{len(steps)} steps (handled messages and timers, crashes, restarts)"
    # The fewest rounds first: the model's size (its refinement tables) grows fast with its
    # ballots, and the violation usually comes before the run's last round. A proposer of a
    # model with fewer rounds gives up where the simulator's went on; its later steps are
    # then not enabled, and the next bound is tried.
    for rounds in range(1, int(params["max_rounds"]) + 1):
        model = registry.build(SYSTEM, {**params, "max_rounds": str(rounds)}, variant)
        prop = next((p for p in properties_of(model) if p.name == verdict.violated), None)
        if prop is None:
            raise UserError(f"{SYSTEM} has no property {verdict.violated!r} to carry the "
                            f"violation over to")
        try:
            run = embed(model, steps, prop)
        except ValueError as exc:
            raise UserError(f"the simulated run is no run of {SYSTEM}: {exc}") from None
        if not isinstance(run, Stuck) and shows(prop, run.steps) is not None:
            break  # every step was re-executed: the model's own verdict
    if isinstance(run, Stuck):
        raise UserError(f"the simulated run is no run of {SYSTEM}: its step {run.index} of "
                        f"{where} ({run.text}) is not enabled there")
    if shows(prop, run.steps) is None:
        raise UserError(f"re-executed in {SYSTEM} ({len(run.steps) - 1} steps), the simulated "
                        f"run does not break {prop.name}")
    last = run.steps[-2:] if prop.kind == TRANSITION else run.steps[-1:]
    trace = Trace(model, prop.name, prop.kind, prop.summary, run.steps,
                  explain(prop, *(s.state for s in last)))
    n = len(trace.steps) - 1
    lines = [f"carried over: the simulated run's first {run.used} of {where} are a run of "
             f"{model.describe()} in {n} steps ({run.skipped} change nothing there); it "
             f"breaks {prop.name}"]
    if rename:
        lines.append("  (values renamed to the model's: " + ", ".join(
            f"{a} -> {b}" for a, b in sorted(rename.items())) + "; a restarted proposer "
            "proposes from the model's value plan, where one value may be two of the run's)")
    moved = sum(1 for m in steps[:run.used] if m.moved)
    if moved:
        lines.append(f"  ({plural(moved, 'crash point')} inside a multicast moved to its end: "
                     f"the model cuts between whole units of effects, so the rest of that "
                     f"multicast is in flight there too)")
    if minimize:
        trace = shorten(trace)
        after = len(trace.steps) - 1
        lines.append(f"minimized {prop.name}: {n} -> {after} steps"
                     + ("" if after < n else " (no step could be deleted)"))
    return trace, lines


# -- real runs -----------------------------------------------------------------------------------

def report_real(sc: NetScenario, cluster: Any, done: bool) -> int:
    """Print what the real run on ``cluster`` showed and return its exit code."""
    nodes = list(cluster.nodes)
    counts = {r: sum(1 for n in nodes if cluster.roles.get(n) == r)
              for r in ("acceptor", "proposer", "learner")}
    echo("paxos on 127.0.0.1: " + ", ".join(plural(k, r) for r, k in counts.items())
         + f"; one OS process per node; deadline {sc.deadline:g} s")
    if sc.variants:
        echo("variants: " + ", ".join(sc.variants))
    faults = ([f"loss {sc.loss:g}"] if sc.loss else []) + (
        [f"latency 0..{sc.delay_ms:g} ms"] if sc.delay_ms else []) + [
        f"pause {p.node} at {p.at:g}s for {p.duration:g}s" for p in sc.pauses] + [
        f"crash {c.node} at {c.at:g}s" + ("" if c.down_for is None else
                                         f", restart after {c.down_for:g}s")
        for c in sc.crashes] + [f"partition {p.text()} s" for p in sc.partitions] + [
        f"clock {n} drift {d:g}" for n, d in sc.drifts]
    echo("faults: " + ("; ".join(faults) if faults else "none"))
    startup_text(cluster, nodes)
    verdict = check_real(observe_net(cluster))
    for name, ds in verdict.decisions.items():
        if ds:
            t, v = ds[0]
            when = "found on disk at start-up" if t is None else f"after {t:.3f} s"
            echo(f"{name}: decided {v} ({when})")
        else:
            echo(f"{name}: no decision")
    total = {k: sum(s.get(k, 0) for s in cluster.stats.values())
             for k in ("sent", "received", "lost", "malformed", "partitioned")}
    cut = f", cut by partitions {total['partitioned']}" if sc.partitions else ""
    echo(f"datagrams: sent {total['sent']}, received {total['received']}, "
         f"dropped by injected loss {total['lost']}{cut}, malformed {total['malformed']} "
         f"(nodes that exited cleanly)")
    if verdict.violated:
        echo(f"VIOLATED {verdict.violated}: {verdict.explanation}")
        return 1
    if not done:
        echo("incomplete: not every learner decided before the deadline")
        return 3
    decided = {v for ds in verdict.decisions.values() for _, v in ds}
    echo(f"agreement: holds ({decided.pop()})")
    return 0
