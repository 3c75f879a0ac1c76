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
pause schedule counts from the same moment (and so does a ``--partition``, whose cut links
drop every datagram sent over them until it heals); ``--drift NODE:DRIFT`` runs a node's
clock, and so its retry timer, at rate 1 + DRIFT, as in ``simulate``, and a crash that falls during a node's start-up is
applied like any other (the node is killed and restarted as the schedule says).
"""

from __future__ import annotations

import sys

import click

from paxchain.checker.commands.simulate_paxos import PARAMS
from paxchain.checker.driver_cli import (FINITE, POSITIVE, driver_command, loss_option,
                                         param_option, parse_crash, parse_node_value,
                                         parse_partition, parse_pause, parse_real_latency,
                                         real_crash_option, real_drift_option,
                                         real_latency_option, real_partition_option,
                                         real_pause_option, real_run_options, resolve_params,
                                         seed_option, variant_option)
from paxchain.checker.paxos_runs import report_real
from paxchain.impl.paxos_variants import PAXOS
from paxchain.models.paxos_driver import NetScenario, run_net

__all__ = ["subcommand"]


@driver_command("paxos", PARAMS, {"--timeout": lambda v: ("--retry-timeout", v),
                                  "--delay": lambda v: ("--latency", f"0..{v}")})
@param_option(PARAMS)
@loss_option
@real_latency_option
@real_pause_option
@real_partition_option
@real_drift_option
@real_crash_option
@click.option("--retry-timeout", type=POSITIVE, default=0.3, show_default=True,
              metavar="SECONDS", help="A proposer retries with a higher ballot after this long.")
@click.option("--backoff", type=FINITE, default=1.5, show_default=True, metavar="X",
              help="Retry timeout multiplier per round.")
@real_run_options(20.0)
@seed_option("the injected loss and latency", replays=False)
@variant_option(PAXOS)
def subcommand(params, loss, latency, pauses, partitions, drifts, crashes, retry_timeout,
               backoff, base_port, deadline, data_dir, seed, variants) -> None:
    """Run single-decree Paxos over UDP on 127.0.0.1 (one process per node); print every
    learner's decision."""
    n = resolve_params(params, PARAMS)
    sc = NetScenario(n["acceptors"], n["proposers"], n["learners"], loss,
                     parse_real_latency(latency), tuple(parse_pause(p) for p in pauses),
                     tuple(parse_crash(c) for c in crashes), retry_timeout, backoff, base_port,
                     deadline, data_dir, seed, tuple(variants),
                     tuple(parse_partition(p) for p in partitions),
                     tuple(parse_node_value(d, "--drift") for d in drifts))
    cluster, done = run_net(sc)
    sys.exit(report_real(sc, cluster, done))
