"""The chain driver: impl/chain_node.py's nodes in the seeded simulator and on UDP sockets.

Both build the nodes with ``paxchain.impl.chain_variants.make_network`` (every node plays the
one role ``paxchain.impl.chain_node.ROLE``), with the seeded variants of the catalogue
``paxchain.impl.chain_variants.CHAIN``. What a real run persisted is judged by the run-level
prefix consistency of ``paxchain.specs.chain_run``, which shares its predicate with the
model's spec.

Simulation (``ChainScenario``, ``simulate_scenario``). Mining is real proof of work: every
node's ``mine`` timer fires every ``tick`` time units and tries ``tries`` nonces against a
target of ``difficulty`` leading zero bits, so the network finds a block every
``2**difficulty * tick / (nodes * tries)`` time units on average; ``tick`` is derived from
``block_interval``. Each node starts its nonce search at its own seeded salt, so the seed
decides who finds which block. The run lasts until ``blocks`` blocks were mined, then a quiet
period lets gossip settle. ``observe`` collects what a run showed (``ChainStats``): blocks
mined; forks (heights at which two or more blocks were found); stale blocks (mined blocks that
ended off the final best chain) and out-of-order arrivals (blocks received before their
parent); reorg depths (per node, counted per reorg); the time from a block being mined until
every node has it with ``k`` confirmations (it and k - 1 blocks on top in the node's chain);
and the nodes' tips.

Real runs (``NetChainScenario``, ``run_net``). Each node mines with real proof of work,
gossips blocks, and persists its chain to ``DATA_DIR/NODE.json`` through
``paxchain.impl.net`` (write-ahead, fsync'ed); a crashed node is killed with SIGKILL and
restarted from its file. Nodes stop mining at height ``blocks``; once every node's tip is
there (and the crash schedule played out) the run lets gossip settle for ``SETTLE`` seconds
and ends, or ends at the deadline; ``read_chains`` then reads the chains back from disk.
Clocks: ``paxchain.impl.net`` hands a node its process's monotonic time, which restarts at 0
with the process; block timestamps need one timeline for all nodes, so ``WallClock`` wraps
each actor to pass milliseconds of wall time since the run's start as ``now``, read as the
simulator reads a node's clock: ``offset + (1 + drift) * global`` (``--clock-offset``,
``--drift``); the runtime runs the node's timers at the same rate (a ``SetTimer(delay)`` of
local time fires after ``delay / (1 + drift)`` of real time). Pauses are SIGSTOP/SIGCONT and
partitions cut links in ``paxchain.impl.net``, as for Paxos. The wrapper is driver code: ``impl/`` still reads no clock.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from paxchain.impl.chain_block import TIE_RULES, Block
from paxchain.impl.chain_node import ROLE, as_durable
from paxchain.impl.chain_variants import CHAIN, make_network
from paxchain.impl.simulator import (Clock, Crash, Latency, Partition, Pause, SimConfig,
                                     SimResult, simulate)
from paxchain.models.drivers import check_variants
from paxchain.models.errors import UserError

if TYPE_CHECKING:
    from paxchain.impl.net import Cluster, NetSpec

__all__ = ["ChainScenario", "ChainStats", "simulate_scenario", "observe", "NetChainScenario",
           "WallClock", "make_nodes", "run_cluster", "run_net", "read_chains", "SETTLE"]

SETTLE = 1.5  # seconds of gossip in a real run after every node reached the target height


# -- simulation ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChainScenario:
    """Every input of one simulated run."""

    nodes: int = 5
    block_interval: float = 600.0
    blocks: int = 50
    latency: Latency = Latency("uniform", 1.0, 10.0)
    loss: float = 0.0
    dup: float = 0.0
    seed: int = 0
    k: int = 6
    difficulty: int = 8
    tries: int = 1
    tie: str = "first-seen"
    max_drift: int = 7200
    window: int = 11
    crashes: tuple[Crash, ...] = ()
    clocks: tuple[tuple[str, Clock], ...] = ()
    variants: tuple[str, ...] = ()
    crash_points: float = 0.0
    crash_points_max: int = 1
    crash_points_down: float = 10.0
    pauses: tuple[Pause, ...] = ()
    partitions: tuple[Partition, ...] = ()

    def validate(self) -> None:
        if not 1 <= self.nodes <= 64:
            raise UserError("--nodes must be 1..64")
        if not (math.isfinite(self.block_interval) and self.block_interval > 0):
            raise UserError("--block-interval must be a positive finite number")
        if not 1 <= self.blocks <= 10_000:
            raise UserError("--blocks must be 1..10000")
        if self.k < 1:
            raise UserError("--k must be at least 1")
        if not 1 <= self.difficulty <= 20:
            raise UserError("--difficulty must be 1..20 bits")
        if self.tie not in TIE_RULES:
            raise UserError(f"--tie must be one of {', '.join(TIE_RULES)}")
        if self.max_drift < 0 or self.window < 1:
            raise UserError("need --max-drift >= 0 and --window >= 1")
        check_variants(CHAIN, self.variants)
        names = set(self.names)
        for who in ([c.node for c in self.crashes] + [n for n, _ in self.clocks]
                    + [p.node for p in self.pauses]
                    + [n for p in self.partitions for n in p.nodes()]):
            if who not in names:
                raise UserError(f"unknown node {who!r} (nodes: n1..n{self.nodes})")
        try:
            self.config()
        except ValueError as exc:
            raise UserError(str(exc)) from None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f"n{i + 1}" for i in range(self.nodes))

    @property
    def tick(self) -> float:
        """Timer period giving the requested mean block interval for the whole network."""
        return self.block_interval * self.nodes * self.tries / 2 ** self.difficulty

    def config(self) -> SimConfig:
        until = self.block_interval * self.blocks * 3 + 10 * self.latency.hi
        return SimConfig(seed=self.seed, latency=self.latency, loss=self.loss, dup=self.dup,
                         pauses=self.pauses, crashes=self.crashes, clocks=self.clocks,
                         partitions=self.partitions, until=until,
                         max_events=5_000_000, crash_points=self.crash_points,
                         crash_points_max=self.crash_points_max,
                         crash_points_down=self.crash_points_down)

    def actors(self) -> dict[str, Any]:
        salt = random.Random(self.seed).getrandbits(40) << 20
        return make_network(self.nodes, self.difficulty, self.tie, self.max_drift, self.window,
                            mine_tries=self.tries, mine_delay=self.tick,
                            announce_every=self.block_interval, salt=salt,
                            variants=self.variants)


def simulate_scenario(sc: ChainScenario) -> SimResult:
    """Simulate until ``blocks`` blocks were mined (then a quiet period to let gossip settle)."""
    sc.validate()
    target = sc.blocks

    def stop(outputs: dict[str, list]) -> bool:
        return sum(1 for out in outputs.values() for _, v in out if v[0] == "mined") >= target

    first = simulate(sc.actors(), sc.config(), stop)
    # Settle: the same run, continued for ten maximal latencies after the last block, without
    # counting blocks mined in that window.
    settle = first.end_time + 10 * max(sc.latency.hi, sc.latency.lo + sc.latency.mean)
    config = SimConfig(**{**sc.config().__dict__, "until": settle})
    return simulate(sc.actors(), config, stop=None) if settle > 0 else first


@dataclass(frozen=True)
class ChainStats:
    """What a simulated run showed. ``mined``: ``(time, hash, height)`` of every block mined,
    in time order; ``best``: the longest final chain (ties: the highest tip hash); ``forks``:
    heights with two or more mined blocks; ``stale``: mined blocks off ``best``;
    ``orphan_arrivals``: blocks that arrived before their parent; ``reorgs``: depth -> count;
    ``confirmations``: per block of ``best`` that every node got with ``k`` confirmations, the
    time from its mining until the last node did; ``tips`` and ``rejected`` per running node;
    ``crash_points``: ``(node, time, where the cut fell)`` of each crash point."""

    mined: list[tuple[float, str, int]]
    best: tuple[Block, ...]
    forks: int
    stale: int
    orphan_arrivals: int
    reorgs: Counter
    confirmations: list[float]
    tips: dict[str, Block]
    rejected: dict[str, Any]
    crash_points: list[tuple[str, float, str]]


def _blocks(result: SimResult) -> dict[str, Block]:
    index: dict[str, Block] = {}
    for st in result.states.values():
        if st is None:
            continue
        for b in (*st.chain, *st.side, *st.orphans):
            index[b.hash] = b
    for d in result.durable.values():
        if d:
            for b in d[0]:
                index[b.hash] = b
    return index


def observe(sc: ChainScenario, result: SimResult) -> ChainStats:
    """The statistics of the simulated run ``result`` of ``sc`` (see ``ChainStats``)."""
    index = _blocks(result)
    mined = sorted({(t, v[1], v[2]) for out in result.outputs.values() for t, v in out
                    if v[0] == "mined"}, key=lambda x: (x[0], x[1]))
    mined_at = {h: t for t, h, _ in mined}
    states = {n: st for n, st in result.states.items() if st is not None}
    best = max((st.chain for st in states.values()), key=lambda c: (len(c), c[-1].hash),
               default=())
    on_best = {b.hash for b in best}
    per_height = Counter(height for _, _, height in mined)
    return ChainStats(
        mined=mined, best=best,
        forks=sum(1 for c in per_height.values() if c > 1),
        stale=sum(1 for _, h, _ in mined if h not in on_best),
        orphan_arrivals=sum(1 for out in result.outputs.values() for _, v in out
                            if v[0] == "orphan"),
        reorgs=Counter(v[1] for out in result.outputs.values() for _, v in out
                       if v[0] == "reorg"),
        confirmations=_confirmation_times(sc, result, index, best, mined_at),
        tips={n: st.tip for n, st in sorted(states.items())},
        rejected={n: st.rejected for n, st in sorted(states.items()) if st.rejected},
        crash_points=[(node, t, detail.split(";")[0])
                      for t, what, node, detail in result.log if what == "crash-point"])


def _confirmation_times(sc: ChainScenario, result: SimResult, index: dict[str, Block],
                        best: tuple[Block, ...], mined_at: dict[str, float]) -> list[float]:
    """Per block of the best chain: time from mining until every node's chain holds it with
    ``k`` confirmations, taken from the nodes' ``tip`` outputs."""
    def ancestors(h: str) -> dict[int, str]:
        out, b = {}, index.get(h)
        while b is not None:
            out[b.height] = b.hash
            b = index.get(b.parent)
        return out

    cache: dict[str, dict[int, str]] = {}
    reached: dict[str, dict[str, float]] = {}
    for node, out in sorted(result.outputs.items()):
        for t, v in out:
            if v[0] != "tip":
                continue
            anc = cache.get(v[1]) or cache.setdefault(v[1], ancestors(v[1]))
            for b in best[1:]:
                if b.height + sc.k - 1 <= v[2] and anc.get(b.height) == b.hash:
                    reached.setdefault(b.hash, {}).setdefault(node, t)
    times = []
    for b in best[1:]:
        got = reached.get(b.hash, {})
        if len(got) == sc.nodes and b.hash in mined_at:
            times.append(max(got.values()) - mined_at[b.hash])
    return times


# -- real runs -----------------------------------------------------------------------------------

class WallClock:
    """An actor whose ``now`` is wall-clock milliseconds since ``epoch`` on a clock with an
    offset and a drift (``offset_ms + (1 + drift) * elapsed``). Its timers run on that clock
    because the runtime runs them so (``NetSpec.drifts``, the same drift)."""

    def __init__(self, actor: Any, epoch: float, offset_ms: int = 0, drift: float = 0.0) -> None:
        self.actor, self.epoch, self.offset_ms, self.drift = actor, epoch, offset_ms, drift

    def _now(self) -> int:
        return int((time.time() - self.epoch) * 1000 * (1.0 + self.drift)) + self.offset_ms

    def on_start(self, node: str, durable: Any, now: float):
        return self.actor.on_start(node, durable, self._now())

    def on_message(self, node: str, state: Any, src: str, msg: Any, now: float):
        return self.actor.on_message(node, state, src, msg, self._now())

    def on_timer(self, node: str, state: Any, name: str, now: float):
        return self.actor.on_timer(node, state, name, self._now())


def make_nodes(nodes: int, difficulty: int, tie: str, tries: int, tick: float, epoch: float,
               max_drift_ms: int = 5000, offsets_ms: dict[str, int] | None = None,
               variants: tuple[str, ...] = (), salt: int = 0,
               stop_height: int | None = None,
               drifts: dict[str, float] | None = None) -> dict[str, tuple[WallClock, str]]:
    """The ``paxchain.impl.net`` factory: node -> ``(actor, role)`` for chain nodes on a shared
    wall-clock timeline, with the named variants of ``paxchain.impl.chain_variants.CHAIN``
    (looked up by name in each node process)."""
    actors = make_network(nodes, difficulty, tie, max_drift_ms, mine_tries=tries,
                          mine_delay=tick, announce_every=0.5, salt=salt,
                          variants=tuple(variants), stop_height=stop_height)
    offsets_ms, drifts = offsets_ms or {}, drifts or {}
    return {n: (WallClock(a, epoch, int(offsets_ms.get(n, 0)), float(drifts.get(n, 0.0))), ROLE)
            for n, a in actors.items()}


@dataclass(frozen=True)
class NetChainScenario:
    """Every input of one run on 127.0.0.1: ``nodes`` mine until height ``blocks`` with
    ``difficulty`` bits and ``tries`` nonces per ``tick`` seconds; ``offsets`` (node -> ms)
    shift nodes' clocks and ``drifts`` (node -> drift) change their rates (``WallClock``);
    ``pauses`` stop nodes for a while, ``partitions`` cut links for a while; ``delay_ms``:
    extra delay per datagram, uniform in ``[0, delay_ms]``; ``k`` is the depth the persisted
    chains are compared with (``paxchain.specs.chain_run``)."""

    nodes: int = 3
    blocks: int = 8
    difficulty: int = 14
    tries: int = 300
    tick: float = 0.01
    tie: str = "first-seen"
    k: int = 2
    loss: float = 0.0
    delay_ms: float = 0.0
    crashes: tuple[Crash, ...] = ()
    offsets: tuple[tuple[str, float], ...] = ()
    base_port: int = 0
    deadline: float = 60.0
    data_dir: str | None = None
    seed: int = 0
    variants: tuple[str, ...] = ()
    pauses: tuple[Pause, ...] = ()
    drifts: tuple[tuple[str, float], ...] = ()
    partitions: tuple[Partition, ...] = ()

    @property
    def names(self) -> list[str]:
        return [f"n{i + 1}" for i in range(self.nodes)]

    def validate(self) -> None:
        """Raise ``UserError`` (one line) for parameters no run can have."""
        if not 1 <= self.nodes <= 16 or self.blocks < 1 or self.k < 0:
            raise UserError("need 1 <= --nodes <= 16, --blocks >= 1 and --k >= 0")
        if not 1 <= self.difficulty <= 32 or self.tries < 1 or self.tick < 0:
            raise UserError("need --difficulty in 1..32, --tries >= 1 and --tick >= 0")
        if self.tie not in TIE_RULES:
            raise UserError(f"--tie must be one of {', '.join(TIE_RULES)}")
        if not 0 <= self.loss < 1 or self.delay_ms < 0 or self.deadline <= 0:
            raise UserError("need 0 <= --loss < 1, --delay >= 0 and --deadline > 0")
        if self.base_port and not 1024 <= self.base_port <= 65535 - self.nodes:
            raise UserError(f"--base-port must be in 1024..{65535 - self.nodes} "
                            f"(or 0 for free ports)")
        check_variants(CHAIN, self.variants)
        names = self.names
        for who in ([c.node for c in self.crashes] + [n for n, _ in self.offsets]
                    + [p.node for p in self.pauses] + [n for n, _ in self.drifts]
                    + sorted({n for p in self.partitions for n in p.nodes()})):
            if who not in names:
                raise UserError(f"unknown node {who!r} (nodes: {', '.join(names)})")
        for c in self.crashes:
            if c.at < 0 or (c.down_for or 0) < 0:
                raise UserError(f"negative time for {c.node}")
        for p in self.pauses:
            if p.at < 0 or p.duration < 0:
                raise UserError(f"negative time for {p.node}")
        for n, d in self.drifts:
            if not (math.isfinite(d) and d > -1):
                raise UserError(f"--drift {n}: must be more than -1, not {d}")

    def net_spec(self, directory: str) -> NetSpec:
        """What each node process builds (``make_nodes``), its clock starting now."""
        # asyncio and impl.net cost ~50 ms to import (measured); only a real run needs them
        from paxchain.impl.net import NetSpec

        return NetSpec("paxchain.models.chain_driver:make_nodes",
                       {"nodes": self.nodes, "difficulty": self.difficulty, "tie": self.tie,
                        "tries": self.tries, "tick": self.tick, "epoch": time.time(),
                        "offsets_ms": dict(self.offsets), "variants": list(self.variants),
                        "salt": self.seed << 20, "stop_height": self.blocks,
                        "drifts": dict(self.drifts)},
                       "paxchain.impl.chain_node:MESSAGES", directory, loss=self.loss,
                       delay_ms=self.delay_ms, seed=self.seed, base_port=self.base_port,
                       deadline=self.deadline,
                       partitions=[[[list(g) for g in p.groups], p.start, p.end]
                                   for p in self.partitions], drifts=dict(self.drifts))


async def run_cluster(spec: NetSpec, blocks: int, crashes=(), pauses=()) -> tuple[Cluster, bool]:
    """Run until every node's latest tip has height >= ``blocks`` and the crash schedule has
    played out (``pauses``: SIGSTOP/SIGCONT as scheduled); return the stopped cluster and
    whether that happened before the deadline."""
    # asyncio and impl.net cost ~50 ms to import (measured); only a real run needs them
    import asyncio
    from paxchain.impl.net import Cluster

    cluster = Cluster(spec)

    def tall(outputs: dict[str, list]) -> bool:
        return all(any(v[0] == "tip" for _, v in out) and
                   [v for _, v in out if v[0] in ("tip", "start")][-1][2] >= blocks
                   for out in outputs.values())

    async with cluster:
        for p in pauses:
            cluster.pause(p.node, p.at, p.duration)
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
    # asyncio and impl.net cost ~50 ms to import (measured); only a real run needs them
    from paxchain.impl.net import read_durable

    out: dict[str, tuple | None | str] = {}
    for n in names:
        path = os.path.join(directory, f"{n}.json")
        chain = as_durable(read_durable(path))[0]
        out[n] = chain if chain else ("unreadable" if os.path.exists(path) else None)
    return out


def run_net(sc: NetChainScenario) -> tuple[Cluster, bool, dict[str, tuple | None | str]]:
    """Validate ``sc``, run it on 127.0.0.1 (``run_cluster``) and read the persisted chains
    back (``read_chains``); a busy ``base_port`` is a ``UserError``."""
    # asyncio and impl.net cost ~50 ms to import (measured); only a real run needs them
    import asyncio
    from paxchain.impl.net import PortBusy

    sc.validate()
    tmp = None if sc.data_dir else tempfile.mkdtemp(prefix="paxchain-chain-")
    directory = sc.data_dir or tmp
    try:
        cluster, done = asyncio.run(run_cluster(sc.net_spec(directory), sc.blocks, sc.crashes,
                                                sc.pauses))
        return cluster, done, read_chains(directory, sc.names)
    except PortBusy as exc:
        raise UserError(f"{exc.strerror}; choose another --base-port or 0") from None
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
