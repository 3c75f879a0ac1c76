"""Benchmark of the Ray engine (``paxchain check --ray``): per-state costs, to reason about scale.

Usage::

    python benchmarks/ray_search.py                # Lamport's Paxos 3 acceptors, 2 values, 0..2
    python benchmarks/ray_search.py -p max_ballot=1 --repeat 1     # a quick look

Three measurements, all of Lamport's Paxos at one bound, written to
``benchmarks/results/ray_search.json``:

- ``exchange``: the shards' search run in this process (``level_search.Shard``, no Ray) for N =
  1, 2, 8, 64 shards: the states and pickled bytes that cross from one shard to another per
  level (with the new ranks each shard sends the driver and the places it gets back) — what
  Ray moves between actors (machines, in a cluster) — per distinct state, the
  objects per level (N per shard, of which N - 1 cross), and the CPU seconds of the shards'
  own work (all N in this one process, the pickling measured for the bytes left out).
- ``runs``: ``ray_search.check`` on a local Ray started here with C CPUs (C shards), C = 1, 2,
  best of ``--repeat``: its seconds and states/s, the seconds Ray took to start (not in the
  run's seconds) and the shards (in them), and each
  level's wall time (the three rounds of actor calls and the barrier) with the states it
  expanded; a least-squares line ``seconds = fixed + per_state * states`` over the levels
  separates the cost of a level (barrier, driver, calls) from the cost of a state. The same
  bound searched by the sequential engine in this process is the baseline.
- ``call``: the round trip of one small actor call (the driver's cost per message), median of
  200.

The machine is shared: each run records the load average before and after it.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# noqa: E402 below: ROOT goes on the path first
from paxchain.checker import ray_search  # noqa: E402
from paxchain.checker.explicit import check as sequential  # noqa: E402
from paxchain.checker.level_search import Shard, select  # noqa: E402
from paxchain.checker.portable import codec_for  # noqa: E402
from paxchain.checker.result import Options  # noqa: E402
from paxchain.checker.shard import places  # noqa: E402
from paxchain.models import registry  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "ray_search.json"


def build(params: dict[str, int]) -> Any:
    return registry.build("lamport-paxos", {k: str(v) for k, v in params.items()}, None)


def exchange(params: dict[str, int], n: int) -> dict:
    """The exchange between ``n`` shards, measured without Ray (every level in turn)."""
    model = build(params)
    opt = Options()
    codec, props = codec_for(model, False), select(model, opt)
    shares: list[dict[str, Any]] = [{"frontier": []} for _ in range(n)]
    initial = list(dict.fromkeys(model.initial_states()))
    for rank, s in enumerate(initial):
        shares[codec.key(s) % n]["frontier"].append((rank, codec.key(s), s))
    shards = [Shard(i, n, model, codec, props, opt, shares[i]) for i in range(n)]
    names = [p.name for p in props]
    start, pickling = time.process_time(), 0.0
    crossing = nbytes = objects = nonempty = levels = 0
    distinct, generated = len(initial), len(list(model.initial_states()))
    while any(len(s.frontier) for s in shards):
        out = [s.handle(("generate", levels, False, names))[1] for s in shards]
        for i in range(n):
            for j in range(n):
                if i != j:
                    objects += 1
                    nonempty += out[i][j] is not None
                    crossing += 0 if out[i][j] is None else len(out[i][j][0])
                    tick = time.process_time()
                    nbytes += len(pickle.dumps(out[i][j], protocol=5))
                    pickling += time.process_time() - tick
        replies = [s.handle(("absorb", [out[i][j] for i in range(n)]))
                   for j, s in enumerate(shards)]
        if n > 1:  # each shard's new ranks to the driver and its places back, as on Ray
            placed = places([s.level.new for s in shards])
            nbytes += sum(len(pickle.dumps(s.level.new, protocol=5))
                          + len(pickle.dumps(p, protocol=5)) for s, p in zip(shards, placed))
            for s, p in zip(shards, placed):
                s.handle(("placed", p))
        generated += sum(r[1] for r in replies)
        distinct += sum(r[2] for r in replies)
        levels += 1
    cpu = time.process_time() - start - pickling  # the shards' work, Ray's pickling left out
    return {"shards": n, "cpu_seconds": round(cpu, 3),
            "cpu_us_per_distinct_state": round(cpu / distinct * 1e6, 1),
            "distinct": distinct, "generated": generated, "levels": levels,
            "crossing_states": crossing, "crossing_bytes": nbytes,
            "crossing_states_per_distinct": round(crossing / distinct, 3),
            "bytes_per_crossing_state": round(nbytes / crossing, 1) if crossing else None,
            "bytes_sent_per_distinct_state": round(nbytes / distinct, 1),
            "objects_per_level": n * n, "crossing_objects_per_level": n * (n - 1),
            "nonempty_crossing_objects_per_level": round(nonempty / levels, 1)}


def fit(levels: list[tuple[int, float]]) -> dict:
    """Least squares ``seconds = fixed + per_state * states`` over the levels."""
    xs, ys = [x for x, _ in levels], [y for _, y in levels]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in levels) / sxx if sxx else 0.0
    return {"fixed_seconds_per_level": round(my - slope * mx, 4),
            "seconds_per_state": round(slope, 8),
            "smallest_level_seconds": round(min(ys), 4)}


def ray_run(ray: Any, params: dict[str, int], cpus: int) -> dict:
    """One search on the local Ray (``cpus`` shards), each level timed."""
    levels: list[tuple[int, float]] = []
    first: list[float] = []  # when the first level was asked: the shards had started
    original = ray_search._RayCoordinator._ask

    def timed(self: Any, msg: tuple, shards: Any = None) -> list[tuple]:
        start = time.monotonic()
        if msg[0] == "expand" and not first:
            first.append(start)
        replies = original(self, msg, shards)
        if msg[0] == "expand":
            levels.append((self.stats.queue, time.monotonic() - start))
        return replies

    ray_search._RayCoordinator._ask = timed  # type: ignore[method-assign]
    try:
        load = os.getloadavg()[0]
        start = time.monotonic()
        r = ray_search.check(build(params), Options(), cpus)
        wall = time.monotonic() - start
    finally:
        ray_search._RayCoordinator._ask = original  # type: ignore[method-assign]
    assert r.verdict == "holds"
    return {"cpus": cpus, "distinct": r.stats.distinct, "generated": r.stats.generated,
            "seconds": round(r.stats.seconds, 3), "wall_seconds": round(wall, 3),
            "shards_start_seconds": round(first[0] - start, 3),
            "distinct_per_second": round(r.stats.distinct / r.stats.seconds),
            "levels": len(levels), **fit(levels),
            "level_seconds": [[x, round(y, 4)] for x, y in levels],
            "load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2)}


def call_seconds(ray: Any, params: dict[str, int]) -> float:
    """Median round trip of a small actor call (``new_ranks`` of an empty shard)."""
    actor = ray.remote(num_cpus=1)(ray_search._ShardActor).remote(
        0, 1, build(params), Options(), {"frontier": []})
    ray.get(actor.call.remote(("new_ranks",)))
    times = []
    for _ in range(200):
        start = time.monotonic()
        ray.get(actor.call.remote(("new_ranks",)))
        times.append(time.monotonic() - start)
    ray.kill(actor)
    return round(statistics.median(times), 6)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                    help="a parameter of lamport-paxos, as for paxchain check (default: "
                         "acceptors=3 values=2 max_ballot=2)")
    ap.add_argument("--cpus", default="1,2", help="comma-separated CPU counts of the local Ray")
    ap.add_argument("--shards", default="1,2,8,64", help="shard counts for the exchange")
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    ray = ray_search.load_ray()
    params = {"acceptors": 3, "values": 2, "max_ballot": 2}
    params.update({k: int(v) for k, _, v in (x.partition("=") for x in a.param)})
    rows: dict[str, Any] = {"exchange": [], "runs": []}
    for n in (int(x) for x in a.shards.split(",")):
        rows["exchange"].append(exchange(params, n))
        print(json.dumps(rows["exchange"][-1]), flush=True)
    load = os.getloadavg()[0]
    base = sequential(build(params), Options())
    rows["sequential"] = {"seconds": round(base.stats.seconds, 3),
                          "distinct_per_second": round(base.stats.distinct / base.stats.seconds),
                          "load_before": round(load, 2)}
    print(json.dumps(rows["sequential"]), flush=True)
    for cpus in (int(x) for x in a.cpus.split(",")):
        start = time.monotonic()
        ray.init(address="local", num_cpus=cpus, include_dashboard=False,
                 logging_level="ERROR", log_to_driver=False)
        started = round(time.monotonic() - start, 2)
        try:
            tries = [ray_run(ray, params, cpus) for _ in range(a.repeat)]
            best = min(tries, key=lambda t: t["seconds"])
            best["tries_seconds"] = [t["seconds"] for t in tries]
            best["ray_start_seconds"] = started
            best["call_round_trip_seconds"] = call_seconds(ray, params)
        finally:
            ray.shutdown()
        rows["runs"].append(best)
        print(json.dumps({k: v for k, v in best.items() if k != "level_seconds"}), flush=True)
    bound = (f"{params['acceptors']} acceptors, {params['values']} values, "
             f"ballots 0..{params['max_ballot']}")
    result = json.loads(OUT.read_text()) if OUT.exists() else {}
    result.update({"model": "lamport-paxos", "cores": os.cpu_count(),
                   "python": sys.version.split()[0], "ray": ray.__version__})
    result.setdefault("bounds", {})[bound] = {"params": params, **rows}
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)} ({bound})")


if __name__ == "__main__":
    main()
