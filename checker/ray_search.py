"""Distributed explicit-state search on Ray: the parallel engine's algorithm, shards as actors.

``check(model, options, workers=N, address=ADDRESS)`` gives what ``paxchain.checker.parallel``
gives (and so what the sequential engine gives: the same counts, verdicts and traces) with the
search of ``paxchain.checker.level_search`` on a Ray cluster: each of the N shards is a Ray actor
that owns the states whose fingerprint is its index modulo N, keeps their visited set and
parents, and expands its own share of each level. ``paxchain check MODEL --ray [ADDRESS]`` runs
it: with ``ADDRESS`` (``HOST:6379``, as ``ray start --head`` prints) on that cluster, one shard
per CPU of the cluster unless ``--workers N`` says otherwise; without it, on a local Ray started
for the run with one CPU per shard (``--workers N``, else one per core) and stopped after it.

A level is four rounds of actor calls, submitted at once (each waits in Ray for the one before),
and the coordinator (this process, Ray's driver) sees no state, only object references and 8
bytes a new state each way (below): ``generate`` on every shard puts each other shard's offer
(the fingerprints, ranks and parents of the successors it owns) in its own object store
(``ray.put``: the shard owns it) and returns the list of references; ``arbitrate`` on shard j
is given every shard's list, fetches the j-th offer of each, decides which are new and puts
its request to each finder (the positions of the states it needs) the same way, returning two
objects (Ray's ``num_returns=2``): the list of references, which every ``ship`` is given, and
its sorted new ranks, which only the driver fetches; ``ship`` on every shard fetches the
requests made of it and puts the states asked for; ``finish`` fetches the states meant for it, checks the new
states and places them. So an offer, a request or a state goes from the machine that made it
to the one that needs it and never through the driver (an object returned from the call
instead would be owned by the driver, and one under Ray's inline limit, about 100 KB, copied
through it), and only a new state that its owner did not generate itself (with symmetry: not
as the member the sequential search keeps) travels at all.
The driver orders the level once from the new ranks (``shard.places``) and gives each
``finish`` its shard's places: 16 bytes a state through the driver, where the shards'
exchanging their ranks among themselves (as ``--workers`` does) would send each rank to N - 1
shards. It waits for every ``finish`` — the level barrier. Then it asks, as the parallel
engine does, the questions of a stop (counts before an event, parents for a trace). States
travel packed by the model's portable codec (``paxchain.checker.portable``); the model and
options are shipped to each actor by Ray's pickling, so every machine needs the same
paxchain (and any plugin) installed.

Fingerprints must be the same in every Ray worker as here: the initial states' are compared
when the shards start (a mismatch is a one-line ``ValueError``). Unlike forked workers, Ray's
are started afresh, so a plain state's ``hash`` must not depend on the process: strings hash
with the interpreter's seed (``PYTHONHASHSEED``: the local Ray and each actor get this
process's value), and ``None`` (Python 3.11) or an object hashed by identity by its address,
which no seed fixes — the chain model's states hold ``None``, so ``--ray`` refuses it.

Stopping: the time limit, Ctrl-C and the memory limit (this process's resident memory plus each
shard's as it reported with its last reply) end the run as *incomplete*, as in the parallel
engine; so does an actor killed by Ray's out-of-memory monitor (out of memory). An actor lost
otherwise raises ``WorkerLost``. Ray is an optional extra (``pip install 'paxchain[ray]'``);
without it ``load_ray`` raises ``RayMissing``, one line.
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import socket
from dataclasses import replace
from typing import Any

from paxchain.checker.level_search import POLL, Coordinator, Shard, Stop, WorkerLost, select
from paxchain.checker.parallel import parse_workers, retrying
from paxchain.checker.portable import codec_for
from paxchain.checker.shard import places, quiet_collector
from paxchain.checker.progress import resident_mb
from paxchain.checker.result import STOP_OUT_OF_MEMORY, Options, Result
from paxchain.models.model import Model

__all__ = ["check", "load_ray", "RayMissing"]


class RayMissing(ValueError):
    """``--ray`` without Ray installed (one line, saying what to install)."""


def load_ray() -> Any:
    """The ``ray`` module, or ``RayMissing``."""
    try:
        # ray is optional (the ray extra) and costs about 1.5 s to import: only --ray loads it
        import ray
    except ImportError:
        raise RayMissing("--ray needs Ray, which is not installed: "
                         "pip install 'paxchain[ray]'") from None
    return ray


def check(model: Model, options: Options | None = None, workers: int | None = None,
          address: str | None = None, checkpoint: str | None = None, every: float = 300.0,
          resume: str | None = None) -> Result:
    """Search ``model`` with ``workers`` Ray actors (default: one per CPU of the cluster); the
    result equals ``explicit.check``'s. ``address``: the cluster's (else a local Ray started
    for this run, unless this process is already connected to one). ``checkpoint``, ``every``
    and ``resume`` as in ``paxchain.checker.parallel.check``."""
    ray = load_ray()
    started = False
    if not ray.is_initialized():
        _connect(ray, address, workers)
        started = True
    try:
        cpus = int(ray.cluster_resources().get("CPU", 0))
        n = workers or cpus
        if n < 1 or n > cpus:
            raise ValueError(f"--ray: {n} shards need as many CPUs, and the Ray cluster has "
                             f"{cpus}")
        saving = (checkpoint, every) if checkpoint is not None else None
        return retrying(model, options or Options(), resume,
                        lambda m, o, r: _RayCoordinator(ray, m, o, n, saving, r).run())
    finally:
        if started:
            ray.shutdown()


def _connect(ray: Any, address: str | None, workers: int | None) -> None:
    """Join the cluster at ``address``, or start a local Ray with ``workers`` CPUs (default:
    the cores this process may use), quietly; Ray's workers get this process's hash seed."""
    seed = os.environ.get("PYTHONHASHSEED")
    env = {"env_vars": {"PYTHONHASHSEED": seed}} if seed is not None else None
    quiet = {"logging_level": "ERROR", "log_to_driver": False, "runtime_env": env}
    if address is None:
        ray.init(address="local", num_cpus=workers or parse_workers("auto"),
                 include_dashboard=False, **quiet)
    else:
        _answers(address)
        _token_auth_as_ray_start_does()
        ray.init(address=address, **quiet)


def _answers(address: str) -> None:
    """A ``HOST:PORT`` where nothing listens is a one-line ``ValueError`` at once (Ray itself
    retries for minutes, printing warnings); other forms (``auto``, ``ray://...``) go to Ray."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or "/" in host:
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=10).close()
    except OSError as exc:
        raise ValueError(f"--ray {address}: no Ray cluster answers there ({exc}); start one "
                         f"with `ray start --head --port={port}` on that machine") from None


def _token_auth_as_ray_start_does() -> None:
    """Turn Ray's token authentication on when a token is kept on this machine, as
    ``ray start`` does (so a cluster started with ``ray start`` here accepts this driver);
    ``RAY_AUTH_MODE``, when set, decides instead. The token itself is Ray's business."""
    try:
        # Ray's own check, as optional as ray itself (imported only for --ray; see load_ray)
        from ray._private.authentication.authentication_token_setup import (
            maybe_enable_token_auth_if_token_available as enable)
    except ImportError:  # a Ray without token authentication
        return
    log = logging.getLogger(enable.__module__)
    level = log.level
    log.setLevel(logging.ERROR)  # its warning that authentication is on
    try:
        enable(warn_if_disabled=False)
    finally:
        log.setLevel(level)


class _ShardActor:
    """One shard as a Ray actor. Each reply comes with the actor's resident megabytes."""

    def __init__(self, me: int, n: int, model: Model, options: Options,
                 share: dict[str, Any]) -> None:
        codec = codec_for(model, options.symmetry)
        self.n, self.ray = n, load_ray()
        self.shard = Shard(me, n, model, codec, select(model, options), options, share)
        self.failed: tuple | None = None  # this level's error, for finish to reply with
        quiet_collector()

    def call(self, msg: tuple) -> tuple:
        return _sendable(self.shard.handle(msg)), resident_mb()

    def _step(self, msg: tuple, tag: str) -> tuple | None:
        """``msg`` to the shard: its reply, or None when this level failed (here or before)."""
        if self.failed is not None:
            return None
        reply = self.shard.handle(msg)
        if reply[0] != tag:
            self.failed = _sendable(reply)
            return None
        return reply

    def _put(self, items: list[Any]) -> list[Any]:
        """Each item put in this actor's object store (None for none)."""
        return [self.ray.put(x) if x is not None else None for x in items]

    def _mine(self, lists: tuple[list[Any], ...]) -> list[Any]:
        """This shard's item of every shard's list of references, fetched."""
        refs = [made[self.shard.me] if made is not None else None for made in lists]
        got = iter(self.ray.get([r for r in refs if r is not None]))
        return [None if r is None else next(got) for r in refs]

    def generate(self, depth: int, at_bound: bool, open_props: list[str]) -> list[Any]:
        """Expand this shard's frontier: for each shard, a reference to the offer it owns (the
        fingerprints, ranks and parents of the candidates), put in this actor's object store."""
        self.failed = None
        reply = self._step(("generate", depth, at_bound, open_props), "offers")
        return self._put(reply[1] if reply else [None] * self.n)

    def arbitrate(self, *offers: list[Any]) -> tuple[list[Any], Any]:
        """Decide which successors offered to this shard are new: two objects (the driver calls
        this with ``num_returns=2``), references to the requests for each finder (every
        ``ship`` gets them) and the new states' ranks (the driver alone fetches them)."""
        reply = self._step(("arbitrate", self._mine(offers)), "requests")
        if reply is None:
            return [None] * self.n, None
        return self._put(reply[1]), reply[2]

    def ship(self, *requested: list[Any]) -> list[Any]:
        """The states every owner asked of this shard (``requested``: every shard's references
        to its requests): references, by owner."""
        requests = self._mine(requested) if self.failed is None else []
        reply = self._step(("ship", requests), "states")
        return self._put(reply[1] if reply else [None] * self.n)

    def finish(self, places: Any, *shipped: list[Any]) -> tuple:
        """Take the new states (``shipped``: every shard's references), check them, and place
        them in the level (``places``: from the driver; None for one shard)."""
        reply = self._step(("finish", self._mine(shipped) if self.failed is None else []),
                           "level")
        if reply is not None and places is not None:
            self.shard.handle(("placed", places))
        gc.freeze()  # this level's survivors: see shard.quiet_collector
        return (reply if reply is not None else self.failed), resident_mb()


def _sendable(reply: tuple) -> tuple:
    """``reply``, with an exception that does not pickle replaced by its text."""
    if reply[0] == "error":
        try:
            pickle.dumps(reply[1])
        except Exception:
            return ("error", RuntimeError(str(reply[1])), reply[2])
    return reply


class _RayCoordinator(Coordinator):
    flag = "--ray"

    def __init__(self, ray: Any, *args: Any) -> None:
        super().__init__(*args)
        self.ray = ray
        self.rss: dict[int, float] = {}  # shard -> resident MB at its last reply

    def _spawn(self, shares: list[dict[str, Any]]) -> None:
        ray, pack = self.ray, self.codec.pack
        actor = ray.remote(num_cpus=1, max_restarts=0)(_ShardActor)
        model, opts = ray.put(self.model), replace(self.opt, progress=None)
        for i, share in enumerate(shares):
            if not share.get("packed"):
                share = {**share, "packed": True,
                         "frontier": [(r, f, pack(s)) for r, f, s in share["frontier"]]}
            self.shards.append(actor.options(scheduling_strategy="SPREAD")
                               .remote(i, self.n, model, opts, share))
        initial = list(self.model.initial_states())
        ours = [self.key(s) for s in initial]
        for reply in self._ask(("keys", [pack(s) for s in initial])):
            if reply[1] != ours:
                raise ValueError(
                    f"--ray: {self.model.name}'s fingerprints (Python's hash of its states) "
                    "differ between this process and the Ray workers: strings need "
                    "PYTHONHASHSEED set (here and on every machine), and hash(None) or a hash "
                    "by identity differs between processes whatever the seed; use --workers")

    def _shutdown(self) -> None:
        for a in self.shards:
            self.ray.kill(a)
        self.shards = []

    def _ask(self, msg: tuple, shards: list[Any] | None = None) -> list[tuple]:
        """``msg`` to the shards (all, or ``shards``): every reply, watching the limits while
        the actors work. ``expand`` is ``generate`` everywhere, then ``arbitrate``, ``ship``
        and ``finish``."""
        targets = self.shards if shards is None else shards
        if msg[0] == "expand":
            offers = [a.generate.remote(*msg[1:]) for a in targets]
            arbitrated = [a.arbitrate.options(num_returns=2).remote(*offers) for a in targets]
            requested = [r for r, _ in arbitrated]
            shipped = [a.ship.remote(*requested) for a in targets]
            ranks = self._gather([r for _, r in arbitrated])
            placed: list[Any] = ([None] * len(targets) if len(targets) == 1
                                 or any(r is None for r in ranks) else places(ranks))
            return self._replies(targets, self._gather(
                [a.finish.remote(p, *shipped) for a, p in zip(targets, placed)]))
        return self._replies(targets, self._gather([a.call.remote(msg) for a in targets]))

    def _replies(self, targets: list[Any], got: list[tuple]) -> list[tuple]:
        """The shards' replies (each with its resident megabytes), errors raised here."""
        index = [next(k for k, s in enumerate(self.shards) if s is a) for a in targets]
        replies = []
        for k, (reply, rss) in zip(index, got):
            self.rss[k] = rss
            replies.append(self._checked(reply))
        return replies

    def _gather(self, refs: list[Any]) -> list[Any]:
        ray, errors = self.ray, self.ray.exceptions
        values: dict[Any, Any] = {}
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=len(pending), timeout=POLL)
            for ref in ready:
                try:
                    values[ref] = ray.get(ref)
                except errors.OutOfMemoryError:
                    raise Stop(STOP_OUT_OF_MEMORY) from None
                except errors.RayActorError as exc:
                    first = (str(exc).strip().splitlines() or ["no reason given"])[0]
                    raise WorkerLost(f"a Ray shard ended unexpectedly: {first}") from None
            self._watch()
        return [values[r] for r in refs]

    def _memory(self) -> float:
        """Resident megabytes of this process and every shard (as each last reported)."""
        return resident_mb() + sum(self.rss.values())
