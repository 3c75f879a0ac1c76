"""The model interface: the only thing the engines know about a protocol.

A model is a transition system over immutable, hashable states:

- ``initial_states()`` — the states a run may start in;
- ``successors(state)`` — every enabled transition as ``(Label, next_state)``, in a
  deterministic order (traces are rebuilt by re-running it, as Stateright does);
- ``next_states(state)`` — the same successor states without labels: the engines' hot path.
  The default derives it from ``successors``; a model overrides it to skip building labels;
- ``properties()`` — the named properties to check (``paxchain.models.properties``). A built-in
  model defines none: its spec supplies them (the engines ask
  ``paxchain.specs.model_properties.properties_of``); a model of one's own defines them here;
- ``fairness()`` — the fairness and timing assumptions liveness properties are judged under
  (``paxchain.models.fairness``); none by default;
- ``representative(state)`` — optional canonical member of the state's symmetry orbit;
- ``to_vars(state)`` / ``from_vars(vars)`` — the state as named parts (``dict`` of plain
  values, ``frozenset`` and ``Record``) for diffs, JSON traces and replay.

Labels are structured so renderers can draw lanes and arrows without knowing the protocol:
an action name with arguments, the lane (actor) that takes the step, the messages it reads and
the messages it sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from paxchain.models.properties import Property
from paxchain.models.values import Record, show, decode, encode

if TYPE_CHECKING:  # fairness.py imports Label from here
    from paxchain.models.fairness import Assumption

__all__ = ["Label", "Model", "Record", "State", "Reduction", "ReductionUnsound"]

State = Hashable


@dataclass(frozen=True)
class Reduction:
    """A state-space reduction a model applies, and whether it is in force.

    ``why`` says how its premise is justified by the code under check (in force) or why it is
    off. Symmetry is the engine's (``Options.symmetry``); the rest are the model's own.
    """

    name: str
    active: bool
    why: str

    def text(self) -> str:
        """``bury on``, or ``bury off (why)``: the line a run prints."""
        return f"{self.name} on" if self.active else f"{self.name} off ({self.why})"


class ReductionUnsound(Exception):
    """The premise of reduction ``reduction`` failed for the code under check, at a state the
    search met: verdicts of the reduced search cannot be trusted, the search must be redone
    without it (``Model.without_reduction``; for ``symmetry``, with symmetry off)."""

    def __init__(self, reduction: str, detail: str) -> None:
        super().__init__(f"{reduction}: {detail}")
        self.reduction = reduction
        self.detail = detail


@dataclass(frozen=True)
class Label:
    """What one transition did: ``Phase2b(a=a2, b=1)``, taken by lane ``a2``.

    ``reads`` are the messages the step received or consulted, ``sends`` the ones it added;
    ``events`` are lane annotations such as ``crash`` or ``drop`` for the drawings.
    """

    action: str
    args: tuple[tuple[str, Any], ...] = ()
    lane: str | None = None
    reads: tuple[Record, ...] = ()
    sends: tuple[Record, ...] = ()
    events: tuple[str, ...] = ()

    def __str__(self) -> str:
        inner = ", ".join(f"{k}={show(v)}" for k, v in self.args)
        return f"{self.action}({inner})"

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "args": {k: encode(v) for k, v in self.args}}

    def matches(self, data: Mapping[str, Any]) -> bool:
        """Whether a label read back from a trace file names this transition."""
        args = data.get("args", {})
        if data.get("action") != self.action or not isinstance(args, dict):
            return False
        try:
            return {k: decode(v) for k, v in args.items()} == dict(self.args)
        except Exception:
            return False


class Model:
    """Base class for models; subclasses fill in the transition system.

    ``name``, ``params`` and ``variant`` identify the instance (they go into every verdict and
    trace). ``lanes`` orders the actors for message-sequence drawings.
    """

    def __init__(self, name: str = "model", params: Mapping[str, Any] | None = None,
                 variant: str | None = None) -> None:
        self.name = name
        self.params = dict(params or {})
        self.variant = variant

    # -- the transition system -------------------------------------------------------------
    def initial_states(self) -> Iterable[State]:
        raise NotImplementedError

    def successors(self, state: State) -> Iterator[tuple[Label, State]]:
        raise NotImplementedError

    def next_states(self, state: State) -> Iterable[State]:
        return [t for _, t in self.successors(state)]

    def next_states_by_action(self, state: State) -> Iterable[tuple[str, State]]:
        """Successors paired with their action names. The default derives it from
        ``successors``; a model overrides it to skip building labels."""
        return [(label.action, t) for label, t in self.successors(state)]

    def next_states_tallied(self, state: State, tally: dict[str, int]) -> Iterable[State]:
        """``next_states``, also adding to ``tally[action]`` one per successor (coverage).

        The default counts ``next_states_by_action``; a model may override it to count in bulk
        (every action it names in ``actions()`` is already a key of ``tally``).
        """
        out = []
        for action, t in self.next_states_by_action(state):
            tally[action] = tally.get(action, 0) + 1
            out.append(t)
        return out

    def actions(self) -> tuple[str, ...]:
        """Every action (and fault) kind the model can take; coverage warns of unfired ones."""
        return ()

    def properties(self) -> Sequence[Property]:
        """The properties to check, bound to this instance (``Property.bind``); none by
        default. The engines read them through ``paxchain.specs.model_properties``."""
        return ()

    def fairness(self) -> Sequence[Assumption]:
        """The fairness and timing assumptions (``paxchain.models.fairness``) under which the
        liveness properties are checked; none by default (then every infinite run counts,
        fair or not)."""
        return ()

    # -- reductions -------------------------------------------------------------------------
    def reductions(self) -> tuple[Reduction, ...]:
        """The model's own reductions and their state (symmetry is the engine's option)."""
        return ()

    def projection(self, state: State) -> Hashable:
        """The part of ``state`` the properties read, which every reduction of the model
        preserves: the reduced and unreduced searches reach the same projections (tested)."""
        return state

    def without_reduction(self, name: str, why: str) -> Model:
        """The same model with reduction ``name`` switched off (after ``ReductionUnsound``);
        its ``reductions()`` says ``why`` it is off. Symmetry is the engine's to drop: by
        default the model itself needs no change for it."""
        if name == "symmetry":
            return self
        raise ValueError(f"{self.name} has no reduction {name!r} to switch off")

    def fingerprint(self, state: State) -> int:
        """A 64-bit hash of ``state`` for the visited set.

        The default is ``hash(state)``, which is well mixed for tuples of strings, small ints and
        frozensets. CPython hashes an int modulo 2**61 - 1, so a model that packs a state into
        larger ints must override this, or distinct states will collide systematically.
        """
        return hash(state)

    # -- symmetry -------------------------------------------------------------------------
    has_symmetry: bool = False

    def representative(self, state: State) -> State:
        """A canonical member of ``state``'s orbit; identity when there is no symmetry."""
        return state

    # -- naming the parts of a state --------------------------------------------------------
    def variables(self) -> tuple[str, ...]:
        raise NotImplementedError

    def to_vars(self, state: State) -> dict[str, Any]:
        raise NotImplementedError

    def from_vars(self, values: Mapping[str, Any]) -> State:
        """Inverse of ``to_vars``; raises ``ValueError`` on a value outside the model's types."""
        raise NotImplementedError

    def lanes(self) -> tuple[str, ...]:
        """The actors of message-sequence drawings, left to right (labels name their lane)."""
        return ()

    def drawings(self, states: Sequence[State]) -> dict[str, str]:
        """Extra graphviz drawings of a trace's states, ``{file stem: dot source}``.

        A chain model returns its block tree here; the trace writer renders each like the
        message-sequence chart.
        """
        return {}

    def describe(self) -> str:
        """One line naming the instance: model, parameters, variant."""
        ps = " ".join(f"{k}={_param_text(v)}" for k, v in self.params.items())
        return f"{self.name} {ps}".strip() + (f" variant={self.variant}" if self.variant else "")


def _param_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(_param_text(v) for v in value)
    return str(value)
