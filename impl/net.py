"""A real runtime for any actors of ``paxchain.impl.actor``: UDP on 127.0.0.1, one OS process per node.

Theory of operation. The parent (``Cluster``) binds one UDP socket per node on 127.0.0.1 and
starts each node as ``python -m paxchain.impl.net NODE SPEC_FILE FD``, handing the bound socket down by
file descriptor (``pass_fds``). The child rebuilds the actors with the spec's factory (e.g.
``paxchain.impl.paxos:make_cluster``), picks its own, and runs it on an asyncio loop:

- ``now`` is the loop's monotonic clock, in seconds since the process started (so a restarted
  node's clock starts again at 0, as a rebooted machine's might), running at rate
  ``1 + drift`` for a node the spec gives a drift (``drifts``), as the simulator's clocks do;
- ``SetTimer`` / ``CancelTimer`` are ``loop.call_later`` handles, replaced by name; a delay is
  of the node's own clock, so a drifting node's timers fire after ``delay / (1 + drift)``;
- a handler's effects are carried out strictly in list order (``_Node.apply``);
- ``Persist`` writes ``DATA_DIR/NODE.json``: a temp file in the same directory, ``fsync``,
  ``os.replace``, then ``fsync`` of the directory; it happens synchronously, before any later
  ``Send`` of the same handler leaves (write-ahead). A write that fails stops the node at once
  (fail-stop): the rest of the list never happens. ``on_start`` reads the file back, and the
  node reports what it read to the parent (``Cluster.recovered``);
- ``Send`` is one JSON datagram ``{"src": ..., "msg": {"type": ..., ...}}`` (tuples as
  ``{"#tup": [...]}``, sets as ``{"#set": [...]}``); injected loss drops it, injected delay
  holds it up to ``delay_ms`` (seeded per node: ``random.Random`` instance, no globals); a
  ``Send`` over a link that a partition of the spec cuts at that moment (``partitions``, read
  as the simulator reads them: ``paxchain.impl.simulator.Partition``, times in seconds since
  the parent's time 0) is dropped before any of that and counted (``partitioned``);
- a datagram that is not JSON, lacks a string ``src``, or names an unknown message type or
  wrong fields is ignored and counted (``malformed``); a reply to an unknown ``src`` goes back
  to the datagram's source address, so a test socket can talk to a node;
- ``Output`` becomes a JSON line on stdout, which the parent reads; at ``SIGTERM`` the child
  prints its counters and exits; it also exits on its own at the global deadline, or when its
  stdin closes (the parent died), so no node outlives a run.

Why one process per node, rather than one event loop hosting every node: a crash is then a real
``SIGKILL`` that loses exactly the process's memory and keeps exactly what was fsync'ed, a pause
is a real ``SIGSTOP``/``SIGCONT`` (the kernel queues datagrams, timers fire late), and nodes
share nothing but the network -- no shared loop to serialise them by accident. The cost is
~0.1-0.2 s of interpreter start-up per node. The parent keeps every socket open for the whole
run, so a restarted node gets the *same* port back without a rebind race; datagrams that arrive
while it is down wait in that socket's buffer and reach it after the restart, which is just a
long network delay.

The parent's time 0 is the ``Cluster``'s creation: the deadline, crash and pause times count
from there, so start-up counts against the deadline; every wait ends at the deadline, and the
clean-up after it is bounded whatever the number of nodes (``Cluster.stop``). A crash may fall
before, during or after a node's start-up (``Cluster.kill`` / ``restart``). Signals go to the
pid with ``os.kill`` while asyncio's child watcher has not reaped it, never through
``Popen.send_signal``, whose poll can reap a child behind the watcher's back.
"""

from __future__ import annotations

import asyncio
import errno
import importlib
import json
import os
import random
import signal
import socket
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass, field, fields, is_dataclass
from collections.abc import Callable
from typing import Any

from paxchain.impl.actor import Effect
from paxchain.impl.effects import apply_effects
from paxchain.impl.simulator import Partition

__all__ = ["NetSpec", "Cluster", "PortBusy", "encode_value", "decode_value", "encode_msg",
           "decode_msg", "Malformed", "write_durable", "read_durable"]


# -- wire format ------------------------------------------------------------------------------

class Malformed(ValueError):
    """A datagram or stored value that this runtime did not write."""


def encode_value(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, tuple):
        return {"#tup": [encode_value(x) for x in v]}
    if isinstance(v, frozenset):
        items = [encode_value(x) for x in v]
        return {"#set": sorted(items, key=lambda x: json.dumps(x, sort_keys=True))}
    if is_dataclass(v) and not isinstance(v, type):
        out = {"type": type(v).__name__}
        out.update({f.name: encode_value(getattr(v, f.name)) for f in fields(v)})
        return out
    raise TypeError(f"cannot send or store a {type(v).__name__}")


def decode_value(v: Any, types: dict[str, type] | None = None) -> Any:
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, dict):
        if set(v) == {"#tup"} and isinstance(v["#tup"], list):
            return tuple(decode_value(x, types) for x in v["#tup"])
        if set(v) == {"#set"} and isinstance(v["#set"], list):
            try:
                return frozenset(decode_value(x, types) for x in v["#set"])
            except TypeError:
                raise Malformed("unhashable set member") from None
        if types is not None and isinstance(v.get("type"), str):
            return decode_msg(v, types)
    raise Malformed(f"not a value this runtime writes: {str(v)[:60]}")


def encode_msg(msg: Any) -> dict[str, Any]:
    if not (is_dataclass(msg) and not isinstance(msg, type)):
        raise TypeError(f"messages must be dataclass instances, not {type(msg).__name__}")
    out: dict[str, Any] = encode_value(msg)  # a dataclass encodes as an object
    return out


def decode_msg(d: Any, types: dict[str, type]) -> Any:
    """The message ``d`` describes; ``Malformed`` for an unknown type or wrong field names."""
    if not isinstance(d, dict) or d.get("type") not in types:
        raise Malformed("unknown message type")
    cls = types[d["type"]]
    names = {f.name for f in fields(cls)}
    if set(d) - {"type"} != names:
        raise Malformed(f"wrong fields for {d['type']}")
    return cls(**{k: decode_value(d[k], types) for k in names})


def write_durable(path: str, value: Any) -> None:
    """Replace ``path`` with ``value`` durably: temp file, fsync, rename, fsync the directory."""
    directory = os.path.dirname(os.path.abspath(path))
    data = json.dumps({"durable": encode_value(value)})
    fd, tmp = tempfile.mkstemp(prefix=".durable.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dfd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def read_durable(path: str) -> Any:
    """What ``write_durable`` stored at ``path``, or ``None`` (no file, or unreadable)."""
    try:
        with open(path, encoding="utf-8") as f:
            return decode_value(json.load(f)["durable"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _load(ref: str) -> Any:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def _built(spec: dict[str, Any]) -> dict[str, tuple[Any, str | None]]:
    """Node id -> ``(actor, role)`` from the spec's factory (role ``None`` where the factory
    returns a bare actor)."""
    built = _load(spec["factory"])(**spec["kwargs"])
    return {n: (a if isinstance(a, tuple) else (a, None)) for n, a in built.items()}


def _actors(spec: dict[str, Any]) -> dict[str, Any]:
    return {n: actor for n, (actor, _) in _built(spec).items()}


# -- the node process --------------------------------------------------------------------------

def variant_cluster(catalogue: str, factory: str, variants: list[str] | None = None,
                    **kwargs: Any) -> dict[str, Any]:
    """A ``NetSpec`` factory that builds ``factory(**kwargs)`` (``"module:function"``) and
    applies the named variants of ``catalogue`` (``"module:NAME"``, an
    ``paxchain.impl.variants.Catalogue``): each node process looks its variants up by name, so plugins
    named in ``PAXCHAIN_PLUGINS`` reach the children too."""
    nodes: dict[str, Any] = _load(catalogue).apply(list(variants or ()), _load(factory)(**kwargs))
    return nodes


class _Node(asyncio.DatagramProtocol):
    def __init__(self, name: str, spec: dict[str, Any], loop: asyncio.AbstractEventLoop) -> None:
        self.name, self.spec, self.loop = name, spec, loop
        self.actor = _actors(spec)[name]
        self.types = {cls.__name__: cls for cls in _load(spec["messages"])}
        self.addresses = {n: ("127.0.0.1", p) for n, p in spec["addresses"].items()}
        self.learned: dict[str, tuple[Any, ...]] = {}
        self.path = os.path.join(spec["data_dir"], f"{name}.json")
        self.rng = random.Random(spec["seed"] * 1_000_003 + zlib.crc32(name.encode()))
        self.t0 = loop.time()
        self.rate = 1.0 + float(spec.get("drifts", {}).get(name, 0.0))
        self.timers: dict[str, asyncio.TimerHandle] = {}
        self.counts = {"sent": 0, "received": 0, "lost": 0, "malformed": 0, "errors": 0}
        self.partitions = [Partition(tuple(tuple(g) for g in groups), start, end)
                           for groups, start, end in spec.get("partitions", [])]
        if self.partitions:
            self.counts["partitioned"] = 0
        self.transport: Any = None
        self.state: Any = None

    def now(self) -> float:
        return (self.loop.time() - self.t0) * self.rate

    def emit(self, **event: Any) -> None:
        sys.stdout.write(json.dumps({"node": self.name, **event}) + "\n")
        sys.stdout.flush()

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        durable = read_durable(self.path)
        self.state, effects = self.actor.on_start(self.name, durable, self.now())
        self.emit(event="ready", durable=encode_value(durable))
        self.apply(effects)

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        try:
            env = json.loads(data.decode("utf-8"))
            if not isinstance(env, dict) or not isinstance(env.get("src"), str):
                raise Malformed("no src")
            msg = decode_msg(env.get("msg"), self.types)
        except (ValueError, TypeError, UnicodeDecodeError, RecursionError):
            self.counts["malformed"] += 1
            return
        src = env["src"]
        if src not in self.addresses:
            self.learned[src] = addr
        self.counts["received"] += 1
        self.handle(lambda: self.actor.on_message(self.name, self.state, src, msg, self.now()))

    def handle(self, call: Callable[[], Any]) -> None:
        try:
            state, effects = call()
        except Exception as exc:  # an actor bug must not take the node down
            self.counts["errors"] += 1
            self.emit(event="error", error=f"{type(exc).__name__}: {exc}")
            return
        self.state = state
        self.apply(effects)

    def fire(self, name: str) -> None:
        self.timers.pop(name, None)
        self.handle(lambda: self.actor.on_timer(self.name, self.state, name, self.now()))

    def apply(self, effects: list[Effect]) -> None:
        """Carry out ``effects`` strictly in list order (``apply_effects``, the one interpreter
        every driver uses; this node is the ``EffectTarget``). A ``Persist`` is durable (see
        ``write_durable``) before the next effect starts, so no later ``Send`` leaves before
        it; a ``Persist`` that fails stops the node at once (fail-stop, like a crash: what
        follows it in the list never happens, and the node does not go on with a state its
        disk does not back)."""
        apply_effects(self.name, effects, self)

    def persist(self, data: Any) -> None:
        try:
            write_durable(self.path, data)
        except (OSError, TypeError, ValueError) as exc:
            self.emit(event="error", error=f"persist failed, node stops: {exc}")
            os._exit(1)

    def set_timer(self, name: str, delay: float) -> None:
        if name in self.timers:
            self.timers[name].cancel()
        self.timers[name] = self.loop.call_later(max(delay, 0.0) / self.rate, self.fire, name)

    def cancel_timer(self, name: str) -> None:
        handle = self.timers.pop(name, None)
        if handle is not None:
            handle.cancel()

    def output(self, value: Any) -> None:
        self.emit(event="output", t=round(self.now(), 6), value=encode_value(value))

    def send(self, dst: str, msg: Any) -> None:
        addr = self.addresses.get(dst) or self.learned.get(dst)
        if addr is None:
            return
        self.counts["sent"] += 1
        if self.partitions:
            t = time.time() - self.spec["start"]  # the parent's time 0, as crashes count
            if any(p.cuts(self.name, dst, t) for p in self.partitions):
                self.counts["partitioned"] += 1
                return
        if self.rng.random() < self.spec["loss"]:
            self.counts["lost"] += 1
            return
        data = json.dumps({"src": self.name, "msg": encode_msg(msg)}).encode("utf-8")
        delay = self.rng.uniform(0, self.spec["delay_ms"]) / 1000 if self.spec["delay_ms"] else 0
        if delay:
            self.loop.call_later(delay, self._sendto, data, addr)
        else:
            self._sendto(data, addr)

    def _sendto(self, data: bytes, addr: tuple[Any, ...]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, addr)

    def stop(self) -> None:
        self.emit(event="stats", **self.counts)
        os._exit(0)


def _node_main(name: str, spec_path: str, fd: int) -> None:
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)

    def watch_stdin() -> None:  # the parent died or closed our stdin: leave
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        node = _Node(name, spec, loop)
        sock = socket.socket(fileno=fd)
        await loop.create_datagram_endpoint(lambda: node, sock=sock)
        loop.add_signal_handler(signal.SIGTERM, node.stop)
        left = spec["deadline"] - time.time()
        loop.call_later(max(left, 0.0), node.stop)
        await asyncio.Event().wait()

    asyncio.run(main())


# -- the parent ----------------------------------------------------------------------------------

class PortBusy(OSError):
    """A requested port on 127.0.0.1 is in use."""


@dataclass
class NetSpec:
    """What to run: ``factory`` (``"module:function"``) called with ``kwargs`` returns node id
    -> actor (or ``(actor, role)``); ``messages`` (``"module:NAME"``) is the tuple of message
    dataclasses. ``base_port`` 0 picks free ports. ``deadline`` bounds the run in seconds,
    start-up included. ``partitions``: ``[[[node, ...], ...], start, end]`` each, the links
    cut from ``start`` to ``end`` seconds into the run (``paxchain.impl.simulator.Partition``);
    ``drifts``: node -> drift, its clock's rate less 1 (``now`` and timers)."""

    factory: str
    kwargs: dict[str, Any]
    messages: str
    data_dir: str
    loss: float = 0.0
    delay_ms: float = 0.0
    seed: int = 0
    base_port: int = 0
    deadline: float = 20.0
    partitions: list[Any] = field(default_factory=list)
    drifts: dict[str, float] = field(default_factory=dict)


@dataclass
class _Proc:
    proc: Any
    reader: Any
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    errors: list[str] = field(default_factory=list)


def _signal(p: _Proc, sig: int) -> None:
    """Send ``sig`` to a node process that has not been reaped. Not ``Popen.send_signal``: it
    polls first, and a poll that reaps an exited child races asyncio's child watcher (which
    then logs "Unknown child process pid"). Until the watcher reaps it, the pid stays ours."""
    if p.proc.returncode is None:
        try:
            os.kill(p.proc.pid, sig)
        except ProcessLookupError:
            pass


STOP_GRACE = 2.0  # seconds the nodes get, all together, to print their counters at the end
_SETTLE_POLL = 0.05  # seconds between looks at which processes are up while waiting for them


class Cluster:
    """The nodes of ``spec`` as OS processes. Use as ``async with Cluster(spec) as c:``.

    Time 0 of the run is the creation of the ``Cluster``: crash and pause times count from
    there, and so does the deadline, so start-up counts against it. Every wait ends by the
    deadline at the latest, and ``stop`` takes at most ~2 x ``STOP_GRACE`` however many nodes
    there are, so a run ends within its deadline plus a bounded cleanup.

    ``nodes`` lists the node ids in the factory's order, ``roles`` each one's declared role
    (``None`` where the factory returns bare actors).

    A node is *up* (a process, started or starting), or *down* (killed by ``kill`` and not yet
    restarted, or never started). ``kill`` of a node that is still starting kills the starting
    process; ``kill`` of a node whose first start has not come yet keeps it from starting
    until ``restart``; ``start`` leaves nodes that are up or down alone. So a crash-restart
    schedule applies the same way whether it falls before, during or after a node's start-up.
    """

    def __init__(self, spec: NetSpec) -> None:
        self.t0 = time.monotonic()
        self.start_wall = time.time()  # time 0 as the node processes read it (partitions)
        self.deadline_wall = self.start_wall + spec.deadline
        self.spec = spec
        built = _built({"factory": spec.factory, "kwargs": spec.kwargs})
        self.nodes = list(built)
        self.roles: dict[str, str | None] = {n: role for n, (_, role) in built.items()}
        self.sockets: dict[str, socket.socket] = {}
        self.procs: dict[str, _Proc] = {}
        self.outputs: dict[str, list[tuple[float, Any]]] = {n: [] for n in self.nodes}
        self.recovered: dict[str, list[Any]] = {n: [] for n in self.nodes}
        self.stats: dict[str, dict[str, int]] = {}
        self.starts: dict[str, int] = {n: 0 for n in self.nodes}
        self.down: set[str] = set()
        self.failed: dict[str, str] = {}
        self.log: list[tuple[float, str, str]] = []  # (seconds into the run, node, what)
        self.changed = asyncio.Event()
        self.spec_path = ""
        self._tasks: list[Any] = []
        self._locks = {n: asyncio.Lock() for n in self.nodes}

    @property
    def ports(self) -> dict[str, int]:
        return {n: s.getsockname()[1] for n, s in self.sockets.items()}

    async def __aenter__(self) -> Cluster:
        self._bind()
        os.makedirs(self.spec.data_dir, exist_ok=True)
        fd, self.spec_path = tempfile.mkstemp(prefix=".spec.", suffix=".json",
                                              dir=self.spec.data_dir)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"factory": self.spec.factory, "kwargs": self.spec.kwargs,
                       "messages": self.spec.messages, "addresses": self.ports,
                       "data_dir": self.spec.data_dir, "loss": self.spec.loss,
                       "delay_ms": self.spec.delay_ms, "seed": self.spec.seed,
                       "deadline": self.deadline_wall, "start": self.start_wall,
                       "partitions": self.spec.partitions, "drifts": self.spec.drifts}, f)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    def _bind(self) -> None:
        for i, n in enumerate(self.nodes):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            port = self.spec.base_port + i if self.spec.base_port else 0
            try:
                s.bind(("127.0.0.1", port))
            except OSError as exc:
                s.close()
                for t in self.sockets.values():
                    t.close()
                self.sockets.clear()
                if exc.errno == errno.EADDRINUSE:
                    raise PortBusy(exc.errno, f"port {port} on 127.0.0.1 is busy") from None
                raise
            self.sockets[n] = s

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def _note(self, name: str, what: str) -> None:
        self.log.append((round(self.elapsed(), 3), name, what))

    def left(self) -> float:
        """Seconds until the deadline (0 once it passed)."""
        return max(self.deadline_wall - time.time(), 0.0)

    def running(self, name: str) -> bool:
        p = self.procs.get(name)
        return p is not None and p.proc.returncode is None and not p.reader.done()

    def is_ready(self, name: str) -> bool:
        """``name`` runs and has read its storage back."""
        return self.running(name) and self.procs[name].ready.is_set()

    async def start(self, *names: str) -> bool:
        """Start ``names`` (skipping nodes that are up, or down by ``kill``), then wait until
        each has read its storage, or was killed meanwhile, or the deadline came. True when
        every one of ``names`` is up and ready."""
        for n in names:
            if self.left() <= 0:
                break
            async with self._locks[n]:
                if n not in self.down and not self.running(n):
                    await self._spawn(n)
        await self._settle(names)
        return all(self.is_ready(n) for n in names)

    async def restart(self, name: str) -> bool:
        """Bring a node that ``kill`` took down back (from its durable file); see ``start``."""
        self.down.discard(name)
        self._note(name, "restarted")
        return await self.start(name)

    async def _spawn(self, n: str) -> None:
        fd = self.sockets[n].fileno()
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "paxchain.impl.net", n, self.spec_path, str(fd), pass_fds=(fd,),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE)
        except OSError as exc:  # out of processes or file descriptors: the node stays down
            self.failed[n] = f"could not start: {exc.strerror or exc}"
            return
        p = _Proc(proc, None)
        p.reader = asyncio.ensure_future(self._read(n, p))
        self.procs[n] = p
        self.starts[n] += 1

    async def _settle(self, names: tuple[str, ...]) -> None:
        """Until each of ``names`` is ready or not running, or the deadline. The processes are
        looked up afresh every ``_SETTLE_POLL`` seconds: a node killed and restarted meanwhile
        (a scheduled crash) is a new process, whose readiness the old one's never signals."""
        names = tuple(dict.fromkeys(names))
        while self.left() > 0 and not all(
                self.is_ready(n) or not self.running(n) for n in names):
            ready: list[asyncio.Future[Any]] = []
            readers: list[asyncio.Future[Any]] = []
            for n in names:
                p = self.procs.get(n)
                if p is not None and not p.ready.is_set() and not p.reader.done():
                    ready.append(asyncio.ensure_future(p.ready.wait()))
                    readers.append(p.reader)
            if not ready:
                return
            try:
                await asyncio.wait(set(ready) | set(readers),
                                   timeout=min(self.left(), _SETTLE_POLL),
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in ready:
                    w.cancel()

    async def _read(self, name: str, p: _Proc) -> None:
        async def errors() -> None:
            async for line in p.proc.stderr:
                p.errors = (p.errors + [line.decode(errors="replace").rstrip()])[-20:]

        err_task = asyncio.ensure_future(errors())
        async for line in p.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            kind = ev.get("event")
            if kind == "ready":
                p.ready.set()
                try:
                    self.recovered[name].append(decode_value(ev.get("durable")))
                except Malformed:
                    self.recovered[name].append(None)
            elif kind == "output":
                self.outputs[name].append((round(self.elapsed(), 3), decode_value(ev["value"])))
            elif kind == "stats":
                prev = self.stats.get(name, {})
                self.stats[name] = {k: prev.get(k, 0) + v for k, v in ev.items()
                                    if isinstance(v, int)}
            self.changed.set()
        await err_task
        if not p.ready.is_set() and name not in self.down and p.errors:
            self.failed[name] = p.errors[-1]
        self.changed.set()

    async def wait_for(self, predicate: Callable[[dict[str, list[tuple[float, Any]]]], bool]
                       ) -> bool:
        """Wait until ``predicate(outputs)`` holds; ``False`` at the deadline."""
        while not predicate(self.outputs):
            self.changed.clear()
            if self.left() <= 0:
                return False
            try:
                await asyncio.wait_for(self.changed.wait(), max(self.left(), 0.01))
            except TimeoutError:  # asyncio.TimeoutError is TimeoutError since Python 3.11
                return predicate(self.outputs)
        return True

    async def kill(self, name: str) -> None:
        """Crash ``name``: SIGKILL, losing everything it did not fsync. The node stays down
        (``start`` skips it) until ``restart``."""
        async with self._locks[name]:  # a start in progress completes first, then dies
            self.down.add(name)
            p = self.procs.get(name)
            self._note(name, "killed" + ("" if self.is_ready(name) else
                                         " during its start-up" if self.running(name) else
                                         " before its first start" if p is None else
                                         " (it had exited)"))
            if p is None:
                return
            _signal(p, signal.SIGKILL)
            await p.proc.wait()
        await asyncio.wait({p.reader}, timeout=STOP_GRACE)

    def crash_later(self, name: str, at: float, down_for: float | None) -> asyncio.Task[None]:
        """Kill ``name`` ``at`` seconds into the run (time 0: the ``Cluster``'s creation) and,
        unless ``down_for`` is None, restart it (from its durable file) ``down_for`` seconds
        later; nothing happens past the deadline. ``stop`` cancels it."""
        async def crash() -> None:
            await asyncio.sleep(max(at - self.elapsed(), 0.0))
            if self.left() <= 0:
                return
            await self.kill(name)
            if down_for is not None:
                await asyncio.sleep(down_for)
                if self.left() > 0:
                    await self.restart(name)

        task = asyncio.ensure_future(crash())
        self._tasks.append(task)
        return task

    def pause(self, name: str, at: float, duration: float) -> None:
        """SIGSTOP ``name`` ``at`` seconds into the run, SIGCONT it ``duration`` later."""
        loop = asyncio.get_running_loop()

        def sig(s: int) -> None:
            p = self.procs.get(name)
            if p is not None:
                _signal(p, s)

        begin = max(at - self.elapsed(), 0.0)
        self._tasks.append(loop.call_later(begin, sig, signal.SIGSTOP))
        self._tasks.append(loop.call_later(begin + duration, sig, signal.SIGCONT))

    async def stop(self) -> None:
        """Cancel pending crashes and pauses; SIGCONT and SIGTERM every node (it prints its
        counters), SIGKILL whatever still runs after ``STOP_GRACE``, reap every process, close
        sockets. Bounded in time whatever the number of nodes, and quiet."""
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*[t for t in self._tasks if isinstance(t, asyncio.Future)],
                             return_exceptions=True)
        procs = list(self.procs.values())
        for p in procs:
            _signal(p, signal.SIGCONT)
            _signal(p, signal.SIGTERM)
        waits = [asyncio.ensure_future(p.proc.wait()) for p in procs]
        if waits:
            await asyncio.wait(waits, timeout=STOP_GRACE)
        for p in procs:
            _signal(p, signal.SIGKILL)
        if waits:
            await asyncio.wait(waits, timeout=STOP_GRACE)
        readers = [p.reader for p in procs]
        if readers:
            _, pending = await asyncio.wait(readers, timeout=STOP_GRACE)
            for r in pending:
                r.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
        for p in procs:
            if p.proc.stdin is not None:
                p.proc.stdin.close()
        for s in self.sockets.values():
            s.close()
        self.sockets.clear()
        if self.spec_path and os.path.exists(self.spec_path):
            os.unlink(self.spec_path)

    def errors(self, name: str) -> list[str]:
        """The last lines a node wrote to stderr (for diagnosing a node that died)."""
        p = self.procs.get(name)
        return p.errors if p else []


if __name__ == "__main__":
    _node_main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
