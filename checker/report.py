"""The human summary of a check run, in TLC's terms: what was searched, within which bounds,
the statistics, each property's verdict, and the overall verdict with what it covers."""

from __future__ import annotations

from paxchain.checker.result import (HOLDS, INCOMPLETE, STOP_INTERRUPTED, STOP_MAX_DEPTH,
                            STOP_MAX_STATES, STOP_MEMORY_LIMIT, STOP_OUT_OF_MEMORY,
                            STOP_SAMPLED, STOP_SOLVER_UNKNOWN, STOP_TIME_LIMIT, STOP_VIOLATION,
                            VIOLATED, Result)

__all__ = ["summary_text", "header_text", "collision_probability", "stop_text"]

_STOP_TEXT = {
    STOP_MAX_DEPTH: "the depth bound was reached with states left beyond it",
    STOP_MAX_STATES: "the distinct-state bound was reached",
    STOP_TIME_LIMIT: "the time limit was reached",
    STOP_INTERRUPTED: "the search was interrupted",
    STOP_MEMORY_LIMIT: "the memory limit was reached",
    STOP_OUT_OF_MEMORY: "the process ran out of memory",
    STOP_SOLVER_UNKNOWN: "the solver answered unknown",
    STOP_SAMPLED: "random simulation only samples runs",
    STOP_VIOLATION: "the search stopped at the first violation (use --keep-going for every "
                    "property's verdict)",
}


def stop_text(reason: str | None) -> str:
    """Why a run stopped early, as a phrase ("the time limit was reached")."""
    return _STOP_TEXT.get(reason or "", "some property could not be decided")


def collision_probability(distinct: int, bits: int = 64) -> float:
    """Birthday bound on a fingerprint collision among ``distinct`` states."""
    return distinct * (distinct - 1) / 2 / 2.0 ** bits


def header_text(model_desc: str, opts, reductions=(), liveness: bool = False) -> str:
    """The run's header; ``reductions`` are the model's (``Model.reductions()``): those in
    force have their premises checked during the search, and one that fails is switched off
    and the search redone (the summary then says so). With ``liveness`` (a liveness property
    is checked) the header says that the liveness search runs with all of them off."""
    visited = "64-bit fingerprints" if opts.fingerprints else "exact states"
    if getattr(opts, "compact", False):
        visited += " in flat tables, levels on disk (--compact)"
    text = (f"Checking {model_desc}\n"
            f"  search: {opts.strategy.upper()}, symmetry {'on' if opts.symmetry else 'off'}, "
            f"deadlock check {'on' if opts.deadlock else 'off'}, visited set of {visited}\n"
            f"  bounds: {opts.bounds_text()}")
    shown = [r.text() for r in reductions if r.name != "symmetry" or opts.symmetry]
    if shown:
        text += ("\n  reductions: " + ", ".join(shown)
                 + " (one whose premise fails for this code is switched off)")
        if liveness and any(r.active for r in reductions):
            text += "; the liveness search runs with every reduction off"
    return text


def summary_text(result: Result) -> str:
    s = result.stats
    if result.engine == "bmc":
        lines = [f"bounded model checking to depth {result.options.max_depth}, "
                 f"{s.seconds:.2f} s"]
    else:
        lines = [s.line()]
    if result.options.fingerprints and s.distinct > 1:
        lines.append(f"fingerprint collision probability ≤ "
                     f"{collision_probability(s.distinct):.1e} (birthday bound, 64 bits)")
    if result.coverage:
        lines.append("coverage: " + ", ".join(f"{name} {n:,}"
                                              for name, n in result.coverage.items()))
    if result.reductions:
        lines.append("reductions: " + ", ".join(result.reductions))
    if result.liveness_stats is not None and result.liveness_stats is not result.stats:
        lines.append(f"liveness search: {result.liveness_stats.line()}")
    if result.assumptions:
        lines.append("liveness verdicts assume: " + "; ".join(result.assumptions))
    width = max([len(p.name) for p in result.properties] + [8])
    lines.append("")
    for p in result.properties:
        note = ""
        if p.trace is not None:
            n = len(p.trace.steps) - 1
            note = f" ({'witness' if p.verdict == HOLDS else 'trace'}: {n} step{'s' if n != 1 else ''})"
        elif p.detail:
            note = f" ({p.detail})"
        lines.append(f"  {p.name:<{width}}  {p.kind:<10} {p.verdict}{note}")
    lines.append("")
    v = result.verdict
    if v == HOLDS:
        lines.append(f"Verdict: HOLDS — every property, exhaustively, over {_states_text(result)} "
                     f"of {result.model}; {result.options.bounds_text()}.")
    elif v == VIOLATED:
        names = ", ".join(p.name for p in result.violations())
        lines.append(f"Verdict: VIOLATED — {names}.")
        if result.stopped_by:
            lines.append(f"  Other properties are incomplete: {stop_text(result.stopped_by)}.")
    elif result.engine == "bmc":
        lines.append(f"Verdict: INCOMPLETE — {_bmc_claim(result)}; bounded model checking "
                     f"claims nothing about longer runs.")
    else:
        why = stop_text(result.stopped_by)
        lines.append(f"Verdict: INCOMPLETE — {why}; nothing beyond the "
                     f"{s.distinct:,} states explored was checked.")
        if s.checked_depth is not None:
            lines.append(f"  Every run of up to {s.checked_depth} steps was checked (breadth-first: "
                         f"all states within {s.checked_depth} steps were reached).")
    lines += [f"WARNING: {w}: the check never exercised it." for w in result.warnings]
    return "\n".join(lines)


def _bmc_claim(result: Result) -> str:
    """What an incomplete BMC run did show: the depth the undecided properties reached (each
    group's own depth when they differ, and which were not checked at all), and why it
    stopped short of the asked depth."""
    asked = result.options.max_depth
    by_depth: dict[int | None, list[str]] = {}
    for p in result.properties:
        if p.verdict == INCOMPLETE:
            by_depth.setdefault(p.checked_depth, []).append(p.name)
    reached = sorted(d for d in by_depth if d is not None)

    def steps(d: int) -> str:
        return f"any run of up to {d} step{'s' if d != 1 else ''}"

    if not reached:
        claim = "no property was decided at any depth"
    elif len(by_depth) == 1:
        claim = f"no violation in {steps(reached[0])}"
    else:
        claim = "no violation " + ", ".join(f"of {', '.join(by_depth[d])} in {steps(d)}"
                                            for d in reached)
        if None in by_depth:
            claim += f"; not checked: {', '.join(by_depth[None])}"
    if result.stopped_by not in (None, STOP_MAX_DEPTH) and reached != [asked]:
        claim = f"{stop_text(result.stopped_by)} before depth {asked}; " + claim
    return claim


def _states_text(result: Result) -> str:
    """What a search that holds went over: all its states, or — where symmetry or subsumption
    left states out — every reachable one, with how many were explored for them."""
    by = [r for r in ("symmetry", "subsumption")
          if f"{r} on" in result.reductions or (r == "symmetry" and result.options.symmetry)]
    n, depth = result.stats.distinct, result.stats.depth
    if not by:
        return f"all {n:,} reachable states (depth {depth})"
    verb = "stand" if len(by) > 1 else "stands"
    return (f"every reachable state ({n:,} explored, depth {depth}; {' and '.join(by)} {verb} "
            "for the others)")
