"""Benchmark of the parallel engine (``paxchain check --workers N``) and the compact visited set.

Usage::

    python benchmarks/parallel.py                   # Lamport's Paxos 3 acceptors, 2 values, 0..2
    python benchmarks/parallel.py --ballots 3 --values 1 --repeat 1

Each run is ``paxchain check lamport-paxos ... --workers N --json FILE -q`` in a fresh process
(all properties, coverage on), best of ``--repeat``; the row records distinct and generated
states, seconds and states/s (generated per second) from the run's own statistics, the wall
time of the whole command, the CPU time of the process and its workers, their peak resident
memory, and the load average before and after: the machine is shared, so a row is only as good
as its load. The speed-up is the ratio of the best seconds.

The visited set is measured apart: ``FingerprintSet`` filled with as many random 64-bit
fingerprints as the run's distinct states (and 10 M), its bytes per state against a Python set
of the same ints (``tracemalloc``). Results go to ``benchmarks/results/parallel.json``, one entry
per bound (a run of another bound keeps the others).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from paxchain.checker.visited import HAVE_NUMPY, FingerprintSet  # noqa: E402 (ROOT on path)

OUT = ROOT / "benchmarks" / "results" / "parallel.json"


def run(params: dict[str, int], workers: int) -> dict:
    """One ``paxchain check`` in a fresh process: its statistics, wall and CPU time, memory."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        args = [sys.executable, "-m", "paxchain.checker", "check", "lamport-paxos", "-q",
                "--workers", str(workers), "--json", str(out)]
        for k, v in params.items():
            args += ["-p", f"{k}={v}"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        load = os.getloadavg()[0]
        start = time.monotonic()
        proc = subprocess.run(args, capture_output=True, text=True)
        wall = time.monotonic() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise SystemExit(f"paxchain check failed ({proc.returncode}): {proc.stderr}")
        data = json.loads(out.read_text())
    stats = data["stats"]
    return {"workers": workers, "verdict": data["verdict"], "distinct": stats["distinct"],
            "generated": stats["generated"], "depth": stats["depth"],
            "seconds": stats["seconds"], "states_per_second": stats["states_per_second"],
            "wall_seconds": round(wall, 3),
            "cpu_seconds": round(after.ru_utime + after.ru_stime
                                 - before.ru_utime - before.ru_stime, 3),
            "peak_rss_mb_largest_process": round(after.ru_maxrss / 1024, 1),
            "load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2)}


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--acceptors", type=int, default=3)
    ap.add_argument("--values", type=int, default=2)
    ap.add_argument("--ballots", type=int, default=2, help="max ballot (ballots 0..B)")
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-visited", action="store_true",
                    help="keep the visited-set rows of the results file as they are")
    a = ap.parse_args()
    params = {"acceptors": a.acceptors, "values": a.values, "max_ballot": a.ballots}
    rows = []
    for w in (int(x) for x in a.workers.split(",")):
        tries = [run(params, w) for _ in range(a.repeat)]
        best = min(tries, key=lambda r: r["seconds"])
        best["tries_seconds"] = [t["seconds"] for t in tries]
        rows.append(best)
        print(json.dumps(best), flush=True)
    base = rows[0]["seconds"]
    for r in rows:
        r["speedup_vs_first"] = round(base / r["seconds"], 2) if r["seconds"] else None
    bound = f"{a.acceptors} acceptors, {a.values} values, ballots 0..{a.ballots}"
    result = json.loads(OUT.read_text()) if OUT.exists() else {}
    result.update({"model": "lamport-paxos", "cores": os.cpu_count(),
                   "python": sys.version.split()[0]})
    result.setdefault("bounds", {})[bound] = {"params": params, "runs": rows}
    if not a.no_visited:
        result["visited_set"] = [visited_bytes(n) for n in (rows[0]["distinct"], 10_000_000)]
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)} ({bound})")


if __name__ == "__main__":
    main()
