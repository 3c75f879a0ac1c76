"""The Z3 vocabulary the specs' Z3 twins are written in (as in mypyvy's ``syntax.py`` and
``logic.py``), and the evaluator of its formulas on finite structures.

For proofs by induction (``paxchain.checker.induction``): a ``TransitionSystem`` is a vocabulary
(uninterpreted sorts, *rigid* ``Symbol`` s that never change, *state* symbols, named by a
``Vocab``), axioms over the rigid symbols, an initial-state formula, named ``Action`` s (two-state
formulas with named parameters), the inductive invariant as a list of named ``Conjunct`` s and the
safety properties. ``Structure`` is a finite interpretation of a vocabulary, and
``compile_formula`` / ``evaluate`` evaluate a Z3 formula on one (the engine re-checks each
counterexample with it; a spec evaluates its Z3 invariant on explicit states of a finite model).

For bounded model checking (``paxchain.checker.bmc``): a ``SymbolicSystem`` gives fresh Z3
variables for one step, the initial-state and transition formulas over them, the "bad" formula
of the property being checked and a decoder from a Z3 model back to the model's explicit state.

Nothing here knows any protocol, and nothing here runs a solver: the engines do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable, Mapping
from typing import Any

import z3

__all__ = ["Symbol", "Vocab", "Conjunct", "Action", "TransitionSystem", "Structure",
           "compile_formula", "evaluate", "SymbolicSystem"]


@dataclass(frozen=True)
class Symbol:
    """A relation (range ``BoolSort``), function or constant (no domain) of the vocabulary."""

    name: str
    domain: tuple[z3.SortRef, ...]
    range: z3.SortRef

    def decl(self, suffix: str = "") -> z3.FuncDeclRef:
        return z3.Function(self.name + suffix, *self.domain, self.range)


class Vocab:
    """Symbols by name: ``V.maxBal(a)``, ``V.none``; constants are returned as expressions."""

    def __init__(self, decls: Mapping[str, z3.FuncDeclRef]) -> None:
        self._decls = dict(decls)

    def __getattr__(self, name: str) -> Any:
        try:
            d = self._decls[name]
        except KeyError:
            raise AttributeError(name) from None
        return d() if d.arity() == 0 else d

    def decls(self) -> dict[str, z3.FuncDeclRef]:
        return dict(self._decls)


@dataclass(frozen=True)
class Conjunct:
    """A named formula over one state; ``doc`` states it in words.

    ``uses``, when given, names the invariant conjuncts assumed when proving this one (its
    preservation by every action, or for a safety property its derivation). It is a proof
    hint in the manner of Ivy's isolates: assuming fewer conjuncts proves a *stronger* claim,
    and it keeps irrelevant quantifiers away from Z3's instantiation engine. ``None`` assumes
    the whole invariant. Conjuncts absent from the system are simply not assumed.
    """

    name: str
    doc: str
    formula: Callable[[Vocab], z3.BoolRef]
    uses: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Action:
    """A named two-state formula ``formula(pre, post, *params)``; params are existentially
    bound (Skolem constants in an obligation, shown as the step's arguments in a CTI)."""

    name: str
    doc: str
    params: tuple[tuple[str, z3.SortRef], ...]
    formula: Callable[..., z3.BoolRef]


@dataclass(frozen=True)
class TransitionSystem:
    name: str
    sorts: tuple[z3.SortRef, ...]
    rigid: tuple[Symbol, ...]
    state: tuple[Symbol, ...]
    axioms: tuple[Conjunct, ...]
    init: Callable[[Vocab], z3.BoolRef]
    actions: tuple[Action, ...]
    invariant: tuple[Conjunct, ...]
    safety: tuple[Conjunct, ...]
    orders: Mapping[str, str] = field(default_factory=dict)  # sort name -> its order relation
    solver_options: Mapping[str, Any] = field(default_factory=dict)  # Z3 parameters
    finite_sizes: tuple[int, ...] = (2, 3)  # universe sizes tried when looking for a CTI

    def vocab(self, suffix: str = "") -> Vocab:
        decls = {s.name: s.decl() for s in self.rigid}
        decls.update({s.name: s.decl(suffix) for s in self.state})
        return Vocab(decls)

    def conjunct(self, name: str) -> Conjunct:
        for c in self.invariant:
            if c.name == name:
                return c
        raise KeyError(name)


# -- finite structures and the evaluator --------------------------------------------------------

@dataclass
class Structure:
    """A finite interpretation: elements per sort and a table per symbol.

    ``tables[name]`` is a ``set`` of argument tuples for a relation, a ``dict`` from argument
    tuples to elements for a function, and an element for a constant.
    """

    universe: dict[str, list[str]]
    tables: dict[str, Any]

    def env(self) -> dict[str, Any]:
        out = {f"#U:{s}": tuple(es) for s, es in self.universe.items()}
        out.update(self.tables)
        return out


def compile_formula(f: z3.ExprRef) -> Callable[[Mapping[str, Any]], Any]:
    """A Python function evaluating ``f`` on ``Structure.env()``; quantifiers range over the
    structure's universes (first-order formulas over uninterpreted sorts and Booleans only)."""
    names: list[str] = []
    code = _gen(f, [], names)
    src = f"lambda S: {code}"
    return eval(src, {"__builtins__": {"all": all, "any": any, "len": len}})  # noqa: S307 - generated here


def evaluate(f: z3.ExprRef, structure: Structure) -> bool:
    return bool(compile_formula(f)(structure.env()))


_ARITH = {z3.Z3_OP_ADD: "+", z3.Z3_OP_SUB: "-", z3.Z3_OP_MUL: "*", z3.Z3_OP_IDIV: "//",
          z3.Z3_OP_MOD: "%", z3.Z3_OP_LE: "<=", z3.Z3_OP_LT: "<", z3.Z3_OP_GE: ">=",
          z3.Z3_OP_GT: ">"}


def _gen(e: z3.ExprRef, env: list[str], names: list[str]) -> str:
    if z3.is_var(e):
        return env[-1 - z3.get_var_index(e)]
    if z3.is_quantifier(e):
        if e.is_lambda():
            raise ValueError("lambda terms are not first-order formulas")
        fresh = [f"x{len(env) + i}" for i in range(e.num_vars())]
        body = _gen(e.body(), env + fresh, names)
        loops = " ".join(f"for {v} in S[{('#U:' + e.var_sort(i).name())!r}]"
                         for i, v in enumerate(fresh))
        return f"{'all' if e.is_forall() else 'any'}(({body}) {loops})"
    if z3.is_true(e):
        return "True"
    if z3.is_false(e):
        return "False"
    if z3.is_int_value(e):
        return str(e.as_long())
    k = e.decl().kind()
    args = [_gen(c, env, names) for c in e.children()]
    if k == z3.Z3_OP_AND:
        return "(" + " and ".join(args) + ")" if args else "True"
    if k == z3.Z3_OP_OR:
        return "(" + " or ".join(args) + ")" if args else "False"
    if k == z3.Z3_OP_NOT:
        return f"(not {args[0]})"
    if k == z3.Z3_OP_IMPLIES:
        return f"((not {args[0]}) or {args[1]})"
    if k in (z3.Z3_OP_EQ, z3.Z3_OP_IFF):
        return f"({args[0]} == {args[1]})"
    if k == z3.Z3_OP_XOR:
        return f"({args[0]} != {args[1]})"
    if k == z3.Z3_OP_DISTINCT:
        return f"(len({{{', '.join(args)}}}) == {len(args)})"
    if k == z3.Z3_OP_ITE:
        return f"({args[1]} if {args[0]} else {args[2]})"
    if k in _ARITH:
        return "(" + f" {_ARITH[k]} ".join(args) + ")"
    if k == z3.Z3_OP_UMINUS:
        return f"(-{args[0]})"
    if k == z3.Z3_OP_UNINTERPRETED:
        name = e.decl().name()
        if not args:
            return f"S[{name!r}]"
        tup = "(" + ", ".join(args) + ",)"
        if z3.is_bool(e):
            return f"({tup} in S[{name!r}])"
        return f"S[{name!r}][{tup}]"
    raise ValueError(f"cannot evaluate {e.decl().name()} on a finite structure")


@dataclass(frozen=True)
class SymbolicSystem:
    fresh: Callable[[int], Any]                       # step index -> that step's variables
    init: Callable[[Any], z3.BoolRef]
    trans: Callable[[Any, Any], z3.BoolRef]
    bad: Callable[[Any], z3.BoolRef]
    decode: Callable[[z3.ModelRef, Any], Any]         # Z3 model, step variables -> a state
