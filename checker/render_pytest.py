"""A counterexample as a pytest test to paste, the way Hypothesis prints a failing example.

``test_source(trace)`` is a self-contained test module: the model (registry name or
``FILE.py:FACTORY``), its parameters and variant, and the run as the label texts the trace text
shows. For a violation it calls ``paxchain.checker.testing.assert_run_keeps``: the test fails
while the run still breaks the property and passes once the code is fixed (or the run can no
longer happen). For a witness it calls ``assert_run_reaches``. The steps are re-executed from the
initial state when the test runs, never read from the file.
"""

from __future__ import annotations

import re

from paxchain.checker.render_text import param_text
from paxchain.checker.trace import Trace
from paxchain.models.properties import SOMETIMES, Kind

__all__ = ["test_source", "pasteable"]

# The kinds a finite run can show (a liveness counterexample is a lasso, an infinite run).
_FINITE = (Kind.INVARIANT, Kind.TRANSITION, Kind.QUIESCENT, Kind.SOMETIMES, Kind.DEADLOCK)


def _name(*parts: str | None) -> str:
    words = "_".join(p for p in parts if p)
    return "test_" + (re.sub(r"\W+", "_", words).strip("_").lower() or "run")


def pasteable(trace: Trace) -> bool:
    """Whether ``trace`` can be pasted as a test: it shows its outcome in a finite run."""
    return trace.kind in _FINITE


def test_source(trace: Trace) -> str:
    """The test module's text (module docstring)."""
    m = trace.model
    goal = trace.kind == SOMETIMES
    call = "assert_run_reaches" if goal else "assert_run_keeps"
    what = "reaches" if goal else "breaks"
    n = len(trace.steps) - 1
    lines = [
        f"# paxchain: a run of {n} step{'s' if n != 1 else ''} that {what} {trace.prop} "
        f"in {m.describe()}.",
        f"# The test {'passes while the run reaches it' if goal else 'fails until the bug is fixed'}"
        " (or the run can no longer happen).",
        f"from paxchain.checker.testing import {call}",
        "",
        "",
        f"def {_name(m.name, m.variant, trace.prop)}():",
        f"    {call}(",
        f"        {m.name!r}, {trace.prop!r},",
    ]
    if m.params:
        items = [f"{k!r}: {param_text(v)!r}" for k, v in m.params.items()]
        one_line = f"        params={{{', '.join(items)}}},"
        if len(one_line) <= 99:
            lines.append(one_line)
        else:
            lines += ["        params={"] + [f"            {i}," for i in items] + ["        },"]
    if m.variant:
        lines.append(f"        variant={m.variant!r},")
    lines.append("        steps=[")
    lines += [f"            {str(s.label)!r}," for s in trace.steps[1:]]
    lines += ["        ],", "    )", ""]
    return "\n".join(lines)
