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
the start of the command, and so does the deadline (start-up included).

Exit 0: every node reached ``--blocks`` (and the crash schedule played out) and no two
persisted chains diverge; 1: two persisted chains diverge deeper than k, or a chain file holds
no chain; 3: the deadline came first and no divergence was found (*incomplete*); 2: bad input
(including a busy ``--base-port``).
"""

from __future__ import annotations

import sys

import click

from paxchain.checker.chain_runs import report_real
from paxchain.checker.driver_cli import FINITE, parse_crash, parse_node_value, variant_option
from paxchain.impl.chain_variants import CHAIN
from paxchain.models.chain_driver import NetChainScenario, run_net

__all__ = ["subcommand"]


@click.command("chain")
@click.option("--nodes", type=int, default=3, show_default=True)
@click.option("--blocks", type=int, default=8, show_default=True,
              help="run until every node's tip has this height")
@click.option("--difficulty", type=int, default=14, show_default=True, help="PoW bits")
@click.option("--tries", type=int, default=300, show_default=True, help="nonces per tick")
@click.option("--tick", type=FINITE, default=0.01, show_default=True, help="seconds")
@click.option("--tie", default="first-seen", show_default=True)
@click.option("--k", "k", type=int, default=2, show_default=True,
              help="blocks cut off when comparing the persisted chains")
@click.option("--loss", type=FINITE, default=0.0, show_default=True)
@click.option("--delay", "delay_ms", type=FINITE, default=0.0, show_default=True, metavar="MS",
              help="extra delay per datagram, uniform in [0, MS] milliseconds")
@click.option("--crash", "crashes", multiple=True, metavar="NODE:AT[:DOWN_FOR]",
              help="SIGKILL NODE AT seconds after the run starts (even during its start-up); "
                   "restart it DOWN_FOR seconds later")
@click.option("--clock-offset", "offsets", multiple=True, metavar="NODE:MS")
@click.option("--base-port", type=int, default=0, show_default=True,
              help="first UDP port (nodes get consecutive ports); 0 = free ports")
@click.option("--deadline", type=FINITE, default=60.0, show_default=True,
              help="the whole run, start-up included, ends after this many seconds")
@click.option("--data-dir", type=click.Path(file_okay=False),
              help="keep the nodes' chain files here (default: a temporary directory)")
@click.option("--seed", type=int, default=0, show_default=True)
@variant_option(CHAIN.names())
def subcommand(nodes, blocks, difficulty, tries, tick, tie, k, loss, delay_ms, crashes,
               offsets, base_port, deadline, data_dir, seed, variants) -> None:
    """Run the proof-of-work chain over UDP on 127.0.0.1 (one process per node, chains
    persisted to disk); compare the chains at the end."""
    sc = NetChainScenario(nodes, blocks, difficulty, tries, tick, tie, k, loss, delay_ms,
                          tuple(parse_crash(c) for c in crashes),
                          tuple(parse_node_value(o, "--clock-offset") for o in offsets),
                          base_port, deadline, data_dir, seed, tuple(variants))
    cluster, done, chains = run_net(sc)
    sys.exit(report_real(cluster, done, chains, sc.names, blocks, k, deadline, sc.crashes))
