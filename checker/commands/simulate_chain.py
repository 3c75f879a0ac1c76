"""``paxchain simulate chain``: impl/chain_node.py's handlers in the seeded simulator.

Parses the options into a scenario (``paxchain.models.chain_driver.ChainScenario``: real
proof of work, latency, loss, duplication, clock offsets and drift, crashes at given times or
between a handler's effects, seeded variants of ``paxchain.impl.chain_variants.CHAIN``), runs
it and prints its statistics (``paxchain.checker.chain_runs.report``): forks, orphan rate,
reorg depths, time to k confirmations, and whether the nodes ended on one tip. Same seed and
parameters, same output byte for byte. Exit 0, or 2 on bad input.
"""

from __future__ import annotations

import click

from paxchain.checker.chain_runs import report
from paxchain.checker.cli import echo
from paxchain.checker.driver_cli import (FINITE, crash_point_options, parse_clocks, parse_crash,
                                         parse_latency, variant_option)
from paxchain.impl.chain_variants import CHAIN
from paxchain.models.chain_driver import ChainScenario, simulate_scenario

__all__ = ["subcommand"]


@click.command("chain")
@click.option("--nodes", type=int, default=5, show_default=True)
@click.option("--block-interval", type=FINITE, default=600.0, show_default=True,
              help="mean time between blocks, network-wide")
@click.option("--blocks", type=int, default=50, show_default=True, help="blocks to mine")
@click.option("--delay", default="1..10", show_default=True,
              help="message latency: LO..HI, exp:MEAN or exp:LO:MEAN")
@click.option("--loss", type=FINITE, default=0.0, show_default=True)
@click.option("--dup", type=FINITE, default=0.0, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--k", "k", type=int, default=6, show_default=True, help="confirmations")
@click.option("--difficulty", type=int, default=8, show_default=True, help="PoW bits")
@click.option("--tie", default="first-seen", show_default=True,
              help="tie rule: first-seen or lowest-hash")
@click.option("--max-drift", type=int, default=7200, show_default=True)
@click.option("--window", type=int, default=11, show_default=True, help="MTP window")
@click.option("--crash", "crashes", multiple=True, metavar="NODE:AT[:DOWN_FOR]")
@click.option("--clock-offset", "offsets", multiple=True, metavar="NODE:OFFSET")
@click.option("--drift", "drifts", multiple=True, metavar="NODE:DRIFT",
              help="clock rate error, e.g. 0.01")
@variant_option(CHAIN.names())
@crash_point_options
def subcommand(nodes, block_interval, blocks, delay, loss, dup, seed, k, difficulty, tie,
               max_drift, window, crashes, offsets, drifts, variants, crash_points,
               crash_points_max, crash_points_down) -> None:
    """Simulate a proof-of-work chain: forks, orphan rate, reorg depths, time to k
    confirmations."""
    clocks = parse_clocks(offsets, drifts)
    sc = ChainScenario(nodes=nodes, block_interval=block_interval, blocks=blocks,
                       latency=parse_latency(delay, "--delay"), loss=loss, dup=dup, seed=seed,
                       k=k, difficulty=difficulty, tie=tie, max_drift=max_drift, window=window,
                       crashes=tuple(parse_crash(c) for c in crashes), clocks=clocks,
                       variants=tuple(variants), crash_points=crash_points,
                       crash_points_max=crash_points_max, crash_points_down=crash_points_down)
    echo(report(sc, simulate_scenario(sc)), nl=False)
