"""Bounded model checking with Z3: unroll a symbolic transition system k steps.

A ``SymbolicSystem`` gives fresh Z3 variables for one step, the initial-state and transition
formulas over them, the "bad" formula of the property being checked and a decoder from a Z3
model back to the model's own explicit state. ``unroll`` asserts ``init(s0) ∧ trans(s0, s1) ∧ …``
incrementally and, at each depth ``k = 0, 1, …, max_depth``, asks whether ``bad(sk)`` is
satisfiable; the first satisfiable depth is therefore the length of a *shortest* violation.

No violation up to ``max_depth`` is a bounded statement, not a proof: the result says so
(``verdict`` is ``"none_up_to_depth"``). A solver ``unknown`` or timeout stops the search with
verdict ``"unknown"``. Nothing here knows any protocol (as in mypyvy's ``check_bmc``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import z3

__all__ = ["SymbolicSystem", "BmcResult", "unroll", "VIOLATION", "NONE_UP_TO_DEPTH", "UNKNOWN"]

VIOLATION, NONE_UP_TO_DEPTH, UNKNOWN = "violation", "none_up_to_depth", "unknown"


@dataclass(frozen=True)
class SymbolicSystem:
    fresh: Callable[[int], Any]                       # step index -> that step's variables
    init: Callable[[Any], z3.BoolRef]
    trans: Callable[[Any, Any], z3.BoolRef]
    bad: Callable[[Any], z3.BoolRef]
    decode: Callable[[z3.ModelRef, Any], Any]         # Z3 model, step variables -> a state


@dataclass
class BmcResult:
    verdict: str
    depth: int | None = None                          # length of the violation found
    states: list[Any] | None = None                   # decoded states s0 .. s_depth
    per_depth: list[tuple[int, float]] = field(default_factory=list)  # (depth, seconds)
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "depth": self.depth, "reason": self.reason,
                "per_depth_seconds": [[k, round(t, 4)] for k, t in self.per_depth]}


def unroll(system: SymbolicSystem, max_depth: int, timeout_ms: int | None = None) -> BmcResult:
    """Search for a violation of length 0..``max_depth``; see the module docstring."""
    if max_depth < 0:
        raise ValueError("max_depth must be >= 0")
    s = z3.Solver()
    if timeout_ms is not None:
        s.set("timeout", timeout_ms)
    steps = [system.fresh(0)]
    s.add(system.init(steps[0]))
    result = BmcResult(NONE_UP_TO_DEPTH)
    for k in range(max_depth + 1):
        t0 = time.perf_counter()
        if k > 0:
            steps.append(system.fresh(k))
            s.add(system.trans(steps[k - 1], steps[k]))
        s.push()
        s.add(system.bad(steps[k]))
        r = s.check()
        if r == z3.sat:
            model = s.model()
            result.states = [system.decode(model, v) for v in steps]
            result.verdict, result.depth = VIOLATION, k
        elif r == z3.unknown:
            result.verdict, result.reason = UNKNOWN, str(s.reason_unknown())
        s.pop()
        result.per_depth.append((k, time.perf_counter() - t0))
        if r != z3.unsat:
            break
    return result
