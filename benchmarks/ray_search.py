"""Benchmark of the Ray engine (``paxchain check --ray``): per-state costs, to reason about scale.

Usage::

    python benchmarks/ray_search.py                # Lamport's Paxos 3 acceptors, 2 values, 0..2
    python benchmarks/ray_search.py -p max_ballot=1 --repeat 1     # a quick look

Three measurements, all of Lamport's Paxos at one bound, written to
``benchmarks/results/ray_search.json``:

- ``exchange``: ``ray_search``'s own driver and actors (``_RayCoordinator``, ``_ShardActor``)
  with N = 1, 2, 8, 64 shards, run in this process on a stand-in for Ray (``_InProcessRay``: a
  call runs when submitted; ``ray.put``, ``ray.get`` and the references passed as arguments
  act as in Ray, each object pickled): per distinct state and per level, the objects and
  pickled bytes that reach a shard from another — the offers (fingerprint, rank and parent
  arrays), the requests, the states shipped, the lists of references ``generate`` and
  ``arbitrate`` return (counted, not weighed: a reference's bytes are Ray's), and any new
  ranks (``arbitrate`` returns them as a second object, ``num_returns=2``, that only the
  driver fetches: none should reach a shard) — and those that go to and from the driver (new
  ranks, places, replies), each object counted once per receiver (whether Ray routes it
  directly or through the driver is not modelled); the 4N actor calls a level; and the CPU
  seconds of the shards' calls (all N in
  this one process, the collector off as in a shard, pickling left out and reported apart),
  with the critical path: each level's four rounds, the slowest shard's CPU in each.
- ``runs``: ``ray_search.check`` on a local Ray started here with C CPUs (C shards), C = 1, 2,
  best of ``--repeat``: its seconds and states/s, the seconds Ray took to start (not in the
  run's seconds) and the shards (in them), and each
  level's wall time (the four rounds of actor calls and the barrier) with the states it
  expanded; a least-squares line ``seconds = fixed + per_state * states`` over the levels
  separates the cost of a level (barrier, driver, calls) from the cost of a state. The same
  bound searched by the sequential engine in this process is the baseline.
- ``call``: the round trip of one small actor call (the driver's cost per message), median of
  200.

The machine is shared: each run records the load average before and after it.
"""

from __future__ import annotations

import argparse
import gc
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
from paxchain.checker.result import Options  # noqa: E402
from paxchain.models import registry  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "ray_search.json"


def build(params: dict[str, int]) -> Any:
    return registry.build("lamport-paxos", {k: str(v) for k, v in params.items()}, None)


class _Ref:
    """An object of ``_InProcessRay``'s store, standing in for a Ray ``ObjectRef``: its value,
    its maker (a shard's index; None: the driver), what it is, its pickled bytes (references
    inside it left out), the references and items (fingerprints, states, ranks) it holds."""

    __slots__ = ("value", "maker", "kind", "nbytes", "refs", "items", "put")

    def __init__(self, value: Any, maker: int | None, kind: str, nbytes: int, refs: int,
                 items: int, put: bool = False) -> None:
        self.value, self.maker, self.kind = value, maker, kind
        self.nbytes, self.refs, self.items = nbytes, refs, items
        self.put = put  # ray.put: ``value`` is pickled, and each receiver unpickles a copy


def _without_refs(x: Any) -> tuple[Any, int]:
    """``x`` with each ``_Ref`` in its lists and tuples replaced by None, and their number."""
    if isinstance(x, _Ref):
        return None, 1
    if isinstance(x, (list, tuple)):
        parts = [_without_refs(y) for y in x]
        return type(x)(y for y, _ in parts), sum(k for _, k in parts)
    return x, 0


# what a shard puts (ray.put) in each call, and what each call returns (each object, where a
# call returns several), in ray_search's protocol
_PUTS = {"generate": "offers", "arbitrate": "requests", "ship": "states"}
_RETURNS = {"generate": ("references",), "arbitrate": ("references", "ranks"),
            "ship": ("references",), "finish": ("replies",), "call": ("replies",)}


class _InProcessRay:
    """Just enough of Ray for ``ray_search``'s driver (``_RayCoordinator``) and actors
    (``_ShardActor``), run in this process: an actor call runs when it is submitted (the driver
    submits a level's rounds in order), references given as arguments are resolved as Ray
    resolves them, and every object a shard receives from another (or from or to the driver) is
    counted with its pickled bytes: what Ray would move between their machines."""

    class exceptions:  # noqa: N801 (as ray.exceptions)
        class OutOfMemoryError(Exception):
            pass

        class RayActorError(Exception):
            pass

    def __init__(self) -> None:
        self.here: int | None = None   # the shard whose call is running; None: the driver
        self.call = ""                 # its method
        self.level = -1
        self.last = ""                 # the method of the call submitted last
        self.counting = False          # from the first level on (not the actors' start)
        self.pickling = 0.0            # CPU seconds of pickling and unpickling (Ray's work)
        # (kind, "shards" or "driver") -> [objects, bytes, items, references]
        self.crossed: dict[tuple[str, str], list[int]] = {}
        self.cpu: dict[tuple[int, str], list[float]] = {}  # (level, call) -> each shard's CPU

    def _received(self, obj: _Ref, maker: int | None, kind: str, nbytes: int, refs: int,
                  items: int) -> None:
        """An object of ``maker``'s reaches ``self.here`` (counted if it crosses)."""
        if not self.counting or maker == self.here:
            return
        row = self.crossed.setdefault(
            (kind, "shards" if None not in (maker, self.here) else "driver"), [0, 0, 0, 0])
        row[0] += 1
        row[1] += nbytes
        row[2] += items
        row[3] += refs

    def _pickled(self, x: Any) -> tuple[bytes, int]:
        tick = time.process_time()
        plain, refs = _without_refs(x)
        data = pickle.dumps(plain, protocol=5)
        self.pickling += time.process_time() - tick
        return data, refs

    def put(self, x: Any) -> _Ref:
        data, refs = self._pickled(x)
        kind = _PUTS.get(self.call, "other")  # other: the model, put by the driver
        items = len(x[0]) if kind == "offers" else len(x) if kind in _PUTS.values() else 0
        return _Ref(data, self.here, kind, len(data), refs, items, put=True)

    def get(self, refs: Any, timeout: Any = None) -> Any:
        if isinstance(refs, list):
            return [self.get(r) for r in refs]
        obj = refs
        self._received(obj, obj.maker, obj.kind, obj.nbytes, obj.refs, obj.items)
        if obj.put:
            tick = time.process_time()
            value = pickle.loads(obj.value)
            self.pickling += time.process_time() - tick
            return value
        return obj.value

    def wait(self, refs: list[Any], num_returns: int = 1, timeout: Any = None) -> tuple:
        return list(refs), []  # every call has run by now

    def kill(self, actor: Any) -> None:
        pass

    def remote(self, **_: Any) -> Any:
        return lambda cls: _ActorClass(self, cls)


class _ActorClass:
    def __init__(self, ray: _InProcessRay, cls: type) -> None:
        self.ray, self.cls = ray, cls

    def options(self, **_: Any) -> _ActorClass:
        return self

    def remote(self, *args: Any) -> _Actor:
        me = args[0]  # the shard's index
        actor = self.cls(*[self.ray.get(a) if isinstance(a, _Ref) else a for a in args])
        actor.ray = self.ray  # its puts and gets go to the stand-in
        return _Actor(self.ray, actor, me)


class _Actor:
    def __init__(self, ray: _InProcessRay, actor: Any, me: int) -> None:
        self.ray, self.actor, self.me = ray, actor, me

    def __getattr__(self, name: str) -> _Method:
        return _Method(self, name)


class _Method:
    def __init__(self, actor: _Actor, name: str) -> None:
        self.actor, self.name = actor, name
        self.returns = 1

    def options(self, num_returns: int = 1, **_: Any) -> _Method:
        self.returns = num_returns
        return self

    def remote(self, *args: Any) -> Any:
        """Run the call now: arguments resolved (each reference's object received by this
        shard), the shard's CPU measured without the pickling, its reply an object of its
        (with ``num_returns`` above 1, each item of the reply one: a list of them)."""
        ray, me = self.actor.ray, self.actor.me
        if self.name == "generate" and ray.last != "generate":  # a level's first call
            ray.level += 1
            ray.counting = True
        ray.last = self.name
        ray.here, ray.call = me, self.name
        values = []
        for a in args:
            if isinstance(a, _Ref):
                values.append(ray.get(a))
            else:
                values.append(a)
                if self.name == "finish" and a is args[0] and a is not None:
                    data, _ = ray._pickled(a)  # the places the driver computed
                    ray._received(a, None, "places", len(data), 0, len(a))
        pickling = ray.pickling
        tick = time.process_time()
        value = getattr(self.actor.actor, self.name)(*values)
        cpu = time.process_time() - tick - (ray.pickling - pickling)
        ray.cpu.setdefault((ray.level, self.name), []).append(cpu)
        ray.here, ray.call = None, ""
        kinds = _RETURNS.get(self.name, ("other",))
        assert len(kinds) == self.returns, (self.name, self.returns)
        made = []
        for x, kind in zip(value if self.returns > 1 else (value,), kinds):
            data, refs = ray._pickled(x)
            items = len(x) if kind == "ranks" and x is not None else 0
            made.append(_Ref(x, me, kind, len(data), refs, items))
        return made if self.returns > 1 else made[0]


def exchange(params: dict[str, int], n: int) -> dict:
    """ray_search's driver and actors with ``n`` shards in this process (``_InProcessRay``):
    what crosses between shards, and to and from the driver, per distinct state and per
    level, and the shards' CPU (pickling left out)."""
    model = build(params)
    ray = _InProcessRay()
    load = os.getloadavg()[0]
    start = time.process_time()
    try:
        r = ray_search._RayCoordinator(ray, model, Options(), n, None, None).run()
    finally:  # the actors turned the collector off in this process (shard.quiet_collector)
        gc.unfreeze()
        gc.enable()
    total = time.process_time() - start
    assert r.verdict == "holds", r.verdict
    distinct, levels = r.stats.distinct, ray.level + 1
    shards_cpu = sum(sum(c) for c in ray.cpu.values())
    critical = sum(max(c) for c in ray.cpu.values())  # each round waits for its slowest shard

    def row(kind: str, where: str) -> dict:
        objects, nbytes, items, refs = ray.crossed.get((kind, where), [0, 0, 0, 0])
        out = {"objects_per_level": round(objects / levels, 1)}
        if kind != "references":
            out["bytes_per_distinct_state"] = round(nbytes / distinct, 1)
        if items:
            out["items_per_distinct_state"] = round(items / distinct, 3)
            out["bytes_per_item"] = round(nbytes / items, 1)
        return out

    between = {k: row(k, "shards")
               for k in ("offers", "requests", "states", "ranks", "references")}
    driver = {k: row(k, "driver") for k in ("ranks", "places", "replies")}
    # a reference's bytes are Ray's (an id and its owner's address): counted, not weighed
    total_bytes = sum(v[1] for (k, w), v in ray.crossed.items()
                      if w == "shards" and k != "references")
    driver_bytes = sum(v[1] for (k, w), v in ray.crossed.items()
                       if w == "driver" and k != "references")
    objects = sum(v[0] for (k, w), v in ray.crossed.items()
                  if w == "shards" and k != "references")
    states = ray.crossed.get(("states", "shards"), [0, 0, 0, 0])
    return {"shards": n, "distinct": distinct, "generated": r.stats.generated,
            "levels": levels, "actor_calls_per_level": 4 * n,
            "cpu_seconds": round(shards_cpu, 3),
            "cpu_us_per_distinct_state": round(shards_cpu / distinct * 1e6, 1),
            "critical_path_cpu_seconds": round(critical, 3),
            "pickling_us_per_distinct_state": round(ray.pickling / distinct * 1e6, 1),
            "driver_and_harness_cpu_seconds": round(total - shards_cpu - ray.pickling, 3),
            "crossing_states": states[2],
            "crossing_states_per_distinct": round(states[2] / distinct, 3),
            "bytes_per_crossing_state": round(states[1] / states[2], 1) if states[2] else None,
            "bytes_between_shards_per_distinct_state": round(total_bytes / distinct, 1),
            "bytes_through_driver_per_distinct_state": round(driver_bytes / distinct, 1),
            "objects_between_shards_per_level": round(objects / levels, 1),
            "references_to_other_shards_per_level": round(
                sum(v[3] for (_, w), v in ray.crossed.items() if w == "shards") / levels, 1),
            "between_shards": between, "driver": driver,
            "load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2)}


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
