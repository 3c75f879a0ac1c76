"""A network partition in an actors-on-a-network model: links cut for good between groups.

``-p partition=GROUPS`` is spelled as the simulators' and runtimes' ``--partition
GROUPS@START..END`` without the times: ``a1,p1|a2,a3`` cuts every link between ``{a1, p1}`` and
``{a2, a3}``; the nodes named in no group are one more group. A model has no clock of its own,
so its cut is permanent: a message across it is sent and stays in flight for ever, never
offered as a ``Deliver`` (nor as a crash point inside one), so it is not enabled and fair
delivery never asks for it. It is not *lost* either: no drop budget is spent. Drops and
duplicates of such a message stay offered.

What a partition changes is liveness. For safety it adds no behaviour — an asynchronous
network may delay any message for ever anyway — and a partition that heals is, to a model
without time, a delay: fair delivery already covers it. So the model's partition is the one
that never heals, the case in which "eventually" properties are expected to fail.

``Cut`` is the partition, ``parse_cut`` reads ``GROUPS``, and ``CutSteps`` is the mixin that
leaves the deliveries across the cut out of a model's three successor views (a model sets
``self.cut``).
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterable
from typing import Any

from paxchain.models.model import Label

__all__ = ["Cut", "parse_cut", "CutSteps"]


@dataclass(frozen=True)
class Cut:
    """Links cut for good between ``groups`` (and the nodes named in none of them)."""

    groups: tuple[tuple[str, ...], ...]

    def __post_init__(self) -> None:
        named = [n for g in self.groups for n in g]
        if not self.groups or not all(self.groups) or len(set(named)) != len(named):
            raise ValueError(f"partition {self.text()}: groups must be non-empty and disjoint")

    def side(self, node: str) -> int:
        return next((i for i, g in enumerate(self.groups) if node in g), len(self.groups))

    def cuts(self, src: str, dst: str) -> bool:
        """Whether the link ``src`` -> ``dst`` is cut."""
        return self.side(src) != self.side(dst)

    def text(self) -> str:
        """The partition as ``-p partition=`` takes it: ``n1|n2,n3``."""
        return "|".join(",".join(g) for g in self.groups)

    def keeps(self, label: Label) -> bool:
        """Whether a step is offered: all but the deliveries across the cut (and the crash
        points inside them, labelled ``Deliver`` too)."""
        if label.action != "Deliver":
            return True
        args = dict(label.args)
        return not self.cuts(args["src"], args["dst"])

    def steps(self, steps: Iterable[tuple[Label, Any]]) -> list[tuple[Label, Any]]:
        """``steps`` without the deliveries across the cut."""
        return [(label, t) for label, t in steps if self.keeps(label)]


def parse_cut(text: str, nodes: Iterable[str]) -> Cut | None:
    """``n1|n2,n3`` as a ``Cut`` of ``nodes`` (``""`` or ``none``: no partition);
    ``ValueError`` naming the problem otherwise."""
    text = str(text).strip()
    if text.lower() in ("", "none", "0"):
        return None
    if "@" in text:
        raise ValueError(f"partition {text!r}: the model's cut is permanent; give GROUPS "
                         "without @START..END")
    groups = tuple(tuple(n.strip() for n in g.split(",")) for g in text.split("|"))
    known = set(nodes)
    unknown = sorted({n for g in groups for n in g} - known)
    if unknown:
        raise ValueError(f"partition {text!r}: no node {', '.join(unknown)} "
                         f"(the nodes are {', '.join(sorted(known))})")
    cut = Cut(groups)
    if len({cut.side(n) for n in known}) < 2:
        raise ValueError(f"partition {text!r} cuts no link: every node is on one side")
    return cut


class CutSteps:
    """A model's successor views without the deliveries across ``self.cut`` (None: all)."""

    cut: Cut | None = None

    def successors(self, state: Any) -> list:
        steps = super().successors(state)  # type: ignore[misc]
        return steps if self.cut is None else self.cut.steps(steps)

    def next_states(self, state: Any) -> list:
        if self.cut is None:
            return super().next_states(state)  # type: ignore[misc]
        return [t for _, t in self.successors(state)]

    def next_states_by_action(self, state: Any) -> list:
        if self.cut is None:
            return super().next_states_by_action(state)  # type: ignore[misc]
        labelled = super().successors(state)  # type: ignore[misc]
        return [step for step, (label, _) in zip(super().next_states_by_action(state), labelled)
                if self.cut.keeps(label)]
