"""Benchmarks of the chain system model: the CI bound, bigger bounds, and min-k searches.

Usage::

    python benchmarks/chain_system.py                 # every case below
    python benchmarks/chain_system.py --only ci       # cases whose name contains "ci"
    python benchmarks/chain_system.py --time-limit 600

Each case runs in a fresh subprocess (so the peak resident memory is its own) and records
distinct and generated states, depth, seconds, states/s, the verdict per property with trace
lengths, or, for ``min_k`` cases, the least k for which prefix consistency holds and the
searches behind it. Results go to ``benchmarks/results/chain_system.json``. A case cut short by
the time limit says so (``stopped_by``): its counts are lower bounds, not the size of the space.
Figures depend on the machine and its load (``load_average_1m`` is recorded).

Crash points (a crash between a handler's effects, on by default) against the model without
them (``crash_points=False``: the model before issue 10), at the gate's bound (budget 2) and the
CI bound (budget 3); the ``flight_multiset`` reduction against the unreduced search; and the
seeded ``announce_before_persist`` variant, which only a crash point catches.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import cases

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = ROOT / "benchmarks" / "results" / "chain_system.json"
CI = {"nodes": 3, "budget": 3, "delay": 1, "crashes": 1, "k": 2}
GATE = {**CI, "budget": 2, "tie": "lowest-hash"}  # paxchain.toml's chain-n3-b2

# name -> (kind, model parameters, variant)
CASES = {
    "ci_bound_first_seen": ("check", {**CI, "tie": "first-seen"}, None),
    "ci_bound_lowest_hash": ("check", {**CI, "tie": "lowest-hash"}, None),
    "ci_bound_first_seen_no_crash_points": ("check", {**CI, "tie": "first-seen",
                                                      "crash_points": False}, None),
    "ci_bound_lowest_hash_no_crash_points": ("check", {**CI, "tie": "lowest-hash",
                                                       "crash_points": False}, None),
    "gate_bound": ("check", GATE, None),
    "gate_bound_no_crash_points": ("check", {**GATE, "crash_points": False}, None),
    "gate_bound_flight_in_send_order": ("check", {**GATE, "flight_multiset": False}, None),
    "gate_bound_announce_before_persist": ("check", GATE, "announce_before_persist"),
    "ci_bound_min_k": ("min_k", {**CI, "tie": "first-seen"}, None),
    "budget4_nocrash_lowest_hash": ("check", {**CI, "budget": 4, "crashes": 0,
                                              "tie": "lowest-hash", "k": 3}, None),
    "budget4_nocrash_min_k": ("min_k", {**CI, "budget": 4, "crashes": 0}, None),
    "ci_bound_drop_dup": ("check", {**CI, "drops": 1, "duplicates": 1, "tie": "lowest-hash"}, None),
    "budget4_crash": ("check", {**CI, "budget": 4, "tie": "lowest-hash", "k": 3}, None),
    "nodes4_budget3_nocrash": ("check", {**CI, "nodes": 4, "crashes": 0,
                                         "tie": "lowest-hash"}, None),
}


def run_case(name: str, time_limit: float | None) -> dict:
    from paxchain.checker.explicit import check
    from paxchain.checker.result import Options
    from paxchain.checker.common_prefix import find_min_k
    from paxchain.models.chain_system import ChainSystem

    kind, params, variant = CASES[name]
    start = time.monotonic()
    row: dict = {"case": name, "params": params, "variant": variant}
    if kind == "min_k":
        k, results = find_min_k(params, Options(time_limit=time_limit), variant)
        row.update({"min_k": k if k is not None else "unknown (a search was cut short)",
                    "per_k": {str(j): {"verdict": r.get("prefix_consistency").verdict,
                                       "exhaustive": r.exhaustive,
                                       "distinct": r.stats.distinct,
                                       "trace_steps": _steps(r.get("prefix_consistency"))}
                              for j, r in results.items()}})
    else:
        model = ChainSystem(variant=variant, **params)
        result = check(model, Options(time_limit=time_limit, keep_going=True))
        st = result.stats
        row.update({"model": model.describe(), "verdict": result.verdict,
                    "reductions": [r.text() for r in model.reductions()],
                    "exhaustive": result.exhaustive, "stopped_by": result.stopped_by,
                    "distinct": st.distinct, "generated": st.generated, "depth": st.depth,
                    "states_per_second": round(st.states_per_second),
                    "results": {p.name: {"verdict": p.verdict, "trace_steps": _steps(p)}
                                for p in result.properties}})
    row["seconds"] = round(time.monotonic() - start, 1)
    row["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    row["python"] = sys.version.split()[0]
    return row


def _steps(p) -> int | None:
    return len(p.trace.steps) - 1 if p.trace else None


def main() -> None:
    cases.main(__file__, __doc__, CASES, run_case, OUT)


if __name__ == "__main__":
    main()
