"""A seeded, deterministic discrete-event simulator for any actors of ``paxchain.impl.actor``.

Theory of operation. One priority queue of events ordered by ``(global time, sequence
number)``; the sequence number breaks ties in insertion order, so the run is a function of the
actors, the ``SimConfig`` and nothing else. All randomness comes from one
``random.Random(config.seed)`` instance, drawn in a fixed order (per ``Send``: loss, latency,
duplication, the duplicate's latency). Same seed, same actors => the same log, byte for byte.

The world the actors live in:

- *Network*: every ``Send`` is lost with probability ``loss``; otherwise it is delivered after a
  latency drawn from ``Latency`` and, with probability ``dup``, delivered a second time after an
  independent latency. Messages to a node that is down when they arrive are dropped.
- *Clocks*: node ``n`` reads ``local = offset + (1 + drift) * global``; a ``SetTimer(delay)``
  fires when the *local* clock has advanced by ``delay``, i.e. ``delay / (1 + drift)`` global
  time later. ``now`` passed to handlers is the local clock.
- *Pauses* (``Pause(node, at, duration)``): the node handles nothing in ``[at, at+duration)``;
  messages and timer expiries meant for it wait, and at the end of the pause it handles them
  all, in arrival order, with its stale state -- late timers, old messages.
- *Partitions* (``Partition(groups, start, end)``): from ``start`` until ``end`` every link
  between two groups is cut (the nodes named in no group are one more group); a message sent
  over a cut link is lost (counted as ``partitioned``; drawn before, and instead of, the
  loss and latency draws, so a run without partitions is the same run as before they
  existed). Messages already in flight when the cut starts still arrive. After ``end`` the
  network is whole again.
- *Crashes* (``Crash(node, at, down_for)``): the volatile state, pending timers and waiting
  events are lost; what the node last ``Persist``ed survives; after ``down_for`` (``None``:
  never) it restarts through ``on_start(node, durable, now)``.
- *Crash points* (``crash_points``: a probability per handler call): a crash that falls *inside*
  a handler, between its effects. When one is drawn, a cut ``k`` in ``0..len(effects)`` is drawn
  too; the first ``k`` effects happen (sends leave, persists are durable, timers are set and then
  lost with the crash) and the rest never do; the node is down for ``crash_points_down`` and
  restarts from what it had persisted. At most ``crash_points_max`` crash points fall in a run.
  The log entry ``crash-point`` names the cut and the effects lost. The draws come from a
  second generator seeded from ``seed`` alone, and only when ``crash_points > 0``: turning crash
  points on does not change the network's draws, and a run without them is the same run as
  before they existed.

Effects are applied in list order, so a ``Persist`` is durable before any later ``Send`` of the
same handler leaves (write-ahead), and a crash point between them shows what a handler that
breaks the order risks. A handler that raises is a bug in the actor, not a fault the simulator
models: the exception propagates.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from paxchain.impl.actor import Effect
from paxchain.impl.effects import apply_effects

__all__ = ["Latency", "Pause", "Crash", "Clock", "Partition", "SimConfig", "SimResult",
           "SimStep", "Simulator", "simulate"]


def _finite(what: str, *xs: Any) -> None:
    """``ValueError`` unless every ``x`` is a finite real number (NaN and infinity are not)."""
    for x in xs:
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
            raise ValueError(f"{what}: {x!r} is not a finite number")


@dataclass(frozen=True)
class Latency:
    """Message latency: ``uniform`` on ``[lo, hi]``, or ``exp``: ``lo`` + exponential with
    mean ``mean`` (capped at ``hi`` if ``hi`` > ``lo``)."""

    kind: str = "uniform"
    lo: float = 1.0
    hi: float = 10.0
    mean: float = 5.0

    def __post_init__(self) -> None:
        if self.kind not in ("uniform", "exp"):
            raise ValueError(f"latency kind must be uniform or exp, not {self.kind!r}")
        _finite("latency", self.lo, self.hi, self.mean)
        if self.lo < 0 or self.hi < self.lo and self.kind == "uniform" or self.mean <= 0:
            raise ValueError("latency needs 0 <= lo <= hi and mean > 0")

    def sample(self, rng: random.Random) -> float:
        if self.kind == "uniform":
            return rng.uniform(self.lo, self.hi)
        x = self.lo + rng.expovariate(1.0 / self.mean)
        return min(x, self.hi) if self.hi > self.lo else x


@dataclass(frozen=True)
class Pause:
    node: str
    at: float
    duration: float


@dataclass(frozen=True)
class Crash:
    node: str
    at: float
    down_for: float | None = None


@dataclass(frozen=True)
class Partition:
    """Links cut from ``start`` until ``end`` (then healed): every link between two of
    ``groups`` (tuples of node ids), the nodes named in no group being one more group. The
    real runtime (``paxchain.impl.net``) reads it the same way, in seconds of the run."""

    groups: tuple[tuple[str, ...], ...]
    start: float
    end: float

    def __post_init__(self) -> None:
        _finite("partition", self.start, self.end)
        if self.start < 0 or self.end <= self.start:
            raise ValueError(f"partition {self.text()}: need 0 <= START < END")
        named = [n for g in self.groups for n in g]
        if not self.groups or not all(self.groups) or len(set(named)) != len(named):
            raise ValueError(f"partition {self.text()}: groups must be non-empty and disjoint")

    def nodes(self) -> set[str]:
        return {n for g in self.groups for n in g}

    def cuts(self, src: str, dst: str, t: float) -> bool:
        """Whether the link ``src`` -> ``dst`` is cut at time ``t``."""
        if not self.start <= t < self.end:
            return False
        return self._side(src) != self._side(dst)

    def _side(self, node: str) -> int:
        return next((i for i, g in enumerate(self.groups) if node in g), len(self.groups))

    def text(self) -> str:
        """The partition as ``--partition`` takes it: ``a1,p1|a2@10..50``."""
        return (f"{'|'.join(','.join(g) for g in self.groups)}"
                f"@{self.start:g}..{self.end:g}")


@dataclass(frozen=True)
class Clock:
    offset: float = 0.0
    drift: float = 0.0

    def local(self, t: float) -> float:
        return self.offset + (1.0 + self.drift) * t


@dataclass(frozen=True)
class SimConfig:
    """Everything a run depends on besides the actors. ``until`` bounds global time,
    ``max_events`` the number of handled events (a livelock guard)."""

    seed: int = 0
    latency: Latency = Latency()
    loss: float = 0.0
    dup: float = 0.0
    pauses: tuple[Pause, ...] = ()
    crashes: tuple[Crash, ...] = ()
    clocks: tuple[tuple[str, Clock], ...] = ()
    partitions: tuple[Partition, ...] = ()
    until: float = 10_000.0
    max_events: int = 200_000
    crash_points: float = 0.0
    crash_points_max: int = 1
    crash_points_down: float = 10.0

    def __post_init__(self) -> None:
        _finite("loss and dup", self.loss, self.dup)
        if not (0 <= self.loss < 1) or not (0 <= self.dup <= 1):
            raise ValueError("need 0 <= loss < 1 and 0 <= dup <= 1")
        _finite("until", self.until)
        if self.until <= 0 or self.max_events <= 0:
            raise ValueError("until and max_events must be positive")
        _finite("crash points", self.crash_points, self.crash_points_down)
        if not 0 <= self.crash_points <= 1 or self.crash_points_max < 0 \
                or self.crash_points_down < 0:
            raise ValueError("need 0 <= crash points <= 1, a budget >= 0 and a down time >= 0")
        for p in self.pauses:
            _finite(f"pause of {p.node}", p.at, p.duration)
            if p.at < 0 or p.duration < 0:
                raise ValueError(f"pause of {p.node}: negative time")
        for c in self.crashes:
            _finite(f"crash of {c.node}", c.at, 0.0 if c.down_for is None else c.down_for)
            if c.at < 0 or (c.down_for is not None and c.down_for < 0):
                raise ValueError(f"crash of {c.node}: negative time")
        for n, clock in self.clocks:
            _finite(f"clock of {n}", clock.offset, clock.drift)
            if clock.drift <= -1:
                raise ValueError(f"clock of {n}: drift must be > -1")


@dataclass(frozen=True)
class SimStep:
    """One handler call or crash, as ``Simulator(record=True)`` records it, for a reader that
    maps the run onto a model's steps (``paxchain.models.sim_steps``).

    ``kind``: ``start``, ``deliver`` (``event`` is ``(src, msg)``), ``timer`` (``event`` is
    ``(name,)``), ``restart`` or ``crash`` (a scheduled crash of an up node). ``before`` and
    ``after`` are the node's volatile state around the handler; ``effects`` all it returned;
    ``cut``: a crash point fell after that many of them (the rest never happened)."""

    kind: str
    node: str
    event: tuple[Any, ...] = ()
    before: Any = None
    after: Any = None
    effects: tuple[Effect, ...] = ()
    cut: int | None = None


Outputs = dict[str, list[tuple[float, Hashable]]]  # node -> (global time, value) in order
_Event = tuple[str, tuple[Any, ...]]                # (kind, data) of a queued event


@dataclass
class SimResult:
    """What happened. ``outputs[node]`` lists ``(global time, value)``; ``log`` lists
    ``(time, what, node, detail)`` tuples (detail is text) in the order they happened."""

    outputs: Outputs
    counts: dict[str, int]
    log: list[tuple[float, str, str, str]]
    sent: list[tuple[float, str, str, Any]]
    states: dict[str, Any]
    durable: dict[str, Any]
    end_time: float
    stopped: str  # "stop condition", "quiescent", "until", "max events"
    events: int = 0
    steps: list[SimStep] = field(default_factory=list)  # only with ``record=True``


@dataclass
class _Node:
    actor: Any
    clock: Clock
    state: Any = None
    durable: Any = None
    up: bool = True
    paused: bool = False
    waiting: list[_Event] = field(default_factory=list)
    timers: dict[str, int] = field(default_factory=dict)  # name -> generation of the live timer


class _Effects:
    """One handler's effects as the simulator carries them out (an ``EffectTarget``)."""

    __slots__ = ("sim", "name", "node")

    def __init__(self, sim: Simulator, name: str) -> None:
        self.sim, self.name, self.node = sim, name, sim.nodes[name]

    def persist(self, data: Hashable) -> None:
        self.node.durable = data

    def send(self, dst: str, msg: Hashable) -> None:
        self.sim._send(self.name, dst, msg)

    def set_timer(self, name: str, delay: float) -> None:
        sim = self.sim
        sim.gen += 1
        self.node.timers[name] = sim.gen
        fire = sim.now + max(delay, 0.0) / (1.0 + self.node.clock.drift)
        sim._push(fire, "timer", self.name, name, sim.gen)

    def cancel_timer(self, name: str) -> None:
        self.node.timers.pop(name, None)

    def output(self, value: Hashable) -> None:
        self.sim.outputs[self.name].append((round(self.sim.now, 6), value))
        self.sim._note("output", self.name, repr(value))


class Simulator:
    """Runs ``actors`` (node id -> actor) in the world described by ``config``.

    ``stop(outputs)`` is asked after every event; a true answer ends the run early
    (e.g. "every learner decided"). ``record``: keep every handler call and crash as a
    ``SimStep`` in ``SimResult.steps`` (it changes nothing else: same log, same draws).
    """

    def __init__(self, actors: Mapping[str, Any], config: SimConfig,
                 stop: Callable[[Outputs], bool] | None = None, record: bool = False) -> None:
        unknown = {p.node for p in config.pauses} | {c.node for c in config.crashes} | {
            n for n, _ in config.clocks} | {n for p in config.partitions for n in p.nodes()}
        unknown -= set(actors)
        if unknown:
            raise ValueError(f"unknown node(s) in the fault schedule: {sorted(unknown)}")
        clocks = dict(config.clocks)
        self.cfg = config
        self.rng = random.Random(config.seed)
        self.crash_rng = random.Random(f"crash-points:{config.seed}")
        self.crash_points_left = config.crash_points_max
        self.nodes = {n: _Node(a, clocks.get(n, Clock())) for n, a in actors.items()}
        self.stop = stop
        self.queue: list[tuple[float, int, str, tuple[Any, ...]]] = []
        self.seq = 0
        self.now = 0.0
        self.gen = 0
        self.outputs: Outputs = {n: [] for n in actors}
        self.counts = {"sent": 0, "delivered": 0, "lost": 0, "duplicated": 0,
                       "dropped_down": 0, "timers": 0}
        if config.crash_points > 0:
            self.counts["crash_points"] = 0
        if config.partitions:
            self.counts["partitioned"] = 0
        self.log: list[tuple[float, str, str, str]] = []
        self.sent: list[tuple[float, str, str, Any]] = []
        self.record = record
        self.steps: list[SimStep] = []

    # -- queue
    def _push(self, t: float, kind: str, *data: Any) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (t, self.seq, kind, data))

    def _note(self, what: str, node: str, detail: str = "") -> None:
        self.log.append((round(self.now, 6), what, node, detail))

    # -- effects
    def _cut(self, effects: list[Effect]) -> int | None:
        """Where a crash point falls in ``effects`` (after that many of them), or ``None``."""
        if not effects or self.cfg.crash_points <= 0 or self.crash_points_left <= 0:
            return None
        if self.crash_rng.random() >= self.cfg.crash_points:
            return None
        self.crash_points_left -= 1
        return self.crash_rng.randrange(len(effects) + 1)

    def _apply(self, name: str, effects: list[Effect], kind: str = "",
               event: tuple[Any, ...] = (), before: Any = None) -> None:
        """Carry out ``effects`` in order (``apply_effects``, the one interpreter every driver
        uses); with a crash point drawn, only those before the cut, then the crash. ``kind``,
        ``event`` and ``before`` describe the handler call, for ``record``."""
        cut = self._cut(effects)
        if self.record:
            self.steps.append(SimStep(kind, name, event, before, self.nodes[name].state,
                                      tuple(effects), cut))
        apply_effects(name, effects, _Effects(self, name), cut)
        if cut is not None:
            self.counts["crash_points"] += 1
            lost = ", ".join(map(repr, effects[cut:])) or "nothing"
            self._crash(name, "crash-point", f"after {cut} of {len(effects)} effects; "
                                             f"never happened: {lost}")
            self._push(self.now + self.cfg.crash_points_down, "restart", name)

    def _send(self, src: str, dst: str, msg: Any) -> None:
        self.counts["sent"] += 1
        self.sent.append((round(self.now, 6), src, dst, msg))
        if any(p.cuts(src, dst, self.now) for p in self.cfg.partitions):
            self.counts["partitioned"] += 1
            self._note("cut", src, f"{dst} {msg!r}")
            return
        if self.rng.random() < self.cfg.loss:
            self.counts["lost"] += 1
            self._note("lose", src, f"{dst} {msg!r}")
            return
        self._push(self.now + self.cfg.latency.sample(self.rng), "deliver", src, dst, msg)
        if self.cfg.dup and self.rng.random() < self.cfg.dup:
            self.counts["duplicated"] += 1
            self._push(self.now + self.cfg.latency.sample(self.rng), "deliver", src, dst, msg)

    # -- handling
    def _handle(self, kind: str, data: tuple[Any, ...]) -> None:
        if kind in ("pause", "resume", "crash", "restart"):
            getattr(self, "_" + kind)(data[0])
            return
        name = data[1] if kind == "deliver" else data[0]
        node = self.nodes[name]
        if kind == "timer" and node.timers.get(data[1]) != data[2]:
            return  # replaced, cancelled, or lost in a crash
        if not node.up:
            if kind == "deliver":
                self.counts["dropped_down"] += 1
                self._note("drop-down", name, f"from {data[0]} {data[2]!r}")
            return
        if node.paused:
            node.waiting.append((kind, data))
            return
        self._run(kind, data)

    def _run(self, kind: str, data: tuple[Any, ...]) -> None:
        if kind == "deliver":
            src, name, msg = data
            node = self.nodes[name]
            self.counts["delivered"] += 1
            self._note("deliver", name, f"from {src} {msg!r}")
            before = node.state
            node.state, effects = node.actor.on_message(name, node.state, src, msg,
                                                        node.clock.local(self.now))
            self._apply(name, effects, kind, (src, msg), before)
        else:
            name, timer, gen = data
            node = self.nodes[name]
            if node.timers.get(timer) != gen:
                return
            del node.timers[timer]
            self.counts["timers"] += 1
            self._note("timer", name, timer)
            before = node.state
            node.state, effects = node.actor.on_timer(name, node.state, timer,
                                                      node.clock.local(self.now))
            self._apply(name, effects, kind, (timer,), before)

    def _pause(self, name: str) -> None:
        node = self.nodes[name]
        if node.up and not node.paused:
            node.paused = True
            self._note("pause", name)

    def _resume(self, name: str) -> None:
        node = self.nodes[name]
        if not node.paused:
            return
        node.paused = False
        self._note("resume", name, f"{len(node.waiting)} waiting")
        waiting, node.waiting = node.waiting, []
        for kind, data in waiting:
            if node.up and not node.paused:
                self._run(kind, data)

    def _crash(self, name: str, what: str = "crash", detail: str = "") -> None:
        node = self.nodes[name]
        if not node.up:
            return
        if self.record and what == "crash":
            self.steps.append(SimStep("crash", name, (), node.state))
        node.up, node.paused, node.waiting, node.timers = False, False, [], {}
        node.state = None
        self._note(what, name, detail)

    def _restart(self, name: str) -> None:
        node = self.nodes[name]
        if node.up:
            return
        node.up = True
        self._note("restart", name, repr(node.durable))
        node.state, effects = node.actor.on_start(name, node.durable, node.clock.local(self.now))
        self._apply(name, effects, "restart")

    # -- the run
    def run(self) -> SimResult:
        for p in self.cfg.pauses:
            self._push(p.at, "pause", p.node)
            self._push(p.at + p.duration, "resume", p.node)
        for c in self.cfg.crashes:
            self._push(c.at, "crash", c.node)
            if c.down_for is not None:
                self._push(c.at + c.down_for, "restart", c.node)
        for name, node in self.nodes.items():
            self._note("start", name)
            node.state, effects = node.actor.on_start(name, None, node.clock.local(0.0))
            self._apply(name, effects, "start")
        events, stopped = 0, "quiescent"
        while self.queue:
            if self.stop is not None and self.stop(self.outputs):
                stopped = "stop condition"
                break
            if self.queue[0][0] > self.cfg.until:
                stopped = "until"
                break
            if events >= self.cfg.max_events:
                stopped = "max events"
                break
            t, _, kind, data = heapq.heappop(self.queue)
            self.now = t
            events += 1
            self._handle(kind, data)
        else:
            if self.stop is not None and self.stop(self.outputs):
                stopped = "stop condition"
        return SimResult(self.outputs, self.counts, self.log, self.sent,
                         {n: x.state for n, x in self.nodes.items()},
                         {n: x.durable for n, x in self.nodes.items()},
                         round(self.now, 6), stopped, events, self.steps)


def simulate(actors: Mapping[str, Any], config: SimConfig,
             stop: Callable[[Outputs], bool] | None = None, record: bool = False) -> SimResult:
    """Run ``actors`` under ``config`` once (see ``Simulator``)."""
    return Simulator(actors, config, stop, record).run()
