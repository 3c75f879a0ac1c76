"""The CI gate: run every check of a checks file and judge each against its expectation.

A check *passes* when:

- ``expect = "holds"``: no property is violated, every sometimes goal is reached, and — unless
  ``incomplete_fails = false`` — the search was exhaustive within its bounds (an incomplete
  search is reported as ``incomplete``, never as ``holds``); with ``fail_on_unfired`` also every
  action fired at least once;
- ``expect = "violated"``: the named property is violated (a trace exists). Incomplete is
  not violated, so a cut-short search fails such a check whatever ``incomplete_fails`` says.

A tolerated incomplete is one cut short by the check's *own* bounds (depth, states, time).
Ctrl-C, ``--memory-limit`` and running out of memory come from outside the check: such a check
never passes, whatever ``incomplete_fails`` says.

A check tagged ``slow = true`` runs only when the gate is asked for them (``paxchain check
--slow``); otherwise it is listed as *not run (slow)* (``SKIPPED_SLOW``): never passed, never
failed, and it does not change the exit code.

The first Ctrl-C stops the whole gate: the running check ends *interrupted* (its partial
result kept), every check after it is listed as *not run* (``NOT_RUN``, never passed), and the
reports are still written, whole (a second Ctrl-C while they are written is ignored).

``run_suite`` returns the exit code: 0 when every check that ran passed (none skipped as
slow counts against it) and the gate was not interrupted, 1 when a check failed
for a reason other than an incomplete search (a confirmed violation, a broken expectation), and
3 otherwise — the only failures are incomplete searches, or the gate was interrupted.
Reports are written by ``paxchain.checker.reports``.
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from collections.abc import Callable, Iterator

from paxchain.checker import bmc, reports
from paxchain.checker.checks_file import CheckSpec, load
from paxchain.checker.cli import echo as safe_echo
from paxchain.checker.cli import verdict as record_verdict
from paxchain.checker.progress import progress_label
from paxchain.models import registry
from paxchain.models.errors import UserError
from paxchain.models.model import Model
from paxchain.models.properties import SOMETIMES
from paxchain.checker.result import (HOLDS, INCOMPLETE, STOP_INTERRUPTED, STOP_MAX_DEPTH,
                            STOP_OUT_OF_MEMORY, STOPS_FROM_OUTSIDE, VIOLATED, Options, Result,
                            Stats, Strategy)

__all__ = ["run_suite", "run_checks", "run_one", "Outcome", "NOT_RUN",
           "SKIPPED_SLOW"]

NOT_RUN = "not run"  # an Outcome's verdict when the gate stopped before the check
SKIPPED_SLOW = "not run (slow)"  # a check tagged slow = true, in a gate run without --slow
STOP_SKIPPED_SLOW = "skipped_slow"  # its result's stopped_by: nothing searched, not exhaustive

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
    def ran(self) -> bool:
        return self.verdict not in (NOT_RUN, SKIPPED_SLOW)

    @property
    def skipped_slow(self) -> bool:
        """Tagged slow and not asked for: not run, and no failure of the gate."""
        return self.verdict == SKIPPED_SLOW

    @property
    def interrupted(self) -> bool:
        return self.result.stopped_by == STOP_INTERRUPTED

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
        if not self.ran:
            return self.verdict
        if self.spec.engine == "bmc":
            if self.result.stopped_by in (None, STOP_MAX_DEPTH):
                return f"bmc to depth {self.spec.max_depth}"
            reached = self.result.stats.checked_depth  # cut short: say how far it got
            return f"bmc to depth {'-' if reached is None else reached} of {self.spec.max_depth}"
        return f"{self.result.stats.distinct:,} states"

    @property
    def incomplete_only(self) -> bool:
        """Failed only for want of a complete search (or never ran): exit 3, not 1."""
        return not self.passed and self.verdict in (INCOMPLETE, NOT_RUN)


# -- engines ---------------------------------------------------------------------------------

def _run_bmc(model: Model, spec: CheckSpec, base: Options) -> Result:
    """BMC as a ``Result`` (``paxchain.checker.bmc.check``): an invariant violated up to the depth is
    ``violated`` with a shortest trace, a goal reached ``holds`` with a shortest witness;
    anything else is ``incomplete`` — a bounded search never makes an invariant hold. The
    check's ``time_limit`` (else the command line's) bounds the whole run; so does
    ``--memory-limit``."""
    names = spec.checked() if spec.checked() is not None else spec.sometimes
    time_limit = spec.time_limit if spec.time_limit is not None else base.time_limit
    try:
        return bmc.check(model, tuple(names), spec.max_depth or 0, time_limit=time_limit,
                         memory_limit=base.memory_limit)
    except ValueError as exc:  # checks_file validated this; a model changed underneath
        raise UserError(f"check {spec.name!r}: {exc}") from None


def _options(base: Options, spec: CheckSpec) -> Options:
    """The check's own settings, falling back to the command line's."""
    def pick(mine, theirs):
        return mine if mine is not None else theirs
    only = spec.checked() if spec.checked() is not None else base.only
    strategy = spec.strategy if spec.strategy != Strategy.BFS else base.strategy
    return replace(base, strategy=strategy,
                   max_depth=pick(spec.max_depth, base.max_depth),
                   max_states=pick(spec.max_states, base.max_states),
                   time_limit=pick(spec.time_limit, base.time_limit),
                   symmetry=spec.symmetry or base.symmetry,
                   deadlock=spec.deadlock or base.deadlock, only=only,
                   # a holds check gives every property its own verdict; a violated one stops
                   keep_going=spec.expect == HOLDS, progress=None)


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
        if spec.incomplete_fails or result.stopped_by in STOPS_FROM_OUTSIDE:
            return verdict, False, why
        if spec.fail_on_unfired and warnings:
            return verdict, False, "; ".join(warnings)
        return verdict, True, why + " — tolerated (incomplete_fails = false)"
    if spec.fail_on_unfired and warnings:
        return verdict, False, "; ".join(warnings)
    return verdict, True, ""


def run_one(spec: CheckSpec, base: Options, search: Search) -> Outcome:
    """Build the check's model, search it and judge the result."""
    model = registry.build(spec.model, spec.param_text(), spec.variant)
    start = time.monotonic()
    if spec.engine == "bmc":
        result = _run_bmc(model, spec, base)
    else:
        result = search(model, _options(base, spec))
    seconds = time.monotonic() - start
    verdict, passed, why = judge(spec, result)
    return Outcome(spec, model.describe(), result, verdict, passed, why, seconds)


def run_checks(checks: tuple[CheckSpec, ...], base: Options, search: Search,
               echo: Callable[[str], None] | None = None, slow: bool = False) -> list[Outcome]:
    """An outcome for every check, in order. Checks tagged slow run only with ``slow``; the
    others are ``SKIPPED_SLOW`` outcomes. After an interrupt (Ctrl-C inside a check's search,
    or anywhere else while it runs) the rest are ``NOT_RUN`` outcomes."""
    outcomes: list[Outcome] = []
    stopped = False
    for i, spec in enumerate(checks, start=1):
        try:
            if spec.slow and not slow:
                o = _not_run(spec, SKIPPED_SLOW, "slow: not run (--slow runs it)")
            elif stopped:
                o = _not_run(spec, NOT_RUN, "not run: the gate was interrupted")
            else:
                with progress_label(f"[{i}/{len(checks)}] {spec.name}"):
                    o = run_one(spec, base, search)
        except KeyboardInterrupt:
            o = _not_run(spec, INCOMPLETE, "incomplete (interrupted)")
        except MemoryError:  # outside the engine, which handles its own: the next may fit
            o = _not_run(spec, INCOMPLETE, "incomplete (out_of_memory)", STOP_OUT_OF_MEMORY)
        outcomes.append(o)
        stopped = stopped or o.interrupted
        try:
            if echo:
                echo(line_of(i, o))
        except KeyboardInterrupt:  # between two checks: the next one is not started
            stopped = True
    return outcomes


def _not_run(spec: CheckSpec, verdict: str, why: str, stop: str = STOP_INTERRUPTED) -> Outcome:
    """A check stopped (by ``stop``) before it had a result (``INCOMPLETE``), never started
    because the gate was interrupted (``NOT_RUN``), or skipped as slow (``SKIPPED_SLOW``);
    nothing was checked, so nothing passed."""
    result = Result(spec.model, Options(), Stats(), [],
                    STOP_SKIPPED_SLOW if verdict == SKIPPED_SLOW else stop)
    return Outcome(spec, spec.model, result, verdict, False, why)


def line_of(i: int, o: Outcome) -> str:
    tolerated = o.passed and o.verdict == INCOMPLETE  # shown as incomplete, not as a pass
    mark = "inc " if tolerated else "ok  " if o.passed else "FAIL" if o.ran else "----"
    expect = o.spec.expect + (f" {o.spec.violates}" if o.spec.violates else "")
    sym = " (symmetry)" if o.spec.symmetry else ""
    if not o.ran:
        return f"{mark} {i:2d}. {o.spec.name}: {o.model}: expected {expect}, {o.why}"
    text = (f"{mark} {i:2d}. {o.spec.name}: {o.model}{sym}: expected {expect}, got "
            f"{o.verdict} — {o.states_text}, {o.seconds:.2f} s")
    if o.why:
        text += f"\n        {o.why}"
    for w in o.warnings:
        text += f"\n        warning: {w}"
    return text


def exit_code(outcomes: list[Outcome]) -> int:
    """0 every check ran and passed (checks skipped as slow aside); 1 a check failed outright;
    else 3 (incomplete)."""
    failed = [o for o in outcomes if not o.passed and not o.skipped_slow]
    if not failed:
        return 0
    return 3 if all(o.incomplete_only for o in failed) else 1


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore Ctrl-C inside the block (reports are written whole); a no-op off the main
    thread, where signal handlers cannot be set."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def run_suite(base: Options, *, out: str | None, json_path: str | None,
              junit_path: str | None, summary_path: str | None, artifacts_dir: str | None,
              checks_file: str | None, search: Search, slow: bool = False,
              link_base: str | None = None) -> int:
    """Run every check (those tagged slow only with ``slow``; see the module docstring) and
    write the reports asked for.

    ``json_path`` ``"-"`` prints the JSON report on stdout instead of the text lines. ``out``
    is the older name of ``artifacts_dir`` (used when that is not given). ``link_base`` makes
    the Markdown summary's trace links absolute (``reports.summary_markdown``). Returns the
    exit code.
    """
    reports.check_link_base(link_base)
    source = load(checks_file)
    as_json = json_path == "-"
    started = time.monotonic()
    outcomes = run_checks(source.checks, base, search, None if as_json else safe_echo, slow)
    total = time.monotonic() - started
    art = artifacts_dir or out
    code = record_verdict(exit_code(outcomes))
    run = reports.Run(source.origin, outcomes, total, slow)
    with _sigint_ignored():
        if art:
            reports.write_artifacts(outcomes, art)
        if json_path and not as_json:
            reports.write_json(run, json_path)
        if junit_path:
            reports.write_junit(run, junit_path)
        if summary_path:
            reports.write_summary(run, summary_path, art, link_base)
    if as_json:
        safe_echo(reports.json_text(run), nl=False)
    else:
        safe_echo(f"\n{reports.headline(run)} ({source.origin}).")
    return code
