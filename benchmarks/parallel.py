"""Benchmark of the parallel engine (``paxchain check --workers N``), with issue 12's targets.

Usage::

    python benchmarks/parallel.py             # the whole benchmark: every figure of the targets
    python benchmarks/parallel.py --quick     # ballots 0..2 only, one try each (about 30 s)

A run replaces the results of the bounds it measures and keeps the others' (``--quick`` keeps
ballots 0..3's); ``done_when`` is worked out from every bound in the file.

The targets (issue 12, "Done when"), each a row of ``done_when`` in the JSON:

- Lamport's Paxos, 3 acceptors, 1 value, ballots 0..3 (2,825,761 distinct states): at most 60 s
  and 2 GB with ``--workers 2`` on the 2-core machine;
- ``--workers 2`` at least 1.7 times as fast as ``--workers 1`` at 3 acceptors, 2 values, ballots
  0..2 (``--workers 1`` is the sequential engine, as ``paxchain check`` runs it);
- ``--ray`` on a local Ray with 2 CPUs finds the same counts; its overhead against
  ``--workers 2`` is the ratio of their seconds (Ray's start counted apart).

Each run is a fresh process (``--one``, below) searching as ``paxchain check lamport-paxos -p
...`` does (every property, coverage on), the best of ``--repeat`` for ballots 0..2. A row records
the counts and verdict, the run's seconds (its own statistics) and the wall time of the whole
process, the CPU seconds of the coordinator and of each worker, the peak resident memory of each
process and their sum (an upper bound of the search's memory: peaks need not coincide, and pages
shared since the fork count in each), each worker's CPU and wall seconds per phase
(``shard.Clock``: expand, sift, arbitrate, ship, check, and exchange, split by what crosses:
offers, requests, states), the states each worker shipped to the other, and the load average
before and after.
The machine is shared, so a row is only as good as its load: the CPU seconds carry over to a
quiet machine better than the wall seconds do.

The properties' memo tables split between two heaps are measured apart too (``memo_split``,
not with ``--quick``): checking every property on each worker's share of ballots 0..2's states
in a model of its own, against on all of them in one.

Two ceilings are worked out beside the speed-up, so that a miss says where it lies:

- ``cpu_bound_speedup_ballots_0..2``: the sequential run's CPU seconds over the busiest
  worker's, the speed-up two workers would reach if neither ever waited at a barrier — what
  the shards' own work (sifting, arbitrating, shipping, exchanging) leaves of the ideal 2;
- ``machine_pair`` (not with ``--quick``): the machine's own, measured apart — the sequential
  search run alone and two copies at once, ``--repeat`` times each, alternately;
  ``throughput_two_vs_one`` is twice the median lone run's seconds over the median slower
  copy's. Near 2, the cores do not slow each other down (no shared-cache or frequency
  penalty), and a speed-up below that is the engine's.

The visited set is measured apart (``--visited``): ``FingerprintSet`` filled with as many random
64-bit fingerprints as a run's distinct states (and 10 M), its bytes per state against a Python
set of the same ints (``tracemalloc``). Results go to ``benchmarks/results/parallel.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from paxchain.checker.visited import HAVE_NUMPY, FingerprintSet  # noqa: E402 (ROOT on path)

OUT = ROOT / "benchmarks" / "results" / "parallel.json"
SMALL = {"acceptors": 3, "values": 2, "max_ballot": 2}
LARGE = {"acceptors": 3, "values": 1, "max_ballot": 3}
SECONDS_TARGET, MEMORY_TARGET_MB, SPEEDUP_TARGET = 60.0, 2048.0, 1.7


def one(params: dict[str, int], engine: str, workers: int) -> dict[str, Any]:
    """One search in this process (``--one``): ``engine`` is sequential, workers or ray."""
    from paxchain.checker import parallel, ray_search
    from paxchain.checker.explicit import check as sequential
    from paxchain.checker.result import Options
    from paxchain.models import registry

    model = registry.build("lamport-paxos", {k: str(v) for k, v in params.items()}, None)
    options = Options(coverage=True)
    profile: list[dict[str, Any]] = []
    start = time.monotonic()
    if engine == "sequential":
        r = sequential(model, options)
    elif engine == "workers":
        r = parallel.check(model, options, workers, profile=profile)
    else:
        r = ray_search.check(model, options, workers)
    wall = time.monotonic() - start
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    row: dict[str, Any] = {
        "engine": engine, "workers": workers, "verdict": r.verdict,
        "distinct": r.stats.distinct, "generated": r.stats.generated, "depth": r.stats.depth,
        "seconds": round(r.stats.seconds, 3), "search_wall_seconds": round(wall, 3),
        "states_per_second": round(r.stats.generated / r.stats.seconds),
        "coordinator_cpu_seconds": round(me.ru_utime + me.ru_stime, 3),
        "coordinator_peak_mb": round(me.ru_maxrss / 1024, 1),
        "children_cpu_seconds": round(kids.ru_utime + kids.ru_stime, 3)}
    if profile:
        row["worker_cpu_seconds"] = [round(p["cpu"], 3) for p in profile]
        row["worker_peak_mb"] = [round(p["rss_mb"], 1) for p in profile]
        row["worker_states_shipped"] = [p["shipped"] for p in profile]
        row["worker_phases_cpu_wall_seconds"] = [
            {k: [round(c, 3), round(w, 3)] for k, (c, w) in p["phases"].items()}
            for p in profile]
    row["cpu_seconds_all_processes"] = round(row["coordinator_cpu_seconds"]
                                             + row["children_cpu_seconds"], 3)
    row["peak_mb_all_processes"] = round(row["coordinator_peak_mb"]
                                         + sum(row.get("worker_peak_mb", [])), 1)
    return row


def run(params: dict[str, int], engine: str, workers: int) -> dict[str, Any]:
    """``one`` in a fresh process, with its wall time and the load average around it."""
    load = os.getloadavg()[0]
    start = time.monotonic()
    proc = subprocess.run([sys.executable, __file__, "--one", json.dumps(
        {"params": params, "engine": engine, "workers": workers})],
        capture_output=True, text=True)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"the {engine} run failed ({proc.returncode}): {proc.stderr}")
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row.update({"process_wall_seconds": round(wall, 3), "load_before": round(load, 2),
                "load_after": round(os.getloadavg()[0], 2)})
    print(json.dumps({k: v for k, v in row.items() if k != "worker_phases_cpu_wall_seconds"}),
          flush=True)
    return row


def best(params: dict[str, int], engine: str, workers: int, repeat: int) -> dict[str, Any]:
    tries = [run(params, engine, workers) for _ in range(repeat)]
    row = min(tries, key=lambda r: r["seconds"])
    row["tries_seconds"] = [t["seconds"] for t in tries]
    row["tries_cpu_seconds_all_processes"] = [t["cpu_seconds_all_processes"] for t in tries]
    return row


def machine_pair(params: dict[str, int], repeat: int) -> dict[str, Any]:
    """The sequential search alone, then two copies at once, ``repeat`` times: what two busy
    cores give this machine, with no engine between them."""
    spec = json.dumps({"params": params, "engine": "sequential", "workers": 1})
    alone: list[float] = []
    pairs: list[list[float]] = []

    def seconds(out: str) -> float:
        return float(json.loads(out.strip().splitlines()[-1])["seconds"])

    for _ in range(repeat):
        proc = subprocess.run([sys.executable, __file__, "--one", spec],
                              capture_output=True, text=True, check=True)
        alone.append(seconds(proc.stdout))
        two = [subprocess.Popen([sys.executable, __file__, "--one", spec],
                                stdout=subprocess.PIPE, text=True) for _ in range(2)]
        pairs.append(sorted(seconds(p.communicate()[0]) for p in two))
    row = {"alone_seconds": alone, "pair_seconds": pairs,
           "throughput_two_vs_one": round(2 * statistics.median_high(alone)
                                          / statistics.median_high(p[1] for p in pairs), 2)}
    print(json.dumps(row), flush=True)
    return row


def visited_bytes(n: int) -> dict:
    """Bytes a state: the compact table against a Python set, for ``n`` random fingerprints."""
    rnd = random.Random(n)
    fps = [rnd.getrandbits(64) - (1 << 63) for _ in range(n)]
    table = FingerprintSet()
    start = time.monotonic()
    for i in range(0, n, 100_000):
        table.add_many(fps[i:i + 100_000], distinct=True)
    seconds = time.monotonic() - start
    row = {"states": n, "table_bytes_per_state": round(table.bytes_per_state(), 2),
           "table_load": round(len(table) / table.capacity, 3),
           "insert_ns_per_state": round(seconds / n * 1e9), "numpy": HAVE_NUMPY,
           "parent_log_bytes_per_state": 16}
    if n <= 2_000_000:
        tracemalloc.start()
        ints = [fp + 0 for fp in fps]  # fresh int objects, counted with the set
        s = set(ints)
        size, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del s, ints
        row["python_set_bytes_per_state"] = round(size / n, 1)
    return row


def memo_split() -> dict[str, Any]:
    """The properties' memo tables split between two workers: the CPU seconds of checking every
    state property on all states of ballots 0..2 in one model, against on each worker's share
    (fingerprint modulo 2, as the shards own them) in a model of its own, with the memo tables'
    sizes. The sum of the shares over the whole is what two heaps cost beyond one."""
    import gc

    from paxchain.checker.explicit import reachable_states
    from paxchain.checker.level_search import select
    from paxchain.checker.result import Options
    from paxchain.models import registry
    from paxchain.models.properties import INVARIANT

    def build() -> Any:
        return registry.build("lamport-paxos", {k: str(v) for k, v in SMALL.items()}, None)

    m = build()
    seen = {m.fingerprint(s): s for s in reachable_states(m)}
    gc.collect()
    gc.freeze()

    def check(states: list[Any]) -> dict[str, Any]:
        model = build()
        props = [p for p in select(model, Options()) if p.kind == INVARIANT]
        start = time.process_time()
        for s in states:
            for p in props:
                p.holds_at(s)
        return {"states": len(states), "cpu_seconds": round(time.process_time() - start, 3),
                "memo_entries": {k: len(v) for k, v in model.memo.items()}}

    whole = check(list(seen.values()))
    shares = [check([s for f, s in seen.items() if f % 2 == k]) for k in (0, 1)]
    gc.unfreeze()
    return {"whole": whole, "shares": shares,
            "shares_over_whole": round(sum(x["cpu_seconds"] for x in shares)
                                       / whole["cpu_seconds"], 3)}


def bound_name(p: dict[str, int]) -> str:
    return f"{p['acceptors']} acceptors, {p['values']} values, ballots 0..{p['max_ballot']}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="ballots 0..2 only (sequential and 2 workers), one try each")
    ap.add_argument("--repeat", type=int, default=3, help="tries at ballots 0..2 (best kept)")
    ap.add_argument("--no-ray", action="store_true", help="leave the --ray run out")
    ap.add_argument("--visited", action="store_true", help="measure the visited set too")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        spec = json.loads(a.one)
        print(json.dumps(one(spec["params"], spec["engine"], spec["workers"])))
        return
    repeat = 1 if a.quick else a.repeat
    result = json.loads(OUT.read_text()) if OUT.exists() else {}
    result.update({"model": "lamport-paxos", "cores": os.cpu_count(),
                   "python": sys.version.split()[0],
                   "command": "python benchmarks/parallel.py" + (" --quick" if a.quick else ""),
                   "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())})
    # a run replaces the bounds it measures and keeps the others' rows
    bounds = result["bounds"] = {k: v for k, v in result.get("bounds", {}).items()
                                 if all("engine" in r for r in v["runs"])}
    small = {"params": SMALL, "runs": [best(SMALL, "sequential", 1, repeat),
                                       best(SMALL, "workers", 2, repeat)]}
    if not a.no_ray and not a.quick:
        small["runs"].append(run(SMALL, "ray", 2))
    bounds[bound_name(SMALL)] = small
    seq, two = small["runs"][0], small["runs"][1]
    if not a.quick:
        bounds[bound_name(LARGE)] = {"params": LARGE, "runs": [run(LARGE, "workers", 2),
                                                               run(LARGE, "sequential", 1)]}
    done: dict[str, Any] = {
        "speedup_workers_2_vs_1_ballots_0..2": round(seq["seconds"] / two["seconds"], 2),
        "speedup_target": SPEEDUP_TARGET,
        "cpu_ratio_workers_2_vs_1_ballots_0..2": round(
            two["cpu_seconds_all_processes"] / seq["cpu_seconds_all_processes"], 3)}
    done["speedup_met"] = done["speedup_workers_2_vs_1_ballots_0..2"] >= SPEEDUP_TARGET
    if two.get("worker_cpu_seconds"):
        done["cpu_bound_speedup_ballots_0..2"] = round(
            seq["cpu_seconds_all_processes"] / max(two["worker_cpu_seconds"]), 2)
    if not a.quick:
        result["machine_pair"] = machine_pair(SMALL, a.repeat + 2)
    if "machine_pair" in result:
        done["machine_throughput_two_vs_one"] = result["machine_pair"]["throughput_two_vs_one"]
    if len(small["runs"]) > 2:
        ray = small["runs"][2]
        done["ray_same_counts"] = ((ray["distinct"], ray["generated"], ray["verdict"])
                                   == (two["distinct"], two["generated"], two["verdict"]))
        done["ray_seconds_vs_workers_2"] = round(ray["seconds"] / two["seconds"], 2)
        done["ray_start_and_run_wall_vs_workers_2"] = round(
            ray["process_wall_seconds"] / two["process_wall_seconds"], 2)
    large = {r["engine"]: r for r in bounds.get(bound_name(LARGE), {"runs": []})["runs"]}
    if "workers" in large:
        w2 = large["workers"]
        done.update({
            "ballots_0..3_workers_2_seconds": w2["seconds"],
            "ballots_0..3_workers_2_peak_mb_all_processes": w2["peak_mb_all_processes"],
            "ballots_0..3_seconds_met": w2["seconds"] <= SECONDS_TARGET,
            "ballots_0..3_memory_met": w2["peak_mb_all_processes"] <= MEMORY_TARGET_MB})
        if "sequential" in large:
            done["ballots_0..3_speedup_vs_sequential"] = round(
                large["sequential"]["seconds"] / w2["seconds"], 2)
            done["ballots_0..3_cpu_ratio_workers_2_vs_sequential"] = round(
                w2["cpu_seconds_all_processes"]
                / large["sequential"]["cpu_seconds_all_processes"], 3)
    done["load_during"] = [min(r["load_before"] for b in bounds.values() for r in b["runs"]),
                           max(r["load_after"] for b in bounds.values() for r in b["runs"])]
    result["done_when"] = done
    if a.visited:
        result["visited_set"] = [visited_bytes(n) for n in (185_369, 10_000_000)]
    if not a.quick:
        result["memo_split"] = memo_split()
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(done, indent=1))
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
