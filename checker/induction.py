"""Inductive-invariant checking with Z3: obligations, verdicts and counterexamples to induction.

Theory of operation (as in mypyvy's ``logic.py``). A ``TransitionSystem``
(``paxchain.specs.z3_vocabulary``, the vocabulary the specs' Z3 twins are written in) is a
vocabulary (uninterpreted sorts, *rigid* symbols that never change, *state* symbols), axioms over
the rigid symbols, an initial-state formula, named actions (two-state formulas with named
parameters), the inductive invariant as a list of named ``Conjunct`` s and the safety properties.
Nothing here knows any protocol.

``check(system)`` discharges one obligation per question, so that a failure names both the
conjunct and the step that breaks it:

- ``init``: Axioms ∧ Init ⇒ C, for each conjunct C;
- ``consecution``: Axioms ∧ Inv ∧ Action ⇒ C′, for every action and every conjunct separately;
- ``safety``: Axioms ∧ Inv ⇒ P, for each safety property P.

Each obligation is *proved* (the negation is unsat), *failed* (sat: the Z3 model becomes a
``Cti``, a pre- and post-state as finite structures) or *unknown* (Z3 said unknown or timed
out). Unknown is unproven; it is never reported as proved.

Every counterexample is re-checked by the vocabulary's evaluator of Z3 formulas on finite
structures (``compile_formula``; mypyvy's ``--smoke-test-solver``): the pre-state must satisfy
the hypotheses and the post-state must falsify the conjunct, or the CTI is marked unverified.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import z3

from paxchain.checker.render_cti import cti_text
from paxchain.specs.z3_vocabulary import Conjunct, Structure, TransitionSystem, compile_formula

__all__ = ["Obligation", "Report", "Cti", "check", "PROVED", "FAILED", "UNKNOWN"]

PROVED, FAILED, UNKNOWN = "proved", "failed", "unknown"
POST = "'"


# -- counterexamples to induction ----------------------------------------------------------------

@dataclass
class Cti:
    """A counterexample: ``pre`` (and for consecution, ``action`` with ``args`` and ``post``).

    ``structure`` holds every symbol (post-state names carry a trailing ``'``); ``pre`` and
    ``post`` are views with plain names. ``verified`` is True when the evaluator confirmed it.
    """

    kind: str
    conjunct: str
    action: str | None
    args: dict[str, str]
    structure: Structure
    rigid: tuple[str, ...]
    state: tuple[str, ...]
    verified: bool = False

    def view(self, post: bool) -> dict[str, Any]:
        t = self.structure.tables
        out = {n: t[n] for n in self.rigid}
        out.update({n: t[n + POST if post else n] for n in self.state})
        return out

    def text(self) -> str:
        """The counterexample as mypyvy prints one: universe, rigid symbols, states, step."""
        return cti_text(self)

    def to_json(self) -> dict[str, Any]:
        def j(v: Any) -> Any:
            if isinstance(v, set):
                return sorted(list(t) for t in v)
            if isinstance(v, dict):
                return [[list(k), x] for k, x in sorted(v.items())]
            return v
        pre, out = self.view(False), {"type": "cti" if self.action else self.kind,
                                      "kind": self.kind, "conjunct": self.conjunct,
                                      "action": self.action, "args": self.args,
                                      "verified": self.verified,
                                      "universe": self.structure.universe}
        out["rigid"] = {n: j(pre[n]) for n in self.rigid}
        states = [{n: j(pre[n]) for n in self.state}]
        if self.action is not None:
            post = self.view(True)
            states.append({n: j(post[n]) for n in self.state})
        out["states"] = states
        return out


def _extract(system: TransitionSystem, model: z3.ModelRef, decls: Mapping[str, z3.FuncDeclRef],
             params: Mapping[str, z3.ExprRef],
             bounded: Mapping[str, list[z3.ExprRef]] | None = None) -> Structure:
    """The finite structure of a Z3 model, elements renamed readably (constants keep their names,
    an ordered sort is numbered along its order). ``bounded``: the universe is the values of
    these elements (finite model finding), not the whole of Z3's universe."""
    raw: dict[str, list[z3.ExprRef]] = {}
    for s in system.sorts:
        if bounded is not None:
            vals: dict[int, z3.ExprRef] = {}
            for e in bounded[s.name()]:
                v = model.eval(e, model_completion=True)
                vals.setdefault(v.get_id(), v)
            raw[s.name()] = list(vals.values())
            continue
        u = model.get_universe(s)
        raw[s.name()] = list(u) if u is not None else []
    names: dict[str, dict[Any, str]] = {s: {} for s in raw}
    # Elements are named after a constant denoting them: rigid constants first, then the
    # action's parameters, then state constants before and after the step.
    rigid = {s.name for s in system.rigid}
    named = sorted([(0 if n in rigid else 3 if n.endswith(POST) else 2, n, d())
                    for n, d in decls.items() if d.arity() == 0 and d.range().name() in raw]
                   + [(1, n, c) for n, c in params.items() if c.sort().name() in raw],
                   key=lambda t: (t[0], t[1]))
    used: set[str] = set()
    for _, n, term in named:
        el = model.eval(term, model_completion=True)
        if el.get_id() not in names[term.sort().name()] and n not in used:
            names[term.sort().name()][el.get_id()] = n
            used.add(n)
    for sort, els in raw.items():
        prefix = sort.lower()[:1]
        order = system.orders.get(sort)
        if order is not None and order in decls:
            le = decls[order]
            els = sorted(els, key=lambda x: sum(
                z3.is_true(model.eval(le(y, x), model_completion=True)) for y in els))
        i = 0
        for el in els:
            if el.get_id() not in names[sort]:
                while f"{prefix}{i}" in used:
                    i += 1
                names[sort][el.get_id()] = f"{prefix}{i}"
                used.add(f"{prefix}{i}")
        raw[sort] = els
    universe = {s: [names[s][e.get_id()] for e in els] for s, els in raw.items()}

    def name_of(x: z3.ExprRef) -> Any:
        if z3.is_bool(x):
            return z3.is_true(x)
        if z3.is_int_value(x):
            return x.as_long()
        return names[x.sort().name()][model.eval(x, model_completion=True).get_id()] \
            if x.sort().name() in names else str(x)

    tables: dict[str, Any] = {}
    for n, d in decls.items():
        doms = [raw[d.domain(i).name()] for i in range(d.arity())]
        if d.arity() == 0:
            tables[n] = name_of(model.eval(d(), model_completion=True))
            continue
        rows: Iterable[tuple] = _product(doms)
        if d.range() == z3.BoolSort():
            tables[n] = {tuple(name_of(a) for a in row) for row in rows
                         if z3.is_true(model.eval(d(*row), model_completion=True))}
        else:
            tables[n] = {tuple(name_of(a) for a in row):
                         name_of(model.eval(d(*row), model_completion=True)) for row in rows}
    for n, c in params.items():
        tables[n] = name_of(model.eval(c, model_completion=True))
    return Structure(universe, tables)


def _product(doms: Sequence[Sequence[Any]]) -> Iterable[tuple]:
    return itertools.product(*doms)


# -- obligations ---------------------------------------------------------------------------------

@dataclass
class Obligation:
    kind: str            # "init" | "consecution" | "safety"
    action: str | None
    conjunct: str
    verdict: str = UNKNOWN
    seconds: float = 0.0
    reason: str = ""
    cti: Cti | None = None

    def line(self) -> str:
        verb = {"init": "establishes", "consecution": "preserves", "safety": "implies"}[self.kind]
        word = {PROVED: "ok", FAILED: "no!", UNKNOWN: "unknown (unproven)"}[self.verdict]
        extra = f" [{self.reason}]" if self.reason else ""
        return f"  {verb} {self.conjunct} ... {word} ({self.seconds:.3f} s){extra}"

    def to_json(self) -> dict[str, Any]:
        out = {"kind": self.kind, "action": self.action, "conjunct": self.conjunct,
               "verdict": self.verdict, "seconds": round(self.seconds, 4)}
        if self.reason:
            out["reason"] = self.reason
        if self.cti is not None:
            out["cti"] = self.cti.to_json()
        return out


@dataclass
class Report:
    system: str
    obligations: list[Obligation]
    seconds: float

    @property
    def verdict(self) -> str:
        vs = {o.verdict for o in self.obligations}
        return FAILED if FAILED in vs else UNKNOWN if UNKNOWN in vs else PROVED

    @property
    def exit_code(self) -> int:
        return {PROVED: 0, FAILED: 1, UNKNOWN: 3}[self.verdict]

    def failures(self) -> list[Obligation]:
        return [o for o in self.obligations if o.verdict == FAILED]

    def counts(self) -> dict[str, int]:
        out = {PROVED: 0, FAILED: 0, UNKNOWN: 0}
        for o in self.obligations:
            out[o.verdict] += 1
        return out

    def checklist(self) -> str:
        lines, head = [], None
        for o in self.obligations:
            h = {"init": "checking init:", "safety": "checking safety:"}.get(
                o.kind, f"checking transition {o.action}:")
            if h != head:
                lines.append(h)
                head = h
            lines.append(o.line())
        c = self.counts()
        lines.append(f"{self.system}: {len(self.obligations)} obligations, {c[PROVED]} proved, "
                     f"{c[FAILED]} failed, {c[UNKNOWN]} unknown ({self.seconds:.3f} s): "
                     + {PROVED: "the invariant is inductive and implies safety.",
                        FAILED: "the invariant is NOT proved (counterexample below).",
                        UNKNOWN: "unproven: the solver gave no answer on some obligation."}[
                            self.verdict])
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        return {"system": self.system, "verdict": self.verdict, "seconds": round(self.seconds, 4),
                "counts": self.counts(), "obligations": [o.to_json() for o in self.obligations]}


def check(system: TransitionSystem, timeout_ms: int = 10_000,
          solver_options: Mapping[str, Any] | None = None, rlimit: int | None = None) -> Report:
    """Discharge every obligation of ``system``; see the module docstring.

    ``solver_options`` are Z3 solver parameters (default ``system.solver_options``);
    ``timeout_ms`` bounds each obligation, and one that runs out is *unknown*.
    ``rlimit`` replaces the time limit by Z3's resource limit (its count of solver steps), the
    same on every machine and under any load: each solver call may spend that many, the first
    unbounded attempt a tenth of it. Verdicts under an ``rlimit`` are reproducible; under a time
    limit an obligation near the limit may be proved on one machine and unknown on another.
    """
    opts = dict(system.solver_options if solver_options is None else solver_options)
    start = time.perf_counter()
    pre, post = system.vocab(), system.vocab(POST)
    axioms = [a.formula(pre) for a in system.axioms]
    inv_pre = [c.formula(pre) for c in system.invariant]
    by_name = dict(zip((c.name for c in system.invariant), inv_pre))

    def assumed(c: Conjunct) -> list[z3.BoolRef]:
        if c.uses is None:
            return inv_pre
        return [f for n, f in by_name.items() if n in c.uses or n == c.name]

    out: list[Obligation] = []

    def solver(ms: int | None = None, bare: bool = False, seed: int = 0) -> z3.Solver:
        s = z3.Solver()
        for k, v in opts.items():
            s.set(k, v)
        if seed:
            s.set("smt.random_seed", int(opts.get("smt.random_seed", 0)) + seed)
        if rlimit is None:
            s.set("timeout", min(ms, timeout_ms) if ms else timeout_ms)
        else:
            s.set("rlimit", max(1, rlimit // 10) if ms else rlimit)
        if bare:
            s.axioms = axioms  # type: ignore[attr-defined]  # the caller adds them, ground
        else:
            s.add(*axioms)
        return s

    def discharge(c: Conjunct, hyps: list[z3.BoolRef], goal: z3.BoolRef, ob: Obligation,
                  decls: Mapping[str, z3.FuncDeclRef], params: Mapping[str, z3.ExprRef]):
        """With ``uses`` hints, a counterexample must still satisfy the *whole* invariant
        before it is reported (else dropping an unused conjunct would look necessary)."""
        r = _discharge(solver, assumed(c) + hyps, goal, ob, system, decls, params)
        if r.verdict == FAILED and c.uses is not None and not _confirm(
                r.cti, system, inv_pre + hyps, goal, params):
            t = r.seconds
            r = _discharge(solver, inv_pre + hyps, goal, Obligation(ob.kind, ob.action, ob.conjunct),
                           system, decls, params, bounded_first=True)
            r.seconds += t
        out.append(r)

    init = system.init(pre)
    for c, f in zip(system.invariant, inv_pre):
        out.append(_discharge(solver, [init], f, Obligation("init", None, c.name), system,
                              pre.decls(), {}))
    post_decls = {sy.name + POST: post.decls()[sy.name] for sy in system.state}
    for act in system.actions:
        consts = {n: z3.Const(f"{act.name}.{n}", srt) for n, srt in act.params}
        trans = act.formula(pre, post, *consts.values())
        for c in system.invariant:
            discharge(c, [trans], c.formula(post), Obligation("consecution", act.name, c.name),
                      {**pre.decls(), **post_decls}, consts)
    for p in system.safety:
        discharge(p, [], p.formula(pre), Obligation("safety", None, p.name), pre.decls(), {})
    return Report(system.name, out, time.perf_counter() - start)


def _discharge(solver: Callable[..., z3.Solver], hyps: list[z3.BoolRef], goal: z3.BoolRef,
               ob: Obligation, system: TransitionSystem, decls: Mapping[str, z3.FuncDeclRef],
               params: Mapping[str, z3.ExprRef], bounded_first: bool = False) -> Obligation:
    """One obligation ``axioms ∧ hyps ⇒ goal``, on a fresh solver: Z3's incremental mode
    (push/pop) switches to a weaker quantifier configuration, so none is shared.
    ``bounded_first``: a counterexample is expected, so look for a finite one first."""
    t0 = time.perf_counter()
    universe = None
    r = z3.unknown
    if not bounded_first:
        # Z3's search on these quantified queries depends on its random seed and on the order
        # terms were created in (so on what the process asked before): a query proved in 0.05 s
        # with one seed may run for minutes with another. A few short tries with different
        # seeds make a long run on an unlucky order rare; any unsat is a proof whatever the seed.
        for seed in range(FIRST_TRY_SEEDS):
            s = solver(FIRST_TRY_MS, seed=seed)
            s.add(*hyps, z3.Not(goal))
            r = s.check()
            if r != z3.unknown:
                break
    if r == z3.unknown:
        # Finite model finding: a model with small universes is still a counterexample, so an
        # unknown is retried with every sort bounded to `size` elements, by a domain-closure
        # axiom (MBQI) and by expanding every quantifier over the elements (ground).
        # Unsat under a bound proves nothing: the obligation then gets its full time unbounded.
        # MBQI is weak with arithmetic: systems with integer symbols are only expanded (ground);
        # the others try MBQI first, then the (slower to build) expansion.
        modes = (True,) if _arithmetic(system) else (False, True)
        for size, ground in itertools.product(system.finite_sizes, modes):
            b = solver(None, bare=True)
            els = {srt.name(): [z3.Const(f"{srt.name()}!{i}", srt) for i in range(size)]
                   for srt in system.sorts}
            fs = b.axioms + hyps + [z3.Not(goal)]
            if ground:
                b.add(*[_ground(f, els) for f in fs])
                b.add(*_closure(els, list(decls.values()) + list(params.values())))
            else:
                b.add(*fs, *_closure_axioms(els))
            if b.check() == z3.sat:
                r, s, universe = z3.sat, b, els
                break
        else:
            s = solver(None)
            s.add(*hyps, z3.Not(goal))
            r = s.check()
    if r == z3.unsat:
        ob.verdict = PROVED
    elif r == z3.sat:
        ob.verdict = FAILED
        st = _extract(system, s.model(), decls, params, universe)
        ob.cti = Cti(ob.kind, ob.conjunct, ob.action, {k: st.tables.pop(k) for k in params},
                     st, tuple(x.name for x in system.rigid), tuple(x.name for x in system.state))
        ob.cti.verified = _confirm(ob.cti, system, hyps, goal, params)
    else:
        ob.verdict = UNKNOWN
        ob.reason = str(s.reason_unknown())
    ob.seconds = time.perf_counter() - t0
    return ob


FIRST_TRY_MS = 1000   # each first, unbounded attempt; a proof of paxos takes < 0.2 s when lucky
FIRST_TRY_SEEDS = 3   # first attempts, each with its own random seed


def _arithmetic(system: TransitionSystem) -> bool:
    return any(srt.kind() in (z3.Z3_INT_SORT, z3.Z3_REAL_SORT)
               for sym in system.rigid + system.state for srt in sym.domain + (sym.range,))


def _closure_axioms(els: Mapping[str, list[z3.ExprRef]]) -> list[z3.BoolRef]:
    """Every element of a bounded sort is one of the named elements (one quantifier per sort)."""
    out = []
    for name, es in els.items():
        x = z3.Const(f"{name}!x", es[0].sort())
        out.append(z3.ForAll([x], z3.Or(*[x == e for e in es])))
    return out


def _ground(f: z3.ExprRef, els: Mapping[str, list[z3.ExprRef]]) -> z3.ExprRef:
    """``f`` with every quantifier over a bounded sort expanded over that sort's elements."""
    memo: dict[tuple, z3.ExprRef] = {}

    def go(e: z3.ExprRef, env: tuple) -> z3.ExprRef:
        if z3.is_var(e):
            return env[-1 - z3.get_var_index(e)]
        key = (e.get_id(), tuple(x.get_id() for x in env))
        if key in memo:
            return memo[key]
        if z3.is_quantifier(e):
            sorts = [e.var_sort(i) for i in range(e.num_vars())]
            if not all(srt.name() in els for srt in sorts):
                raise ValueError("a quantifier over an unbounded sort cannot be ground")
            parts = [go(e.body(), env + combo)
                     for combo in itertools.product(*(els[srt.name()] for srt in sorts))]
            out = z3.And(*parts) if e.is_forall() else z3.Or(*parts)
        elif z3.is_app(e) and e.num_args() > 0:
            out = e.decl()(*[go(c, env) for c in e.children()])
        else:
            out = e
        memo[key] = out
        return out
    return go(f, ())


def _closure(els: Mapping[str, list[z3.ExprRef]], symbols: Sequence[Any]) -> list[z3.BoolRef]:
    """Every constant, and every function applied to elements, of a bounded sort is one of
    its elements: the model restricted to the elements is then a model of the ground formulas."""
    out = []
    for sym in symbols:
        d = sym if isinstance(sym, z3.FuncDeclRef) else sym.decl()
        rng = d.range().name()
        if rng not in els:
            continue
        doms = [d.domain(i).name() for i in range(d.arity())]
        if not all(x in els for x in doms):
            continue
        for args in itertools.product(*(els[x] for x in doms)):
            term = d(*args)
            out.append(z3.Or(*[term == e for e in els[rng]]))
    return out


def _confirm(cti: Cti, system: TransitionSystem, hyps: list[z3.BoolRef], goal: z3.BoolRef,
             params: Mapping[str, z3.ExprRef]) -> bool:
    """Re-evaluate the model on the extracted finite structure: axioms and hypotheses hold,
    the goal fails (so what we print really is a counterexample)."""
    env = cti.structure.env()
    for k, v in params.items():
        env[v.decl().name()] = cti.args[k]
    try:
        pre = system.vocab()
        if not all(compile_formula(a.formula(pre))(env) for a in system.axioms):
            return False
        if not all(compile_formula(h)(env) for h in hyps):
            return False
        return not compile_formula(goal)(env)
    except (KeyError, ValueError):
        return False
