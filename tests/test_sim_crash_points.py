"""Crash points in the simulator: a crash that falls between a handler's effects.

The effects before the cut happen (sends leave, persists are durable), the ones after it never
do, the log says where the cut fell, and the draws are seeded. With them the simulator catches
an acceptor that replies before its durable write, which an atomic effect list hides.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from click.testing import CliRunner

from paxchain.checker.cli import cli
from paxchain.checker.paxos_runs import replay_data, run_scenario, trace_json
from paxchain.impl.actor import Persist, Send
from paxchain.impl.simulator import Latency, SimConfig, simulate
from paxchain.models.paxos_driver import Scenario

EFFECTS = [Send("peer", "x"), Persist("x"), Send("peer", "y")]


class Writer:
    """On its first start: send x, persist x, send y. Restarted with x on disk: nothing."""

    def on_start(self, node, durable, now):
        return durable, ([] if durable == "x" else list(EFFECTS))

    def on_message(self, node, state, src, msg, now):
        return state, []

    def on_timer(self, node, state, name, now):
        return state, []


class Sink:
    """Keeps what it receives in its state; returns no effects (so no crash point falls in
    it)."""

    def on_start(self, node, durable, now):
        return (), []

    def on_message(self, node, state, src, msg, now):
        return state + (msg,), []

    def on_timer(self, node, state, name, now):
        return state, []


def run_writer(seed: int, **kw):
    cfg = SimConfig(seed=seed, latency=Latency("uniform", 1.0, 1.0), crash_points=1.0,
                    crash_points_max=1, crash_points_down=5.0, **kw)
    return simulate({"w": Writer(), "peer": Sink()}, cfg)


def test_effects_before_the_cut_happen_and_the_rest_never_do():
    cuts = set()
    for seed in range(40):
        r = run_writer(seed)
        points = [(t, node, d) for t, what, node, d in r.log if what == "crash-point"]
        assert len(points) == 1, r.log  # p = 1 and a budget of 1: exactly one, in w's start
        t, node, detail = points[0]
        assert node == "w" and t == 0.0
        k = int(re.match(r"after (\d) of 3 effects; never happened: ", detail).group(1))
        cuts.add(k)
        # What the log says was lost is exactly the effects after the cut.
        lost = detail.split("never happened: ")[1]
        assert lost == (", ".join(map(repr, EFFECTS[k:])) or "nothing")
        # Sends before the cut left at time 0; none after it did.
        at_crash = [m for when, src, _, m in r.sent if src == "w" and when == 0.0]
        assert at_crash == [e.msg for e in EFFECTS[:k] if isinstance(e, Send)]
        # The restart reads back what was persisted before the cut, and nothing else.
        restart = next(d for _, what, n, d in r.log if what == "restart" and n == "w")
        assert restart == ("'x'" if k >= 2 else "None")
        # After the restart (no budget left) the node ends with x on disk either way, and
        # the peer got x; y was sent only by a start that ran past it.
        assert r.durable["w"] == "x"
        assert "x" in r.states["peer"]
        assert ("y" in r.states["peer"]) == (k == 3 or k < 2)
    assert cuts == {0, 1, 2, 3}  # every cut, first to last, is reachable


def test_crash_points_are_seeded_and_off_by_default():
    assert run_writer(7).log == run_writer(7).log
    plain = simulate({"w": Writer(), "peer": Sink()}, SimConfig(seed=3))
    off = simulate({"w": Writer(), "peer": Sink()}, SimConfig(seed=3, crash_points=0.0))
    assert plain.log == off.log and "crash_points" not in plain.counts
    assert all(what != "crash-point" for _, what, _, _ in plain.log)
    # The budget bounds them: p = 1 with a budget of 0 is no crash point at all.
    cfg = SimConfig(seed=1, crash_points=1.0, crash_points_max=0)
    none = simulate({"w": Writer(), "peer": Sink()}, cfg)
    assert all(what != "crash-point" for _, what, _, _ in none.log)


@pytest.mark.parametrize("bad", [dict(crash_points=float("nan")), dict(crash_points=1.5),
                                 dict(crash_points_down=-1.0),
                                 dict(crash_points_down=float("inf")),
                                 dict(crash_points_max=-1)])
def test_bad_crash_point_settings_are_rejected(bad):
    with pytest.raises(ValueError):
        SimConfig(**bad)


# -- Paxos: the write-ahead rule, checked --------------------------------------------------------

def sweep(variants, seeds=range(300)):
    """Scenarios with up to 3 crash points per run, each node down 1 time unit after one."""
    for seed in seeds:
        sc = Scenario(3, 2, 1, seed=seed, variants=variants, crash_points=0.3,
                      crash_points_max=3, crash_points_down=1.0, stop="quiescent",
                      timeout=20.0)
        yield sc, *run_scenario(sc)


def test_reply_before_persist_is_caught_and_the_production_acceptor_is_not():
    caught = [(sc, r, v) for sc, r, v in sweep(("reply_before_persist",)) if v.violated]
    assert caught, "no crash point between an acceptor's reply and its write in 300 runs"
    sc, r, v = caught[0]
    assert v.violated == "agreement"
    # The log shows the crash falling in an acceptor after its reply left and before the
    # write that the reply reported.
    assert any(what == "crash-point" and node.startswith("a")
               and re.match(r"after [1-9]", d) and "never happened: Persist(" in d
               for _, what, node, d in r.log), r.log
    # Same schedules, production acceptor (it persists first): no violation at all.
    bad = [(sc.seed, v.explanation) for sc, _, v in sweep(()) if v.violated]
    assert bad == []


def test_a_crash_point_counterexample_replays_from_its_trace(tmp_path):
    sc, r, v = next((sc, r, v) for sc, r, v in sweep(("reply_before_persist",)) if v.violated)
    path = tmp_path / "cx.json"
    path.write_text(json.dumps(trace_json(sc, r, v)), encoding="utf-8")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["#meta"]["params"]["crash_points"] == 0.3
    assert any(s["event"] == "crash-point" for s in data["states"])
    replayed_sc, _, replayed = replay_data(data)
    assert replayed_sc == sc and replayed.violated == "agreement"
    out = CliRunner().invoke(cli, ["simulate", "paxos", "--replay", str(path)])
    assert out.exit_code == 1 and "VIOLATED agreement" in out.output
    assert "crash points: " in out.output and "after " in out.output


def test_crash_points_on_the_command_line():
    args = ["simulate", "paxos", "--variant", "reply_before_persist", "--crash-points", "0.3",
            "--crash-points-max", "3", "--crash-points-down", "1", "--timeout", "20",
            "--to-quiescence"]
    seed = next(sc.seed for sc, _, v in sweep(("reply_before_persist",)) if v.violated)
    a = CliRunner().invoke(cli, [*args, "--seed", str(seed)])
    b = CliRunner().invoke(cli, [*args, "--seed", str(seed)])
    assert a.exit_code == 1 and a.output == b.output
    assert "crash points: probability 0.3 per handler call, at most 3" in a.output
    for bad in (["--crash-points", "nan"], ["--crash-points", "2"], ["--crash-points-down", "inf"],
                ["--crash-points-max", "-1"]):
        p = subprocess.run(["paxchain", "simulate", "paxos", *bad], capture_output=True,
                           text=True)
        assert p.returncode == 2, (bad, p.stdout, p.stderr)
        assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr, p.stderr
