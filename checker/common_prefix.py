"""The chain's common prefix, analysed by the engines: the least k for which prefix consistency
holds (explicit search of ``paxchain.models.chain_system``, ``paxchain check chain --find-min-k``)
and the counterexample showing that k-common-prefix is not inductive (Z3 induction over
``paxchain.specs.chain_z3``, ``paxchain prove chain``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from collections.abc import Mapping
from typing import Any

from paxchain.checker import induction
from paxchain.checker.explicit import check
from paxchain.checker.result import HOLDS, VIOLATED, Options
from paxchain.models.chain_system import ChainSystem
from paxchain.specs import chain_z3

__all__ = ["find_min_k", "min_k_report", "PrefixResult", "common_prefix_cti"]


# -- the least k for which prefix consistency holds (explicit search) --------------------------

def find_min_k(params: Mapping[str, Any], options: Any = None,
               variant: str | None = None) -> tuple[int | None, dict[int, Any]]:
    """The least k for which ``prefix_consistency`` holds exhaustively, and the result per k.

    ``params`` are ``ChainSystem`` keyword arguments (``k`` is ignored); ``options`` an
    ``Options`` (its ``only`` is replaced). k runs from 0 upwards; each violated
    k stops at its shortest counterexample, the first k that holds is searched exhaustively.
    Returns ``(k, results)``; k is ``None`` when a search was cut short by a bound before any k
    held (the answer is then unknown: every k below the incomplete one is violated, nothing is
    claimed about it). Since chains share the genesis block, k = budget always holds, so at
    most ``budget + 1`` searches run.
    """
    opts = replace(options or Options(), only=("prefix_consistency",))
    base = {k: v for k, v in params.items() if k != "k"}
    results: dict[int, Any] = {}
    for k in range(0, int(base.get("budget", 3)) + 1):
        result = check(ChainSystem(**base, k=k, variant=variant), opts)
        results[k] = result
        verdict = result.get("prefix_consistency").verdict
        if verdict == HOLDS and result.exhaustive:
            return k, results
        if verdict != VIOLATED:
            return None, results
    return None, results


def min_k_report(k: int | None, results: Mapping[int, Any]) -> tuple[str, int]:
    """``find_min_k``'s answer as text for the CLI, and its exit code (0 found, 3 unknown)."""
    lines = []
    for j, r in sorted(results.items()):
        p = r.get("prefix_consistency")
        n = len(p.trace.steps) - 1 if p.trace else 0
        extra = f"; shortest counterexample {n} step{'' if n == 1 else 's'}" if p.trace else ""
        cut = "" if r.exhaustive or p.trace else f"; stopped by {r.stopped_by}"
        lines.append(f"k={j}: {p.verdict} ({r.stats.distinct:,} states{extra}{cut})")
    if k is None:
        lines.append("minimal k: unknown — a search was cut short before any k held")
        return "\n".join(lines) + "\n", 3
    lines.append(f"minimal k: {k} (prefix_consistency holds exhaustively for k = {k} and is "
                 f"violated for every smaller k)")
    return "\n".join(lines) + "\n", 0


# -- is common prefix inductive? (Z3) ----------------------------------------------------------

@dataclass
class PrefixResult:
    """The outcome of asking whether common prefix is inductive: ``failed`` with the CTI is the
    expected answer; ``unknown`` means Z3 found no counterexample in time."""

    verdict: str
    obligation: Any
    seconds: float

    @property
    def cti(self):
        return self.obligation.cti if self.obligation is not None else None

    def text(self) -> str:
        if self.verdict != "failed":
            return ("k-common-prefix: no counterexample to induction found "
                    f"({self.verdict}); this does NOT make it inductive.\n")
        return (f"checking k-common-prefix (symbolic K >= 1) for inductiveness ... not inductive "
                f"({self.seconds:.3f} s)\n" + self.cti.text() + chain_z3.ASSUMPTION + "\n")

    def to_json(self) -> dict[str, Any]:
        return {"property": "common_prefix", "verdict": self.verdict,
                "assumption": chain_z3.ASSUMPTION, "seconds": round(self.seconds, 4),
                "cti": self.cti.to_json() if self.cti is not None else None}


def common_prefix_cti(timeout_ms: int = 10_000, rlimit: int | None = None) -> PrefixResult:
    """Check the ghost system; return the counterexample to common prefix's induction."""
    report = induction.check(chain_z3.system(ghost=True), timeout_ms=timeout_ms, rlimit=rlimit)
    broken = [o for o in report.obligations if o.conjunct == "common_prefix"
              and o.verdict == induction.FAILED]
    if broken:
        return PrefixResult("failed", broken[0], report.seconds)
    unknown = any(o.verdict == induction.UNKNOWN for o in report.obligations)
    return PrefixResult("unknown" if unknown else "proved", None, report.seconds)
