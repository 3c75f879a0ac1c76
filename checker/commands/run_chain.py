"""``paxchain run chain``: impl/chain_node.py on real UDP sockets, one OS process per node.

Each node mines with real proof of work (``--difficulty`` bits, ``--tries`` nonces per timer
tick), gossips blocks, and persists its chain to ``DATA_DIR/NODE.json`` through ``paxchain.impl.net``
(write-ahead, fsync'ed). ``--crash NODE:AT:DOWN_FOR`` kills a node with SIGKILL and restarts it;
the restarted node resumes from its file (the run prints the height it resumed at) and asks
its peers for their tips. Nodes stop mining at height ``--blocks``; once every node's tip is
there the run lets gossip settle for 1.5 s and ends (or ends at the deadline); the nodes'
chains are then read back from disk and compared.

Clocks: ``paxchain.impl.net`` hands a node its process's monotonic time, which restarts at 0 with the
process; block timestamps need one timeline for all nodes, so this driver wraps each actor to
pass milliseconds of wall time since the run's start (plus ``--clock-offset``) as ``now``.
The wrapper is driver code: ``impl/`` still reads no clock.

The verdict is about the chains *as persisted*, read back from disk at the end, pair by pair.
A node that is merely *behind* -- its chain is a prefix of another's, or leaves it by at most
``--k`` blocks -- is consistent with it: it can still adopt the other chain by dropping at most
k blocks. Two chains *diverge* when, past the last block they share, each has more than k
blocks of its own: whichever wins, a node must drop more than k blocks, which prefix
consistency with k forbids (``divergences``). A node that never persisted a chain holds
genesis only, a prefix of every chain. Crash times count from the start of the command, and
so does the deadline (start-up included).

Exit 0: every node reached ``--blocks`` (and the crash schedule played out) and no two
persisted chains diverge; 1: two persisted chains diverge deeper than k, or a chain file holds
no chain (confirmed from the files, whenever the run ended); 3: the deadline came first and no
divergence was found (*incomplete*: the chains so far are consistent, the run did not finish);
2: bad input (including a busy ``--base-port``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from typing import Any

import click

from paxchain.checker.cli import echo
from paxchain.checker.commands.run_paxos import startup_text
from paxchain.checker.commands.simulate_paxos import (FINITE, check_variants, parse_crash,
                                             parse_node_value, variant_option)
from paxchain.models.errors import UserError
from paxchain.impl.chain_block import TIE_RULES
from paxchain.impl.chain_node import as_durable, common_length
from paxchain.impl.chain_variants import CHAIN, make_network
from paxchain.impl.net import Cluster, NetSpec, PortBusy, read_durable

__all__ = ["subcommand", "make_nodes", "run_cluster", "WallClock", "read_chains",
           "divergences"]

SETTLE = 1.5  # seconds of gossip after every node reached the target height


class WallClock:
    """An actor whose ``now`` is wall-clock milliseconds since ``epoch``, plus an offset."""

    def __init__(self, actor: Any, epoch: float, offset_ms: int = 0) -> None:
        self.actor, self.epoch, self.offset_ms = actor, epoch, offset_ms

    def _now(self) -> int:
        return int((time.time() - self.epoch) * 1000) + self.offset_ms

    def on_start(self, node: str, durable: Any, now: float):
        return self.actor.on_start(node, durable, self._now())

    def on_message(self, node: str, state: Any, src: str, msg: Any, now: float):
        return self.actor.on_message(node, state, src, msg, self._now())

    def on_timer(self, node: str, state: Any, name: str, now: float):
        return self.actor.on_timer(node, state, name, self._now())


def make_nodes(nodes: int, difficulty: int, tie: str, tries: int, tick: float, epoch: float,
               max_drift_ms: int = 5000, offsets_ms: dict[str, int] | None = None,
               variants: tuple[str, ...] = (), salt: int = 0,
               stop_height: int | None = None) -> dict[str, WallClock]:
    """The ``paxchain.impl.net`` factory: chain nodes on a shared wall-clock timeline, with the named
    variants of ``paxchain.impl.chain_variants.CHAIN`` (looked up by name in each node process)."""
    actors = make_network(nodes, difficulty, tie, max_drift_ms, mine_tries=tries,
                          mine_delay=tick, announce_every=0.5, salt=salt,
                          variants=tuple(variants), stop_height=stop_height)
    offsets_ms = offsets_ms or {}
    return {n: WallClock(a, epoch, int(offsets_ms.get(n, 0))) for n, a in actors.items()}


async def run_cluster(spec: NetSpec, blocks: int, crashes=()) -> tuple[Cluster, bool]:
    """Run until every node's latest tip has height >= ``blocks`` and the crash schedule has
    played out; return the stopped cluster and whether that happened before the deadline."""
    cluster = Cluster(spec)

    def tall(outputs: dict[str, list]) -> bool:
        return all(any(v[0] == "tip" for _, v in out) and
                   [v for _, v in out if v[0] in ("tip", "start")][-1][2] >= blocks
                   for out in outputs.values())

    async with cluster:
        tasks = [cluster.crash_later(c.node, c.at, c.down_for) for c in crashes]
        await cluster.start(*cluster.nodes)
        done = await cluster.wait_for(tall)
        if done and tasks:
            _, pending = await asyncio.wait(tasks, timeout=cluster.left() or None)
            done = not pending and await cluster.wait_for(tall)
        if done:
            # Mining stops at the target height; let announcements and fetches settle.
            await asyncio.sleep(min(SETTLE, cluster.left()))
    return cluster, done


def read_chains(directory: str, names: list[str]) -> dict[str, tuple | None | str]:
    """Each node's persisted chain: a tuple of blocks; ``None`` when the node never persisted
    one (no file); ``"unreadable"`` when its file holds no chain this runtime wrote."""
    out: dict[str, tuple | None | str] = {}
    for n in names:
        path = os.path.join(directory, f"{n}.json")
        chain = as_durable(read_durable(path))[0]
        out[n] = chain if chain else ("unreadable" if os.path.exists(path) else None)
    return out


def divergences(chains: dict[str, tuple], k: int) -> list[str]:
    """The pairs of persisted chains that *diverge* deeper than ``k``: past the last block
    they share, each has more than ``k`` blocks of its own. A chain that is a prefix of
    another (a node that is behind), or that leaves it by at most ``k`` blocks, is
    consistent with it: that node can still adopt the other chain by dropping at most ``k``
    blocks, which is what prefix consistency with ``k`` allows (for some pair, one chain
    minus its last ``k`` blocks is a prefix of the other)."""
    bad = []
    names = sorted(chains)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            ca, cb = chains[a], chains[b]
            common = common_length(ca, cb)
            da, db = len(ca) - common, len(cb) - common
            if min(da, db) > k:
                bad.append(f"{a} and {b} part after height {common - 1}: {da} and {db} blocks "
                           f"of their own, both more than k={k}")
    return bad


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
    if not 1 <= nodes <= 16 or blocks < 1 or k < 0:
        raise UserError("need 1 <= --nodes <= 16, --blocks >= 1 and --k >= 0")
    if not 1 <= difficulty <= 32 or tries < 1 or tick < 0:
        raise UserError("need --difficulty in 1..32, --tries >= 1 and --tick >= 0")
    if tie not in TIE_RULES:
        raise UserError(f"--tie must be one of {', '.join(TIE_RULES)}")
    if not 0 <= loss < 1 or delay_ms < 0 or deadline <= 0:
        raise UserError("need 0 <= --loss < 1, --delay >= 0 and --deadline > 0")
    if base_port and not 1024 <= base_port <= 65535 - nodes:
        raise UserError(f"--base-port must be in 1024..{65535 - nodes} (or 0 for free ports)")
    check_variants(CHAIN, variants)
    names = [f"n{i + 1}" for i in range(nodes)]
    crash_list = [parse_crash(c) for c in crashes]
    offs = dict(parse_node_value(o, "--clock-offset") for o in offsets)
    for who in [c.node for c in crash_list] + list(offs):
        if who not in names:
            raise UserError(f"unknown node {who!r} (nodes: {', '.join(names)})")
    for c in crash_list:
        if c.at < 0 or (c.down_for or 0) < 0:
            raise UserError(f"negative time for {c.node}")
    tmp = None if data_dir else tempfile.mkdtemp(prefix="paxchain-chain-")
    directory = data_dir or tmp
    spec = NetSpec("paxchain.checker.commands.run_chain:make_nodes",
                   {"nodes": nodes, "difficulty": difficulty, "tie": tie, "tries": tries,
                    "tick": tick, "epoch": time.time(), "offsets_ms": offs,
                    "variants": list(variants), "salt": seed << 20, "stop_height": blocks},
                   "paxchain.impl.chain_node:MESSAGES", directory, loss=loss, delay_ms=delay_ms,
                   seed=seed, base_port=base_port, deadline=deadline)
    try:
        cluster, done = asyncio.run(run_cluster(spec, blocks, crash_list))
        chains = read_chains(directory, names)
    except PortBusy as exc:
        raise UserError(f"{exc.strerror}; choose another --base-port or 0") from None
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(_report(cluster, done, chains, names, blocks, k, deadline, crash_list))


def _report(cluster, done, chains, names, blocks, k, deadline, crash_list) -> int:
    echo(f"chain on 127.0.0.1: {len(names)} nodes, one OS process per node; "
         f"until height {blocks}; deadline {deadline:g} s")
    for c in crash_list:
        echo(f"fault: crash {c.node} at {c.at:g}s"
             + ("" if c.down_for is None else f", restart after {c.down_for:g}s"))
    startup_text(cluster, names)
    for n in names:
        starts = [v for _, v in cluster.outputs[n] if v[0] == "start"]
        mined = sum(1 for _, v in cluster.outputs[n] if v[0] == "mined")
        reorgs = [v[1] for _, v in cluster.outputs[n] if v[0] == "reorg"]
        c = chains[n]
        disk = (f"height {c[-1].height}, tip {c[-1].short}" if isinstance(c, tuple) else
                "no chain (never persisted one)" if c is None else "an unreadable file")
        line = f"{n}: on disk {disk}; mined {mined}; reorgs {len(reorgs)}"
        if len(starts) > 1:
            line += "; resumed from disk at height " + ", ".join(str(s[2]) for s in starts[1:])
        echo(line)
    unreadable = [n for n in names if chains[n] == "unreadable"]
    if unreadable:
        echo(f"VIOLATED durable storage: the chain file of {', '.join(unreadable)} holds "
             f"no chain (a fsync'ed write is replaced whole or not at all)")
        return 1
    persisted = {n: c for n, c in chains.items() if isinstance(c, tuple)}
    bad = divergences(persisted, k)
    if bad:
        echo(f"VIOLATED prefix consistency (k={k}) of the persisted chains: "
             + "; ".join(bad))
        return 1
    behind = _behind(persisted)
    if not done:
        echo(f"incomplete: not every node reached height {blocks} before the deadline; "
             f"the chains persisted so far are prefix-consistent (k={k})"
             + (f" ({behind})" if behind else ""))
        return 3
    same = len(set(persisted.values())) == 1
    low = min(len(c) for c in persisted.values()) - 1
    echo(f"prefix consistency (k={k}) of the persisted chains: holds ("
         + (f"all nodes hold the same chain, height {low})" if same else
            f"they agree up to height {max(low - k, 0)} at least"
            + (f"; {behind})" if behind else ")")))
    return 0


def _behind(chains: dict[str, tuple]) -> str:
    """Which nodes are merely behind: their chain is a proper prefix of another's."""
    out = []
    for a, ca in sorted(chains.items()):
        ahead = [b for b, cb in sorted(chains.items())
                 if len(cb) > len(ca) and cb[:len(ca)] == ca]
        if ahead:
            out.append(f"{a} is behind {ahead[0]}")
    return ", ".join(out)
