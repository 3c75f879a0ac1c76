"""Reports of a gate run: JSON (the whole run), JUnit XML, a Markdown job summary, and an
artifacts folder per failed check.

Determinism contract: for the same code and checks, every report is byte-identical except for
timings, which live only in marked places — the JSON's top-level ``"timings"`` object, JUnit's
``time`` attributes, and the Markdown table's *Time* column. Everything else is ordered as the
checks are, and sets/maps come out in the order the model and ``json.dumps`` give them.
Every file is written atomically (``paxchain.checker.files.write_atomic``), and the artifacts folder as
one set (``paxchain.checker.outdir``: the run's folders land together, replacing an earlier run's).

Completeness contract: every check of the checks file appears in every report, in order. A
check the gate never ran (it was interrupted first) appears as *not run* — counted under
``not_run`` in JSON, a ``skipped`` JUnit case, a ``not run`` row in Markdown — and never
as passed; ``interrupted`` says the gate was stopped. A check tagged ``slow`` in a run without
``--slow`` appears as *not run (slow)* — counted under ``skipped_slow`` in JSON (not under
``not_run``), a ``skipped`` JUnit case, a ``not run (slow)`` row in Markdown, and in every
headline — never as passed, and not as a failure either.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from paxchain.checker import __version__
from paxchain.checker.files import write_atomic
from paxchain.checker.outdir import staged_dir
from paxchain.checker.render_html import trace_html
from paxchain.models.errors import UserError
from paxchain.models.properties import SOMETIMES
from paxchain.checker.render_text import trace_text
from paxchain.checker.result import INCOMPLETE, STOPS_FROM_OUTSIDE, VIOLATED

__all__ = ["Run", "run_json", "json_text", "write_json", "junit_text", "write_junit",
           "summary_markdown", "write_summary", "write_artifacts", "headline", "slow_note",
           "tolerated_note", "check_link_base", "FORMAT"]

FORMAT = "paxchain-check-report"


@dataclass
class Run:
    origin: str           # the checks file
    outcomes: list        # list[checker.suite.Outcome]
    seconds: float = 0.0
    slow: bool = False    # --slow: checks tagged slow were run

    @property
    def failed(self) -> list:
        """Checks that ran and did not pass."""
        return [o for o in self.outcomes if o.ran and not o.passed]

    @property
    def not_run(self) -> list:
        """Checks the gate never reached (it was interrupted); not those skipped as slow."""
        return [o for o in self.outcomes if not o.ran and not o.skipped_slow]

    @property
    def skipped_slow(self) -> list:
        """Checks tagged slow, not run because the gate ran without --slow."""
        return [o for o in self.outcomes if o.skipped_slow]

    @property
    def interrupted(self) -> bool:
        return any(o.interrupted for o in self.outcomes)

    @property
    def passed(self) -> int:
        """Checks whose expectation was met (a tolerated incomplete included)."""
        return sum(o.passed for o in self.outcomes)

    @property
    def tolerated(self) -> list:
        """Checks that passed only because their incomplete search is tolerated
        (``incomplete_fails = false``): shown as incomplete everywhere, never as a pass."""
        return [o for o in self.outcomes if o.passed and o.verdict == INCOMPLETE]


def headline(run: Run) -> str:
    """One line: how many checks passed, failed and did not run, whether interrupted, and how
    many slow checks were not run."""
    slow = len(run.skipped_slow)
    n, bad, skipped = len(run.outcomes) - slow, len(run.failed), len(run.not_run)
    if not run.interrupted:
        return f"{run.passed - len(run.tolerated)} of {n} checks passed{tolerated_note(run)}" \
               f"{slow_note(run)}"
    return (f"INTERRUPTED: {run.passed} of {n} checks passed, {bad} failed or incomplete, "
            f"{skipped} not run{slow_note(run)}; the gate is incomplete")


def tolerated_note(run: Run) -> str:
    """``", 1 incomplete (tolerated)"``, or nothing."""
    k = len(run.tolerated)
    return f", {k} incomplete (tolerated)" if k else ""


def slow_note(run: Run) -> str:
    """``"; 5 slow checks not run (--slow runs them)"``, or nothing when none was skipped."""
    k = len(run.skipped_slow)
    if not k:
        return ""
    return f"; {k} slow check{'s' * (k != 1)} not run (--slow runs {'them' if k != 1 else 'it'})"


# -- artifacts -------------------------------------------------------------------------------

def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_.+" else "_" for ch in text)


def write_artifacts(outcomes: list, out_dir: str | os.PathLike[str]) -> None:
    """One folder ``<out_dir>/<check name>`` per failed check with a trace: each violated
    property's trace as ``<property>.json/.txt/.dot/.svg/.html`` (and model drawings).
    ``out_dir`` is written as one set that replaces an earlier run's whole
    (``paxchain.checker.outdir.staged_dir``). Records the final paths in each outcome's ``artifacts``."""
    with staged_dir(out_dir) as stage:
        for o in outcomes:
            if o.passed:
                continue
            for p in o.result.properties:
                if p.verdict != VIOLATED or p.trace is None:
                    continue
                sub, stem = _slug(o.spec.name), _slug(p.name)
                paths = stage.write_trace(p.trace, sub, stem)
                html = write_atomic(stage.path / sub / f"{stem}.html", trace_html(p.trace))
                paths.append(stage.final(html))
                o.artifacts[p.name] = [str(x) for x in paths]


# -- JSON ------------------------------------------------------------------------------------

def _property_json(p, with_trace: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": p.name, "kind": p.kind, "verdict": p.verdict}
    if p.detail:
        out["detail"] = p.detail
    if p.checked_depth is not None:
        out["checked_depth"] = p.checked_depth
    if p.trace is not None:
        key = "witness_length" if p.kind == SOMETIMES else "trace_length"
        out[key] = len(p.trace.steps) - 1
        if with_trace and p.verdict == VIOLATED:
            out["trace"] = p.trace.to_json()
    return out


def _check_json(o) -> dict[str, Any]:
    r = o.result
    s = r.stats
    return {
        "name": o.spec.name, "line": o.spec.line, "spec": o.spec.to_json(), "model": o.model,
        "expect": o.spec.expect, "violates": o.spec.violates, "verdict": o.verdict,
        "ok": o.passed, "ran": o.ran, "why": o.why, "exhaustive": r.exhaustive,
        "stopped_by": r.stopped_by, "options": r.options.to_json(),
        "stats": {"generated": s.generated, "distinct": s.distinct, "queue_left": s.queue,
                  "depth": s.depth, "checked_depth": s.checked_depth},
        "coverage": r.coverage, "warnings": o.warnings,
        "properties": [_property_json(p, True) for p in r.properties],
        "artifacts": o.artifacts,
    }


def run_json(run: Run) -> dict[str, Any]:
    """The whole run as JSON; timings only under ``"timings"``."""
    return {
        "format": FORMAT, "format_version": 1, "tool_version": __version__,
        "checks_file": run.origin, "passed": run.passed, "failed": len(run.failed),
        "not_run": len(run.not_run), "skipped_slow": len(run.skipped_slow), "slow": run.slow,
        "tolerated_incomplete": len(run.tolerated),
        "interrupted": run.interrupted,
        "ok": all(o.passed or o.skipped_slow for o in run.outcomes),
        "checks": [_check_json(o) for o in run.outcomes],
        "timings": {"total_seconds": round(run.seconds, 3),
                    "checks": {o.spec.name: round(o.seconds, 3) for o in run.outcomes}},
    }


def json_text(run: Run) -> str:
    return json.dumps(run_json(run), indent=1, ensure_ascii=False) + "\n"


def write_json(run: Run, path: str) -> None:
    write_atomic(path, json_text(run))


# -- JUnit -----------------------------------------------------------------------------------

def _case(suite: ET.Element, o, name: str, seconds: float) -> ET.Element:
    return ET.SubElement(suite, "testcase", {"classname": f"paxchain.{o.spec.name}",
                                             "name": name, "time": f"{seconds:.3f}"})


def _outcome_cases(suite: ET.Element, o) -> tuple[int, int]:
    """Add ``o``'s test cases; return (tests, failures)."""
    props = o.result.properties
    share = o.seconds / max(1, len(props))
    tests = failures = 0
    notes = "\n".join([o.model] + [f"warning: {w}" for w in o.warnings])
    if not o.ran:
        ET.SubElement(_case(suite, o, o.verdict, 0.0), "skipped", {"message": o.why})
        return 1, 0
    if not props:  # interrupted before it had any result
        case = _case(suite, o, "interrupted", o.seconds)
        ET.SubElement(case, "failure", {"type": INCOMPLETE, "message": o.why}).text = notes
        return 1, 1
    if o.spec.expect == VIOLATED:
        p = o.result.get(o.spec.violates)
        case = _case(suite, o, f"expect violated: {p.name}", o.seconds)
        tests += 1
        if not o.passed:
            failures += 1
            ET.SubElement(case, "failure", {"type": p.verdict, "message": o.why}).text = notes
        else:
            ET.SubElement(case, "system-out").text = (
                notes + "\n\n" + (trace_text(p.trace, None) if p.trace else ""))
        return tests, failures
    for p in props:
        case = _case(suite, o, p.name, share)
        tests += 1
        if p.verdict == VIOLATED:
            failures += 1
            msg = (f"goal {p.name} never reached ({p.detail})" if p.kind == SOMETIMES
                   else f"{p.name} violated in {len(p.trace.steps) - 1} steps" if p.trace
                   else f"{p.name} violated")
            body = trace_text(p.trace, None) if p.trace else (p.detail or msg)
            ET.SubElement(case, "failure", {"type": VIOLATED, "message": msg}).text = (
                notes + "\n\n" + body)
        elif p.verdict == INCOMPLETE:
            msg = f"{p.name} incomplete: {o.result.stopped_by or 'undecided'}"
            if o.spec.incomplete_fails or o.result.stopped_by in STOPS_FROM_OUTSIDE:
                failures += 1
                ET.SubElement(case, "failure", {"type": INCOMPLETE, "message": msg}).text = notes
            else:
                ET.SubElement(case, "skipped", {"message": msg + " (tolerated)"})
        else:
            out = notes
            if p.trace is not None:
                out += f"\nwitness: {len(p.trace.steps) - 1} steps"
            ET.SubElement(case, "system-out").text = out
    if o.result.warnings or o.spec.fail_on_unfired:
        case = _case(suite, o, "coverage", 0.0)
        tests += 1
        text = "\n".join(f"{k}: {v}" for k, v in (o.result.coverage or {}).items())
        if o.spec.fail_on_unfired and o.result.warnings:
            failures += 1
            ET.SubElement(case, "failure", {"type": "unfired",
                                            "message": "; ".join(o.warnings)}).text = text
        else:
            ET.SubElement(case, "system-out").text = notes + "\n\n" + text
    return tests, failures


def junit_text(run: Run) -> str:
    """JUnit XML: one ``testsuite`` per run, one ``testcase`` per check and property."""
    root = ET.Element("testsuites", {"name": "paxchain"})
    suite = ET.SubElement(root, "testsuite", {"name": f"paxchain check ({run.origin})"})
    tests = failures = 0
    for o in run.outcomes:
        t, f = _outcome_cases(suite, o)
        tests, failures = tests + t, failures + f
    skipped = len(suite.findall("testcase/skipped"))
    for el in (root, suite):
        el.set("tests", str(tests))
        el.set("failures", str(failures))
        el.set("errors", "0")
        el.set("skipped", str(skipped))
        el.set("time", f"{run.seconds:.3f}")
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def write_junit(run: Run, path: str) -> None:
    write_atomic(path, junit_text(run))


# -- Markdown --------------------------------------------------------------------------------

def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary_markdown(run: Run, summary_path: str | None = None,
                     artifacts_dir: str | None = None, link_base: str | None = None) -> str:
    """A Markdown job summary: headline, a table of checks, then failures and warnings.

    Trace links are relative to the summary file's folder — they open in a checkout or in the
    downloaded CI artifact, and the summary says so — or, with ``link_base`` (the URL where the
    artifacts folder is published), absolute: ``link_base`` + the path inside that folder, so
    they open from a CI job summary too. A check that passed only because its incomplete
    search is tolerated shows ⚠, never ✅."""
    n, bad = len(run.outcomes) - len(run.skipped_slow), len(run.failed)
    tol = len(run.tolerated)
    if run.interrupted:
        head = f"## paxchain check: ⚠ {_md(headline(run))}\n\nChecks: `{run.origin}`\n"
    elif bad:
        head = (f"## paxchain check: ❌ {bad} of {n} checks failed{_md(slow_note(run))}\n\n"
                f"Checks: `{run.origin}`\n")
    elif tol:
        head = f"## paxchain check: ⚠ {_md(headline(run))}\n\nChecks: `{run.origin}`\n"
    else:
        head = (f"## paxchain check: ✅ all {n} checks passed{_md(slow_note(run))}\n\n"
                f"Checks: `{run.origin}`\n")
    rows = ["| | Check | Model | Expected | Verdict | States | Depth | Time | Artifacts |",
            "|---|---|---|---|---|---|---|---|---|"]
    base = Path(summary_path).parent if summary_path else Path(".")
    tolerated_ids = {id(o) for o in run.tolerated}
    linked = False
    for o in run.outcomes:
        s = o.result.stats
        expect = o.spec.expect + (f" `{o.spec.violates}`" if o.spec.violates else "")
        tolerated = id(o) in tolerated_ids
        verdict = o.verdict + (" (tolerated)" if tolerated else "") + (
            " ⚠" if o.warnings else "")
        links = []
        for prop, files in o.artifacts.items():
            html = next((f for f in files if f.endswith(".html")), files[0])
            links.append(f"[{_md(prop)}]({_link(html, base, artifacts_dir, link_base)})")
            linked = True
        mark = ("⚠" if tolerated else "✅" if o.passed else "❌" if o.ran
                else "⏭" if o.skipped_slow else "⏹")
        rows.append(f"| {mark} | {_md(o.spec.name)} | {_md(o.model)}"
                    f"{' (symmetry)' if o.spec.symmetry else ''} | {expect} | {verdict} | "
                    f"{o.states_text.removesuffix(' states')} | {s.depth} | {o.seconds:.2f} s | {' '.join(links)} |")
    notes = []
    for o in run.outcomes:
        if o.why:
            notes.append(f"- **{_md(o.spec.name)}**: {_md(o.why)}")
        goals = [p for p in o.result.properties if p.kind == SOMETIMES and p.trace is not None]
        for p in goals:
            notes.append(f"- {_md(o.spec.name)}: goal `{p.name}` reached "
                         f"(witness: {len(p.trace.steps) - 1} steps)")
        notes += [f"- ⚠ {_md(o.spec.name)}: {_md(w)}" for w in o.warnings]
    if linked and not link_base:
        notes.append("- Trace links are relative to this summary's folder: they open in a "
                     "checkout or in the downloaded artifact, not from a CI job summary "
                     "(`paxchain check --link-base URL`, URL where the artifacts folder is "
                     "published, makes them absolute).")
    tail = ["", "### Notes", ""] + notes if notes else []
    return head + "\n" + "\n".join(rows + tail) + "\n"


def check_link_base(url: str | None) -> None:
    """``--link-base``: an absolute ``http``, ``https`` or ``file`` URL, else a ``UserError``."""
    if url is None:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "file") or (parts.scheme != "file"
                                                         and not parts.netloc):
        raise UserError(f"--link-base takes an absolute URL (https://host/path/), not {url!r}")


def _link(path: str, base: Path, artifacts_dir: str | None, link_base: str | None) -> str:
    """``path`` relative to the summary's folder ``base``, or under ``link_base`` by its path
    inside ``artifacts_dir``."""
    if link_base and artifacts_dir:
        inside = _rel(path, Path(artifacts_dir))
        return link_base.rstrip("/") + "/" + quote(inside)
    return _rel(path, base)


def _rel(path: str, base: Path) -> str:
    try:
        return os.path.relpath(path, base).replace(os.sep, "/")
    except ValueError:
        return path


def write_summary(run: Run, path: str, artifacts_dir: str | None = None,
                  link_base: str | None = None) -> None:
    write_atomic(path, summary_markdown(run, path, artifacts_dir, link_base))
