"""What a check run returns: options, statistics, per-property verdicts, the overall verdict.

Verdicts are exactly three words. ``holds`` is only ever given after an exhaustive search of the
states within the stated bounds; a run cut short by a limit, an interrupt, a lack of memory or by
stopping at the first violation leaves the undecided properties ``incomplete`` and names why
(``Result.stopped_by``, one of the ``STOP_*`` words). A bounded claim (a breadth-first search cut
short, bounded model checking) says how far it got: ``Stats.checked_depth`` for the whole search,
``PropertyResult.checked_depth`` per property.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from paxchain.models.properties import Kind

if TYPE_CHECKING:
    from paxchain.checker.trace import Trace

__all__ = ["Verdict", "Strategy", "HOLDS", "VIOLATED", "INCOMPLETE", "EXIT_CODES", "Options",
           "Stats", "PropertyResult", "Result"]


class Verdict(StrEnum):
    """A property's or a run's verdict. Each member is its own word (``Verdict.HOLDS ==
    "holds"``), the word that reports, JSON and traces carry."""

    HOLDS = "holds"
    VIOLATED = "violated"
    INCOMPLETE = "incomplete"


class Strategy(StrEnum):
    """How a run searched: the explicit engine's breadth- or depth-first search, or bounded
    model checking (``bmc``, the Z3 engine's runs). The member is the word in ``--json``."""

    BFS = "bfs"
    DFS = "dfs"
    BMC = "bmc"


HOLDS = Verdict.HOLDS
VIOLATED = Verdict.VIOLATED
INCOMPLETE = Verdict.INCOMPLETE
EXIT_CODES = {HOLDS: 0, VIOLATED: 1, INCOMPLETE: 3}
EXIT_BAD_INPUT = 2

# Why a search stopped before exhausting the state space.
STOP_MAX_DEPTH = "max_depth"
STOP_MAX_STATES = "max_states"
STOP_TIME_LIMIT = "time_limit"
STOP_INTERRUPTED = "interrupted"
STOP_VIOLATION = "first_violation"
STOP_MEMORY_LIMIT = "memory_limit"      # resident memory passed ``Options.memory_limit``
STOP_OUT_OF_MEMORY = "out_of_memory"    # the process ran out of memory (a MemoryError)
STOP_SOLVER_UNKNOWN = "solver_unknown"  # bounded model checking: Z3 answered unknown
STOP_SAMPLED = "sampled"                # random simulation: runs were sampled, nothing proved
# Reasons that come from outside the check's own bounds: a gate never tolerates them.
STOPS_FROM_OUTSIDE = (STOP_INTERRUPTED, STOP_MEMORY_LIMIT, STOP_OUT_OF_MEMORY)


@dataclass(frozen=True)
class Options:
    """How to search. ``None`` bounds are unbounded.

    ``fingerprints`` keeps only a 64-bit hash of each visited state (as TLC does); with it off
    the full states are kept, which is exact but uses more memory.
    ``keep_going`` explores past violations so that every property gets its own verdict.
    ``memory_limit`` (megabytes of resident memory) stops the run, as incomplete, when the
    process grows past it; it is read where the engine reads its clock.
    ``compact`` (breadth-first, sequential): the same search with the visited set, its parents
    and subsumption's covers in flat tables and each level in a temporary file, for long runs.
    """

    strategy: Strategy = Strategy.BFS  # its word ("dfs") is accepted and stored as the member
    max_depth: int | None = None
    max_states: int | None = None
    time_limit: float | None = None
    memory_limit: float | None = None
    symmetry: bool = False
    deadlock: bool = False
    keep_going: bool = False
    fingerprints: bool = True
    only: tuple[str, ...] | None = None
    coverage: bool = True
    progress: Callable[[Stats], None] | None = None
    progress_interval: float = 1.0
    compact: bool = False

    def __post_init__(self) -> None:
        if self.strategy not in tuple(Strategy):
            raise ValueError(f"unknown search strategy {self.strategy!r}")
        object.__setattr__(self, "strategy", Strategy(self.strategy))

    def bounds_text(self) -> str:
        def b(v: Any) -> str:
            return "none" if v is None else str(v)
        limit = "none" if self.time_limit is None else f"{self.time_limit:g}s"
        text = (f"max depth {b(self.max_depth)}, max states {b(self.max_states)}, "
                f"time limit {limit}")
        if self.memory_limit is not None:
            text += f", memory limit {self.memory_limit:g} MB"
        return text

    def to_json(self) -> dict[str, Any]:
        return {"strategy": self.strategy, "max_depth": self.max_depth,
                "max_states": self.max_states, "time_limit": self.time_limit,
                "memory_limit_mb": self.memory_limit, "symmetry": self.symmetry,
                "deadlock": self.deadlock,
                "keep_going": self.keep_going, "fingerprints": self.fingerprints,
                "coverage": self.coverage, "compact": self.compact}


@dataclass
class Stats:
    """Search statistics in TLC's terms."""

    generated: int = 0
    distinct: int = 0
    queue: int = 0
    depth: int = 0
    seconds: float = 0.0
    peak_memory_mb: float | None = None
    # A breadth-first search stopped early had still checked every run of up to this many
    # steps: all states at this depth or less, and every transition out of shallower states.
    checked_depth: int | None = None
    # Breadth-first (every engine): the states found at each depth, 0 to the deepest level
    # found whole (a level still being found when the search stopped is left out).
    levels: list[int] = field(default_factory=list)

    @property
    def states_per_second(self) -> float:
        return self.generated / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        return (f"{self.generated:,} states generated, {self.distinct:,} distinct states found, "
                f"{self.queue:,} states left on queue, depth {self.depth}, "
                f"{self.seconds:.2f} s ({self.states_per_second:,.0f} states/s)")

    def to_json(self) -> dict[str, Any]:
        return {"generated": self.generated, "distinct": self.distinct, "queue_left": self.queue,
                "depth": self.depth, "seconds": round(self.seconds, 4),
                "states_per_second": round(self.states_per_second, 1),
                "peak_memory_mb": self.peak_memory_mb, "checked_depth": self.checked_depth,
                "levels": self.levels}


@dataclass
class PropertyResult:
    name: str
    kind: Kind
    summary: str
    verdict: Verdict = INCOMPLETE
    trace: Trace | None = None
    detail: str = ""
    # A bounded claim about this property alone (bounded model checking): no violation in any
    # run of up to this many steps. None: not even depth 0 was decided, or not applicable.
    checked_depth: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "summary": self.summary,
                               "verdict": self.verdict}
        if self.detail:
            out["detail"] = self.detail
        if self.checked_depth is not None:
            out["checked_depth"] = self.checked_depth
        if self.trace is not None:
            out["trace_length"] = len(self.trace.steps) - 1
            out["trace"] = self.trace.to_json()
        return out


@dataclass
class Result:
    model: str
    options: Options
    stats: Stats
    properties: list[PropertyResult] = field(default_factory=list)
    stopped_by: str | None = None
    coverage: dict[str, int] | None = None
    engine: str = "explicit"
    reductions: list[str] = field(default_factory=list)  # in force, and why any is off
    # Liveness: the fairness and timing assumptions its verdicts are under, and the statistics
    # of its own search when safety properties were searched in the same run (``stats``).
    assumptions: list[str] = field(default_factory=list)
    liveness_stats: Stats | None = None

    @property
    def warnings(self) -> list[str]:
        """Actions that never fired: what a check never exercised, it has not checked."""
        if not self.coverage:
            return []
        return [f"action {name} never fired" for name, n in self.coverage.items() if n == 0]

    @property
    def exhaustive(self) -> bool:
        return self.stopped_by is None

    @property
    def verdict(self) -> Verdict:
        if any(p.verdict == VIOLATED for p in self.properties):
            return VIOLATED
        if any(p.verdict == INCOMPLETE for p in self.properties) or not self.exhaustive:
            return INCOMPLETE
        return HOLDS

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def get(self, name: str) -> PropertyResult:
        for p in self.properties:
            if p.name == name:
                return p
        raise KeyError(name)

    def violations(self) -> list[PropertyResult]:
        return [p for p in self.properties if p.verdict == VIOLATED]

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "engine": self.engine, "verdict": self.verdict,
                "exhaustive": self.exhaustive,
                "stopped_by": self.stopped_by, "options": self.options.to_json(),
                "stats": self.stats.to_json(), "coverage": self.coverage,
                "warnings": self.warnings,
                "reductions": self.reductions,
                **({"assumptions": self.assumptions} if self.assumptions else {}),
                **({"liveness_stats": self.liveness_stats.to_json()}
                   if self.liveness_stats is not None else {}),
                "properties": [p.to_json() for p in self.properties]}
