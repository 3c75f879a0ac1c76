"""``paxchain simulate paxos`` (or ``paxos-system``): impl/paxos.py's handlers in the seeded
simulator.

Parses the options into a scenario (``paxchain.models.paxos_driver.Scenario``), runs and
judges it (``paxchain.checker.paxos_runs``) and prints the summary: the configuration, every
learner's decision with its time, what was *chosen*, the verdicts for agreement and validity
(``paxchain.specs.paxos_run``), message counts and the ballots tried. Exit 0: every learner
decided and both properties hold; 1: a property is violated; 3: no violation, but some learner
had not decided when the run ended; 2: bad input. ``--save FILE`` writes the simulation trace,
``--replay FILE`` re-runs and re-checks one.
"""

from __future__ import annotations

import json
import sys

import click

from paxchain.checker.cli import echo
from paxchain.checker.cli import verdict as record_verdict
from paxchain.checker.driver_cli import (FINITE, crash_point_options, parse_clocks, parse_crash,
                                         parse_latency, parse_pause, variant_option)
from paxchain.checker.files import read_json, write_atomic
from paxchain.checker.paxos_runs import (exit_code, replay_data, run_scenario, summary_text,
                                         trace_json)
from paxchain.impl.paxos_variants import PAXOS
from paxchain.models.paxos_driver import Scenario

__all__ = ["subcommand"]


@click.command("paxos")
@click.option("--acceptors", type=int, default=3, show_default=True)
@click.option("--proposers", type=int, default=2, show_default=True)
@click.option("--learners", type=int, default=1, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--loss", type=FINITE, default=0.0, show_default=True, help="loss probability")
@click.option("--dup", type=FINITE, default=0.0, show_default=True,
              help="duplication probability")
@click.option("--latency", default="1..10", show_default=True,
              help="LO..HI (uniform), exp:MEAN or exp:LO:MEAN")
@click.option("--pause", "pauses", multiple=True, metavar="NODE:AT:FOR")
@click.option("--crash", "crashes", multiple=True, metavar="NODE:AT[:DOWN_FOR]")
@click.option("--clock-offset", "offsets", multiple=True, metavar="NODE:OFFSET")
@click.option("--drift", "drifts", multiple=True, metavar="NODE:DRIFT",
              help="local = offset + (1 + drift) * global")
@click.option("--timeout", type=FINITE, default=30.0, show_default=True,
              help="proposer retry timeout (local time units)")
@click.option("--backoff", type=FINITE, default=1.5, show_default=True,
              help="timeout multiplier per round (capped at 16x)")
@click.option("--max-rounds", type=int, default=0, show_default=True, help="0 = unbounded")
@click.option("--until", type=FINITE, default=5000.0, show_default=True,
              help="global time bound")
@variant_option(PAXOS.names())
@crash_point_options
@click.option("--to-quiescence", is_flag=True,
              help="run until no event is left, not only until every learner decided")
@click.option("--save", type=click.Path(dir_okay=False), help="write the simulation trace")
@click.option("--replay", "replay_file", type=click.Path(dir_okay=False),
              help="re-run and re-check a saved simulation trace (other options ignored)")
def subcommand(acceptors, proposers, learners, seed, loss, dup, latency, pauses, crashes,
               offsets, drifts, timeout, backoff, max_rounds, until, variants, crash_points,
               crash_points_max, crash_points_down, to_quiescence, save, replay_file) -> None:
    """Simulate single-decree Paxos (impl/paxos.py); print decisions, time to decide,
    messages and ballots. Same seed, same output."""
    if replay_file:
        # the shared strict reader: size, depth, integer length and NaN/inf bounded, one line
        sc, result, verdict = replay_data(read_json(replay_file))
        replayed = f"replayed {replay_file}: {len(result.log)} events reproduced exactly"
    else:
        clocks = parse_clocks(offsets, drifts)
        sc = Scenario(acceptors, proposers, learners, seed, loss, dup, parse_latency(latency),
                      tuple(parse_pause(p) for p in pauses),
                      tuple(parse_crash(c) for c in crashes), clocks,
                      timeout, backoff, max_rounds, until, tuple(variants),
                      "quiescent" if to_quiescence else "decided", crash_points,
                      crash_points_max, crash_points_down)
        result, verdict = run_scenario(sc)
        replayed = ""
    code = record_verdict(exit_code(verdict))  # before any output (``paxchain.checker.cli``)
    if replayed:
        echo(replayed)
    echo(summary_text(sc, result, verdict), nl=False)
    if save:
        write_atomic(save, json.dumps(trace_json(sc, result, verdict), indent=1) + "\n")
        echo(f"trace: {save}")
    sys.exit(code)
