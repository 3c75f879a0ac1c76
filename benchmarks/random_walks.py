"""Random simulation against every seeded bug: how many random runs it takes to find each.

Usage::

    python benchmarks/random_walks.py                      # every model x variant
    python benchmarks/random_walks.py --only chain/        # cases whose name contains this
    python benchmarks/random_walks.py --only gate:         # the gate's bounds only
    python benchmarks/random_walks.py --time-limit 120      # seconds per case (all its seeds)

A case is either ``MODEL/VARIANT``: the registry model at its *default* bound (no ``--param``)
with the seeded bug, or ``gate:CHECK``: an expected violation of ``paxchain.toml`` (the bound
at which the gate shows that bug; some bugs show only at a bound other than the default, or
only to a property random runs cannot judge: a goal never reached, a liveness property).
Each is checked by ``paxchain check MODEL [--param ...] --variant VARIANT --engine random
--seed S --workers 2`` (``paxchain.checker.random_walk``: up to 10,000 runs of up to 100
steps, each with its own fault rate; at the default bound every property of the default
selection, at a gate bound the property the gate expects broken, as the gate checks it) for
the seeds ``SEEDS``. A bug that shows only as a goal never reached or as a liveness violation
is not sampled (``not_sampled`` says why). Each seed's row says which property broke, in which
run ("broken by random run N"), the trace's length, and whether the trace, written as a trace
file and read back, replays to the same violation (as ``paxchain replay`` reads it: the model
rebuilt from the file's header, every step re-executed, never trusted). A seed that breaks
nothing within its runs and its share of the time limit says so; random simulation proves
nothing, so that is a miss, not a verdict.
Results go to ``benchmarks/results/random_walks.json``.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

import cases

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from paxchain.models.registry import entries  # noqa: E402 (needs ROOT on the path)

OUT = ROOT / "benchmarks" / "results" / "random_walks.json"
SEEDS = (1, 2, 3)
WALKS = 10_000
WORKERS = 2


def _gate() -> dict[str, tuple[str, dict[str, str], str, str]]:
    """``paxchain.toml``'s expected violations: check name -> (model, params, variant, property)."""
    from paxchain.checker.checks_file import VIOLATED, load

    return {c.name: (c.model, c.param_text(), c.variant or "", c.violates or "")
            for c in load(cwd=ROOT).checks if c.expect == VIOLATED and c.variant}


def _unsampled(model_name: str, params: dict[str, str], variant: str,
               expected: str | None) -> str | None:
    """Why random runs cannot show this bug, or None: the property it breaks is a goal (shown
    unreachable only by exhausting the space) or a liveness property (a finite run is no
    counterexample); at the default bound, when the gate shows the bug only that way."""
    from paxchain.models.properties import LIVENESS, SOMETIMES
    from paxchain.models.registry import build
    from paxchain.specs.model_properties import properties_of

    if expected is None:
        gate = [g for g in _gate().values() if g[0] == model_name and g[2] == variant]
        if not gate:
            return None
        model_name, params, variant, expected = gate[0]
    kinds = {p.name: p.kind for p in properties_of(build(model_name, params, variant))}
    if kinds.get(expected) == SOMETIMES:
        return f"the bug shows as goal {expected} never reached: only an exhaustive search shows that"
    if kinds.get(expected) in LIVENESS:
        return f"the bug shows as liveness property {expected} violated: a lasso, not a finite run"
    return None


CASES = ([f"{name}/{variant}" for name, e in sorted(entries().items()) for variant in e.variants]
         + [f"gate:{name}" for name in _gate()])


def _instance(name: str) -> tuple[str, dict[str, str], str, str | None]:
    """A case's (model, params, variant, the property the gate expects broken or None)."""
    if name.startswith("gate:"):
        return _gate()[name[len("gate:"):]]
    model_name, variant = name.split("/", 1)
    return model_name, {}, variant, None


def run_case(name: str, time_limit: float | None) -> dict:
    from paxchain.checker import Options
    from paxchain.checker.random_walk import check
    from paxchain.checker.result import VIOLATED
    from paxchain.checker.commands.replay import load_trace_file
    from paxchain.models.registry import build

    model_name, params, variant, expected = _instance(name)
    why = _unsampled(model_name, params, variant, expected)
    if why:
        return {"case": name, "model": build(model_name, params, variant).describe(),
                "property": expected or "all", "not_sampled": why}
    rows = []
    for seed in SEEDS:
        model = build(model_name, params, variant)
        start = time.monotonic()
        share = None if time_limit is None else time_limit / len(SEEDS)
        only = (expected,) if expected else None
        result = check(model, Options(time_limit=share, only=only), walks=WALKS, seed=seed,
                       workers=WORKERS)
        seconds = time.monotonic() - start
        broken = [p for p in result.properties if p.verdict == VIOLATED]
        row: dict = {"seed": seed, "seconds": round(seconds, 2), "stopped_by": result.stopped_by}
        if broken:
            p = broken[0]
            run = re.search(r"random run ([\d,]+)", p.detail or "")
            with tempfile.TemporaryDirectory() as tmp:  # replayed as `paxchain replay` does
                path = Path(tmp) / "trace.json"
                path.write_text(p.trace.dumps())
                again = load_trace_file(str(path))
            row.update(property=p.name, run=int(run.group(1).replace(",", "")) if run else None,
                       trace_steps=len(p.trace.steps) - 1,
                       replays=again.outcome == "violation" and again.trace.prop == p.name)
        else:
            done = re.search(r"not broken in ([\d,]+) random run", result.properties[0].detail)
            row.update(property=None, run=None, trace_steps=None, replays=None,
                       runs_done=int(done.group(1).replace(",", "")) if done else None)
        rows.append(row)
    found = [r for r in rows if r["property"]]
    return {
        "case": name, "model": build(model_name, params, variant).describe(),
        "property": expected or "all",
        "walks": WALKS, "workers": WORKERS, "seeds": list(SEEDS),
        "found_by_every_seed": len(found) == len(rows),
        "most_runs": max((r["run"] for r in found if r["run"]), default=None),
        "all_replay": all(r["replays"] for r in found),
        "per_seed": rows, "python": sys.version.split()[0],
    }


def main() -> None:
    cases.main(__file__, __doc__, CASES, run_case, OUT)


if __name__ == "__main__":
    main()
