"""``paxchain simulate paxos`` (or ``paxos-system``): impl/paxos.py's handlers in the seeded
simulator.

Parses the options into a scenario (``paxchain.models.paxos_driver.Scenario``), runs and
judges it (``paxchain.checker.paxos_runs``) and prints the summary: the configuration, every
learner's decision with its time, what was *chosen*, the verdicts for agreement and validity
(``paxchain.specs.paxos_run``), message counts and the ballots tried. Exit 0: every learner
decided and both properties hold; 1: a property is violated; 3: no violation, but some learner
had not decided when the run ended; 2: bad input. ``--save FILE`` writes the simulation trace,
``--replay FILE`` re-runs and re-checks one.

A violation found this way is carried over to the model ``paxos-system`` with ``--out DIR``
(the trace set, as ``check --out`` writes it) or ``--minimize`` (shortened first, as ``check
--minimize`` shortens a depth-first trace): ``paxchain.checker.paxos_runs.counterexample``
re-executes the run in the model, so what is printed and written is a model trace that
``paxchain replay`` confirms. A run the model cannot re-execute is one line saying why; the
simulator's verdict (exit 1) stands.
"""

from __future__ import annotations

import json
import sys

import click

from paxchain.checker.cli import echo
from paxchain.checker.cli import verdict as record_verdict
from paxchain.checker.driver_cli import (FINITE, POSITIVE, Param, crash_point_options,
                                         driver_command, loss_option, model_trace_options,
                                         param_option, parse_clocks, parse_crash, parse_latency,
                                         parse_partition, parse_pause, resolve_params,
                                         seed_option, sim_fault_options, variant_option)
from paxchain.checker.files import read_json, write_atomic
from paxchain.checker.outdir import staged_dir
from paxchain.checker.paxos_runs import (counterexample, exit_code, replay_data, run_scenario,
                                         summary_text, trace_json)
from paxchain.checker.render_text import trace_text
from paxchain.models.errors import UserError
from paxchain.impl.paxos_variants import PAXOS
from paxchain.models.paxos_driver import Scenario

__all__ = ["subcommand", "PARAMS"]


PARAMS = (Param("acceptors", click.IntRange(min=1), 3, "acceptors a1..aN"),
          Param("proposers", click.IntRange(min=1), 2, "proposers p1..pN"),
          Param("learners", click.IntRange(min=1), 1, "learners l1..lN"))


@driver_command("paxos", PARAMS, {"--timeout": lambda v: ("--retry-timeout", v)})
@param_option(PARAMS)
@seed_option("latency, loss, duplication and crash points")
@loss_option
@sim_fault_options
@click.option("--retry-timeout", type=POSITIVE, default=30.0, show_default=True, metavar="T",
              help="A proposer retries with a higher ballot after T of its local time.")
@click.option("--backoff", type=FINITE, default=1.5, show_default=True, metavar="X",
              help="Retry timeout multiplier per round (capped at 16x).")
@click.option("--max-rounds", type=int, default=0, show_default=True, metavar="N",
              help="Ballots a proposer tries at most; 0 = unbounded.")
@click.option("--until", type=FINITE, default=5000.0, show_default=True, metavar="T",
              help="The run ends at this global time.")
@variant_option(PAXOS)
@crash_point_options
@click.option("--to-quiescence", is_flag=True,
              help="Run until no event is left, not only until every learner decided.")
@click.option("--save", type=click.Path(dir_okay=False), help="Write the simulation trace.")
@click.option("--replay", "replay_file", type=click.Path(dir_okay=False),
              help="Re-run and re-check a saved simulation trace (other options ignored).")
@model_trace_options("the model paxos-system")
def subcommand(params, seed, loss, dup, latency, crashes, pauses, partitions, offsets, drifts,
               retry_timeout, backoff, max_rounds, until, variants, crash_points,
               crash_points_max, crash_points_down, to_quiescence, save, replay_file,
               minimize, out) -> None:
    """Simulate single-decree Paxos (impl/paxos.py); print decisions, time to decide,
    messages and ballots. Same seed, same output."""
    if replay_file:
        # the shared strict reader: size, depth, integer length and NaN/inf bounded, one line
        sc, result, verdict = replay_data(read_json(replay_file))
        replayed = f"replayed {replay_file}: {len(result.log)} events reproduced exactly"
    else:
        clocks = parse_clocks(offsets, drifts)
        n = resolve_params(params, PARAMS)
        sc = Scenario(n["acceptors"], n["proposers"], n["learners"], seed, loss, dup,
                      parse_latency(latency),
                      tuple(parse_pause(p) for p in pauses),
                      tuple(parse_crash(c) for c in crashes), clocks,
                      retry_timeout, backoff, max_rounds, until, tuple(variants),
                      "quiescent" if to_quiescence else "decided", crash_points,
                      crash_points_max, crash_points_down,
                      tuple(parse_partition(p) for p in partitions))
        result, verdict = run_scenario(sc)
        replayed = ""
    code = record_verdict(exit_code(verdict))  # before any output (``paxchain.checker.cli``)
    if replayed:
        echo(replayed)
    echo(summary_text(sc, result, verdict), nl=False)
    if save:
        write_atomic(save, json.dumps(trace_json(sc, result, verdict), indent=1) + "\n")
        echo(f"trace: {save}")
    if verdict.violated and (minimize or out):
        _carry_over(sc, verdict, minimize, out)
    elif minimize or out:
        echo("no property is broken: no counterexample to carry over to paxos-system")
    sys.exit(code)


def _carry_over(sc, verdict, minimize: bool, out: str | None) -> None:
    """Print (and with ``out`` write) the violation as a trace of paxos-system."""
    try:
        trace, lines = counterexample(sc, verdict, minimize)
    except UserError as exc:  # the simulator's verdict stands; only the model trace is missing
        echo(f"no model trace: {exc}")
        return
    echo("")
    for line in lines:
        echo(line)
    written = []
    if out:
        with staged_dir(out) as stage:
            written = stage.write_trace(trace)
    echo("")
    echo(trace_text(trace, str(written[0]) if written else None), nl=False)
    if written:
        echo("\nwrote " + ", ".join(str(x) for x in written))
