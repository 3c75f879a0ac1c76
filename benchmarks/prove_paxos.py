"""Benchmark: the Z3 engines — ``paxchain prove paxos`` end to end, and BMC per depth.

Usage::

    python benchmarks/prove_paxos.py                  # best of 5, JSON to results/prove.json
    python benchmarks/prove_paxos.py --repeat 1 --out /tmp/prove.json

Figures:

- ``prove_paxos_wall_seconds``: wall time of ``paxchain prove paxos`` in a fresh process,
  Python start-up, imports and every obligation included (best of ``--repeat``); beside it the
  start-up floor: ``python -c pass``, ``python -c 'import z3'`` and ``paxchain --help``;
- ``proof``: obligations and the solver time of each (in this process);
- ``variants``: ``prove paxos --variant NAME`` for each seeded bug: verdict, the failed
  obligations, time;
- ``bmc``: for each seeded bug, BMC of the finite model (3 acceptors, 2 values, ballots 0..1)
  up to the depth of the shortest violation, with the solver time of every depth.

Figures depend on the machine and its load (the load average is recorded): run it on a quiet
machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEEDED = [("small_quorums", "agreement"), ("ignore_votes", "msg_2a"),
          ("ignore_votes", "agreement"), ("phase2b_ignores_promise", "msg_1b"),
          ("phase2b_ignores_promise", "vote_bookkeeping"), ("duplicate_2a", "one_vote"),
          ("duplicate_2a", "msg_2a"), ("promise_off_by_one", "type_ok")]


def best_wall(argv: list[str], repeat: int) -> tuple[float, int]:
    times, code = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        p = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
        code = p.returncode
    return min(times), code


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "prove.json"))
    args = ap.parse_args()

    from paxchain.checker import induction
    from paxchain.checker.bmc import run_bmc
    from paxchain.checker.files import write_atomic
    from paxchain.models.lamport_paxos import LamportPaxos
    from paxchain.specs import paxos_z3

    py = sys.executable
    paxchain = [py, "-c", "from paxchain.checker.cli import main; main()"]
    out: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                             "load_average_before": os.getloadavg()[0]}}
    floor = {}
    for name, argv in [("python -c pass", [py, "-c", "pass"]),
                       ("python -c 'import z3'", [py, "-c", "import z3"]),
                       ("paxchain --help", paxchain + ["--help"])]:
        floor[name] = round(best_wall(argv, args.repeat)[0], 4)
    wall, code = best_wall(paxchain + ["prove", "paxos"], args.repeat)
    out["startup_floor_seconds"] = floor
    out["prove_paxos_wall_seconds"] = round(wall, 4)
    out["prove_paxos_exit_code"] = code
    print(f"paxchain prove paxos: {wall:.3f} s wall, best of {args.repeat} (exit {code}); "
          f"floor: {floor}")

    report = induction.check(paxos_z3.system())
    out["proof"] = {"verdict": report.verdict, "seconds": round(report.seconds, 4),
                    "counts": report.counts(),
                    "obligations": [[o.kind, o.action, o.conjunct, round(o.seconds, 4)]
                                    for o in report.obligations]}
    print(f"proof in-process: {report.seconds:.3f} s, {report.counts()}")

    variants = {}
    for v in paxos_z3.VARIANTS:
        r = induction.check(paxos_z3.system(variant=v))
        variants[v] = {"verdict": r.verdict, "seconds": round(r.seconds, 3),
                       "failed": [[o.action, o.conjunct] for o in r.failures()]}
        print(f"prove paxos --variant {v}: {r.verdict} in {r.seconds:.2f} s "
              f"{[(o.action, o.conjunct) for o in r.failures()]}")
    out["variants"] = variants

    bmc = []
    for variant, prop in SEEDED:
        depth = 14
        t0 = time.perf_counter()
        verdict, trace, per_depth = run_bmc(LamportPaxos(3, 2, 1, variant=variant), prop, depth)
        total = time.perf_counter() - t0
        length = len(trace.steps) - 1 if trace else None
        bmc.append({"variant": variant, "property": prop, "verdict": verdict,
                    "length": length, "seconds": round(total, 3),
                    "per_depth_seconds": [round(t, 4) for _, t in per_depth]})
        print(f"bmc {variant}/{prop}: {verdict} at depth {length} in {total:.2f} s; per depth "
              + " ".join(f"{t:.2f}" for _, t in per_depth))
    verdict, _, per_depth = run_bmc(LamportPaxos(3, 2, 1), "agreement", 10)
    bmc.append({"variant": None, "property": "agreement", "verdict": verdict, "length": None,
                "per_depth_seconds": [round(t, 4) for _, t in per_depth]})
    print("bmc correct model/agreement to depth 10: " + verdict + "; per depth "
          + " ".join(f"{t:.2f}" for _, t in per_depth))
    out["bmc"] = bmc
    out["machine"]["load_average_after"] = os.getloadavg()[0]
    write_atomic(args.out, json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
