"""Chain runs as ``paxchain simulate chain`` and ``paxchain run chain`` show them.

``report`` prints a simulated run's statistics (``paxchain.models.chain_driver.observe``):
the configuration, blocks mined, forks, the orphan rate (stale blocks) and out-of-order
arrivals, reorg depths, the time to ``k`` confirmations at every node, and whether the nodes
ended on one tip; same seed and parameters, same text byte for byte.

``report_real`` prints a real run's outcome and returns its exit code, judging the chains as
persisted (``paxchain.specs.chain_run``): 1 a chain file holds no chain, or two persisted
chains diverge deeper than k (confirmed from the files, whenever the run ended); 3 the
deadline came first and no divergence was found (*incomplete*: the chains so far are
consistent, the run did not finish); 0 every node reached the target height and no two chains
diverge.
"""

from __future__ import annotations

import statistics
from typing import Any

from paxchain.checker.cli import echo
from paxchain.checker.driver_cli import startup_text
from paxchain.impl.simulator import Latency, SimResult
from paxchain.models.chain_driver import ChainScenario, NetChainScenario, observe
from paxchain.specs.chain_run import behind, divergences, unreadable

__all__ = ["report", "report_real"]


def report(sc: ChainScenario, result: SimResult) -> str:
    """The run's statistics as text (deterministic: fixed order and number formats)."""
    st = observe(sc, result)
    mined = len(st.mined)
    faults = ([f"crash {c.node} at {c.at:g}" + ("" if c.down_for is None
                                                 else f" for {c.down_for:g}")
               for c in sc.crashes]
              + [f"pause {p.node} at {p.at:g} for {p.duration:g}" for p in sc.pauses]
              + [f"clock {n} offset {c.offset:g} drift {c.drift:g}" for n, c in sc.clocks]
              + [f"partition {p.text()}" for p in sc.partitions])
    lines = [
        f"simulate chain: {sc.nodes} nodes, block interval {sc.block_interval:g}, "
        f"latency {_lat(sc.latency)}, loss {sc.loss:g}, dup {sc.dup:g}, seed {sc.seed}",
        f"  proof of work: {sc.difficulty} bits, {sc.tries} tries per tick of {sc.tick:.4g}; "
        f"tie rule {sc.tie}; max drift {sc.max_drift}; MTP window {sc.window}"
        + (f"; variants {', '.join(sc.variants)}" if sc.variants else ""),
        *([f"  faults: {'; '.join(faults)}"] if faults else []),
        f"blocks mined: {mined} ({sc.blocks} asked for, plus any found while gossip "
        f"settled; ran to time {result.end_time:.1f}, {result.events} events)",
        f"best chain: height {st.best[-1].height if st.best else 0}",
        f"forks: {st.forks} height(s) with competing blocks",
        f"orphan rate: {st.stale}/{mined} = {_pct(st.stale, mined)} of mined blocks ended "
        f"off the best chain (stale); {st.orphan_arrivals} block(s) arrived before their "
        f"parent",
        "reorg depths: " + (", ".join(f"{d}: {c}" for d, c in sorted(st.reorgs.items()))
                            if st.reorgs else "none"),
    ]
    conf = st.confirmations
    if conf:
        lines.append(f"time to {sc.k} confirmations at every node: mean "
                     f"{statistics.mean(conf):.1f}, median {statistics.median(conf):.1f}, "
                     f"max {max(conf):.1f} ({len(conf)} blocks)")
    else:
        lines.append(f"time to {sc.k} confirmations at every node: no block got there")
    lines.append("messages: " + ", ".join(f"{k} {v}" for k, v in sorted(result.counts.items())
                                          if k != "crash_points"))
    if sc.crash_points:
        fell = [f"{node} at {t:.1f} ({cut})" for node, t, cut in st.crash_points]
        lines.append(f"crash points: {len(fell)} (probability {sc.crash_points:g} per handler "
                     f"call, at most {sc.crash_points_max})" + (": " + "; ".join(fell)
                                                                 if fell else ""))
    lines.append("rejected: " + (", ".join(f"{n} {r}" for n, r in st.rejected.items())
                                 if st.rejected else "none"))
    agree = len({t.hash for t in st.tips.values()}) == 1
    lines.append("tips: " + ", ".join(f"{n}={t.short}@{t.height}" for n, t in st.tips.items())
                 + (" (converged)" if agree else " (not converged)"))
    return "\n".join(lines) + "\n"


def _pct(a: int, b: int) -> str:
    return f"{100.0 * a / b:.1f}%" if b else "n/a"


def _lat(lat: Latency) -> str:
    return f"{lat.lo:g}..{lat.hi:g}" if lat.kind == "uniform" else f"exp:{lat.lo:g}:{lat.mean:g}"


def report_real(cluster: Any, done: bool, chains: dict[str, Any], names: list[str],
                blocks: int, k: int, deadline: float, crashes: Any,
                sc: NetChainScenario | None = None) -> int:
    """Print what the real run on ``cluster`` persisted (``chains``, read back from disk) and
    return its exit code (see the module docstring); ``sc``: the scenario, whose other
    faults (pauses, drifts, partitions) are printed too."""
    echo(f"chain on 127.0.0.1: {len(names)} nodes, one OS process per node; "
         f"until height {blocks}; deadline {deadline:g} s")
    for c in crashes:
        echo(f"fault: crash {c.node} at {c.at:g}s"
             + ("" if c.down_for is None else f", restart after {c.down_for:g}s"))
    for p in sc.pauses if sc else ():
        echo(f"fault: pause {p.node} at {p.at:g}s for {p.duration:g}s")
    for n, d in sc.drifts if sc else ():
        echo(f"fault: clock {n} drift {d:g}")
    for q in sc.partitions if sc else ():
        echo(f"fault: partition {q.text()} s")
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
    lost = unreadable({n: chains[n] for n in names})
    if lost:
        echo(f"VIOLATED durable storage: the chain file of {', '.join(lost)} holds "
             f"no chain (a fsync'ed write is replaced whole or not at all)")
        return 1
    persisted = {n: c for n, c in chains.items() if isinstance(c, tuple)}
    bad = divergences(persisted, k)
    if bad:
        echo(f"VIOLATED prefix consistency (k={k}) of the persisted chains: "
             + "; ".join(bad))
        return 1
    late = behind(persisted)
    if not done:
        echo(f"incomplete: not every node reached height {blocks} before the deadline; "
             f"the chains persisted so far are prefix-consistent (k={k})"
             + (f" ({late})" if late else ""))
        return 3
    same = len(set(persisted.values())) == 1
    low = min(len(c) for c in persisted.values()) - 1
    echo(f"prefix consistency (k={k}) of the persisted chains: holds ("
         + (f"all nodes hold the same chain, height {low})" if same else
            f"they agree up to height {max(low - k, 0)} at least"
            + (f"; {late})" if late else ")")))
    return 0
