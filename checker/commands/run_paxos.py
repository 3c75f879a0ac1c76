"""``paxchain run paxos``: impl/paxos.py on real UDP sockets, one OS process per node.

Starts acceptors and learners, then proposers (so the first Prepares find someone listening),
waits until every learner has decided or the deadline passes, prints each learner's decision
and the datagram counters, and exits: 0 every learner decided and they agree, 1 they disagree,
3 the deadline passed first, 2 bad input (including a busy ``--base-port``).
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile

import click

from checker.commands.simulate_paxos import _n, parse_crash, parse_pause
from checker.errors import UserError
from impl.net import Cluster, NetSpec, PortBusy
from impl.paxos import BUGS

__all__ = ["subcommand", "run_cluster"]


async def run_cluster(spec: NetSpec, pauses=(), crashes=()) -> tuple[Cluster, bool]:
    """Run the cluster of ``spec`` until every learner decided; return it (stopped) and
    whether they all decided in time."""
    cluster = Cluster(spec)
    learners = [n for n in cluster.nodes if n.startswith("l")]
    proposers = [n for n in cluster.nodes if n.startswith("p")]
    others = [n for n in cluster.nodes if n not in proposers]
    tasks = []
    async with cluster:
        await cluster.start(*others)
        for p in pauses:
            cluster.pause(p.node, p.at, p.duration)
        tasks = [cluster.crash_later(c.node, c.at, c.down_for) for c in crashes]
        await cluster.start(*proposers)
        done = await cluster.wait_for(lambda out: all(out[l] for l in learners))
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return cluster, done


@click.command("paxos")
@click.option("--acceptors", type=int, default=3, show_default=True)
@click.option("--proposers", type=int, default=2, show_default=True)
@click.option("--learners", type=int, default=1, show_default=True)
@click.option("--loss", type=float, default=0.0, show_default=True,
              help="probability that a datagram is dropped by its sender")
@click.option("--delay", "delay_ms", type=float, default=0.0, show_default=True, metavar="MS",
              help="extra delay per datagram, uniform in [0, MS] milliseconds")
@click.option("--pause", "pauses", multiple=True, metavar="NODE:AT:FOR",
              help="SIGSTOP NODE AT seconds after start for FOR seconds")
@click.option("--crash", "crashes", multiple=True, metavar="NODE:AT[:DOWN_FOR]",
              help="SIGKILL NODE at AT seconds; restart it DOWN_FOR seconds later")
@click.option("--timeout", type=float, default=0.3, show_default=True,
              help="proposer retry timeout in seconds")
@click.option("--backoff", type=float, default=1.5, show_default=True)
@click.option("--base-port", type=int, default=0, show_default=True,
              help="first UDP port (nodes get consecutive ports); 0 = free ports")
@click.option("--deadline", type=float, default=20.0, show_default=True,
              help="the whole run ends after this many seconds")
@click.option("--data-dir", type=click.Path(file_okay=False),
              help="keep the nodes' durable files here (default: a temporary directory)")
@click.option("--seed", type=int, default=0, show_default=True,
              help="seeds the injected loss and delay")
@click.option("--bug", "bugs", multiple=True, help=f"seeded bug: {', '.join(sorted(BUGS))}")
def subcommand(acceptors, proposers, learners, loss, delay_ms, pauses, crashes, timeout,
               backoff, base_port, deadline, data_dir, seed, bugs) -> None:
    """Run single-decree Paxos over UDP on 127.0.0.1 (one process per node); print every
    learner's decision."""
    if acceptors < 1 or proposers < 1 or learners < 1:
        raise UserError("--acceptors, --proposers and --learners must be at least 1")
    if not 0 <= loss < 1 or delay_ms < 0:
        raise UserError("need 0 <= --loss < 1 and --delay >= 0")
    if timeout <= 0 or backoff < 1 or deadline <= 0:
        raise UserError("need --timeout > 0, --backoff >= 1 and --deadline > 0")
    n = acceptors + proposers + learners
    if base_port and not 1024 <= base_port <= 65535 - n:
        raise UserError(f"--base-port must be in 1024..{65535 - n} (or 0 for free ports)")
    if set(bugs) - set(BUGS):
        raise UserError(f"unknown bug {sorted(set(bugs) - set(BUGS))[0]!r}")
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
    spec = NetSpec("impl.paxos:make_cluster",
                   {"acceptors": acceptors, "proposers": proposers, "learners": learners,
                    "bugs": list(bugs), "timeout": timeout, "backoff": backoff},
                   "impl.paxos:MESSAGES", data_dir or tmp, loss=loss, delay_ms=delay_ms,
                   seed=seed, base_port=base_port, deadline=deadline)
    try:
        cluster, done = asyncio.run(run_cluster(spec, pause_list, crash_list))
    except PortBusy as exc:
        raise UserError(f"{exc.strerror}; choose another --base-port or 0") from None
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    click.echo(f"paxos on 127.0.0.1: {_n(acceptors, 'acceptor')}, {_n(proposers, 'proposer')}, "
               f"{_n(learners, 'learner')}; one OS process per node; deadline {deadline:g} s")
    faults = ([f"loss {loss:g}"] if loss else []) + (
        [f"delay up to {delay_ms:g} ms"] if delay_ms else []) + [
        f"pause {p.node} at {p.at:g}s for {p.duration:g}s" for p in pause_list] + [
        f"crash {c.node} at {c.at:g}s" + ("" if c.down_for is None else
                                         f", restart after {c.down_for:g}s")
        for c in crash_list]
    click.echo("faults: " + ("; ".join(faults) if faults else "none"))
    decided = set()
    for name in nodes:
        if name.startswith("l"):
            outs = [(t, v) for t, v in cluster.outputs[name] if isinstance(v, tuple)]
            if outs:
                t, v = outs[0]
                decided.add(v[1])
                click.echo(f"{name}: decided {v[1]} after {t:.3f} s")
            else:
                click.echo(f"{name}: no decision")
    restarts = {k: v - 1 for k, v in cluster.starts.items() if v > 1}
    if restarts:
        click.echo("restarts: " + ", ".join(f"{k} x{v}" for k, v in sorted(restarts.items())))
    total = {k: sum(s.get(k, 0) for s in cluster.stats.values())
             for k in ("sent", "received", "lost", "malformed")}
    click.echo(f"datagrams: sent {total['sent']}, received {total['received']}, "
               f"dropped by injected loss {total['lost']}, malformed {total['malformed']} "
               f"(nodes that exited cleanly)")
    if len(decided) > 1:
        click.echo(f"VIOLATED agreement: learners decided {sorted(decided)}")
        sys.exit(1)
    if not done:
        click.echo("incomplete: not every learner decided before the deadline")
        sys.exit(3)
    click.echo(f"agreement: holds ({decided.pop()})")
