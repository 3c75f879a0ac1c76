"""The Paxos driver: impl/paxos.py's actors in the seeded simulator and on UDP sockets.

Both drivers build the cluster with ``paxchain.impl.paxos.make_cluster`` (node -> actor and
declared role: ``acceptor``, ``proposer``, ``learner``) and the seeded variants of the
catalogue ``paxchain.impl.paxos_variants.PAXOS``; every node is found by its declared role,
never by its name. What a run showed (``PaxosRun``) is judged by the run-level properties of
``paxchain.specs.paxos_run``, which share their predicates with the model's spec.

Simulation. A *scenario* (``Scenario``) is every input of a run: cluster size, variants,
timeouts, the seed and the fault schedule, crash points inside handlers included (see
``paxchain.impl.simulator``). ``simulate_scenario`` runs it until every learner decided
(``stop="decided"``) or until no event is left (``"quiescent"``, or ``until``);
``observe`` collects each learner's decisions, the votes (for each ballot and value, the
acceptors that sent ``Accepted`` for it), the ballots each proposer tried, the values the
proposers were given and the protocol's quorum size.

Real runs. A ``NetScenario`` is every input of a run on 127.0.0.1, one OS process per node
(``paxchain.impl.net``): acceptors and learners start first, then proposers (so the first
``Prepare``s find someone listening); the run waits until every learner has decided (or has a
decision on disk) or the deadline passes. Each node process builds its actor through the
variant catalogue (``paxchain.impl.net.variant_cluster``), so variants and user plugins
(``PAXCHAIN_PLUGINS``) reach every node. The deadline counts from the start of the run,
start-up included; crash and pause times count from the same moment.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from paxchain.impl.paxos import Accepted, Prepare, majority, make_cluster
from paxchain.impl.paxos_variants import PAXOS
from paxchain.impl.simulator import (Clock, Crash, Latency, Partition, Pause, SimConfig,
                                     SimResult, simulate)
from paxchain.models.drivers import check_variants, number, whole
from paxchain.models.errors import UserError

if TYPE_CHECKING:
    from paxchain.impl.net import Cluster, NetSpec

__all__ = ["Scenario", "PaxosRun", "partition_params", "read_partition", "simulate_scenario",
           "observe", "model_config", "NetScenario", "run_cluster", "run_net", "observe_net",
           "decisions", "learners", "nodes_in_role", "MAX_NODES"]

MAX_NODES = 200  # processes per real run: each is a Python interpreter (~20 MB, ~0.15 s to start)


def nodes_in_role(cluster: dict[str, Any], role: str) -> list[str]:
    """The nodes of ``cluster`` (node -> ``(actor, role)``) that play ``role``, in order."""
    return [n for n, (_, r) in cluster.items() if r == role]


# -- simulation ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scenario:
    """Every input of one simulated Paxos run. ``stop``: ``decided`` ends the run once every
    learner decided; ``quiescent`` runs until no event is left (or ``until``)."""

    acceptors: int = 3
    proposers: int = 2
    learners: int = 1
    seed: int = 0
    loss: float = 0.0
    dup: float = 0.0
    latency: Latency = Latency("uniform", 1.0, 10.0)
    pauses: tuple[Pause, ...] = ()
    crashes: tuple[Crash, ...] = ()
    clocks: tuple[tuple[str, Clock], ...] = ()
    timeout: float = 30.0
    backoff: float = 1.5
    max_rounds: int = 0
    until: float = 5000.0
    variants: tuple[str, ...] = ()
    stop: str = "decided"
    crash_points: float = 0.0
    crash_points_max: int = 1
    crash_points_down: float = 10.0
    partitions: tuple[Partition, ...] = ()

    def validate(self) -> None:
        """Raise ``UserError`` (one line) for parameters no run can have."""
        if self.acceptors < 1:
            raise UserError("--acceptors must be at least 1")
        if self.proposers < 1 or self.learners < 1:
            raise UserError("--proposers and --learners must be at least 1")
        for what, x in (("--loss", self.loss), ("--dup", self.dup), ("--timeout", self.timeout),
                        ("--backoff", self.backoff), ("--until", self.until)):
            if not math.isfinite(x):
                raise UserError(f"{what} must be a finite number, not {x}")
        if not 0 <= self.loss < 1:
            raise UserError(f"--loss must be in [0, 1), not {self.loss}")
        if not 0 <= self.dup <= 1:
            raise UserError(f"--dup must be in [0, 1], not {self.dup}")
        if self.timeout <= 0 or self.backoff < 1 or self.max_rounds < 0 or self.until <= 0:
            raise UserError("need --timeout > 0, --backoff >= 1, --max-rounds >= 0, --until > 0")
        check_variants(PAXOS, self.variants)
        if self.stop not in ("decided", "quiescent"):
            raise UserError(f"stop must be decided or quiescent, not {self.stop!r}")
        nodes = list(self.cluster())
        for name in [p.node for p in self.pauses] + [c.node for c in self.crashes] + [
                n for n, _ in self.clocks] + [n for p in self.partitions for n in p.nodes()]:
            if name not in nodes:
                raise UserError(f"unknown node {name!r} (nodes: {', '.join(nodes)})")
        try:
            self.config()
        except ValueError as exc:
            raise UserError(str(exc)) from None

    def cluster(self) -> dict[str, tuple[Any, str]]:
        """Node -> ``(actor, role)``, the scenario's variants applied."""
        # A restarted proposer serves a new client request: p1 proposes v1, then v1r1 after its
        # first restart, v1r2 after its second... (what makes a reused ballot harmful).
        values = [(f"v{i}",) + tuple(f"v{i}r{k}" for k in range(1, 4))
                  for i in range(1, self.proposers + 1)]
        return PAXOS.apply(self.variants, make_cluster(
            self.acceptors, self.proposers, self.learners, values, timeout=self.timeout,
            backoff=self.backoff, max_rounds=self.max_rounds))

    def config(self) -> SimConfig:
        return SimConfig(seed=self.seed, latency=self.latency, loss=self.loss, dup=self.dup,
                         pauses=self.pauses, crashes=self.crashes, clocks=self.clocks,
                         partitions=self.partitions, until=self.until,
                         crash_points=self.crash_points,
                         crash_points_max=self.crash_points_max,
                         crash_points_down=self.crash_points_down)

    def to_params(self) -> dict[str, Any]:
        """The scenario as plain JSON (numbers, strings, lists)."""
        d = asdict(self)
        d["pauses"] = [[p.node, p.at, p.duration] for p in self.pauses]
        d["crashes"] = [[c.node, c.at, c.down_for] for c in self.crashes]
        d["clocks"] = [[n, c.offset, c.drift] for n, c in self.clocks]
        d["variants"] = list(self.variants)
        d["partitions"] = [partition_params(p) for p in self.partitions]
        return d

    @classmethod
    def from_params(cls, d: Any) -> Scenario:
        """Inverse of ``to_params``; anything malformed is a ``UserError``."""
        if not isinstance(d, dict):
            raise UserError("simulation trace: params must be an object")
        try:
            lat = d.get("latency", {})
            sc = cls(
                acceptors=whole(d["acceptors"]), proposers=whole(d["proposers"]),
                learners=whole(d["learners"]), seed=whole(d["seed"]), loss=number(d["loss"]),
                dup=number(d["dup"]),
                latency=Latency(lat["kind"], number(lat["lo"]), number(lat["hi"]),
                                number(lat["mean"])),
                pauses=tuple(Pause(str(n), number(a), number(f)) for n, a, f in d["pauses"]),
                crashes=tuple(Crash(str(n), number(a), None if f is None else number(f))
                              for n, a, f in d["crashes"]),
                clocks=tuple((str(n), Clock(number(o), number(r))) for n, o, r in d["clocks"]),
                timeout=number(d["timeout"]), backoff=number(d["backoff"]),
                max_rounds=whole(d["max_rounds"]), until=number(d["until"]),
                variants=tuple(str(b) for b in d["variants"]), stop=str(d["stop"]),
                crash_points=number(d.get("crash_points", 0.0)),
                crash_points_max=whole(d.get("crash_points_max", 1)),
                crash_points_down=number(d.get("crash_points_down", 10.0)),
                partitions=tuple(read_partition(p) for p in d.get("partitions", [])))
        except (KeyError, TypeError, ValueError) as exc:
            raise UserError(f"simulation trace: bad params ({type(exc).__name__}: {exc})") from None
        sc.validate()
        return sc


def partition_params(p: Partition) -> list[Any]:
    """A partition as plain JSON: ``[[[node, ...], ...], start, end]``."""
    return [[list(g) for g in p.groups], p.start, p.end]


def read_partition(x: Any) -> Partition:
    """Inverse of ``partition_params`` (``TypeError``/``ValueError`` for anything else)."""
    groups, start, end = x
    return Partition(tuple(tuple(str(n) for n in g) for g in groups), number(start), number(end))


@dataclass(frozen=True)
class PaxosRun:
    """What one Paxos run showed, nodes found by their declared roles.

    ``decisions``: learner -> its decisions ``(time, value)`` in order (time ``None`` for a
    decision found on disk at start-up, in a real run); ``votes``: ``(ballot, value)`` -> the
    acceptors that sent ``Accepted`` for it (empty for a real run, whose messages are not
    recorded); ``ballots``: proposer -> the ballots it prepared, in order; ``proposed``: the
    values the proposers were given; ``quorum``: how many acceptors make a quorum."""

    decisions: dict[str, list[tuple[float | None, Any]]]
    votes: dict[tuple, frozenset]
    ballots: dict[str, list[tuple]]
    proposed: frozenset
    quorum: int


def simulate_scenario(sc: Scenario, record: bool = False) -> SimResult:
    """Validate ``sc`` and run it in the simulator (``record``: keep its steps, for
    ``model_config`` and ``paxchain.models.sim_steps``)."""
    sc.validate()
    cluster = sc.cluster()
    learners = nodes_in_role(cluster, "learner")

    def stop(outputs: dict[str, list]) -> bool:
        return sc.stop == "decided" and all(outputs[l] for l in learners)

    return simulate({n: actor for n, (actor, _) in cluster.items()}, sc.config(), stop, record)


# The paxos-system model's parameter ranges (``paxchain.models.paxos_system``).
_MODEL_LIMITS = {"acceptors": 7, "proposers": 5, "learners": 3, "max_rounds": 6, "crashes": 9}


def model_config(sc: Scenario, result: SimResult
                 ) -> tuple[dict[str, str], str | None, dict[str, str]]:
    """The ``paxos-system`` parameters (as ``--param`` text) and variant under which the
    recorded run ``result`` of ``sc`` is a run of the model, and the renaming of the run's
    values into the model's: the same nodes and variant, as many rounds as the run's
    proposers prepared, a crash budget for its crashes and crash points, and the duplicating
    network (loss, duplication and reordering without bound).

    Values: proposer ``pi``'s incarnation ``k`` proposes ``virk`` in the simulator (``vi``
    first) and ``v((i - 1 + k) mod V) + 1`` in the model (``values`` = V); ``V`` is chosen so
    that each proposer's incarnations in the run keep distinct values (at most 5), and the
    renaming maps the one onto the other. A restarted proposer's value can then be another's
    first value, one value in the model where the simulator had two; the model's re-execution
    decides whether the run still breaks its property.

    ``UserError`` (one line) for a run the model cannot have: more than one variant, a size
    beyond the model's ranges, or a value that the renaming would send two ways."""
    if len(sc.variants) > 1:
        raise UserError("paxos-system takes one variant; the run has "
                        + ", ".join(sc.variants))
    cluster = sc.cluster()
    proposers = nodes_in_role(cluster, "proposer")
    incarnations = {p: 1 + sum(1 for s in result.steps if s.kind == "restart" and s.node == p)
                    for p in proposers}
    values = min(5, max([sc.proposers] + [i + incarnations[p]
                                          for i, p in enumerate(proposers)]))
    rename: dict[str, str] = {}
    for i, p in enumerate(proposers):
        actor = cluster[p][0]
        for k in range(incarnations[p]):
            mine, theirs = actor.own_value(k), f"v{(i + k) % values + 1}"
            if rename.setdefault(mine, theirs) != theirs:
                raise UserError(f"{p} restarted {incarnations[p] - 1} times: its value {mine} "
                                f"would be two values of paxos-system")
    rounds = max((m.ballot[0] for _, src, _, m in result.sent
                  if src in proposers and type(m) is Prepare), default=1)
    crashes = sum(1 for s in result.steps if s.kind == "crash" or s.cut is not None)
    params = {"acceptors": sc.acceptors, "proposers": sc.proposers, "values": values,
              "learners": sc.learners, "max_rounds": max(rounds, 1), "crashes": crashes,
              "crash_points": int(any(s.cut is not None for s in result.steps)),
              "network": "duplicating"}
    for name, top in _MODEL_LIMITS.items():
        if params[name] > top:  # type: ignore[operator]
            raise UserError(f"paxos-system has at most {name}={top}; the run needs "
                            f"{params[name]}")
    return ({k: str(v) for k, v in params.items()}, (sc.variants[0] if sc.variants else None),
            {a: b for a, b in rename.items() if a != b})


def _decided(outputs: list) -> list[tuple[float, Any]]:
    return [(t, v[1]) for t, v in outputs if isinstance(v, tuple) and v[:1] == ("decided",)]


def observe(sc: Scenario, result: SimResult) -> PaxosRun:
    """What the simulated run ``result`` of ``sc`` showed (see ``PaxosRun``)."""
    cluster = sc.cluster()
    votes: dict[tuple, set] = {}
    ballots: dict[str, list[tuple]] = {}
    for _, src, _, msg in result.sent:
        if type(msg) is Accepted:
            votes.setdefault((msg.ballot, msg.value), set()).add(msg.acceptor)
        elif type(msg) is Prepare and msg.ballot not in ballots.setdefault(src, []):
            ballots[src].append(msg.ballot)
    learners = nodes_in_role(cluster, "learner")
    proposed = frozenset(v for n in nodes_in_role(cluster, "proposer")
                         for v in getattr(cluster[n][0], "values", ()))
    return PaxosRun({n: _decided(result.outputs[n]) for n in learners},
                    {k: frozenset(a) for k, a in votes.items()}, ballots, proposed,
                    majority(len(nodes_in_role(cluster, "acceptor"))))


# -- real runs -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class NetScenario:
    """Every input of one run on 127.0.0.1. ``delay_ms``: extra delay per datagram, uniform
    in ``[0, delay_ms]``; ``base_port`` 0 picks free ports; ``data_dir`` ``None`` keeps the
    nodes' files in a temporary directory, removed after the run."""

    acceptors: int = 3
    proposers: int = 2
    learners: int = 1
    loss: float = 0.0
    delay_ms: float = 0.0
    pauses: tuple[Pause, ...] = ()
    crashes: tuple[Crash, ...] = ()
    timeout: float = 0.3
    backoff: float = 1.5
    base_port: int = 0
    deadline: float = 20.0
    data_dir: str | None = None
    seed: int = 0
    variants: tuple[str, ...] = ()
    partitions: tuple[Partition, ...] = ()
    drifts: tuple[tuple[str, float], ...] = ()

    def validate(self) -> None:
        """Raise ``UserError`` (one line) for parameters no run can have."""
        if self.acceptors < 1 or self.proposers < 1 or self.learners < 1:
            raise UserError("--acceptors, --proposers and --learners must be at least 1")
        n = self.acceptors + self.proposers + self.learners
        if n > MAX_NODES:
            raise UserError(f"at most {MAX_NODES} nodes in all (one OS process each); "
                            f"asked for {n}")
        if not 0 <= self.loss < 1 or self.delay_ms < 0:
            raise UserError("need 0 <= --loss < 1 and --delay >= 0")
        if self.timeout <= 0 or self.backoff < 1 or self.deadline <= 0:
            raise UserError("need --timeout > 0, --backoff >= 1 and --deadline > 0")
        if self.base_port and not 1024 <= self.base_port <= 65535 - n:
            raise UserError(f"--base-port must be in 1024..{65535 - n} (or 0 for free ports)")
        check_variants(PAXOS, self.variants)
        nodes = self.nodes()
        for f in self.pauses + self.crashes:
            if f.node not in nodes:
                raise UserError(f"unknown node {f.node!r} (nodes: {', '.join(nodes)})")
            if f.at < 0 or getattr(f, "duration", 0) < 0 or (getattr(f, "down_for", 0) or 0) < 0:
                raise UserError(f"negative time for {f.node}")
        unknown = sorted(({n for p in self.partitions for n in p.nodes()}
                          | {n for n, _ in self.drifts}) - set(nodes))
        if unknown:
            raise UserError(f"unknown node {unknown[0]!r} (nodes: {', '.join(nodes)})")
        for n, d in self.drifts:
            if not (math.isfinite(d) and d > -1):
                raise UserError(f"--drift {n}: must be more than -1, not {d:g}")

    def nodes(self) -> list[str]:
        """The cluster's nodes, in its order (acceptors, proposers, learners)."""
        return list(make_cluster(self.acceptors, self.proposers, self.learners))

    def net_spec(self, directory: str) -> NetSpec:
        """What each node process builds: the production cluster with the variants."""
        # asyncio and impl.net cost ~50 ms to import (measured); only a real run needs them
        from paxchain.impl.net import NetSpec

        return NetSpec("paxchain.impl.net:variant_cluster",
                       {"catalogue": "paxchain.impl.paxos_variants:PAXOS",
                        "factory": "paxchain.impl.paxos:make_cluster",
                        "variants": list(self.variants), "acceptors": self.acceptors,
                        "proposers": self.proposers, "learners": self.learners,
                        "timeout": self.timeout, "backoff": self.backoff},
                       "paxchain.impl.paxos:MESSAGES", directory, loss=self.loss,
                       delay_ms=self.delay_ms, seed=self.seed, base_port=self.base_port,
                       deadline=self.deadline,
                       partitions=[partition_params(p) for p in self.partitions],
                       drifts=dict(self.drifts))


def decisions(cluster: Cluster, learner: str) -> list[tuple[float | None, Any]]:
    """A learner's decisions in a real run: ``(None, v)`` for each found on disk when it
    started or restarted (a reused data directory, or a crash between its ``Persist`` and its
    ``Output``), then ``(t, v)`` for each it output during the run."""
    disk = [(None, v) for v in dict.fromkeys(cluster.recovered.get(learner, []))
            if v is not None]
    return disk + _decided(cluster.outputs.get(learner, []))


def learners(cluster: Cluster) -> list[str]:
    """The real run's learners, by their declared role."""
    return [n for n in cluster.nodes if cluster.roles.get(n) == "learner"]


def observe_net(cluster: Cluster) -> PaxosRun:
    """What a real run showed: each learner's decisions (no votes: messages are not
    recorded)."""
    acceptors = [n for n in cluster.nodes if cluster.roles.get(n) == "acceptor"]
    return PaxosRun({n: decisions(cluster, n) for n in learners(cluster)}, {}, {},
                    frozenset(), majority(len(acceptors)))


async def run_cluster(spec: NetSpec, pauses=(), crashes=()) -> tuple[Cluster, bool]:
    """Run the cluster of ``spec`` until every learner decided (or has a decision on disk);
    return it (stopped) and whether they all did before the deadline."""
    # asyncio and impl.net cost ~50 ms to import (measured); only a real run needs them
    from paxchain.impl.net import Cluster

    cluster = Cluster(spec)
    waiting = learners(cluster)
    proposers = [n for n in cluster.nodes if cluster.roles.get(n) == "proposer"]
    others = [n for n in cluster.nodes if n not in proposers]
    async with cluster:
        for p in pauses:
            cluster.pause(p.node, p.at, p.duration)
        for c in crashes:
            cluster.crash_later(c.node, c.at, c.down_for)
        await cluster.start(*others)
        await cluster.start(*proposers)
        done = await cluster.wait_for(lambda _: all(decisions(cluster, l) for l in waiting))
    return cluster, done


def run_net(sc: NetScenario) -> tuple[Cluster, bool]:
    """Validate ``sc`` and run it on 127.0.0.1 (see ``run_cluster``); a busy ``base_port`` is
    a ``UserError``."""
    # asyncio and impl.net cost ~50 ms to import (measured); only a real run needs them
    import asyncio
    from paxchain.impl.net import PortBusy

    sc.validate()
    tmp = None if sc.data_dir else tempfile.mkdtemp(prefix="paxchain-run-")
    try:
        return asyncio.run(run_cluster(sc.net_spec(sc.data_dir or tmp), sc.pauses, sc.crashes))
    except PortBusy as exc:
        raise UserError(f"{exc.strerror}; choose another --base-port or 0") from None
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
