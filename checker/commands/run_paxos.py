"""``paxchain run paxos``: impl/paxos.py on real UDP sockets, one OS process per node.

Starts acceptors and learners, then proposers (so the first Prepares find someone listening),
waits until every learner has decided or the deadline passes, prints each learner's decision
and the datagram counters, and exits: 0 every learner decided and they agree, 1 they disagree,
3 the deadline passed first, 2 bad input (including a busy ``--base-port``).

A learner persists its decision; a learner whose file already holds one when it starts (a
reused ``--data-dir``, or a restart after a crash) has decided, and the run reports that
decision as found on disk. Each node process builds its actor through the variant catalogue
(``paxchain.impl.paxos_variants.PAXOS``, via ``paxchain.impl.net.variant_cluster``), so ``--variant`` and user
plugins (``PAXCHAIN_PLUGINS``) reach every node. The deadline counts from the start of the
command, start-up included; a crash or pause schedule counts from the same moment, and a crash
that falls during a node's start-up is applied like any other (the node is killed and restarted
as the schedule says).
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile

import click

from paxchain.checker.cli import echo
from paxchain.checker.commands.simulate_paxos import (FINITE, _n, check_variants, parse_crash,
                                             parse_pause, variant_option)
from paxchain.models.errors import UserError
from paxchain.impl.net import Cluster, NetSpec, PortBusy
from paxchain.impl.paxos_variants import PAXOS

__all__ = ["subcommand", "run_cluster", "decisions", "startup_text", "MAX_NODES"]

MAX_NODES = 200  # processes per run: each is a Python interpreter (~20 MB, ~0.15 s to start)


def decisions(cluster: Cluster, learner: str) -> list[tuple[float | None, object]]:
    """A learner's decisions: ``(None, v)`` for each found on disk when it started or
    restarted (a reused data directory, or a crash between its ``Persist`` and its
    ``Output``), then ``(t, v)`` for each it output during the run."""
    disk = [(None, v) for v in dict.fromkeys(cluster.recovered.get(learner, []))
            if v is not None]
    out = [(t, v[1]) for t, v in cluster.outputs.get(learner, [])
           if isinstance(v, tuple) and v[:1] == ("decided",)]
    return disk + out


async def run_cluster(spec: NetSpec, pauses=(), crashes=()) -> tuple[Cluster, bool]:
    """Run the cluster of ``spec`` until every learner decided (or has a decision on disk);
    return it (stopped) and whether they all did before the deadline."""
    cluster = Cluster(spec)
    learners = [n for n in cluster.nodes if n.startswith("l")]
    proposers = [n for n in cluster.nodes if n.startswith("p")]
    others = [n for n in cluster.nodes if n not in proposers]
    async with cluster:
        for p in pauses:
            cluster.pause(p.node, p.at, p.duration)
        for c in crashes:
            cluster.crash_later(c.node, c.at, c.down_for)
        await cluster.start(*others)
        await cluster.start(*proposers)
        done = await cluster.wait_for(lambda _: all(decisions(cluster, l) for l in learners))
    return cluster, done


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
    if acceptors < 1 or proposers < 1 or learners < 1:
        raise UserError("--acceptors, --proposers and --learners must be at least 1")
    n = acceptors + proposers + learners
    if n > MAX_NODES:
        raise UserError(f"at most {MAX_NODES} nodes in all (one OS process each); "
                        f"asked for {n}")
    if not 0 <= loss < 1 or delay_ms < 0:
        raise UserError("need 0 <= --loss < 1 and --delay >= 0")
    if timeout <= 0 or backoff < 1 or deadline <= 0:
        raise UserError("need --timeout > 0, --backoff >= 1 and --deadline > 0")
    if base_port and not 1024 <= base_port <= 65535 - n:
        raise UserError(f"--base-port must be in 1024..{65535 - n} (or 0 for free ports)")
    check_variants(PAXOS, variants)
    nodes = ([f"a{i}" for i in range(1, acceptors + 1)] + [f"p{i}" for i in
             range(1, proposers + 1)] + [f"l{i}" for i in range(1, learners + 1)])
    pause_list = [parse_pause(p) for p in pauses]
    crash_list = [parse_crash(c) for c in crashes]
    for f in pause_list + crash_list:
        if f.node not in nodes:
            raise UserError(f"unknown node {f.node!r} (nodes: {', '.join(nodes)})")
        if f.at < 0 or getattr(f, "duration", 0) < 0 or (getattr(f, "down_for", 0) or 0) < 0:
            raise UserError(f"negative time for {f.node}")
    tmp = None if data_dir else tempfile.mkdtemp(prefix="paxchain-run-")
    spec = NetSpec("paxchain.impl.net:variant_cluster",
                   {"catalogue": "paxchain.impl.paxos_variants:PAXOS", "factory": "paxchain.impl.paxos:make_cluster",
                    "variants": list(variants), "acceptors": acceptors, "proposers": proposers,
                    "learners": learners, "timeout": timeout, "backoff": backoff},
                   "paxchain.impl.paxos:MESSAGES", data_dir or tmp, loss=loss, delay_ms=delay_ms,
                   seed=seed, base_port=base_port, deadline=deadline)
    try:
        cluster, done = asyncio.run(run_cluster(spec, pause_list, crash_list))
    except PortBusy as exc:
        raise UserError(f"{exc.strerror}; choose another --base-port or 0") from None
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(_report(cluster, done, nodes, deadline, variants, pause_list, crash_list, loss,
                     delay_ms))


def _report(cluster, done, nodes, deadline, variants, pause_list, crash_list, loss,
            delay_ms) -> int:
    counts = {r: sum(1 for n in nodes if n[0] == r[0]) for r in ("acceptor", "proposer",
                                                                 "learner")}
    echo(f"paxos on 127.0.0.1: " + ", ".join(_n(k, r) for r, k in counts.items())
         + f"; one OS process per node; deadline {deadline:g} s")
    if variants:
        echo("variants: " + ", ".join(variants))
    faults = ([f"loss {loss:g}"] if loss else []) + (
        [f"delay up to {delay_ms:g} ms"] if delay_ms else []) + [
        f"pause {p.node} at {p.at:g}s for {p.duration:g}s" for p in pause_list] + [
        f"crash {c.node} at {c.at:g}s" + ("" if c.down_for is None else
                                         f", restart after {c.down_for:g}s")
        for c in crash_list]
    echo("faults: " + ("; ".join(faults) if faults else "none"))
    startup_text(cluster, nodes)
    decided = set()
    for name in nodes:
        if not name.startswith("l"):
            continue
        ds = decisions(cluster, name)
        if ds:
            t, v = ds[0]
            decided.update(v for _, v in ds)
            when = "found on disk at start-up" if t is None else f"after {t:.3f} s"
            echo(f"{name}: decided {v} ({when})")
        else:
            echo(f"{name}: no decision")
    total = {k: sum(s.get(k, 0) for s in cluster.stats.values())
             for k in ("sent", "received", "lost", "malformed")}
    echo(f"datagrams: sent {total['sent']}, received {total['received']}, "
         f"dropped by injected loss {total['lost']}, malformed {total['malformed']} "
         f"(nodes that exited cleanly)")
    if len(decided) > 1:
        echo(f"VIOLATED agreement: learners decided {sorted(decided, key=repr)}")
        return 1
    if not done:
        echo("incomplete: not every learner decided before the deadline")
        return 3
    echo(f"agreement: holds ({decided.pop()})")
    return 0


def startup_text(cluster: Cluster, nodes: list[str]) -> None:
    """Print what the crash schedule did, nodes that never came up, and nodes that failed."""
    for t, name, what in cluster.log:
        echo(f"{name}: {what} at {t:.3f} s")
    never = [n for n in nodes if not cluster.recovered[n] and n not in cluster.down]
    if never:
        shown = ", ".join(never[:6]) + (f" and {len(never) - 6} more" if len(never) > 6 else "")
        echo(f"start-up: {len(nodes) - len(never)} of {len(nodes)} nodes came up before "
             f"the run ended; not up: {shown}")
    for name, why in sorted(cluster.failed.items()):
        echo(f"{name}: failed: {why}")
