"""``paxchain simulate chain``: impl/chain_node.py's handlers in the seeded simulator.

Parses the options into a scenario (``paxchain.models.chain_driver.ChainScenario``: real
proof of work, latency, loss, duplication, clock offsets and drift, pauses and partitions
(the options and meaning of ``simulate paxos``), crashes at given times or
between a handler's effects, seeded variants of ``paxchain.impl.chain_variants.CHAIN``), runs
it and prints its statistics (``paxchain.checker.chain_runs.report``): forks, orphan rate,
reorg depths, time to k confirmations, and whether the nodes ended on one tip. Same seed and
parameters, same output byte for byte. Exit 0, or 2 on bad input.
"""

from __future__ import annotations

import click

from paxchain.checker.chain_runs import report
from paxchain.checker.cli import echo
from paxchain.checker.driver_cli import (FINITE, Param, crash_point_options, driver_command,
                                         loss_option, param_option, parse_clocks, parse_crash,
                                         parse_latency, parse_partition, parse_pause,
                                         resolve_params, seed_option,
                                         sim_fault_options, variant_option)
from paxchain.impl.chain_block import TIE_RULES
from paxchain.impl.chain_variants import CHAIN
from paxchain.models.chain_driver import ChainScenario, simulate_scenario

__all__ = ["subcommand", "PARAMS"]


PARAMS = (Param("nodes", click.IntRange(1, 64), 5, "nodes n1..nN"),
          Param("k", click.IntRange(min=1), 6, "confirmations"),
          Param("tie", click.Choice(TIE_RULES), "first-seen", "tie rule: "
                + " or ".join(TIE_RULES)),
          Param("difficulty", click.IntRange(1, 20), 8, "proof-of-work bits"),
          Param("max_drift", click.IntRange(min=0), 7200,
                "how far a timestamp may be ahead of the receiver's clock"),
          Param("window", click.IntRange(min=1), 11, "median-time-past window"))


@driver_command("chain", PARAMS, {"--delay": lambda v: ("--latency", v)})
@param_option(PARAMS)
@click.option("--block-interval", type=FINITE, default=600.0, show_default=True, metavar="T",
              help="Mean time between blocks, network-wide.")
@click.option("--blocks", type=int, default=50, show_default=True, metavar="N",
              help="Blocks to mine.")
@seed_option("mining, latency, loss, duplication and crash points")
@loss_option
@sim_fault_options
@variant_option(CHAIN)
@crash_point_options
def subcommand(params, block_interval, blocks, seed, loss, dup, latency, crashes, pauses,
               partitions, offsets, drifts, variants, crash_points, crash_points_max,
               crash_points_down) -> None:
    """Simulate a proof-of-work chain: forks, orphan rate, reorg depths, time to k
    confirmations."""
    clocks = parse_clocks(offsets, drifts)
    n = resolve_params(params, PARAMS)
    sc = ChainScenario(nodes=n["nodes"], block_interval=block_interval, blocks=blocks,
                       latency=parse_latency(latency), loss=loss, dup=dup, seed=seed,
                       k=n["k"], difficulty=n["difficulty"], tie=n["tie"],
                       max_drift=n["max_drift"], window=n["window"],
                       crashes=tuple(parse_crash(c) for c in crashes), clocks=clocks,
                       variants=tuple(variants), crash_points=crash_points,
                       crash_points_max=crash_points_max, crash_points_down=crash_points_down,
                       pauses=tuple(parse_pause(p) for p in pauses),
                       partitions=tuple(parse_partition(p) for p in partitions))
    echo(report(sc, simulate_scenario(sc)), nl=False)
