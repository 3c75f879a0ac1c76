"""``paxchain simulate chain``: impl/chain_node.py's handlers in the seeded simulator.

Mining is real proof of work: every node's ``mine`` timer fires every ``tick`` time units and
tries ``tries`` nonces against a target of ``difficulty`` leading zero bits, so the network finds
a block every ``2**difficulty * tick / (nodes * tries)`` time units on average; ``tick`` is
derived from ``--block-interval``. Each node starts its nonce search at its own seeded salt, so
the seed decides who finds which block. Messages get latency ``--delay`` (and optional loss and
duplication); clocks may be offset and drift; nodes may crash and restart from their persisted
chain, at given times (``--crash``) or between a handler's effects (``--crash-points``, see
``paxchain.impl.simulator``). ``--variant`` runs seeded variants of the node, looked up by name in the
catalogue ``paxchain.impl.chain_variants.CHAIN``.

Printed: the configuration; blocks mined; forks (heights at which two or more blocks were
found); the orphan rate (mined blocks that ended off the final best chain, i.e. stale) and the
number of out-of-order arrivals (blocks received before their parent); reorg depths (per node,
counted per reorg); the time from a block being mined until every node has it with ``k``
confirmations (it and k - 1 blocks on top in the node's chain); and whether the nodes ended on
one tip. Same seed and parameters, same output byte for byte. Exit 0, or 2 on bad input.
"""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any

import click

from paxchain.checker.cli import echo
from paxchain.checker.commands.simulate_paxos import (FINITE, check_variants, crash_point_options,
                                             parse_crash, parse_latency, parse_node_value,
                                             variant_option)
from paxchain.models.errors import UserError
from paxchain.impl.chain_block import TIE_RULES, Block
from paxchain.impl.chain_variants import CHAIN, make_network
from paxchain.impl.simulator import Clock, Crash, Latency, SimConfig, SimResult, simulate

__all__ = ["subcommand", "ChainScenario", "run", "report"]


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
        for who in [c.node for c in self.crashes] + [n for n, _ in self.clocks]:
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
                         crashes=self.crashes, clocks=self.clocks, until=until,
                         max_events=5_000_000, crash_points=self.crash_points,
                         crash_points_max=self.crash_points_max,
                         crash_points_down=self.crash_points_down)

    def actors(self) -> dict[str, Any]:
        salt = random.Random(self.seed).getrandbits(40) << 20
        return make_network(self.nodes, self.difficulty, self.tie, self.max_drift, self.window,
                            mine_tries=self.tries, mine_delay=self.tick,
                            announce_every=self.block_interval, salt=salt,
                            variants=self.variants)


def run(sc: ChainScenario) -> SimResult:
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


def report(sc: ChainScenario, result: SimResult) -> str:
    """The run's statistics as text (deterministic: fixed order and number formats)."""
    index = _blocks(result)
    mined = sorted({(t, v[1], v[2]) for out in result.outputs.values() for t, v in out
                    if v[0] == "mined"}, key=lambda x: (x[0], x[1]))
    mined_at = {h: t for t, h, _ in mined}
    states = {n: st for n, st in result.states.items() if st is not None}
    best = max((st.chain for st in states.values()), key=lambda c: (len(c), c[-1].hash),
               default=())
    on_best = {b.hash for b in best}
    per_height = Counter(height for _, _, height in mined)
    forks = sum(1 for c in per_height.values() if c > 1)
    stale = sum(1 for _, h, _ in mined if h not in on_best)
    orphan_arrivals = sum(1 for out in result.outputs.values() for _, v in out
                          if v[0] == "orphan")
    reorgs = Counter(v[1] for out in result.outputs.values() for _, v in out if v[0] == "reorg")
    conf = _confirmation_times(sc, result, index, best, mined_at)
    tips = {n: st.tip for n, st in sorted(states.items())}
    lines = [
        f"simulate chain: {sc.nodes} nodes, block interval {sc.block_interval:g}, "
        f"delay {_lat(sc.latency)}, loss {sc.loss:g}, dup {sc.dup:g}, seed {sc.seed}",
        f"  proof of work: {sc.difficulty} bits, {sc.tries} tries per tick of {sc.tick:.4g}; "
        f"tie rule {sc.tie}; max drift {sc.max_drift}; MTP window {sc.window}"
        + (f"; variants {', '.join(sc.variants)}" if sc.variants else ""),
        f"blocks mined: {len(mined)} ({sc.blocks} asked for, plus any found while gossip "
        f"settled; ran to time {result.end_time:.1f}, {result.events} events)",
        f"best chain: height {best[-1].height if best else 0}",
        f"forks: {forks} height(s) with competing blocks",
        f"orphan rate: {stale}/{len(mined)} = {_pct(stale, len(mined))} of mined blocks ended "
        f"off the best chain (stale); {orphan_arrivals} block(s) arrived before their parent",
        "reorg depths: " + (", ".join(f"{d}: {c}" for d, c in sorted(reorgs.items()))
                            if reorgs else "none"),
    ]
    if conf:
        lines.append(f"time to {sc.k} confirmations at every node: mean "
                     f"{statistics.mean(conf):.1f}, median {statistics.median(conf):.1f}, "
                     f"max {max(conf):.1f} ({len(conf)} blocks)")
    else:
        lines.append(f"time to {sc.k} confirmations at every node: no block got there")
    lines.append("messages: " + ", ".join(f"{k} {v}" for k, v in sorted(result.counts.items())
                                          if k != "crash_points"))
    if sc.crash_points:
        fell = [f"{node} at {t:.1f} ({detail.split(';')[0]})"
                for t, what, node, detail in result.log if what == "crash-point"]
        lines.append(f"crash points: {len(fell)} (probability {sc.crash_points:g} per handler "
                     f"call, at most {sc.crash_points_max})" + (": " + "; ".join(fell)
                                                                 if fell else ""))
    rejected = {n: st.rejected for n, st in sorted(states.items()) if st.rejected}
    lines.append("rejected: " + (", ".join(f"{n} {r}" for n, r in rejected.items())
                                 if rejected else "none"))
    agree = len({t.hash for t in tips.values()}) == 1
    lines.append("tips: " + ", ".join(f"{n}={t.short}@{t.height}" for n, t in tips.items())
                 + (" (converged)" if agree else " (not converged)"))
    return "\n".join(lines) + "\n"


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


def _pct(a: int, b: int) -> str:
    return f"{100.0 * a / b:.1f}%" if b else "n/a"


def _lat(lat: Latency) -> str:
    return f"{lat.lo:g}..{lat.hi:g}" if lat.kind == "uniform" else f"exp:{lat.lo:g}:{lat.mean:g}"


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
    clocks: dict[str, Clock] = {}
    for text in offsets:
        n, v = parse_node_value(text, "--clock-offset")
        clocks[n] = Clock(v, clocks.get(n, Clock()).drift)
    for text in drifts:
        n, v = parse_node_value(text, "--drift")
        clocks[n] = Clock(clocks.get(n, Clock()).offset, v)
    try:
        latency = parse_latency(delay)
    except UserError as exc:
        raise UserError(str(exc).replace("--latency", "--delay")) from None
    sc = ChainScenario(nodes=nodes, block_interval=block_interval, blocks=blocks,
                       latency=latency, loss=loss, dup=dup, seed=seed, k=k,
                       difficulty=difficulty, tie=tie, max_drift=max_drift, window=window,
                       crashes=tuple(parse_crash(c) for c in crashes),
                       clocks=tuple(sorted(clocks.items())), variants=tuple(variants),
                       crash_points=crash_points, crash_points_max=crash_points_max,
                       crash_points_down=crash_points_down)
    echo(report(sc, run(sc)), nl=False)
