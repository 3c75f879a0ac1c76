"""Benchmarks of the reductions of issue 13 (state subsumption, retired reports) on the Paxos
system model.

Usage::

    python benchmarks/reductions.py                    # every case, 120 s each
    python benchmarks/reductions.py --only 2x2         # the CI bound's cases
    python benchmarks/reductions.py --time-limit 300
    python benchmarks/reductions.py --only depth13_all --time-limit 900   # with --compact too

Each bound (3 acceptors unless named, 2 values, 1 crash-restart, the duplicating network,
symmetry over the acceptors) runs with both reductions off (``none``: ``subsume=0 retire=0``),
each alone (``subsumption``, ``retirement``) and both on (``all``, the defaults), breadth-first
and depth-first (``_dfs``), each in a fresh process (``cases.py``); every other reduction
(bury, tallies, compaction) is on in all.
The ``_compact`` cases search as ``--compact`` does (``paxchain.checker.levels``, flat tables):
the same counts as their default twins, with their own time and memory.
Rows record distinct and generated states, depth, seconds, peak memory and the verdict; a run
cut short by the time limit says so (``stopped_by``, ``checked_depth``: every run of that many
steps was checked) and its counts are lower bounds. Results go to
``benchmarks/results/reductions.json``. The machine is shared: seconds are indicative, state
counts exact.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import cases

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "reductions.json"
BASE = {"acceptors": 3, "values": 2, "crashes": 1}
BOUNDS = {  # name -> (acceptors, proposers, rounds per proposer)
    "1x2": {"proposers": 1, "max_rounds": 2},
    "2x1": {"proposers": 2, "max_rounds": 1},
    "2x2": {"proposers": 2, "max_rounds": 2},  # the CI bound (the model's defaults)
    "3x1": {"proposers": 3, "max_rounds": 1},
    "5a_1x2": {"acceptors": 5, "proposers": 1, "max_rounds": 2},
}
REDUCTIONS = {"none": {"subsume": False, "retire": False},
              "subsumption": {"subsume": True, "retire": False},
              "retirement": {"subsume": False, "retire": True},
              "all": {"subsume": True, "retire": True}}
# name -> (model parameters, reduction label, how to search: max_depth, dfs, compact)
Case = tuple[dict, str, dict]
BFS: dict = {"max_depth": None, "dfs": False, "compact": False}
CASES: dict[str, Case] = {f"{b}_{r}": ({**BASE, **BOUNDS[b], **REDUCTIONS[r]}, r, BFS)
                          for b in BOUNDS for r in REDUCTIONS}
# Depth-first too: a twin with more messages in flight is deeper, so depth-first search
# meets it *before* the states it covers, where breadth-first meets it after them.
CASES.update({f"{b}_{r}_dfs": ({**BASE, **BOUNDS[b], **REDUCTIONS[r]}, r, {**BFS, "dfs": True})
              for b in BOUNDS for r in REDUCTIONS})
# The CI bound to a fixed depth: exact counts to compare, whatever the machine's load.
DEPTHS = (11, 13)
CASES.update({f"2x2_depth{d}_{r}": ({**BASE, **BOUNDS["2x2"], **REDUCTIONS[r]}, r,
                                    {**BFS, "max_depth": d})
              for d in DEPTHS for r in REDUCTIONS})
# The same with ``--compact`` storage (flat tables, levels on disk): the same counts, its own
# time and memory.
CASES.update({f"2x2_depth{d}_all_compact": ({**BASE, **BOUNDS["2x2"], **REDUCTIONS["all"]},
                                            "all", {**BFS, "max_depth": d, "compact": True})
              for d in DEPTHS})
# What a partial-order reduction could leave out, measured on the whole reachable graph: the
# steps that change nothing the properties read (``visibility``).
CASES.update({"visibility_1x2_nocrash": ({**BASE, **BOUNDS["1x2"], "crashes": 0}, "visibility",
                                         BFS),
              "visibility_1x1": ({**BASE, "proposers": 1, "max_rounds": 1}, "visibility", BFS),
              "visibility_2x1_nocrash": ({**BASE, **BOUNDS["2x1"], "crashes": 0},
                                         "visibility", BFS)})


def visibility(model) -> dict:
    """Counts over every reachable state and step (no symmetry, no subsumption): the distinct
    projections (no reduction that keeps every reachable projection can explore fewer states)
    and distinct reads of the safety properties (the same floor for one that keeps only
    those); steps that
    leave the model's ``projection`` unchanged; steps that leave unchanged what the safety
    properties of ``specs/paxos_system.py`` read (acceptors' and learners' entries, history,
    outputs: not the proposers' entries); and states where some node's enabled steps all do,
    the only states where a persistent set of one node's steps could even be tried."""
    from collections import defaultdict

    from paxchain.checker.explicit import reachable_states

    na = len(model.acceptor_ids)
    learners = [model.index[x] for x in model.learner_ids]

    def reads(s: tuple) -> tuple:
        return (s[:na], tuple(s[i] for i in learners), model.history_id(s), model.outputs_id(s))

    states = reachable_states(model)
    steps = same_projection = same_reads = candidates = 0
    for s in states:
        lanes: dict = defaultdict(lambda: [0, 0])
        for label, t in model.successors(s):
            steps += 1
            same_projection += model.projection(s) == model.projection(t)
            quiet = reads(s) == reads(t)
            same_reads += quiet
            lanes[label.lane][0] += 1
            lanes[label.lane][1] += quiet
        candidates += any(n == q for n, q in lanes.values())
    return {"distinct": len(states), "distinct_projections": len({model.projection(s)
                                                                   for s in states}),
            "distinct_reads": len({reads(s) for s in states}), "steps": steps,
            "steps_same_projection": same_projection, "steps_same_reads": same_reads,
            "states_with_a_quiet_node": candidates}


def run_case(name: str, time_limit: float | None) -> dict:
    from paxchain.checker import Options, check
    from paxchain.checker.result import Strategy
    from paxchain.models.paxos_system import PaxosSystem

    params, reduction, how = CASES[name]
    start = time.monotonic()
    if reduction == "visibility":
        model = PaxosSystem(**{**params, "subsume": False, "retire": False})
        return {"case": name, "model": model.describe(), "reduction": reduction,
                **visibility(model), "seconds": round(time.monotonic() - start, 1)}
    model = PaxosSystem(**params)
    depth = how["max_depth"]
    strategy = Strategy.DFS if how["dfs"] else Strategy.BFS
    result = check(model, Options(symmetry=True, time_limit=time_limit, keep_going=True,
                                  max_depth=depth, strategy=strategy, compact=how["compact"]))
    seconds = time.monotonic() - start
    st = result.stats
    return {
        "case": name, "model": model.describe(), "reduction": reduction, "symmetry": True,
        "search": strategy.name.lower(), "max_depth": depth, "compact": how["compact"],
        "reductions": result.reductions, "verdict": result.verdict,
        "exhaustive": result.exhaustive, "stopped_by": result.stopped_by,
        "distinct": st.distinct, "generated": st.generated, "depth": st.depth,
        "checked_depth": st.checked_depth, "levels": st.levels, "seconds": round(seconds, 1),
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "python": sys.version.split()[0],
    }


def main() -> None:
    sys.argv += [] if any(a.startswith("--time-limit") for a in sys.argv) else ["--time-limit",
                                                                                 "120"]
    cases.main(__file__, __doc__, CASES, run_case, OUT)


if __name__ == "__main__":
    main()
