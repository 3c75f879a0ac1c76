"""Random simulation against every seeded bug: how many random runs it takes to find each.

Usage::

    python benchmarks/random_walks.py                      # every model x variant
    python benchmarks/random_walks.py --only chain/        # cases whose name contains this
    python benchmarks/random_walks.py --time-limit 120      # seconds per case (all its seeds)

A case is ``MODEL/VARIANT``: the registry model at its default bound (no ``--param``) with the
seeded bug, checked by ``paxchain check MODEL --variant VARIANT --engine random --seed S``
(``paxchain.checker.random_walk``: up to 1,000 runs of up to 100 steps, every property of the
default selection) for the seeds ``SEEDS``. Each seed's row says which property broke, in which
run ("broken by random run N"), the trace's length, and whether the trace, written as a trace
file and read back, replays to the same violation (``paxchain.checker.trace.replay``: every
step re-executed, never trusted). A seed that breaks nothing within its runs and its share of
the time limit says so; random simulation proves nothing, so that is a miss, not a verdict.
Results go to ``benchmarks/results/random_walks.json``.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import cases

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from paxchain.models.registry import entries  # noqa: E402 (needs ROOT on the path)

OUT = ROOT / "benchmarks" / "results" / "random_walks.json"
SEEDS = (1, 2, 3)
WALKS = 1000

CASES = [f"{name}/{variant}" for name, e in sorted(entries().items()) for variant in e.variants]


def run_case(name: str, time_limit: float | None) -> dict:
    from paxchain.checker import Options
    from paxchain.checker.random_walk import check
    from paxchain.checker.result import VIOLATED
    from paxchain.checker.trace import replay
    from paxchain.models.registry import build

    model_name, variant = name.split("/", 1)
    rows = []
    for seed in SEEDS:
        model = build(model_name, {}, variant)
        start = time.monotonic()
        share = None if time_limit is None else time_limit / len(SEEDS)
        result = check(model, Options(time_limit=share), walks=WALKS, seed=seed)
        seconds = time.monotonic() - start
        broken = [p for p in result.properties if p.verdict == VIOLATED]
        row: dict = {"seed": seed, "seconds": round(seconds, 2), "stopped_by": result.stopped_by}
        if broken:
            p = broken[0]
            run = re.search(r"random run ([\d,]+)", p.detail or "")
            again = replay(build(model_name, {}, variant), json.loads(p.trace.dumps()))
            row.update(property=p.name, run=int(run.group(1).replace(",", "")) if run else None,
                       trace_steps=len(p.trace.steps) - 1,
                       replays=again.outcome == "violation" and again.trace.prop == p.name)
        else:
            row.update(property=None, run=None, trace_steps=None, replays=None)
        rows.append(row)
    found = [r for r in rows if r["property"]]
    return {
        "case": name, "model": build(model_name, {}, variant).describe(),
        "walks": WALKS, "seeds": list(SEEDS),
        "found_by_every_seed": len(found) == len(rows),
        "most_runs": max((r["run"] for r in found if r["run"]), default=None),
        "all_replay": all(r["replays"] for r in found),
        "per_seed": rows, "python": sys.version.split()[0],
    }


def main() -> None:
    cases.main(__file__, __doc__, CASES, run_case, OUT)


if __name__ == "__main__":
    main()
