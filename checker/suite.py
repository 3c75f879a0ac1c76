"""The CI gate: run every check of a checks file (or the built-in suite) and judge each
against its expectation.

A check *passes* when:

- ``expect = "holds"``: no property is violated, every sometimes goal is reached, and — unless
  ``incomplete_fails = false`` — the search was exhaustive within its bounds (an incomplete
  search is reported as ``incomplete``, never as ``holds``); with ``fail_on_unfired`` also every
  action fired at least once;
- ``expect = "violated"``: the named property is violated (a trace exists). Incomplete is
  not violated, so a cut-short search fails such a check whatever ``incomplete_fails`` says.

``run_suite`` returns the exit code: 0 when every check passed, 3 when the only failures are
incomplete searches, 1 otherwise. Reports are written by ``checker.reports``.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import click

from checker.checks_file import CheckSpec, load
from checker.model import Model
from checker.properties import SOMETIMES
from checker.result import (HOLDS, INCOMPLETE, STOP_MAX_DEPTH, VIOLATED, Options,
                            PropertyResult, Result, Stats)

__all__ = ["run_suite", "run_checks", "run_one", "Outcome", "bmc_properties"]

Search = Callable[[Model, Options], Result]


@dataclass
class Outcome:
    """One check's result and judgement. ``verdict`` is the search's (for ``expect =
    "violated"``: the named property's); ``passed`` whether the expectation is met and ``why``
    says, in one line, why not (or what was tolerated)."""

    spec: CheckSpec
    model: str
    result: Result
    verdict: str
    passed: bool
    why: str = ""
    seconds: float = 0.0
    artifacts: dict[str, list[str]] = field(default_factory=dict)  # property -> files

    @property
    def warnings(self) -> list[str]:
        """Unfired actions; after a search cut short, qualified as such (they may fire later)."""
        ws = self.result.warnings
        if self.result.exhaustive:
            return ws
        return [f"{w} (before the search stopped: {self.result.stopped_by})" for w in ws]

    @property
    def states_text(self) -> str:
        """Distinct states searched, or what a BMC run covered (it enumerates no states)."""
        if self.spec.engine == "bmc":
            return f"bmc to depth {self.spec.max_depth}"
        return f"{self.result.stats.distinct:,} states"

    @property
    def incomplete_only(self) -> bool:
        return not self.passed and self.verdict == INCOMPLETE


# -- engines ---------------------------------------------------------------------------------

def _bmc_module(model_name: str):
    try:
        return importlib.import_module(f"models.{model_name.replace('-', '_')}_bmc")
    except ModuleNotFoundError:
        return None


def bmc_properties(model_name: str) -> tuple[str, ...] | None:
    """The properties (invariants, then goals) the model's BMC encoding
    (``models/<model>_bmc.py``) can check, or None when it has none."""
    mod = _bmc_module(model_name)
    if mod is None or not hasattr(mod, "run_bmc"):
        return None
    return tuple(getattr(mod, "PROPERTIES", ())) + tuple(getattr(mod, "GOALS", ()))


def _run_bmc(model: Model, spec: CheckSpec) -> Result:
    """BMC as a ``Result``. An invariant violated up to the depth is ``violated`` with a
    shortest trace, a goal reached ``holds`` with a shortest witness; anything else is
    ``incomplete`` (stopped by max_depth) — a bounded search never makes an invariant hold."""
    mod = _bmc_module(spec.model)
    names = spec.checked() if spec.checked() is not None else spec.sometimes
    timeout = int(spec.time_limit * 1000) if spec.time_limit else None
    start = time.monotonic()
    props = {p.name: p for p in model.properties()}
    results = []
    for name in names:
        verdict, trace, _ = mod.run_bmc(model, name, spec.max_depth, timeout)
        p = props[name]
        detail = ""
        if verdict == INCOMPLETE:
            detail = (f"not reached up to depth {spec.max_depth}" if p.kind == SOMETIMES
                      else f"no violation found up to depth {spec.max_depth}")
            if spec.time_limit:  # run_bmc also says incomplete when the solver gives up
                detail += " (or the solver ran out of time)"
        results.append(PropertyResult(name, p.kind, p.summary, verdict, trace, detail))
    stats = Stats(depth=spec.max_depth or 0, seconds=time.monotonic() - start)
    opts = Options(strategy="bmc", max_depth=spec.max_depth, time_limit=spec.time_limit,
                   coverage=False)
    stopped = STOP_MAX_DEPTH if any(r.verdict == INCOMPLETE for r in results) else None
    return Result(model.describe(), opts, stats, results, stopped, None)


def _options(base: Options, spec: CheckSpec) -> Options:
    """The check's own settings, falling back to the command line's."""
    def pick(mine, theirs):
        return mine if mine is not None else theirs
    only = spec.checked() if spec.checked() is not None else base.only
    return replace(base, strategy=spec.strategy if spec.strategy != "bfs" else base.strategy,
                   max_depth=pick(spec.max_depth, base.max_depth),
                   max_states=pick(spec.max_states, base.max_states),
                   time_limit=pick(spec.time_limit, base.time_limit),
                   symmetry=spec.symmetry or base.symmetry,
                   deadlock=spec.deadlock or base.deadlock, only=only,
                   # a holds check gives every property its own verdict; a violated one stops
                   keep_going=spec.expect == "holds", progress=None)


# -- judging ---------------------------------------------------------------------------------

def judge(spec: CheckSpec, result: Result) -> tuple[str, bool, str]:
    """``(verdict, passed, why)`` for ``result`` against ``spec``'s expectation."""
    warnings = result.warnings  # judged unqualified: unfired in what was searched
    if spec.expect == VIOLATED:
        got = result.get(spec.violates).verdict
        if got == VIOLATED:
            return got, True, ""
        if got == INCOMPLETE:
            return got, False, (f"expected {spec.violates} violated; the search was incomplete "
                                f"({result.stopped_by or 'undecided'}) without finding a violation")
        return got, False, f"expected {spec.violates} violated, but it holds"
    verdict = result.verdict
    broken = [p for p in result.properties if p.verdict == VIOLATED]
    if broken:
        names = ", ".join(p.name + (" (goal never reached)" if p.kind == SOMETIMES else "")
                          for p in broken)
        return verdict, False, f"violated: {names}"
    if verdict == INCOMPLETE:
        open_ = [p.name for p in result.properties if p.verdict == INCOMPLETE]
        why = f"incomplete ({result.stopped_by or 'undecided'}): " + (", ".join(open_) or "-")
        if spec.incomplete_fails:
            return verdict, False, why
        if spec.fail_on_unfired and warnings:
            return verdict, False, "; ".join(warnings)
        return verdict, True, why + " — tolerated (incomplete_fails = false)"
    if spec.fail_on_unfired and warnings:
        return verdict, False, "; ".join(warnings)
    return verdict, True, ""


def run_one(spec: CheckSpec, base: Options, search: Search) -> Outcome:
    """Build the check's model, search it and judge the result."""
    from models import registry

    model = registry.build(spec.model, spec.param_text(), spec.variant)
    start = time.monotonic()
    if spec.engine == "bmc":
        result = _run_bmc(model, spec)
    else:
        result = search(model, _options(base, spec))
    seconds = time.monotonic() - start
    verdict, passed, why = judge(spec, result)
    return Outcome(spec, model.describe(), result, verdict, passed, why, seconds)


def run_checks(checks: tuple[CheckSpec, ...], base: Options, search: Search,
               echo: Callable[[str], None] | None = None) -> list[Outcome]:
    outcomes = []
    for i, spec in enumerate(checks, start=1):
        o = run_one(spec, base, search)
        outcomes.append(o)
        if echo:
            echo(line_of(i, o))
    return outcomes


def line_of(i: int, o: Outcome) -> str:
    mark = "ok  " if o.passed else "FAIL"
    expect = o.spec.expect + (f" {o.spec.violates}" if o.spec.violates else "")
    sym = " (symmetry)" if o.spec.symmetry else ""
    text = (f"{mark} {i:2d}. {o.spec.name}: {o.model}{sym}: expected {expect}, got "
            f"{o.verdict} — {o.states_text}, {o.seconds:.2f} s")
    if o.why:
        text += f"\n        {o.why}"
    for w in o.warnings:
        text += f"\n        warning: {w}"
    return text


def exit_code(outcomes: list[Outcome]) -> int:
    failed = [o for o in outcomes if not o.passed]
    if not failed:
        return 0
    return 3 if all(o.incomplete_only for o in failed) else 1


def run_suite(base: Options, *, out: str | None, json_path: str | None,
              junit_path: str | None, summary_path: str | None, artifacts_dir: str | None,
              checks_file: str | None, search: Search) -> int:
    """Run every check (see the module docstring) and write the reports asked for.

    ``json_path`` ``"-"`` prints the JSON report on stdout instead of the text lines. ``out``
    is the older name of ``artifacts_dir`` (used when that is not given). Returns the exit code.
    """
    from checker import reports

    source = load(checks_file)
    as_json = json_path == "-"
    started = time.monotonic()
    outcomes = run_checks(source.checks, base, search, None if as_json else click.echo)
    total = time.monotonic() - started
    art = artifacts_dir or out
    if art:
        reports.write_artifacts(outcomes, art)
    run = reports.Run(source.origin, outcomes, total)
    if json_path and not as_json:
        reports.write_json(run, json_path)
    if junit_path:
        reports.write_junit(run, junit_path)
    if summary_path:
        reports.write_summary(run, summary_path, art)
    if as_json:
        click.echo(reports.json_text(run), nl=False)
    else:
        passed = sum(o.passed for o in outcomes)
        click.echo(f"\n{passed} of {len(outcomes)} checks passed ({source.origin}).")
    return exit_code(outcomes)
