"""impl/net.py and ``paxchain run paxos``: a real cluster on 127.0.0.1, one process per node.

Every wait is bounded by the cluster's global deadline (generous: 15 s), never by a fixed
sleep: the tests poll for the condition they need.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import time

import pytest

from paxchain.impl.net import (Cluster, Malformed, NetSpec, decode_msg, decode_value, encode_msg,
                      encode_value, read_durable, write_durable)
from paxchain.impl.paxos import MESSAGES, Nack, Prepare, Promise

TYPES = {cls.__name__: cls for cls in MESSAGES}


def spec(tmp_path, **kw) -> NetSpec:
    args = {"acceptors": 3, "proposers": 2, "learners": 2, "timeout": 0.2, "backoff": 1.5}
    args.update(kw.pop("kwargs", {}))
    return NetSpec("paxchain.impl.paxos:make_cluster", args, "paxchain.impl.paxos:MESSAGES", str(tmp_path),
                   deadline=15.0, **kw)


def test_wire_format_round_trips_and_rejects_garbage():
    for msg in (Prepare((1, 2)), Promise((3, 1), "a1", (2, 2), "v"), Promise((3, 1), "a1",
                                                                             None, None)):
        assert decode_msg(json.loads(json.dumps(encode_msg(msg))), TYPES) == msg
    for bad in ({"type": "Nope"}, {"type": "Prepare"}, {"type": "Prepare", "ballot": [1, 2]},
                {"type": "Prepare", "ballot": 1, "extra": 2}, "Prepare", None):
        with pytest.raises(Malformed):
            decode_msg(bad, TYPES)
    assert decode_value(encode_value(frozenset({(1, "a")}))) == frozenset({(1, "a")})


def test_durable_file_is_replaced_whole(tmp_path):
    path = str(tmp_path / "a1.json")
    assert read_durable(path) is None
    write_durable(path, ((2, 1), ((1, 2), "v")))
    write_durable(path, ((3, 1), ((1, 2), "v")))
    assert read_durable(path) == ((3, 1), ((1, 2), "v"))
    assert os.listdir(tmp_path) == ["a1.json"]  # no temp file left behind


async def _exchange(port: int, payloads: list[bytes], timeout: float = 5.0) -> list[dict]:
    """Send raw datagrams to 127.0.0.1:port from a fresh socket; return the first reply."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.setblocking(False)
    loop = asyncio.get_running_loop()
    replies = []
    try:
        for p in payloads:
            s.sendto(p, ("127.0.0.1", port))
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                data = await asyncio.wait_for(loop.sock_recv(s, 65536), end - time.monotonic())
            except TimeoutError:
                break
            replies.append(json.loads(data))
            break  # one reply is all the tests ask for
    finally:
        s.close()
    return replies


def test_kill_and_restart_an_acceptor_keeps_its_promise_and_learners_agree(tmp_path):
    async def scenario():
        async with Cluster(spec(tmp_path)) as c:
            await c.start("a1", "a2", "a3", "l1", "l2")
            await c.start("p1", "p2")
            a1_file = str(tmp_path / "a1.json")
            # Kill a1 as soon as it has promised something (its file exists), mid-protocol.
            assert await c.wait_for(lambda _: read_durable(a1_file) is not None)
            await c.kill("a1")
            before = read_durable(a1_file)
            assert await c.restart("a1"), c.errors("a1")
            assert await c.wait_for(lambda out: out["l1"] and out["l2"]), c.errors("a1")
            promised = read_durable(a1_file)[0]
            assert promised >= before[0]  # a promise never goes down, across the restart
            # The restarted a1 remembers its promise: a lower ballot is refused with a Nack
            # naming it; a malformed datagram before that is ignored, not fatal.
            low = json.dumps({"src": "probe", "msg": encode_msg(Prepare((0, 9)))}).encode()
            replies = await _exchange(c.ports["a1"], [b"\xff not json", low])
            assert replies, c.errors("a1")
            nack = decode_msg(replies[0]["msg"], TYPES)
            assert isinstance(nack, Nack) and nack.ballot == (0, 9)
            assert nack.promised == read_durable(a1_file)[0]
            outputs = {n: list(v) for n, v in c.outputs.items()}
        return c, outputs

    c, outputs = asyncio.run(scenario())
    decisions = {v for n in ("l1", "l2") for _, v in outputs[n]}
    assert len(decisions) == 1 and decisions <= {("decided", "v1"), ("decided", "v2")}
    assert c.starts["a1"] == 2
    assert c.stats["a1"]["malformed"] == 1  # the one junk datagram above


def test_run_command_decides_and_a_busy_port_is_a_one_line_error():
    p = subprocess.run(["paxchain", "run", "paxos", "-p", "acceptors=3", "-p", "proposers=2",
                        "-p", "learners=2", "--loss", "0.1", "--latency", "0..10",
                        "--deadline", "15"], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    lines = [l for l in p.stdout.splitlines() if l.startswith("l")]
    assert len(lines) == 2 and all(": decided v" in l for l in lines)
    assert len({l.split()[2] for l in lines}) == 1
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind(("127.0.0.1", 0))
    try:
        port = busy.getsockname()[1]
        q = subprocess.run(["paxchain", "run", "paxos", "--base-port", str(port)],
                           capture_output=True, text=True)
    finally:
        busy.close()
    assert q.returncode == 2 and q.stderr.count("\n") == 1 and "busy" in q.stderr


def test_a_node_crashed_while_starting_does_not_hold_up_the_proposers():
    """A scheduled crash that falls during start-up: the restarted acceptor is a new process,
    and the wait for the non-proposers to come up sees it (it once waited on the killed one's
    readiness until the deadline, so the proposers never started)."""
    p = subprocess.run(["paxchain", "run", "paxos", "-p", "acceptors=5", "-p", "proposers=2",
                        "--crash", "a1:0.05:0.3", "--deadline", "20"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "not up" not in p.stdout and "l1: decided v" in p.stdout
