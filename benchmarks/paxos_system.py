"""Benchmarks of the Paxos system model: the CI bound, bigger bounds, the 4-ballot learner bug.

Usage::

    python benchmarks/paxos_system.py                 # every case below
    python benchmarks/paxos_system.py --only learner  # cases whose name contains "learner"
    python benchmarks/paxos_system.py --time-limit 600

Each case runs the explicit BFS (``paxchain.checker.check``) and records distinct and generated
states, depth, seconds, states/s (generated per second), peak memory (the process's maximum
resident set, which only grows, so cases run in a fresh subprocess each) and the verdicts with
trace lengths; results go to ``benchmarks/results/paxos_system.json``. A case cut short by the
time limit says so (``stopped_by``): its counts are lower bounds, not the size of the space,
and ``checked_depth`` says how many steps of every run it did check.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import cases

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from paxchain.impl.paxos_variants import PAXOS  # noqa: E402 (needs ROOT on the path)

OUT = ROOT / "benchmarks" / "results" / "paxos_system.json"
CI = {"acceptors": 3, "proposers": 2, "values": 2, "max_rounds": 2, "crashes": 1}

# name -> (model parameters, variant, symmetry, properties to check (None: all))
CASES = {
    "small_1round_nocrash": ({**CI, "max_rounds": 1, "crashes": 0}, None, True, None),
    "small_1round_nocrash_no_history": ({**CI, "max_rounds": 1, "crashes": 0, "history": False},
                                        None, True, None),
    "small_1round_nocrash_spent_reports": ({**CI, "max_rounds": 1, "crashes": 0,
                                            "spent_reports": True}, None, True, None),
    "small_1round_nocrash_no_bury": ({**CI, "max_rounds": 1, "crashes": 0, "bury": False}, None,
                                     True, None),
    "small_1round_crash": ({**CI, "max_rounds": 1}, None, True, None),
    "small_budgeted_1proposer": ({**CI, "proposers": 1, "max_rounds": 1, "network": "budgeted",
                                  "drops": 1, "duplicates": 1}, None, True, None),
    "ci_bound": (CI, None, True, None),
    "ci_bound_no_history": ({**CI, "history": False}, None, True, None),
    "ci_bound_budgeted": ({**CI, "network": "budgeted", "drops": 1, "duplicates": 1}, None,
                          True, None),
    "learner_mixes_ballots_ci": (CI, "learner_mixes_ballots", True, ("learned_chosen",)),
    "learner_mixes_ballots_ci_all": (CI, "learner_mixes_ballots", True, None),
    "learner_mixes_ballots_agreement_2x2": ({**CI, "crashes": 0}, "learner_mixes_ballots",
                                            True, ("agreement",)),
    # agreement itself with the 4 ballots it needs from one proposer, whose crash gives
    # it the second value (27 steps, 4,235,923 states, 12-16 min and ~2 GB: run it with
    # --time-limit 1800; the 2x2 row above needs 25 steps in a space too large for BFS)
    "learner_mixes_ballots_agreement_1x4": ({**CI, "proposers": 1, "max_rounds": 4},
                                            "learner_mixes_ballots", True, ("agreement",)),
}
# every seeded bug at the CI bound itself (the first violation ends each search)
CASES.update({f"bug_{v}_ci": (CI, v, True, None)
              for v in PAXOS.names() if v != "learner_mixes_ballots"})  # that one: the rows above


def run_case(name: str, time_limit: float | None) -> dict:
    from paxchain.checker import Options, check
    from paxchain.models.paxos_system import PaxosSystem

    params, variant, symmetry, only = CASES[name]
    model = PaxosSystem(variant=variant, **params)
    start = time.monotonic()
    result = check(model, Options(symmetry=symmetry, only=only, time_limit=time_limit,
                                  keep_going=variant is None))
    seconds = time.monotonic() - start
    st = result.stats
    return {
        "case": name, "model": model.describe(), "symmetry": symmetry,
        "properties": list(only) if only else "all", "verdict": result.verdict,
        "exhaustive": result.exhaustive, "stopped_by": result.stopped_by,
        "distinct": st.distinct, "generated": st.generated, "depth": st.depth,
        "checked_depth": st.checked_depth,
        "seconds": round(seconds, 1),
        "states_per_second": round(st.generated / seconds) if seconds else None,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "results": {p.name: {"verdict": p.verdict,
                             "trace_steps": len(p.trace.steps) - 1 if p.trace else None}
                    for p in result.properties},
        "python": sys.version.split()[0],
    }


def main() -> None:
    cases.main(__file__, __doc__, CASES, run_case, OUT)


if __name__ == "__main__":
    main()
