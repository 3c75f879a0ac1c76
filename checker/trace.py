"""Traces: rebuilt from fingerprint paths, stored as versioned JSON, re-validated on replay.

JSON layout: Apalache's Informal Trace Format (ITF), which Quint and ITF libraries such as
itf-py read::

    {"#meta": {"format": "paxchain-trace", "format_version": 2, "tool": "paxchain",
               "tool_version": ..., "model": ..., "params": {...}, "variant": ...,
               "property": ..., "kind": ..., "summary": ..., "outcome": "violation"|"witness"},
     "vars": ["maxBal", ...],
     "loop": 3,
     "states": [{"#meta": {"index": 0}, "maxBal": ...},
                {"#meta": {"index": 1, "label": {"action": "Phase1a", "args": {"b": 0}},
                           "text": "Phase1a(b=0)"}, ...}, ...]}

Values (``paxchain.models.values``): integers, strings and booleans as themselves (integers
beyond 2**53 as ``{"#bigint": "..."}``); ``None`` as the variant ``{"tag": "Nil", "value":
"U_OF_UNIT"}`` (ITF has no ``null``, and no ``null`` appears anywhere in the file: ``variant`` is
left out when there is none); maps as ``{"#map": [[key, value], ...]}``; sets as
``{"#set": [...]}``; tuples as ``{"#tup": [...]}``; records (messages) as objects with a
``"type"`` field. Version 1 files (``None`` as ``null``, no lassos) are still read.

Lassos. A liveness counterexample (kinds ``eventually``, ``leads_to``) carries ITF's ``"loop":
L``: the run goes on forever by repeating the steps after state ``L``, and its last state is
state ``L`` again ("back to state L"). ``L`` equal to the last index means the run stutters in
its last state, where no step is enabled. Other kinds carry no ``loop``.

A trace read from a file is never trusted: ``replay`` rebuilds every state through the model,
checks that each step is an enabled transition with that label and result, and that the last
state (or step) really breaks the named property. A lasso must close back to the named state,
every step must be one the model's timing assumptions allow, the property must be pending on
the whole loop, and the loop must be fair (``paxchain.models.fairness.unfair_reason``); a
stutter must end in a state with no enabled step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from paxchain.checker.version import __version__
from paxchain.models.fairness import kept_steps, split, step_keys, unfair_reason
from paxchain.models.model import Label, Model
from paxchain.models.properties import (EVENTUALLY, INVARIANT, LIVENESS, QUIESCENT, SOMETIMES,
                                        TRANSITION, Kind, Property)
from paxchain.models.values import TraceError, decode, encode
from paxchain.specs.model_properties import properties_of

__all__ = ["Step", "Trace", "TraceError", "explain", "rebuild", "rebuild_edge", "replay", "read_meta",
           "FORMAT", "FORMAT_VERSION", "KINDS"]

FORMAT = "paxchain-trace"
FORMAT_VERSION = 2
READ_VERSIONS = (1, 2)  # 1: None as JSON null, no lassos
DEADLOCK_KIND = Kind.DEADLOCK


@dataclass(frozen=True)
class Step:
    label: Label | None  # None for the initial state
    state: Any


@dataclass
class Trace:
    """A path through a model's states, ending where ``prop`` is broken (or reached)."""

    model: Model
    prop: str
    kind: Kind
    summary: str
    steps: list[Step]
    explanation: str = ""
    loop: int | None = None  # a lasso: the index of the state the last one returns to

    @property
    def outcome(self) -> str:
        return "witness" if self.kind == SOMETIMES else "violation"

    def to_json(self) -> dict[str, Any]:
        m = self.model
        meta: dict[str, Any] = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "tool": "paxchain",
            "tool_version": __version__, "model": m.name,
            "params": {k: encode(v) for k, v in m.params.items()}}
        if m.variant is not None:
            meta["variant"] = m.variant
        meta.update({"property": self.prop, "kind": self.kind, "summary": self.summary,
                     "outcome": self.outcome})
        if self.explanation:
            meta["explanation"] = self.explanation
        states = []
        for i, step in enumerate(self.steps):
            smeta: dict[str, Any] = {"index": i}
            if step.label is not None:
                smeta["label"] = step.label.to_json()
                smeta["text"] = str(step.label)
            entry = {"#meta": smeta}
            entry.update({k: encode(v) for k, v in m.to_vars(step.state).items()})
            states.append(entry)
        out: dict[str, Any] = {"#meta": meta, "vars": list(m.variables())}
        if self.loop is not None:
            out["loop"] = self.loop
        out["states"] = states
        return out

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=1) + "\n"


# -- rebuilding a path from fingerprints ------------------------------------------------------

def explain(prop: Property | None, *states: Any) -> str:
    """``prop``'s explanation of why ``states`` break it ("" when it has none); an explanation
    that raises becomes a note, never an exception: it must not hide the counterexample."""
    if prop is None or prop.explain is None:
        return ""
    try:
        return prop.explain(*states)
    except Exception as exc:  # an explanation must never hide the counterexample
        return f"(could not explain: {exc})"


def rebuild(model: Model, fps: list[Hashable], key: Callable[[Any], Hashable],
            prop: Property | None) -> Trace:
    """The real trace along a fingerprint path (``prop`` None means a deadlock)."""
    steps = _walk(model, fps, key, prop)
    last = steps[-1].state
    if prop is None:
        return Trace(model, "deadlock_free", DEADLOCK_KIND,
                     "Deadlock freedom: every reachable state has at least one enabled transition.",
                     steps, "no transition is enabled in the last state")
    return Trace(model, prop.name, prop.kind, prop.summary, steps, explain(prop, last))


def rebuild_edge(model: Model, fps: list[Hashable], nfp: Hashable,
                 key: Callable[[Any], Hashable], prop: Property) -> Trace:
    """The trace to the end of ``fps`` plus one transition to ``nfp`` that breaks ``prop``."""
    steps = _walk(model, fps, key, None)
    s = steps[-1].state
    for label, t in model.successors(s):
        if key(t) == nfp and not prop.check(s, t):
            steps.append(Step(label, t))
            return Trace(model, prop.name, prop.kind, prop.summary, steps,
                         explain(prop, s, t))
    raise TraceError(f"could not rebuild the step breaking {prop.name}: "
                     "successors() and next_states() disagree")


def _walk(model: Model, fps: list[Hashable], key: Callable[[Any], Hashable],
          prop: Property | None) -> list[Step]:
    inits = [s for s in model.initial_states() if key(s) == fps[0]]
    if not inits:
        raise TraceError("could not rebuild the trace: no initial state has its fingerprint")
    cur = inits[0]
    steps = [Step(None, cur)]
    for i, fp in enumerate(fps[1:], start=1):
        found = [(label, t) for label, t in model.successors(cur) if key(t) == fp]
        if not found:
            raise TraceError(f"could not rebuild step {i}: successors() and next_states() "
                             "disagree, or the model is not deterministic")
        label, t = found[0]
        if i == len(fps) - 1 and prop is not None and prop.kind in (INVARIANT, QUIESCENT):
            # Under symmetry prefer the orbit member that itself breaks the property.
            breaking = [(lb, x) for lb, x in found if not prop.holds_at(x)]
            if breaking:
                label, t = breaking[0]
        steps.append(Step(label, t))
        cur = t
    return steps


# -- replay ----------------------------------------------------------------------------------

@dataclass
class Replayed:
    """A trace that replayed: its steps, and whether it shows a violation or a witness."""

    trace: Trace
    outcome: str  # "violation" or "witness"


KINDS = tuple(Kind)  # every kind a trace may show: a property's, or the engine's deadlock
_OPTIONAL_TEXT = ("tool", "tool_version", "summary", "explanation")


def _is_int(x: Any) -> bool:
    """A JSON integer: an ``int`` that is not a ``bool`` (``True == 1`` in Python)."""
    return isinstance(x, int) and not isinstance(x, bool)


def _show(x: Any) -> str:
    """A value read from a file, quoted briefly for an error message."""
    text = repr(x)
    return text if len(text) <= 80 else text[:77] + "..."


def read_meta(data: Any) -> dict[str, Any]:
    """The ``#meta`` object of a trace file, every field's type checked strictly: no ``bool``
    where an integer is meant (``True == 1`` in Python), no float for an integer, only
    strings where text is meant. Unknown fields are allowed (ITF-style metadata)."""
    if not isinstance(data, dict) or not isinstance(data.get("#meta"), dict):
        raise TraceError("not a paxchain trace: no #meta object")
    meta = data["#meta"]
    if meta.get("format") != FORMAT or not isinstance(meta.get("format"), str):
        raise TraceError(f"not a paxchain trace: format is {_show(meta.get('format'))}")
    version = meta.get("format_version")
    if not _is_int(version) or version not in READ_VERSIONS:
        raise TraceError(f"trace format version {_show(version)} is not supported "
                         f"(this paxchain reads versions "
                         f"{', '.join(map(str, READ_VERSIONS))}, an integer)")
    for field in ("model", "property", "kind"):
        if not isinstance(meta.get(field), str):
            raise TraceError(f"trace #meta lacks {field!r} (a string)")
    if meta["kind"] not in KINDS:
        raise TraceError(f"trace #meta kind {_show(meta['kind'])} is not one of "
                         f"{', '.join(KINDS)}")
    for field in _OPTIONAL_TEXT:
        if field in meta and not isinstance(meta[field], str):
            raise TraceError(f"trace #meta {field} must be a string, not {_show(meta[field])}")
    if meta.get("variant") is not None and not isinstance(meta["variant"], str):
        raise TraceError(f"trace #meta variant must be a string or null, not "
                         f"{_show(meta['variant'])}")
    if not isinstance(meta.get("params", {}), dict):
        raise TraceError("trace #meta params must be an object")
    expected = "witness" if meta["kind"] == SOMETIMES else "violation"
    if "outcome" in meta and meta["outcome"] != expected:
        raise TraceError(f"trace #meta outcome {_show(meta['outcome'])} does not fit kind "
                         f"{meta['kind']} (expected {expected!r})")
    if meta["kind"] in LIVENESS and not _is_int(data.get("loop")):
        raise TraceError(f"a {meta['kind']} trace needs a loop (ITF's top-level \"loop\": the "
                         "index of the state its loop returns to, an integer)")
    if meta["kind"] not in LIVENESS and "loop" in data:
        raise TraceError(f"a {meta['kind']} trace has no loop (a loop goes with liveness kinds)")
    return meta


def _state_entries(model: Model, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``states`` of a trace file, each an object with the model's variables and a
    ``#meta`` whose ``index`` is its position and, after the first, a ``label`` object."""
    variables = list(model.variables())
    if data.get("vars") != variables:
        raise TraceError(f"trace vars {_show(data.get('vars'))} are not the model's "
                         f"{variables!r}")
    raw = data.get("states")
    if not isinstance(raw, list) or not raw:
        raise TraceError("trace has no states")
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise TraceError(f"state {i} is not an object")
        smeta = entry.get("#meta", {})
        if not isinstance(smeta, dict):
            raise TraceError(f"state {i}: #meta must be an object")
        if "index" in smeta and (not _is_int(smeta["index"]) or smeta["index"] != i):
            raise TraceError(f"state {i}: #meta index is {_show(smeta['index'])}, not {i}")
        if "text" in smeta and not isinstance(smeta["text"], str):
            raise TraceError(f"state {i}: #meta text must be a string")
        if i > 0:
            label = smeta.get("label")
            if (not isinstance(label, dict) or not isinstance(label.get("action"), str)
                    or not isinstance(label.get("args", {}), dict)):
                raise TraceError(f"step {i} has no label (an object with an action string "
                                 "and an args object)")
        missing = [v for v in variables if v not in entry]
        if missing:
            raise TraceError(f"state {i} lacks variable {missing[0]!r}")
    return raw


def replay(model: Model, data: Any) -> Replayed:
    """Re-execute a trace file's steps on ``model``; raise ``TraceError`` at the first bad one."""
    meta = read_meta(data)
    raw = _state_entries(model, data)
    states = []
    for i, entry in enumerate(raw):
        try:
            values = {v: decode(entry[v]) for v in model.variables()}
            states.append(model.from_vars(values))
        except TraceError as exc:
            raise TraceError(f"state {i}: {exc}") from None
        # from_vars parses untrusted values: any of these is a value it cannot take.
        except (LookupError, ValueError, TypeError, AttributeError) as exc:
            raise TraceError(f"state {i} is not a state of {model.name}: {exc}") from None
    if states[0] not in list(model.initial_states()):
        raise TraceError("state 0 is not an initial state of the model")
    steps = [Step(None, states[0])]
    for i in range(1, len(states)):
        label_data = raw[i]["#meta"]["label"]
        prev, cur = states[i - 1], states[i]
        options = [(lb, t) for lb, t in model.successors(prev) if lb.matches(label_data)]
        text = _label_text(label_data)
        if not options:
            raise TraceError(f"step {i}: {text} is not an enabled transition in state {i - 1}")
        exact = [lb for lb, t in options if t == cur]
        if not exact:
            raise TraceError(f"step {i}: {text} is enabled in state {i - 1} but does not lead "
                             f"to the recorded state {i}")
        steps.append(Step(exact[0], cur))
    kind, name = Kind(meta["kind"]), meta["property"]  # read_meta checked it is one
    last = steps[-1].state
    if kind == DEADLOCK_KIND:
        if any(True for _ in model.successors(last)):
            raise TraceError("the last state is not a deadlock: a transition is enabled")
        return Replayed(Trace(model, name, kind, meta.get("summary", ""), steps), "violation")
    prop = next((p for p in properties_of(model) if p.name == name), None)
    if prop is None or prop.kind != kind:
        raise TraceError(f"{model.name} has no {kind} property {name!r}")
    if kind in LIVENESS:
        loop = data["loop"]  # read_meta checked it is an integer
        explanation = _check_lasso(model, prop, steps, loop)
        trace = Trace(model, name, kind, prop.summary, steps, explanation, loop=loop)
        return Replayed(trace, trace.outcome)
    if kind == TRANSITION:
        if len(steps) < 2 or prop.check(steps[-2].state, last):
            raise TraceError(f"the last step does not break {name}")
        explanation = explain(prop, steps[-2].state, last)
    elif kind == SOMETIMES:
        if not prop.check(last):
            raise TraceError(f"the last state does not reach goal {name}")
        explanation = ""
    else:
        if prop.holds_at(last):
            raise TraceError(f"the last state does not break {name}")
        explanation = explain(prop, last)
    trace = Trace(model, name, kind, prop.summary, steps, explanation)
    return Replayed(trace, trace.outcome)


def _check_lasso(model: Model, prop: Property, steps: list[Step], loop: int) -> str:
    """Re-validate a liveness counterexample (module docstring); its explanation."""
    last = len(steps) - 1
    if not 0 <= loop <= last:
        raise TraceError(f"loop {loop} is not the index of a state (0..{last})")
    fair, prio = split(model.fairness(), model.name)
    kept = [kept_steps(list(model.successors(step.state)), prio) for step in steps]
    for i in range(1, last + 1):
        if not any(lb == steps[i].label and t == steps[i].state for lb, t in kept[i - 1]):
            raise TraceError(f"step {i}: {steps[i].label} is held back in state {i - 1} by a "
                             "timing assumption of the model")
    pending = []
    bit = False
    for i, step in enumerate(steps):
        q = bool(prop.check(step.state))
        if prop.kind == EVENTUALLY:
            bit = (bit or i == 0) and not q
        else:
            bit = (bit or bool(prop.trigger(step.state))) and not q  # type: ignore[misc]
        pending.append(bit)
    if not all(pending[loop:]):
        i = next(j for j in range(loop, last + 1) if not pending[j])
        raise TraceError(f"{prop.name} is not pending in state {i}, on the loop: the run "
                         "meets its obligation")
    if loop == last:
        if kept[last]:
            raise TraceError(f"state {last} is not a stuttering state: a step is enabled there")
        return f"state {last} has no enabled step: the run stays there forever"
    if steps[last].state != steps[loop].state:
        raise TraceError(f"the loop does not close: state {last} is not state {loop}")
    offered = [frozenset().union(*(step_keys(fair, lb) for lb, _ in kept[i]))
               for i in range(loop, last)]
    taken = frozenset().union(*(step_keys(fair, steps[i].label) for i in range(loop + 1, last + 1)
                                if steps[i].label is not None))
    why = unfair_reason(fair, offered, taken)
    if why is not None:
        raise TraceError(f"the loop is not a fair run: {why}")
    return (f"the steps after state {loop} return to it and repeat forever; the loop is fair "
            "and the property stays pending")


def _label_text(data: Mapping[str, Any]) -> str:
    """A label read from a file as ``Action(k=v, ...)``, cut to a readable length."""
    args = data.get("args") or {}
    inner = ", ".join(f"{k}={v}" for k, v in args.items()) if isinstance(args, dict) else "?"
    text = f"{data.get('action')}({inner})"
    return text if len(text) <= 120 else text[:117] + "..."
