"""Parallel explicit-state search on one machine: shared-nothing, hash-partitioned, breadth-first.

``check(model, options, workers=N)`` gives the verdicts, counts and counterexamples that the
sequential engine (``paxchain.checker.explicit.check``) gives for the same options — the same
distinct and generated counts, the same traces, step for step — using N worker processes. The
search itself (shards, ranks, the level barrier, stopping where the sequential search stops,
checkpoints) is ``paxchain.checker.level_search``'s; this module is its transport: forked
processes, a pipe from the coordinator (this process) to each, and a queue per worker through
which, each level, the others send it three things in turn: their offers (the fingerprints,
ranks and parents of the successors it owns, as arrays), their requests (the positions of the
offered states they want, with their new states' ranks, from which each worker places its own
in the level) and the states it requested (packed by the codec: only new states their owner
did not generate itself, or with symmetry not as the member the sequential search keeps). A
worker checks the new states it generated itself while the others are on their way. The
coordinator sees only counts, events and each worker's phase seconds.

Stopping. Time limit, memory limit (the resident memory of all workers and the coordinator
together) and Ctrl-C are watched by the coordinator while the workers run. A worker that dies
(the kernel's out-of-memory killer sends SIGKILL) ends the run as *incomplete* (out of memory);
one that ends otherwise raises ``WorkerLost``.

Workers are forked (POSIX): they inherit the model, its properties and its interning tables as
they are at the start, and keep Python's garbage collector off their heaps
(``shard.quiet_collector``). ``PAXCHAIN_PROFILE_WORKERS=DIR`` has each write its cProfile
statistics to ``DIR/worker-I.prof``.
"""

from __future__ import annotations

import cProfile
import gc
import multiprocessing as mp
import os
import resource
import signal
import time
from multiprocessing.connection import Connection, wait
from collections.abc import Callable
from typing import Any, NoReturn

from paxchain.checker.explicit import retrying as explicit_retrying
from paxchain.checker.level_search import (POLL, SHIFT, Coordinator, Shard, Stop, Unsupported,
                                           WorkerLost)
from paxchain.checker.portable import Codec
from paxchain.checker.shard import quiet_collector
from paxchain.checker.visited import np
from paxchain.checker.progress import near_address_limit, resident_mb
from paxchain.checker.result import STOP_OUT_OF_MEMORY, Options, Result
from paxchain.models.model import Model
from paxchain.models.properties import Property

__all__ = ["check", "parse_workers", "retrying", "Unsupported", "WorkerLost", "SHIFT",
           "PROFILE_ENV"]

# Set to a directory, each worker writes its cProfile statistics there (worker-I.prof).
PROFILE_ENV = "PAXCHAIN_PROFILE_WORKERS"

def parse_workers(text: str | int) -> int:
    """``--workers``: a positive integer or ``auto`` (the cores this process may use)."""
    if isinstance(text, int):
        n = text
    elif text.strip().lower() == "auto":
        n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        return max(1, n or 1)
    else:
        try:
            n = int(text)
        except ValueError:
            raise ValueError(f"--workers takes a positive integer or auto, not {text!r}") from None
    if n < 1:
        raise ValueError(f"--workers must be at least 1, not {n}")
    return n


def check(model: Model, options: Options | None = None, workers: int = 2,
          checkpoint: str | None = None, every: float = 300.0,
          resume: str | None = None, profile: list[dict[str, Any]] | None = None) -> Result:
    """Search ``model`` with ``workers`` processes; the result equals ``explicit.check``'s.

    With ``checkpoint`` the search is written to that directory every ``every`` seconds and
    when interrupted; ``resume`` continues a search from one (``paxchain.checker.checkpoint``).
    ``profile``, a list, is filled with one dict a worker: the CPU and wall seconds of each
    phase of its work (``Shard.clock``), its CPU seconds, peak resident megabytes and the
    number of states it shipped to another worker.
    A reduction whose premise fails (``ReductionUnsound``) is switched off and the search
    redone from the start, as in ``explicit.check``.
    """
    saving = (checkpoint, every) if checkpoint is not None else None
    if workers > 1:
        # the shards' arrays: imported once here, before the workers are forked, rather
        # than by each worker at its first level (about 0.09 s each, inside the search)
        np.zeros(0)

    def run(m: Model, o: Options, r: str | None) -> Result:
        coordinator = _Coordinator(m, o, workers, saving, r)
        try:
            return coordinator.run()
        finally:
            if profile is not None:
                profile[:] = coordinator.profile

    return retrying(model, options or Options(), resume, run)


def retrying(model: Model, options: Options, resume: str | None,
             run: Callable[[Model, Options, str | None], Result]) -> Result:
    """``explicit.retrying`` for a search that may start from the checkpoint ``resume``: only
    the first attempt resumes (a search redone without a reduction starts afresh, since the
    checkpoint's search had it on)."""
    pending = [resume]

    def attempt(m: Model, o: Options) -> Result:
        start, pending[0] = pending[0], None
        return run(m, o, start)

    return explicit_retrying(model, options, attempt)


# -- the worker ----------------------------------------------------------------------------------

class _Worker(Shard):
    def __init__(self, me: int, n: int, model: Model, codec: Codec, props: list[Property],
                 options: Options, conn: Connection, inboxes: list[Any],
                 share: dict[str, Any]) -> None:
        super().__init__(me, n, model, codec, props, options, share)
        self.conn, self.inboxes = conn, inboxes
        self.mail: dict[str, dict[int, Any]] = {"offer": {}, "request": {}, "states": {}}

    def serve(self) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the coordinator handles Ctrl-C
        quiet_collector()
        profile_dir = os.environ.get(PROFILE_ENV)
        # CPU time, not wall time: the machine may be shared, and a worker waits at barriers
        profiler = cProfile.Profile(time.process_time) if profile_dir else None
        if profiler is not None:
            profiler.enable()
        try:
            self._serve()
        finally:
            if profiler is not None and profile_dir:
                profiler.disable()
                profiler.dump_stats(os.path.join(profile_dir, f"worker-{self.me}.prof"))

    def _serve(self) -> None:
        while True:
            msg = self.conn.recv()
            if msg[0] == "quit":
                return
            reply = self.handle(msg)
            try:
                self.conn.send(reply)
            except Exception:  # an exception that does not pickle: its text
                self.conn.send(("error", RuntimeError(str(reply[1])), ""))

    def _expand(self, depth: int, at_bound: bool, open_props: list[str]) -> tuple:
        """A level: ``generate``; each worker's offers (fingerprint arrays) to their owners;
        ``arbitrate``; each owner's requests, with its new states' ranks, to every finder;
        ``ship``; the states asked for to their owners; ``finish``, then ``place``. The
        reply is ``finish``'s, with this worker's phase seconds and CPU time."""
        _, offers = self._generate(depth, at_bound, open_props)
        got = self._trade("offer", offers)
        _, requests, ranks = self._arbitrate(got)
        asked = self._trade("request", [(r, ranks) for r in requests])
        _, payloads = self._ship([None if a is None else a[0] for a in asked])
        if self.n > 1:
            with self.clock("exchange"), self.clock("exchange states"):
                self._send("states", payloads)
            self._own()  # while the states asked for are on their way
            with self.clock("exchange"), self.clock("exchange states"):
                payloads = self._receive("states")
        reply = self._finish(payloads)
        if self.n > 1:
            self._place([None if a is None else a[1] for a in asked])
        gc.freeze()  # this level's survivors: see quiet_collector
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return reply + ({"phases": self.clock.seconds, "cpu": usage.ru_utime + usage.ru_stime,
                         "rss_mb": usage.ru_maxrss / 1024, "shipped": self.shipped},)

    def _trade(self, tag: str, items: list[Any]) -> list[Any]:
        """Send ``items[j]`` to worker j and receive one ``tag`` item from every other."""
        if self.n == 1:
            return [None]
        with self.clock("exchange"), self.clock("exchange " + tag):
            self._send(tag, items)
            return self._receive(tag)

    def _send(self, tag: str, items: list[Any]) -> None:
        for j, item in enumerate(items):
            if j != self.me:
                self.inboxes[j].put((tag, self.me, item))

    def _receive(self, tag: str) -> list[Any]:
        """One ``tag`` message from every other worker, by sender (None at this worker's
        own place); another kind that arrives first waits in ``mail``."""
        box = self.mail[tag]
        while len(box) < self.n - 1:
            kind, sender, item = self.inboxes[self.me].get()
            self.mail[kind][sender] = item
        got = [box.pop(j) if j != self.me else None for j in range(self.n)]
        return got


def _worker_main(*args: Any) -> None:
    _Worker(*args).serve()


# -- the coordinator -----------------------------------------------------------------------------

class _Coordinator(Coordinator):
    procs: list[Any]

    def _spawn(self, shares: list[dict[str, Any]]) -> None:
        ctx = mp.get_context("fork")
        inboxes = [ctx.Queue() for _ in range(self.n)]
        self.procs = []
        for i in range(self.n):
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=_worker_main, daemon=True, name=f"paxchain-worker-{i}",
                               args=(i, self.n, self.model, self.codec, self.props, self.opt,
                                     theirs, inboxes, shares[i]))
            proc.start()
            theirs.close()
            self.procs.append(proc)
            self.shards.append(ours)

    def _shutdown(self) -> None:
        for c in self.shards:
            try:
                c.send(("quit",))
            except (OSError, ValueError):
                pass
        for p in getattr(self, "procs", []):
            p.join(timeout=1.0)
            if p.is_alive():
                p.terminate()
                p.join()
        for c in self.shards:
            c.close()
        self.procs, self.shards = [], []

    def _ask(self, msg: tuple, shards: list[Any] | None = None) -> list[tuple]:
        """Send ``msg`` to the workers (all, or ``shards``) and wait for every reply, watching
        the limits meanwhile."""
        conns = self.shards if shards is None else shards
        try:
            for c in conns:
                c.send(msg)
            return self._replies(conns)
        except (EOFError, OSError):
            self._lost()

    def _replies(self, conns: list[Connection]) -> list[tuple]:
        replies: dict[int, tuple] = {}
        while len(replies) < len(conns):
            for c in wait([c for c in conns if id(c) not in replies], timeout=POLL):
                replies[id(c)] = self._checked(c.recv())
            self._watch()
        return [replies[id(c)] for c in conns]

    def _lost(self) -> NoReturn:
        """A worker's pipe broke: it ended. Killed by SIGKILL — the kernel's out-of-memory
        killer, as a rule — the run is incomplete (out of memory); otherwise ``WorkerLost``."""
        for i, p in enumerate(self.procs):
            p.join(timeout=1.0)
            if p.exitcode is not None:
                if p.exitcode == -signal.SIGKILL:
                    raise Stop(STOP_OUT_OF_MEMORY)
                raise WorkerLost(f"worker {i} ended unexpectedly (exit code {p.exitcode})")
        raise WorkerLost("a worker's pipe closed while every worker was still running")

    def _near_address_limit(self) -> bool:
        """Whether this process or a worker (forked under the same limit) is near it."""
        return near_address_limit() or any(near_address_limit(pid=p.pid)
                                           for p in getattr(self, "procs", []))

    def _memory(self) -> float:
        """Resident megabytes of this process and every worker."""
        total = resident_mb()
        page = os.sysconf("SC_PAGE_SIZE") / 2.0 ** 20
        for p in self.procs:
            try:
                with open(f"/proc/{p.pid}/statm", "rb") as f:
                    total += int(f.read().split()[1]) * page
            except (OSError, IndexError, ValueError):
                pass
        return total
