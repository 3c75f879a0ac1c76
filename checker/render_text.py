"""Traces as text: the initial state in full, then per step its label and only what changed.

Maps show changed keys (``maxBal[a1]: -1 -> 0``), sets show added and removed elements
(``msgs + 1b(acc=a1, bal=0, mbal=-1, mval=None)``), anything else old -> new. The end names the
broken property, in words, with the values that break it, and how to reproduce the run.

A lasso (a liveness counterexample, ``Trace.loop``) marks the state its loop starts from
(``State L <- the loop starts here``) and ends with ``-> back to state L``: the steps after
``L`` repeat forever. A stutter ends with the run staying in its last state forever.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any

from paxchain.checker.trace import Trace
from paxchain.models.properties import INVARIANT, LIVENESS, QUIESCENT, SOMETIMES, TRANSITION
from paxchain.specs.model_properties import properties_of
from paxchain.models.values import show

__all__ = ["format_value", "diff_vars", "trace_text", "reproduce_command", "param_text",
           "loop_text",
           "short_hashes", "final_note_lines", "property_reads"]

_MISSING = object()
_HASH = re.compile(r"\b([0-9a-f]{8})[0-9a-f]{56}\b")
_NOTE_LINES = 14  # the final note's lines of values, at most


format_value = show  # a state value in the spec's notation (``paxchain.models.values.show``)


def diff_vars(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """One line per change from ``old`` to ``new`` (both as returned by ``Model.to_vars``)."""
    lines = []
    for var, n in new.items():
        o = old.get(var, _MISSING)
        if o == n:
            continue
        if isinstance(o, Mapping) and isinstance(n, Mapping):
            for k in list(n) + [k for k in o if k not in n]:
                ov, nv = o.get(k, _MISSING), n.get(k, _MISSING)
                if ov == nv:
                    continue
                if ov is _MISSING:
                    lines.append(f"{var}[{format_value(k)}] = {format_value(nv)} (new)")
                elif nv is _MISSING:
                    lines.append(f"{var}[{format_value(k)}] removed (was {format_value(ov)})")
                else:
                    lines.append(f"{var}[{format_value(k)}]: {format_value(ov)} -> {format_value(nv)}")
        elif isinstance(o, (set, frozenset)) and isinstance(n, (set, frozenset)):
            lines += [f"{var} + {format_value(x)}" for x in sorted(n - o, key=format_value)]
            lines += [f"{var} - {format_value(x)}" for x in sorted(o - n, key=format_value)]
        else:
            was = "(none)" if o is _MISSING else format_value(o)
            lines.append(f"{var}: {was} -> {format_value(n)}")
    return lines


def param_text(value: Any) -> str:
    """A model parameter as ``--param NAME=TEXT`` takes it back: a list or tuple
    comma-joined, anything else as ``str`` (the reproduce line and the pasteable test alike)."""
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)


def reproduce_command(trace: Trace) -> str:
    """The ``paxchain check`` command line that finds this trace again, each word quoted for
    the shell where it needs it (a model file's path with a space, say)."""
    m = trace.model
    parts = ["paxchain", "check", m.name]
    for k, v in m.params.items():
        parts += ["--param", f"{k}={param_text(v)}"]
    if m.variant:
        parts += ["--variant", m.variant]
    if trace.kind in LIVENESS:  # liveness properties may be opt-in: name it
        parts += ["--property", trace.prop]
    return " ".join(map(shlex.quote, parts))


def loop_text(trace: Trace) -> str:
    """How a lasso goes on forever: ``back to state L ...`` or the stutter; '' for others."""
    if trace.loop is None:
        return ""
    n = len(trace.steps) - 1
    if trace.loop == n:
        return f"stays in state {n} forever: no step is enabled there (the run stutters)"
    return (f"back to state {trace.loop}: steps {trace.loop + 1}..{n} repeat forever "
            f"(a loop of {n - trace.loop} step{'s' if n - trace.loop != 1 else ''})")


def trace_text(trace: Trace, replay_hint: str | None = "trace.json") -> str:
    """The whole trace as text, ending with the broken property (or the goal reached)."""
    m = trace.model
    n = len(trace.steps) - 1
    what = "reached" if trace.outcome == "witness" else "violated"
    shape = ""
    if trace.loop is not None:
        shape = (", then stutters" if trace.loop == n
                 else f" (a lasso: the loop returns to state {trace.loop})")
    head = [f"{trace.prop} ({trace.kind}) {what} in {n} step{'s' if n != 1 else ''}{shape}",
            f"  {trace.summary}",
            f"  model: {m.describe()}"]
    if trace.kind in LIVENESS:
        names = [f"{a.name} ({getattr(a, 'strength', 'timing')})" for a in m.fairness()]
        head.append("  fair runs under: " + (", ".join(names) or "no fairness assumption"))
    head.append("")
    prev = m.to_vars(trace.steps[0].state)
    mark = "   <- the loop starts here" if trace.loop is not None and trace.loop < n else ""
    body = [f"State 0 (initial){mark if trace.loop == 0 else ''}"]
    body += [f"  {k} = {format_value(v)}" for k, v in prev.items()]
    for i, step in enumerate(trace.steps[1:], start=1):
        cur = m.to_vars(step.state)
        lane = f"   [{step.label.lane}]" if step.label and step.label.lane else ""
        body.append(f"Step {i}: {step.label}{lane}{mark if trace.loop == i else ''}")
        changes = diff_vars(prev, cur)
        body += [f"  {c}" for c in changes] or ["  (no change: the state repeats)"]
        prev = cur
    if trace.loop is not None:
        body.append(f"-> {loop_text(trace)}")
    tail = ["", f"{'Reached' if what == 'reached' else 'Violated'}: {trace.prop} — {trace.summary}"]
    if trace.explanation:
        tail.append(f"  {trace.explanation}")
    tail += ["", f"Reproduce: {reproduce_command(trace)}"]
    if replay_hint:
        tail.append(f"Replay:    paxchain replay {shlex.quote(replay_hint)}")
    return "\n".join(head + body + tail) + "\n"


def short_hashes(text: str) -> str:
    """``text`` with every 64-hex hash cut to its first 8 digits, as the chain prints them."""
    return _HASH.sub(r"\1", text)


def property_reads(trace: Trace) -> list[str]:
    """The variables whose change in the last step breaks the property (or reaches the goal):
    each one that, put back to its value before the step, makes the property hold again; when
    none does alone, a smallest set that does together (by deletion, not searched for a
    minimum).

    Found by evaluating the property on the last state with variables put back
    (``Model.from_vars``); empty for a lasso, a deadlock, a one-state trace, or when putting
    back every change does not do it (then the note shows every change of the last step)."""
    if len(trace.steps) < 2 or trace.loop is not None:
        return []
    m = trace.model
    try:
        prop = next((p for p in properties_of(m) if p.name == trace.prop), None)
    except Exception:  # a drawing must never hide the trace
        return []
    if prop is None or prop.kind not in (INVARIANT, QUIESCENT, SOMETIMES, TRANSITION):
        return []
    s, t = trace.steps[-2].state, trace.steps[-1].state
    old, new = m.to_vars(s), m.to_vars(t)
    changed = [v for v in new if old.get(v, _MISSING) not in (_MISSING, new[v])]

    def fixed(back: list[str]) -> bool:
        try:
            u = m.from_vars({**new, **{v: old[v] for v in back}})
            ok = prop.check(s, u) if prop.kind == TRANSITION else prop.holds_at(u)
        except Exception:  # not a state of the model, or the property cannot read it
            return False
        return ok != (prop.kind == SOMETIMES)

    alone = [v for v in changed if fixed([v])]  # each of these is enough on its own
    if alone:
        return alone
    if not changed or not fixed(changed):
        return []
    reads = list(changed)
    for var in changed:  # a minimal set: leave out each change the verdict does not need
        if len(reads) > 1 and fixed([v for v in reads if v != var]):
            reads.remove(var)
    return reads


def final_note_lines(trace: Trace) -> list[str]:
    """The lines of a drawing's final note: the verdict, the property in words, the values
    that break it (the property's ``explain``), how a lasso goes on, then what the property
    reads as the last step left it (``property_reads``; else every change of that step) —
    never the whole state. Hashes are shortened; an empty line separates the parts."""
    broken = trace.outcome == "violation"
    lines = [f"{'VIOLATED' if broken else 'REACHED'}: {trace.prop} ({trace.kind})", trace.summary]
    if trace.explanation:
        lines.append(trace.explanation)
    if trace.loop is not None:
        lines.append(loop_text(trace))
    if len(trace.steps) >= 2:
        m = trace.model
        old = m.to_vars(trace.steps[-2].state)
        new = m.to_vars(trace.steps[-1].state)
        reads = property_reads(trace)
        body: list[str] = []
        if reads:
            head = "what it reads, as the last step left it:"
            for var in reads:
                text = f"{var} = {format_value(new[var])}"
                body += [text] if len(text) <= 200 else diff_vars({var: old[var]}, {var: new[var]})
        else:
            head = "what the last step changed:"
            body = diff_vars(old, new) or ["(nothing: the state repeats)"]
        if len(body) > _NOTE_LINES:
            body = body[:_NOTE_LINES - 1] + [f"... and {len(body) - _NOTE_LINES + 1} more "
                                             "(the trace's text has them all)"]
        lines += ["", head] + body
    return [short_hashes(line) for line in lines]
