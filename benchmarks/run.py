"""Benchmark: the general engine on Lamport's Paxos against a single-purpose search.

Usage::

    python benchmarks/run.py                 # every configuration, best of 3, JSON to results/
    python benchmarks/run.py --repeat 1 --out /tmp/lamport.json

Each run happens in a fresh Python process so that its peak memory (maximum resident set size
of that process, start-up included) is its own. Configurations: 3 acceptors / 2 values /
ballots 0..1 and 0..2; the baseline (``tests/reference_lamport.py``: a plain breadth-first
search over tuples and a frozenset of messages, nothing checked) and ``paxchain``'s engine with
no property, with every property, and with every property under symmetry.

Figures depend on the machine and its load: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = [
    (mb, kind) for mb in (1, 2)
    for kind in ("baseline", "engine-no-properties", "engine-all-properties",
                 "engine-all-properties-symmetry")
]


def run_one(max_ballot: int, kind: str) -> dict:
    """Run one configuration in this process and return its figures."""
    sys.path.insert(0, str(ROOT))
    start = time.perf_counter()
    if kind == "baseline":
        from tests.reference_lamport import Reference, reachable

        states, generated = reachable(Reference(3, 2, max_ballot))
        distinct, depth = len(states), None
    else:
        from paxchain.checker import Options, check
        from paxchain.models.lamport_paxos import LamportPaxos

        model = LamportPaxos(3, 2, max_ballot)
        if kind == "engine-no-properties":
            model.properties = lambda: []  # type: ignore[method-assign]
        result = check(model, Options(symmetry=kind.endswith("symmetry")))
        assert result.verdict == "holds", result.verdict
        distinct, generated, depth = (result.stats.distinct, result.stats.generated,
                                      result.stats.depth)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"config": f"acceptors=3 values=2 max_ballot={max_ballot}", "kind": kind,
            "distinct": distinct, "generated": generated, "depth": depth,
            "seconds": round(seconds, 3), "states_per_second": round(generated / seconds),
            "peak_memory_mb": round(peak, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per configuration (best kept)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "lamport.json"))
    ap.add_argument("--one", nargs=2, metavar=("MAX_BALLOT", "KIND"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(int(args.one[0]), args.one[1])))
        return
    rows = []
    for mb, kind in CONFIGS:
        runs = []
        for _ in range(args.repeat):
            proc = subprocess.run([sys.executable, __file__, "--one", str(mb), kind],
                                  capture_output=True, text=True, check=True, cwd=ROOT)
            runs.append(json.loads(proc.stdout))
        best = min(runs, key=lambda r: r["seconds"])
        best["peak_memory_mb"] = max(r["peak_memory_mb"] for r in runs)
        best["runs"] = [r["seconds"] for r in runs]
        rows.append(best)
        print(f"{best['config']:<38} {kind:<32} {best['distinct']:>8,} distinct "
              f"{best['generated']:>10,} generated {best['seconds']:>7.2f} s "
              f"{best['peak_memory_mb']:>6.0f} MB", flush=True)
    for mb in (1, 2):
        base = next(r for r in rows if r["kind"] == "baseline" and r["config"].endswith(str(mb)))
        for r in rows:
            if r["config"] == base["config"]:
                r["vs_baseline"] = round(r["seconds"] / base["seconds"], 2)
    out = {"benchmark": "lamport-paxos explicit-state search", "repeat": args.repeat,
           "python": platform.python_version(), "machine": platform.machine(),
           "cpus": __import__("os").cpu_count(), "rows": rows}
    sys.path.insert(0, str(ROOT))
    from paxchain.checker.files import write_atomic

    write_atomic(args.out, json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
