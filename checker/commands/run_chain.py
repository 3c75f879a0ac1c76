"""``paxchain run chain``: impl/chain_node.py on real UDP sockets, one OS process per node.

Parses the options into a ``paxchain.models.chain_driver.NetChainScenario`` and runs it
(``run_net``): each node mines with real proof of work (``--difficulty`` bits, ``--tries``
nonces per timer tick), gossips blocks, and persists its chain to ``DATA_DIR/NODE.json``
(write-ahead, fsync'ed). ``--crash NODE:AT:DOWN_FOR`` kills a node with SIGKILL and restarts
it; the restarted node resumes from its file (the run prints the height it resumed at) and
asks its peers for their tips. Nodes stop mining at height ``--blocks``; once every node's tip
is there the run lets gossip settle for 1.5 s and ends (or ends at the deadline); the nodes'
chains are then read back from disk and compared (``paxchain.checker.chain_runs.report_real``,
by the run-level prefix consistency of ``paxchain.specs.chain_run``). Crash times count from
the start of the command, and so do the deadline (start-up included), ``--pause NODE:AT:FOR``
(SIGSTOP, then SIGCONT) and ``--partition GROUPS@START..END`` (links cut, then healed), as in
``run paxos``; ``--drift NODE:DRIFT`` runs a node's clock, and its timers, at rate 1 + DRIFT,
as in ``simulate``.

Exit 0: every node reached ``--blocks`` (and the crash schedule played out) and no two
persisted chains diverge; 1: two persisted chains diverge deeper than k, or a chain file holds
no chain; 3: the deadline came first and no divergence was found (*incomplete*); 2: bad input
(including a busy ``--base-port``).
"""

from __future__ import annotations

import sys

import click

from paxchain.checker.chain_runs import report_real
from paxchain.checker.driver_cli import (FINITE, Param, driver_command, loss_option,
                                         param_option, parse_crash, parse_node_value,
                                         parse_partition, parse_pause, parse_real_latency,
                                         real_crash_option, real_drift_option,
                                         real_latency_option, real_partition_option,
                                         real_pause_option, real_run_options, resolve_params,
                                         seed_option, variant_option)
from paxchain.impl.chain_block import TIE_RULES
from paxchain.impl.chain_variants import CHAIN
from paxchain.models.chain_driver import NetChainScenario, run_net

__all__ = ["subcommand"]


PARAMS = (Param("nodes", click.IntRange(1, 16), 3, "nodes n1..nN"),
          Param("k", click.IntRange(min=0), 2,
                "blocks cut off when comparing the persisted chains"),
          Param("tie", click.Choice(TIE_RULES), "first-seen",
                "tie rule: " + " or ".join(TIE_RULES)),
          Param("difficulty", click.IntRange(1, 32), 14, "proof-of-work bits"))


@driver_command("chain", PARAMS, {"--delay": lambda v: ("--latency", f"0..{v}")})
@param_option(PARAMS)
@click.option("--blocks", type=int, default=8, show_default=True, metavar="N",
              help="Run until every node's tip has this height.")
@click.option("--tries", type=int, default=300, show_default=True, metavar="N",
              help="Nonces a node tries per mining tick.")
@click.option("--tick", type=FINITE, default=0.01, show_default=True, metavar="SECONDS",
              help="Time between a node's mining ticks.")
@loss_option
@real_latency_option
@real_crash_option
@click.option("--clock-offset", "offsets", multiple=True, metavar="NODE:MS",
              help="NODE's clock is MS milliseconds ahead (repeatable).")
@real_drift_option
@real_pause_option
@real_partition_option
@real_run_options(60.0)
@seed_option("the injected loss and latency", replays=False)
@variant_option(CHAIN)
def subcommand(params, blocks, tries, tick, loss, latency, crashes, offsets, drifts, pauses,
               partitions, base_port, deadline, data_dir, seed, variants) -> None:
    """Run the proof-of-work chain over UDP on 127.0.0.1 (one process per node, chains
    persisted to disk); compare the chains at the end."""
    n = resolve_params(params, PARAMS)
    k = n["k"]
    sc = NetChainScenario(n["nodes"], blocks, n["difficulty"], tries, tick, n["tie"], k, loss,
                          parse_real_latency(latency),
                          tuple(parse_crash(c) for c in crashes),
                          tuple(parse_node_value(o, "--clock-offset") for o in offsets),
                          base_port, deadline, data_dir, seed, tuple(variants),
                          tuple(parse_pause(p) for p in pauses),
                          tuple(parse_node_value(d, "--drift") for d in drifts),
                          tuple(parse_partition(p) for p in partitions))
    cluster, done, chains = run_net(sc)
    sys.exit(report_real(cluster, done, chains, sc.names, blocks, k, deadline, sc.crashes, sc))
