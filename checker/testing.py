"""Assertions for pytest (or any test runner): "this model, at these bounds, satisfies these
properties" — with the counterexample as the failure message.

For example::

    from paxchain.checker.testing import assert_holds, assert_violated

    def test_paxos_is_safe():
        assert_holds("lamport-paxos", params={"acceptors": 3, "max_ballot": 1},
                     properties=["agreement"])

    def test_small_quorums_break_agreement():
        trace = assert_violated("lamport-paxos", "agreement", variant="small_quorums")
        assert len(trace.steps) - 1 == 8

Contracts: ``assert_holds`` passes only on an exhaustive search within the given bounds (an
incomplete search fails unless ``allow_incomplete=True``, and even then nothing violated may
be found); it returns the ``Result``. ``assert_violated`` passes only when the property is
violated and returns the trace. Every ``AssertionError`` message holds the model, the bounds,
the statistics and, where there is one, the trace text (``paxchain.checker.render_text.trace_text``).
Bad model names, parameters or properties raise ``paxchain.models.errors.UserError``, not
``AssertionError``: a typo is not a verdict. Failures are ``CheckFailure`` (an
``AssertionError``); with the pytest plugin (``pytest -p checker.pytest_plugin
--paxchain-traces DIR``) each failing test's trace is also written to DIR in every format.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from paxchain.models import registry
from paxchain.models.errors import UserError
from paxchain.checker.explicit import check as _check
from paxchain.models.model import Model
from paxchain.models.properties import LIVENESS, SOMETIMES, Kind
from paxchain.specs.model_properties import properties_of
from paxchain.checker.explicit import DEADLOCK
from paxchain.checker.render_text import trace_text
from paxchain.checker.steps import Stuck, follow, shows
from paxchain.checker.result import HOLDS, INCOMPLETE, VIOLATED, Options, Result
from paxchain.checker.trace import Trace

__all__ = ["assert_holds", "assert_violated", "assert_reached", "assert_run_keeps",
           "assert_run_reaches", "run", "CheckFailure"]


class CheckFailure(AssertionError):
    """A failed ``assert_*``: the message is the readable report; ``trace`` (a violation's
    trace, or None) and ``result`` (the search's; None for a replayed run) are kept for tools
    such as ``paxchain.checker.pytest_plugin``."""

    def __init__(self, message: str, result: Result | None, trace: Trace | None = None) -> None:
        super().__init__(message)
        self.result = result
        self.trace = trace


def _model(model: str | Model, params: Mapping[str, Any] | None, variant: str | None) -> Model:
    if isinstance(model, Model):
        if params or variant:
            raise UserError("params and variant go with a model name, not a Model instance")
        return model
    return registry.build(model, {k: str(v) for k, v in (params or {}).items()}, variant)


def run(model: str | Model, *, params: Mapping[str, Any] | None = None,
        variant: str | None = None, properties: Iterable[str] | None = None,
        max_depth: int | None = None, max_states: int | None = None,
        time_limit: float | None = None, symmetry: bool = False, strategy: str = "bfs",
        keep_going: bool = True) -> Result:
    """Search ``model`` (a registry name or a ``Model``) and return the ``Result``."""
    m = _model(model, params, variant)
    opts = Options(strategy=strategy, max_depth=max_depth, max_states=max_states,
                   time_limit=time_limit, symmetry=symmetry, keep_going=keep_going,
                   only=tuple(properties) if properties is not None else None)
    try:
        return _check(m, opts)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _stats(result: Result) -> str:
    lines = [f"model: {result.model}", f"bounds: {result.options.bounds_text()}",
             f"stats: {result.stats.line()}"]
    if result.stopped_by:
        lines.append(f"stopped by: {result.stopped_by}")
    lines += [f"  {p.name}: {p.verdict}" + (f" ({p.detail})" if p.detail else "")
              for p in result.properties]
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines)


def assert_holds(model: str | Model, *, allow_incomplete: bool = False,
                 **kwargs: Any) -> Result:
    """Assert that every (selected) property holds; see the module docstring."""
    result = run(model, **kwargs)
    broken = result.violations()
    if broken:
        p = broken[0]
        text = trace_text(p.trace, None) if p.trace is not None else (p.detail or "")
        raise CheckFailure(f"{p.name} ({p.kind}) is violated\n{_stats(result)}\n\n{text}",
                           result, p.trace)
    if result.verdict == INCOMPLETE and not allow_incomplete:
        raise CheckFailure(f"the search was incomplete ({result.stopped_by}): no violation "
                           f"found, but that is not 'holds'\n{_stats(result)}", result)
    assert result.verdict in (HOLDS, INCOMPLETE)
    return result


def assert_violated(model: str | Model, prop: str, **kwargs: Any) -> Trace:
    """Assert that ``prop`` is violated; return its (shortest, under BFS) trace."""
    kwargs.setdefault("properties", [prop])
    kwargs.setdefault("keep_going", False)
    result = run(model, **kwargs)
    p = result.get(prop)
    if p.verdict != VIOLATED or p.trace is None:
        why = "it holds" if p.verdict == HOLDS else f"the search was {p.verdict}"
        raise CheckFailure(f"expected {prop} to be violated, but {why}\n{_stats(result)}", result)
    return p.trace


def assert_reached(model: str | Model, goal: str, **kwargs: Any) -> Trace:
    """Assert that the sometimes-goal ``goal`` is reached; return the witness trace."""
    kwargs.setdefault("properties", [goal])
    result = run(model, **kwargs)
    p = result.get(goal)
    if p.kind != SOMETIMES:
        raise UserError(f"{goal} is a {p.kind} property, not a sometimes goal")
    if p.verdict != HOLDS or p.trace is None:
        why = ("no reachable state satisfies it" if p.verdict == VIOLATED
               else f"the search was {p.verdict}")
        raise CheckFailure(f"goal {goal} not reached: {why}\n{_stats(result)}", result)
    return p.trace


def _run_of(model: str | Model, steps: Iterable[str], params: Mapping[str, Any] | None,
            variant: str | None) -> tuple[Model, list | Stuck]:
    m = _model(model, params, variant)
    return m, follow(m, list(steps))


def assert_run_keeps(model: str | Model, prop: str, steps: Iterable[str], *,
                     params: Mapping[str, Any] | None = None,
                     variant: str | None = None) -> None:
    """Assert that the run ``steps`` (label texts, from an initial state) does not break
    ``prop`` (``deadlock_free``: does not end in a deadlock).

    The regression test printed for a counterexample (``paxchain.checker.render_pytest``): it
    fails while the run still exists and still breaks the property, with the trace as the
    message. It passes once the property holds along the run, *or once a step is no longer
    enabled* (the code changed so that this run cannot happen): like a Hypothesis example, it
    pins one run, not the property — the model checker checks the property.
    """
    m, run_ = _run_of(model, steps, params, variant)
    if isinstance(run_, Stuck):
        return
    if prop == DEADLOCK:
        if any(True for _ in m.successors(run_[-1].state)):
            return
        trace = Trace(m, prop, Kind.DEADLOCK, "the run ends in a deadlock", run_)
    else:
        p = next((q for q in properties_of(m) if q.name == prop), None)
        if p is None:
            raise UserError(f"{m.name} has no property {prop!r}")
        if p.kind == SOMETIMES:
            raise UserError(f"{prop} is a goal: use assert_run_reaches")
        if p.kind in LIVENESS:
            raise UserError(f"{prop} is a {p.kind} property: no finite run breaks it")
        at = shows(p, run_)
        if at is None:
            return
        trace = Trace(m, prop, p.kind, p.summary, run_[:at + 1])
    raise CheckFailure(f"the run still breaks {prop}\n\n{trace_text(trace, None)}",
                       None, trace)


def assert_run_reaches(model: str | Model, goal: str, steps: Iterable[str], *,
                       params: Mapping[str, Any] | None = None,
                       variant: str | None = None) -> None:
    """Assert that the run ``steps`` exists and reaches the sometimes-goal ``goal``: the test
    printed for a witness. It fails, naming the step, when the run is no longer possible."""
    m, run_ = _run_of(model, steps, params, variant)
    if isinstance(run_, Stuck):
        raise AssertionError(f"step {run_.index}: {run_.text} is not enabled in {m.describe()}")
    p = next((q for q in properties_of(m) if q.name == goal and q.kind == SOMETIMES), None)
    if p is None:
        raise UserError(f"{m.name} has no sometimes goal {goal!r}")
    if shows(p, run_) is None:
        raise AssertionError(f"the run of {len(run_) - 1} steps does not reach {goal}")
