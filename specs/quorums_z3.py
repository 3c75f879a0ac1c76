"""Quorum intersection with Z3: any two quorums share an acceptor.

Three kinds of quorum system:

- **majorities of every size** (``prove_majorities()``, symbolic ``n``): cardinality reasoning
  in linear integer arithmetic. For sets of an ``n``-element universe, inclusion–exclusion
  gives ``|Q1 ∪ Q2| = |Q1| + |Q2| − |Q1 ∩ Q2| ≤ n`` (stated as the axiom of the encoding, with
  ``0 ≤ |Q1 ∩ Q2| ≤ min(|Q1|, |Q2|)``); Z3 proves that sizes ``≥ n div 2 + 1`` force
  ``|Q1 ∩ Q2| ≥ 1`` for every ``n ≥ 1``, and shows that ``n div 2`` does not suffice (a
  counterexample ``n``). The set algebra itself is the axiom, not derived by Z3.
- **majorities of a given n** (``prove_majorities(n)``): a pigeonhole encoding with one Boolean
  per acceptor and quorum and pseudo-Boolean cardinality constraints; no axiom is assumed.
- **an explicit or weighted system** (``prove_explicit``, ``prove_weighted``): Booleans
  ``x[a]``, ``y[a]`` pick two quorums (one of the listed sets, or any set of weight ≥ T) and Z3
  looks for two that are disjoint. A satisfying model is the counterexample, printed as the two
  quorums.

Each check is an obligation with a verdict: proved, failed (with the two disjoint quorums) or
unknown (unproven).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from collections.abc import Sequence
from typing import Any

import z3

from paxchain.models.errors import UserError

__all__ = ["QuorumResult", "prove_majorities", "prove_explicit", "prove_weighted",
           "parse_quorums", "parse_weights"]

_NAME = re.compile(r"a[1-9][0-9]*$")


@dataclass
class QuorumResult:
    system: str
    checks: list[tuple[str, str, float]] = field(default_factory=list)  # (what, verdict, s)
    counterexample: tuple[list[str], list[str]] | None = None
    note: str = ""

    @property
    def verdict(self) -> str:
        vs = [v for _, v, _ in self.checks]
        return "failed" if "failed" in vs else "unknown" if "unknown" in vs else "proved"

    @property
    def exit_code(self) -> int:
        return {"proved": 0, "failed": 1, "unknown": 3}[self.verdict]

    def text(self) -> str:
        lines = [f"checking quorum system {self.system}:"]
        word = {"proved": "ok", "failed": "no!", "unknown": "unknown (unproven)"}
        lines += [f"  {what} ... {word[v]} ({t:.3f} s)" for what, v, t in self.checks]
        if self.counterexample:
            q1, q2 = self.counterexample
            lines.append(f"counterexample: quorums {{{', '.join(q1)}}} and {{{', '.join(q2)}}} "
                         "are disjoint")
        if self.note:
            lines.append(self.note)
        lines.append({"proved": "any two quorums intersect.",
                      "failed": "REJECTED: two quorums do not intersect.",
                      "unknown": "unproven: the solver gave no answer."}[self.verdict])
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        return {"system": self.system, "verdict": self.verdict,
                "checks": [{"check": w, "verdict": v, "seconds": round(t, 4)}
                           for w, v, t in self.checks],
                "counterexample": list(map(list, self.counterexample))
                if self.counterexample else None, "note": self.note}


def _solve(s: z3.Solver) -> tuple[Any, float]:
    t0 = time.perf_counter()
    r = s.check()
    return r, time.perf_counter() - t0


def _verdict(r: Any, want_unsat: bool = True) -> str:
    if r == z3.unknown:
        return "unknown"
    return "proved" if (r == z3.unsat) == want_unsat else "failed"


def prove_majorities(n: int | None = None) -> QuorumResult:
    """Majorities of ``n`` acceptors intersect; ``None``: of every size, symbolically."""
    if n is not None:
        return _majorities_of(n)
    res = QuorumResult("majorities of n acceptors, every n >= 1 (symbolic n)")
    n_, k1, k2, k12 = z3.Ints("n k1 k2 k12")
    sets = [n_ >= 1, k12 >= 0, k12 <= k1, k12 <= k2, k1 <= n_, k2 <= n_,
            k1 + k2 - k12 <= n_]  # inclusion-exclusion inside an n-set

    s = z3.Solver()
    s.add(n_ >= 1, z3.Not(2 * (n_ / 2 + 1) > n_))
    r, t = _solve(s)
    res.checks.append(("a minimal majority, n div 2 + 1, is more than half of n", _verdict(r), t))

    s = z3.Solver()
    s.add(*sets, k1 >= n_ / 2 + 1, k2 >= n_ / 2 + 1, k12 == 0)
    r, t = _solve(s)
    res.checks.append(("two sets of size >= n div 2 + 1 in an n-set share an element",
                       _verdict(r), t))

    s = z3.Solver()
    s.add(*sets, k1 >= n_ / 2, k2 >= n_ / 2, k1 >= 1, k2 >= 1, k12 == 0)
    r, t = _solve(s)
    if r == z3.sat:
        m = s.model()
        res.note = (f"(sizes n div 2 do not suffice: n = {m[n_]}, two disjoint sets of sizes "
                    f"{m[k1]} and {m[k2]}: the small_quorums bug)")
    return res


def _majorities_of(n: int) -> QuorumResult:
    if n < 1:
        raise UserError("the number of acceptors must be at least 1")
    k = n // 2 + 1
    res = QuorumResult(f"majorities of {n} acceptors (quorum size {k}, pigeonhole encoding)")
    xs = [z3.Bool(f"in_Q1_a{i + 1}") for i in range(n)]
    ys = [z3.Bool(f"in_Q2_a{i + 1}") for i in range(n)]
    s = z3.Solver()
    s.add(z3.PbGe([(x, 1) for x in xs], k), z3.PbGe([(y, 1) for y in ys], k),
          *[z3.Not(z3.And(x, y)) for x, y in zip(xs, ys)])
    r, t = _solve(s)
    res.checks.append((f"two sets of {k} of {n} acceptors share one", _verdict(r), t))
    if r == z3.sat:
        res.counterexample = _pick(s.model(), xs, ys, [f"a{i + 1}" for i in range(n)])
    return res


def _pick(m: z3.ModelRef, xs, ys, names: Sequence[str]) -> tuple[list[str], list[str]]:
    def chosen(vs):
        return [nm for v, nm in zip(vs, names) if z3.is_true(m.eval(v, model_completion=True))]
    return chosen(xs), chosen(ys)


def prove_explicit(quorums: Sequence[frozenset[str]]) -> QuorumResult:
    """Every two of the listed quorums (a quorum with itself included) share an acceptor."""
    names = sorted({a for q in quorums for a in q}, key=lambda a: int(a[1:]))
    text = ",".join("+".join(sorted(q, key=lambda a: int(a[1:]))) for q in quorums)
    res = QuorumResult(f"explicit {text}")
    xs = [z3.Bool(f"in_Q1_{a}") for a in names]
    ys = [z3.Bool(f"in_Q2_{a}") for a in names]

    def is_listed(vs):
        return z3.Or(*[z3.And(*[v == (a in q) for v, a in zip(vs, names)]) for q in quorums])

    s = z3.Solver()
    s.add(is_listed(xs), is_listed(ys), *[z3.Not(z3.And(x, y)) for x, y in zip(xs, ys)])
    r, t = _solve(s)
    res.checks.append((f"any two of the {len(quorums)} quorums share an acceptor", _verdict(r), t))
    if r == z3.sat:
        res.counterexample = _pick(s.model(), xs, ys, names)
    return res


def prove_weighted(weights: dict[str, int], threshold: int) -> QuorumResult:
    """Every two sets whose weight reaches ``threshold`` share an acceptor."""
    if threshold < 1:
        raise UserError("--threshold must be at least 1")
    names = sorted(weights, key=lambda a: int(a[1:]))
    total = sum(weights.values())
    if threshold > total:
        raise UserError(f"--threshold {threshold} exceeds the total weight {total}: no quorum")
    res = QuorumResult(f"weighted {','.join(f'{a}={weights[a]}' for a in names)} "
                       f"threshold {threshold} (total {total})")
    xs = [z3.Bool(f"in_Q1_{a}") for a in names]
    ys = [z3.Bool(f"in_Q2_{a}") for a in names]
    s = z3.Solver()
    s.add(z3.PbGe([(x, weights[a]) for x, a in zip(xs, names)], threshold),
          z3.PbGe([(y, weights[a]) for y, a in zip(ys, names)], threshold),
          *[z3.Not(z3.And(x, y)) for x, y in zip(xs, ys)])
    r, t = _solve(s)
    res.checks.append(("any two sets of weight >= threshold share an acceptor", _verdict(r), t))
    if r == z3.sat:
        res.counterexample = _pick(s.model(), xs, ys, names)
    return res


def parse_quorums(text: str) -> list[frozenset[str]]:
    """``a1+a2,a2+a3`` as a list of acceptor sets; ``UserError`` on anything else."""
    out = []
    for part in text.split(","):
        members = [x.strip() for x in part.split("+")]
        if not part.strip() or any(not _NAME.match(x) for x in members):
            raise UserError(f"bad quorum {part.strip()!r}: expected acceptors like a1+a2")
        out.append(frozenset(members))
    return out


def parse_weights(text: str) -> dict[str, int]:
    """``a1=2,a2=1`` as a map from acceptor to a positive weight."""
    out: dict[str, int] = {}
    for part in text.split(","):
        name, _, w = part.partition("=")
        name = name.strip()
        if not _NAME.match(name) or not w.strip().isdigit() or int(w) < 1:
            raise UserError(f"bad weight {part.strip()!r}: expected a1=2 (a positive integer)")
        if name in out:
            raise UserError(f"acceptor {name} is weighted twice")
        out[name] = int(w)
    return out
