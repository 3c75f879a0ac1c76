"""Bounded model checking with Z3: unroll a symbolic transition system k steps.

A ``SymbolicSystem`` (``paxchain.specs.z3_vocabulary``) gives fresh Z3 variables for one step,
the initial-state and transition formulas over them, the "bad" formula of the property being
checked and a decoder from a Z3 model back to the model's own explicit state. ``unroll`` asserts
``init(s0) ∧ trans(s0, s1) ∧ …`` incrementally and, at each depth ``k = 0, 1, …, max_depth``,
asks whether ``bad(sk)`` is satisfiable; the first satisfiable depth is therefore the length of a
*shortest* violation.

No violation up to ``max_depth`` is a bounded statement, not a proof: the result says so
(``verdict`` is ``"none_up_to_depth"``) and ``BmcResult.checked`` is the deepest ``k`` proved
free of violations. A solver ``unknown`` or timeout stops the search with verdict ``"unknown"``.
Nothing here knows any protocol (as in mypyvy's ``check_bmc``).

Limits and Ctrl-C: every ``unroll`` of one run shares a ``Budget`` (``budget_scope`` makes it
current, so encodings that call ``unroll`` need not pass it on). Each solver call gets at most
the time left before the deadline, the memory limit is read between depths, and Ctrl-C — which
Z3 turns into an ``unknown`` ("canceled") answer of the running call — stops the budget, so
every later ``unroll`` of the run returns at once. ``check`` runs a model's properties this way
(the engine behind ``paxchain check --engine bmc`` and the gate's ``engine = "bmc"``) and
reports, per property, the depth it actually reached.
"""

from __future__ import annotations

import contextvars
import importlib
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import z3

from paxchain.checker.progress import over_memory
from paxchain.checker.report import stop_text
from paxchain.checker.result import (HOLDS, INCOMPLETE, STOP_INTERRUPTED, STOP_MAX_DEPTH,
                            STOP_MEMORY_LIMIT, STOP_OUT_OF_MEMORY, STOP_SOLVER_UNKNOWN,
                            STOP_TIME_LIMIT, VIOLATED, Options, PropertyResult, Result, Stats)
from paxchain.checker.trace import Step, Trace
from paxchain.specs.model_properties import properties_of
from paxchain.specs.z3_vocabulary import SymbolicSystem

if TYPE_CHECKING:
    from paxchain.models.model import Model

__all__ = ["BmcResult", "Budget", "budget_scope", "unroll", "check", "run_bmc",
           "encoding_module", "bmc_properties", "VIOLATION", "NONE_UP_TO_DEPTH", "UNKNOWN"]

VIOLATION, NONE_UP_TO_DEPTH, UNKNOWN = "violation", "none_up_to_depth", "unknown"


@dataclass
class BmcResult:
    verdict: str
    depth: int | None = None                          # length of the violation found
    states: list[Any] | None = None                   # decoded states s0 .. s_depth
    per_depth: list[tuple[int, float]] = field(default_factory=list)  # (depth, seconds)
    reason: str = ""
    checked: int | None = None                        # deepest k proved free of violations

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "depth": self.depth, "reason": self.reason,
                "checked_depth": self.checked,
                "per_depth_seconds": [[k, round(t, 4)] for k, t in self.per_depth]}


@dataclass
class Budget:
    """What one BMC run may still spend, shared by all its ``unroll`` calls.

    ``deadline`` is a ``time.monotonic()`` instant, ``memory_limit`` megabytes of resident
    memory. Once ``stopped_by`` is set (time limit, memory, Ctrl-C) the run is over: every
    later ``unroll`` returns ``unknown`` without calling the solver. ``runs`` records each
    ``unroll``'s result, in order, so a caller sees the depth each one reached."""

    deadline: float | None = None
    memory_limit: float | None = None
    stopped_by: str | None = None
    runs: list[BmcResult] = field(default_factory=list)
    progress: Callable[[str], None] | None = None     # gets a line at most every ``interval``
    interval: float = 1.0
    label: str = ""                                   # what is being unrolled, for progress
    _reported: float = field(default_factory=time.monotonic)

    def over(self) -> str | None:
        """The reason to stop before the next solver call, if any (and remember it)."""
        if self.stopped_by is None:
            if self.deadline is not None and time.monotonic() >= self.deadline:
                self.stopped_by = STOP_TIME_LIMIT
            elif over_memory(self.memory_limit):
                self.stopped_by = STOP_MEMORY_LIMIT
        return self.stopped_by

    def decided(self, k: int) -> None:
        """Depth ``k`` was proved free of violations: tell ``progress``, if it is time to."""
        now = time.monotonic()
        if self.progress is not None and now - self._reported >= self.interval:
            self._reported = now
            self.progress(f"bounded model checking: {self.label or 'property'} has no "
                          f"violation up to depth {k}")

    def call_timeout_ms(self, timeout_ms: int | None) -> int | None:
        """The solver timeout for the next call: ``timeout_ms`` capped by the time left."""
        if self.deadline is None:
            return timeout_ms
        left = max(1, int((self.deadline - time.monotonic()) * 1000))
        return left if timeout_ms is None else min(left, timeout_ms)


_BUDGET: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("bmc_budget",
                                                                         default=None)


@contextmanager
def budget_scope(budget: Budget) -> Iterator[Budget]:
    """Make ``budget`` the one every ``unroll`` inside the ``with`` block uses."""
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


def unroll(system: SymbolicSystem, max_depth: int, timeout_ms: int | None = None,
           budget: Budget | None = None) -> BmcResult:
    """Search for a violation of length 0..``max_depth``; see the module docstring.

    ``timeout_ms`` bounds each solver call; ``budget`` (default: the current one, else none)
    bounds the whole run. Never raises for Ctrl-C or lack of memory: the result is ``unknown``
    and the budget's ``stopped_by`` says why."""
    if max_depth < 0:
        raise ValueError("max_depth must be >= 0")
    budget = budget or _BUDGET.get() or Budget()
    result = BmcResult(NONE_UP_TO_DEPTH)
    budget.runs.append(result)
    try:
        with _ctrl_c_stops(budget):
            _unroll(system, max_depth, timeout_ms, budget, result)
    except KeyboardInterrupt:
        budget.stopped_by = STOP_INTERRUPTED
    except MemoryError:
        budget.stopped_by = STOP_OUT_OF_MEMORY
    except z3.Z3Exception as exc:
        if "memory" not in str(exc).lower():
            raise
        budget.stopped_by = STOP_OUT_OF_MEMORY
    if budget.stopped_by is not None and result.verdict != VIOLATION:
        result.verdict, result.reason = UNKNOWN, budget.stopped_by
    return result


@contextmanager
def _ctrl_c_stops(budget: Budget) -> Iterator[None]:
    """Ctrl-C sets ``budget.stopped_by`` instead of raising ``KeyboardInterrupt``: a
    KeyboardInterrupt that lands in a z3 object's ``__del__`` is printed and swallowed by Python,
    and the run would go on as if nothing happened. The flag is read before every solver call;
    during a call, Z3's own handler cancels it ("canceled", see ``_why_canceled``). Installed
    only over Python's default handler, in the main thread (a caller that handles SIGINT itself,
    such as the gate ignoring a second Ctrl-C, keeps its handler)."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        budget.stopped_by = budget.stopped_by or STOP_INTERRUPTED

    old = signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _unroll(system: SymbolicSystem, max_depth: int, timeout_ms: int | None, budget: Budget,
            result: BmcResult) -> None:
    if budget.over():
        return
    s = z3.Solver()
    steps = [system.fresh(0)]
    s.add(system.init(steps[0]))
    for k in range(max_depth + 1):
        t0 = time.perf_counter()
        if k > 0:
            steps.append(system.fresh(k))
            s.add(system.trans(steps[k - 1], steps[k]))
        if budget.over():
            return
        call_ms = budget.call_timeout_ms(timeout_ms)
        if call_ms is not None:
            s.set("timeout", call_ms)
        s.push()
        s.add(system.bad(steps[k]))
        started = time.monotonic()
        r = s.check()
        if r == z3.sat:
            model = s.model()
            result.states = [system.decode(model, v) for v in steps]
            result.verdict, result.depth = VIOLATION, k
        elif r == z3.unsat:
            result.checked = k
            budget.decided(k)
        else:
            result.verdict, result.reason = UNKNOWN, str(s.reason_unknown())
            if result.reason == "canceled":  # Z3's word for a timeout and for Ctrl-C alike
                _why_canceled(budget, result, call_ms, time.monotonic() - started)
        s.pop()
        result.per_depth.append((k, time.perf_counter() - t0))
        if r != z3.unsat:
            return


def _why_canceled(budget: Budget, result: BmcResult, call_ms: int | None,
                  seconds: float) -> None:
    """Tell a solver call cut by its timeout from one cut by Ctrl-C (Z3 says "canceled" for
    both): the deadline stops the whole run, a per-call timeout only this unrolling, and
    anything else was an interrupt, which stops the whole run."""
    slack = 0.05
    if budget.deadline is not None and time.monotonic() >= budget.deadline - slack:
        budget.stopped_by = STOP_TIME_LIMIT
    elif call_ms is not None and seconds >= call_ms / 1000 - slack:
        result.reason = "timeout"
    else:
        budget.stopped_by = STOP_INTERRUPTED


# -- a model's properties, as a ``Result`` -----------------------------------------------------

def encoding_module(model_name: str):
    """The module ``specs/<model>_bmc.py`` (it offers ``symbolic(model, property_name)``,
    ``PROPERTIES`` and ``GOALS``), or None when the model has no BMC encoding."""
    try:
        module = importlib.import_module(f"paxchain.specs.{model_name.replace('-', '_')}_bmc")
    except ModuleNotFoundError:
        return None
    return module if hasattr(module, "symbolic") else None


def bmc_properties(model_name: str) -> tuple[str, ...] | None:
    """The properties (invariants, then goals) the model's BMC encoding
    (``specs/<model>_bmc.py``) can check, or None when it has none."""
    mod = encoding_module(model_name)
    if mod is None:
        return None
    return tuple(getattr(mod, "PROPERTIES", ())) + tuple(getattr(mod, "GOALS", ()))


def _encoding(model: Model):
    """``encoding_module`` of ``model``; ``ValueError`` when it has none."""
    module = encoding_module(model.name)
    if module is None:
        name = model.name.replace("-", "_")
        raise ValueError(f"no bounded model checking for {model.name} (it needs "
                         f"specs/{name}_bmc.py)")
    return module


def run_bmc(model: Model, property_name: str, depth: int,
            timeout_ms: int | None = None) -> tuple[str, Trace | None, list[tuple[int, float]]]:
    """Bounded model checking of ``model`` for one state invariant or goal of its encoding.

    Returns ``(verdict, trace, per_depth_times)``: ``"violated"`` with a shortest trace of real
    labelled states (its JSON replays with ``paxchain.checker.trace.replay``), or
    ``"incomplete"`` with ``None`` when no violation exists up to ``depth`` (a bounded claim) or
    the solver gave up. For a goal: ``"holds"`` with a shortest witness trace, or
    ``"incomplete"`` when it is not reached up to ``depth``. ``UserError``: a property the
    encoding does not handle."""
    return _run(_encoding(model), model, property_name, depth, timeout_ms)


def _run(module, model: Model, property_name: str, depth: int,
         timeout_ms: int | None) -> tuple[str, Trace | None, list[tuple[int, float]]]:
    """``run_bmc`` with the encoding ``module``: unroll, then rebuild the satisfying path as a
    trace of the explicit model by finding each step's labelled successor."""
    result = unroll(module.symbolic(model, property_name), depth, timeout_ms)
    if result.verdict != VIOLATION:
        return INCOMPLETE, None, result.per_depth
    goal = property_name in module.GOALS
    prop = next(p for p in properties_of(model) if p.name == property_name)
    steps = [Step(None, result.states[0])]
    for i, state in enumerate(result.states[1:], start=1):
        found = [lb for lb, t in model.successors(steps[-1].state) if t == state]
        if not found:
            raise RuntimeError(f"bmc step {i} is not a transition of the explicit model: "
                               f"the encoding {module.__name__} and the model disagree")
        steps.append(Step(found[0], state))
    explanation = prop.explain(steps[-1].state) if prop.explain and not goal else ""
    trace = Trace(model, prop.name, prop.kind, prop.summary, steps, explanation)
    return (HOLDS if goal else VIOLATED), trace, result.per_depth


def check(model: Model, names: tuple[str, ...] | None, depth: int, *,
          time_limit: float | None = None, memory_limit: float | None = None,
          progress: Callable[[str], None] | None = None, progress_interval: float = 1.0
          ) -> Result:
    """Bounded model checking of ``names`` (default: every property) of ``model`` to
    ``depth``, within one time and memory budget, as a ``Result`` like the explicit engine's.

    An invariant violated within the depth is *violated* with a shortest trace; a goal reached
    is *holds* with a shortest witness; anything else is *incomplete*, with
    ``checked_depth`` the depth that property really reached (no violation in any run of up to
    that many steps) — less than ``depth`` when the time limit, the memory limit, Ctrl-C or the
    solver stopped it. After a stop the remaining properties are not checked at all.
    ``progress`` gets a line at most every ``progress_interval`` seconds.
    ``ValueError``: no encoding, an unknown property name, or nothing to check."""
    module = _encoding(model)
    known = {p.name: p for p in properties_of(model)}
    wanted = list(names) if names is not None else list(known)
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise ValueError(f"unknown property {unknown[0]!r} for {model.name}; known: "
                         f"{', '.join(sorted(known))}")
    if not wanted:
        raise ValueError(f"nothing to check in {model.describe()}: no property is selected")
    goals = tuple(module.GOALS)
    encoded = tuple(module.PROPERTIES) + goals
    start = time.monotonic()
    budget = Budget(None if time_limit is None else start + time_limit, memory_limit,
                    progress=progress, interval=progress_interval)
    results = [PropertyResult(n, known[n].kind, known[n].summary) for n in wanted]
    for r in results:
        if r.name not in encoded:
            r.detail = "bounded model checking handles state invariants and goals only"
        elif budget.stopped_by:
            r.detail = f"not checked: {stop_text(budget.stopped_by)}"
        else:
            _check_one(module, model, r, depth, r.name in goals, budget)
    bounded = [r.checked_depth for r in results if r.verdict == INCOMPLETE and
               r.name in encoded and r.checked_depth is not None]
    stats = Stats(depth=max(bounded, default=0), seconds=time.monotonic() - start,
                  checked_depth=min(bounded) if bounded else None)
    stopped = budget.stopped_by
    if stopped is None and any(r.verdict == INCOMPLETE for r in results):
        solver = any(r.verdict == INCOMPLETE and r.checked_depth != depth and r.name in encoded
                     for r in results)
        stopped = STOP_SOLVER_UNKNOWN if solver else STOP_MAX_DEPTH
    opts = Options(strategy="bmc", max_depth=depth, time_limit=time_limit,
                   memory_limit=memory_limit, coverage=False)
    result = Result(model.describe(), opts, stats, results, stopped, None)
    result.engine = "bmc"
    return result


def _check_one(module, model: Model, r: PropertyResult, depth: int, goal: bool,
               budget: Budget) -> None:
    """Run the encoding ``module`` for ``r``'s property within ``budget`` and fill ``r`` in."""
    ran = len(budget.runs)
    budget.label = r.name
    with budget_scope(budget):
        try:
            r.verdict, r.trace, _ = _run(module, model, r.name, depth, None)
        except (KeyboardInterrupt, MemoryError) as exc:  # outside the solver: encoding...
            budget.stopped_by = (STOP_INTERRUPTED if isinstance(exc, KeyboardInterrupt)
                                 else STOP_OUT_OF_MEMORY)
            r.verdict, r.trace = INCOMPLETE, None
    run = budget.runs[-1] if len(budget.runs) > ran else BmcResult(UNKNOWN)
    r.detail = _detail(r, run, depth, goal, budget.stopped_by)
    if r.verdict == INCOMPLETE:
        r.checked_depth = run.checked


def _detail(r: PropertyResult, run: BmcResult, depth: int, goal: bool,
            stopped: str | None) -> str:
    """One property's line: what was found, or the depth that was really reached and why
    no deeper."""
    what = "witness" if goal else "violation"
    if r.trace is not None:
        return f"shortest {what} at depth {len(r.trace.steps) - 1}"
    none = "not reached in" if goal else "no violation in"
    if run.checked is None:
        claim = "no depth decided"
    else:
        claim = f"{none} any run of up to {run.checked} step{'s' if run.checked != 1 else ''}"
    if run.checked == depth:
        return claim + " (bounded model checking)"
    why = stop_text(stopped) if stopped else f"the solver answered unknown ({run.reason})"
    return f"{claim} of the {depth} asked: {why}"
