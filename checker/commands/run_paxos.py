"""``paxchain run paxos`` (or ``paxos-system``): impl/paxos.py on real UDP sockets, one OS
process per node.

Parses the options into a ``paxchain.models.paxos_driver.NetScenario``, runs it
(``run_net``: acceptors and learners first, then proposers, until every learner decided or the
deadline passed) and prints each learner's decision and the datagram counters
(``paxchain.checker.paxos_runs.report_real``). Exit 0: every learner decided and they agree
(``paxchain.specs.paxos_run``); 1: they disagree; 3: the deadline passed first; 2: bad input
(including a busy ``--base-port``).

A learner persists its decision; a learner whose file already holds one when it starts (a
reused ``--data-dir``, or a restart after a crash) has decided, and the run reports that
decision as found on disk. ``--variant`` and user plugins (``PAXCHAIN_PLUGINS``) reach every
node process. The deadline counts from the start of the command, start-up included; a crash or
pause schedule counts from the same moment, and a crash that falls during a node's start-up is
applied like any other (the node is killed and restarted as the schedule says).
"""

from __future__ import annotations

import sys

import click

from paxchain.checker.driver_cli import FINITE, parse_crash, parse_pause, variant_option
from paxchain.checker.paxos_runs import report_real
from paxchain.impl.paxos_variants import PAXOS
from paxchain.models.paxos_driver import NetScenario, run_net

__all__ = ["subcommand"]


@click.command("paxos")
@click.option("--acceptors", type=int, default=3, show_default=True)
@click.option("--proposers", type=int, default=2, show_default=True)
@click.option("--learners", type=int, default=1, show_default=True)
@click.option("--loss", type=FINITE, default=0.0, show_default=True,
              help="probability that a datagram is dropped by its sender")
@click.option("--delay", "delay_ms", type=FINITE, default=0.0, show_default=True, metavar="MS",
              help="extra delay per datagram, uniform in [0, MS] milliseconds")
@click.option("--pause", "pauses", multiple=True, metavar="NODE:AT:FOR",
              help="SIGSTOP NODE AT seconds after the run starts, for FOR seconds")
@click.option("--crash", "crashes", multiple=True, metavar="NODE:AT[:DOWN_FOR]",
              help="SIGKILL NODE AT seconds after the run starts (even during its start-up); "
                   "restart it DOWN_FOR seconds later")
@click.option("--timeout", type=FINITE, default=0.3, show_default=True,
              help="proposer retry timeout in seconds")
@click.option("--backoff", type=FINITE, default=1.5, show_default=True)
@click.option("--base-port", type=int, default=0, show_default=True,
              help="first UDP port (nodes get consecutive ports); 0 = free ports")
@click.option("--deadline", type=FINITE, default=20.0, show_default=True,
              help="the whole run, start-up included, ends after this many seconds")
@click.option("--data-dir", type=click.Path(file_okay=False),
              help="keep the nodes' durable files here (default: a temporary directory)")
@click.option("--seed", type=int, default=0, show_default=True,
              help="seeds the injected loss and delay")
@variant_option(PAXOS.names())
def subcommand(acceptors, proposers, learners, loss, delay_ms, pauses, crashes, timeout,
               backoff, base_port, deadline, data_dir, seed, variants) -> None:
    """Run single-decree Paxos over UDP on 127.0.0.1 (one process per node); print every
    learner's decision."""
    sc = NetScenario(acceptors, proposers, learners, loss, delay_ms,
                     tuple(parse_pause(p) for p in pauses),
                     tuple(parse_crash(c) for c in crashes), timeout, backoff, base_port,
                     deadline, data_dir, seed, tuple(variants))
    cluster, done = run_net(sc)
    sys.exit(report_real(sc, cluster, done))
